"""The credit check's one read runs on a driver connection its thread keeps (on PostgreSQL a statement
prepared on it, through libpq): a connection that dies between checks is replaced, the read tried again,
and the answer is the same."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chengxin.checks.service import Checker
from chengxin.core.audit import Actor
from chengxin.platform import Platform
from factories import listed_entry, uscc_for

ACTOR = Actor(kind="api_key", name="k-1", department_code="samr")


def _kill(platform: Platform, held: object) -> None:
    driver = held.driver_connection  # type: ignore[attr-defined]
    if platform.db.dialect == "postgresql":
        with platform.db.engine.connect() as conn:  # the server ends the backend, as a restart or a proxy would
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": driver.info.backend_pid})
    else:
        driver.close()


@pytest.mark.parametrize("checks_before", [1, 3])
def test_a_dead_connection_is_replaced_and_the_answer_is_the_same(platform: Platform, checks_before: int) -> None:
    listed_entry(platform, list_kind="black", uscc=uscc_for(61), name="常州重连测试有限公司")
    checker = Checker(platform.db, platform.keyring)
    try:
        answers = [checker.check(ACTOR, uscc_for(61), "admin_licensing") for _ in range(checks_before)]
        held = checker._held.conn
        _kill(platform, held)
        after = checker.check(ACTOR, uscc_for(61), "admin_licensing")
        assert checker._held.conn is not held  # replaced, not reused
        for answer in (*answers, after):
            assert answer["result"] == "listed" and [m["list"] for m in answer["memberships"]] == ["black"]
            assert answer["subject"]["display_name"] == "常州重连测试有限公司"
        unknown = checker.check(ACTOR, uscc_for(62), "admin_licensing")
        assert unknown["result"] == "unknown_subject"
    finally:
        checker.close()
