"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).

Every operation under /api/v1 is called with generated inputs, as the credit office and anonymously;
the only property checked is that the server never answers with a 5xx (the API's own 4xx errors are fine).

The schema is loaded when the module is imported, from an app whose platform is swapped for the test
database's by a fixture: the OpenAPI document does not depend on the platform, and schemathesis'
lazy loader (``schemathesis.pytest.from_fixture``) does not work with pytest 9 (it writes
``Function._nodeid``, which pytest 9 no longer has).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from chengxin.api.app import create_app
from chengxin.platform import Platform

# A stand-in until the fixture puts the test platform in; schemathesis starts and stops the app around loading
# the schema, and the app's shutdown closes the platform's API-key cache.
APP = create_app(SimpleNamespace(name="replaced by the fuzz_platform fixture",  # type: ignore[arg-type]
                                 api_keys=SimpleNamespace(close=lambda: None)))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path_regex=r"^/api/v1/")

# 25 examples per operation on the SQLite run; the PostgreSQL run of `make test` sets fewer
# (CHENGXIN_FUZZ_EXAMPLES in the Makefile) — still a fixed set of inputs (derandomize), enough to meet the
# engine's own refusals (integer ranges, text in numeric columns) while the CI run stays in its time budget.
FUZZ = settings(
    max_examples=int(os.environ.get("CHENGXIN_FUZZ_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,  # the same inputs on every run: a failure here is reproducible, not flaky
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def fuzz_platform(platform: Platform) -> Iterator[Platform]:
    APP.state.platform = platform
    yield platform


@pytest.fixture()
def office_token(make_user: Callable[..., str]) -> str:
    return make_user("credit_office")


def test_every_api_operation_is_fuzzed() -> None:
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert ("POST", "/api/v1/records/files") in operations and ("GET", "/api/v1/quality") in operations
    assert len(operations) >= 15 and all(path.startswith("/api/v1/") for _, path in operations)


@FUZZ
@schema.parametrize()
def test_no_server_error_as_credit_office(case: Any, office_token: str, make_user: Callable[..., str]) -> None:
    token = office_token
    if case.operation.path == "/api/v1/auth/logout":
        token = make_user("credit_office")  # logging out must not end the session the other operations use
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error])


@FUZZ
@schema.parametrize()
def test_no_server_error_anonymously(case: Any) -> None:
    case.call_and_validate(checks=[not_a_server_error])
