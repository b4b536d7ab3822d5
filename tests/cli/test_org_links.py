"""Organisation representatives: the office links a person account to an organisation (CLI), the
person may then act for it; an unlinked or unknown organisation is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chengxin.cli.main import app
from chengxin.core.audit import Actor, AuditEvent
from chengxin.people import orgs
from chengxin.people.identity import PopulationRegisterProvider
from chengxin.people.models import PersonAccount
from chengxin.people.service import register
from chengxin.platform import Platform
from factories import person_row, ric_for, submit_rows, uscc_for, valid_row

DAY = dt.date(2026, 11, 25)


@pytest.fixture()
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr("chengxin.platform.open_platform", lambda *a, **k: platform)
    return CliRunner()


@pytest.fixture()
def account(platform: Platform) -> PersonAccount:
    submit_rows(platform, "admin_penalty", "samr", [
        person_row(platform, "admin_penalty", 5, DAY - dt.timedelta(days=10), source_id="P5", severity="general"),
        valid_row(platform.catalog.version_on("admin_penalty", DAY - dt.timedelta(days=10)), 7, person=False,
                  decision_date=(DAY - dt.timedelta(days=10)).isoformat(), source_id="O7", severity="general"),
    ], DAY)
    with platform.db.write() as s:
        acc = register(s, platform.keyring, PopulationRegisterProvider(platform.keyring), ric=ric_for(5), name="张三",
                       password="correct horse battery")
        s.expunge(acc)
    return acc


def test_linking_lets_the_person_act_for_the_organisation(cli: CliRunner, platform: Platform,
                                                          account: PersonAccount) -> None:
    result = cli.invoke(app, ["orgs", "link", ric_for(5), uscc_for(7), "--basis", "授权委托书 2026-001"])
    assert result.exit_code == 0, result.output
    with platform.db.read() as s:
        acc = s.get(PersonAccount, account.id)
        assert acc is not None
        subjects = orgs.represented_subjects(s, acc)
        assert [x.own for x in subjects] == [True, False] and subjects[1].display_id == uscc_for(7)
        assert orgs.can_act_for(s, acc, subjects[1].subject_id) and orgs.can_act_for(s, acc, acc.subject_id)
        link_id = s.scalar(select(orgs.OrgLink.id))
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.action == "org_link.grant")) == "org_link.grant"
    assert cli.invoke(app, ["orgs", "unlink", str(link_id)]).exit_code == 0
    with platform.db.read() as s:
        acc = s.get(PersonAccount, account.id)
        assert acc is not None and not orgs.can_act_for(s, acc, subjects[1].subject_id)
        assert len(orgs.represented_subjects(s, acc)) == 1


@pytest.mark.parametrize(("args", "message"), [
    ([ric_for(6), uscc_for(7), "--basis", "x"], "尚未注册个人账户"),
    ([ric_for(5), uscc_for(8), "--basis", "x"], "未找到该信用主体"),
    ([ric_for(5), "123", "--basis", "x"], "统一社会信用代码"),
    ([ric_for(5), uscc_for(7), "--basis", "  "], "授权依据"),
])
def test_refusals_are_clear(cli: CliRunner, account: PersonAccount, args: list[str], message: str) -> None:
    result = cli.invoke(app, ["orgs", "link", *args])
    assert result.exit_code == 2 and message in result.output


def test_a_revoked_link_is_not_granted_twice_by_accident(platform: Platform, account: PersonAccount) -> None:
    actor = Actor(kind="staff", name="office", role="credit_office")
    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    with platform.db.write() as s:
        first = orgs.link_organisation(s, platform.keyring, account_id=account.id, uscc=uscc_for(7), basis="a",
                                       actor=actor, now=now)
        again = orgs.link_organisation(s, platform.keyring, account_id=account.id, uscc=uscc_for(7), basis="b",
                                       actor=actor, now=now)
        assert again.id == first.id  # an open link is not duplicated
