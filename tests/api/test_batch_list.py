"""报送记录 — the list of batches, on the portal and through the API: a department sees its own, the office any or
all; filtered by item and to the batches with rejected rows (what a clerk still has to correct), paged."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.api.test_access_pages import _sign_in

from chengxin.core.audit import Actor
from chengxin.platform import Platform
from chengxin.records.service import ApiRow, ingest
from factories import valid_row

API = "/api/v1/records/batches"


def _batch(platform: Platform, day: Any, department: str, item: str, *, bad: int = 0, tag: str = "") -> int:
    version = platform.catalog.version_on(item, day)
    assert version is not None
    rows = [valid_row(version, n, source_id=f"{department}-{item}-{tag}-{n}") for n in range(1, 3)]
    rows += [valid_row(version, 10 + n, decision_date="2025-13-01", source_id=f"bad-{tag}-{n}") for n in range(bad)]
    receipt = ingest(platform.db, [ApiRow(i, r) for i, r in enumerate(rows, start=1)], catalog=platform.catalog,
                     keyring=platform.keyring, department=department, item_code=item,
                     actor=Actor(kind="api_key", name="k", department_code=department), channel="api", today=day)
    assert receipt.rejected == bad
    return receipt.batch_id


@pytest.fixture()
def batches(platform: Platform, day: Any) -> dict[str, int]:
    return {
        "samr_penalty_clean": _batch(platform, day, "samr", "admin_penalty", tag="a"),
        "samr_penalty_bad": _batch(platform, day, "samr", "admin_penalty", bad=2, tag="b"),
        "samr_license_bad": _batch(platform, day, "samr", "admin_license", bad=1, tag="c"),
        "tax_penalty_bad": _batch(platform, day, "tax", "admin_penalty", bad=1, tag="d"),
    }


def _listed(client: TestClient, query: str = "") -> list[int]:
    page = client.get(f"/batches{query}")
    assert page.status_code == 200, page.text
    return [int(n) for n in re.findall(r'<td><a href="/batches/(\d+)">', page.text)]


@pytest.mark.parametrize(("role", "department", "query", "expected"), [
    ("clerk", "samr", "", ["samr_license_bad", "samr_penalty_bad", "samr_penalty_clean"]),
    ("clerk", "samr", "?department=tax", ["samr_license_bad", "samr_penalty_bad", "samr_penalty_clean"]),  # own only
    ("clerk", "samr", "?rejected=1", ["samr_license_bad", "samr_penalty_bad"]),
    ("clerk", "samr", "?item=admin_penalty", ["samr_penalty_bad", "samr_penalty_clean"]),
    ("clerk", "samr", "?item=admin_penalty&rejected=1", ["samr_penalty_bad"]),
    ("clerk", "tax", "", ["tax_penalty_bad"]),
    ("credit_office", None, "?rejected=1",
     ["tax_penalty_bad", "samr_license_bad", "samr_penalty_bad"]),
    ("credit_office", None, "?department=tax", ["tax_penalty_bad"]),
    ("credit_office", None, "?item=admin_license", ["samr_license_bad"]),
])
def test_the_portal_lists_a_departments_batches_by_item_and_rejections(
    client: TestClient, make_user: Callable[..., str], batches: dict[str, int], role: str, department: str | None,
    query: str, expected: list[str],
) -> None:
    _sign_in(client, make_user(role, department))
    assert _listed(client, query) == [batches[name] for name in expected]  # newest first


def test_the_filters_show_what_there_is_and_survive_paging(
    client: TestClient, platform: Platform, make_user: Callable[..., str], batches: dict[str, int], day: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chengxin.web import routes

    monkeypatch.setattr(routes, "BATCHES_PER_PAGE", 1)
    _sign_in(client, make_user("clerk", "samr"))
    page = client.get("/batches?item=admin_penalty&rejected=1").text
    options = re.findall(r'<option value="([a-z_]+)"', page.split('id="batch-item"', 1)[1].split("</select>", 1)[0])
    assert options == sorted(options, key=lambda c: platform.catalog.item(c).latest.name_zh)
    assert set(options) == {"admin_penalty", "admin_license"}  # the items it has sent, not all it may
    assert 'name="department"' not in page  # a clerk does not choose the department
    _batch(platform, day, "samr", "admin_penalty", bad=1, tag="e")
    first = client.get("/batches?item=admin_penalty&rejected=1").text
    assert 'href="?item=admin_penalty&amp;rejected=1&amp;page=2"' in first
    assert _listed(client, "?item=admin_penalty&rejected=1&page=2") == [batches["samr_penalty_bad"]]
    assert _listed(client, "?item=not_an_item") == _listed(client)  # an unknown item filters nothing


def test_an_empty_filter_says_so(client: TestClient, make_user: Callable[..., str], batches: dict[str, int]) -> None:
    assert batches
    _sign_in(client, make_user("clerk", "civil"))  # a department that has sent nothing
    assert "还没有报送批次" in client.get("/batches").text
    assert "没有符合条件的批次" in client.get("/batches?rejected=1").text


@pytest.mark.parametrize(("caller", "params", "status", "expected"), [
    ("samr_key", {}, 200, ["samr_license_bad", "samr_penalty_bad", "samr_penalty_clean"]),
    ("samr_key", {"rejected_only": "true", "item": "admin_penalty"}, 200, ["samr_penalty_bad"]),
    ("samr_key", {"department": "tax"}, 403, None),
    ("samr_key", {"department": "samr"}, 200, ["samr_license_bad", "samr_penalty_bad", "samr_penalty_clean"]),
    ("tax_clerk", {}, 200, ["tax_penalty_bad"]),
    ("office", {"rejected_only": "true"}, 200, ["tax_penalty_bad", "samr_license_bad", "samr_penalty_bad"]),
    ("office", {"department": "tax"}, 200, ["tax_penalty_bad"]),
    ("nobody", {}, 401, None),
])
def test_the_api_lists_batches_with_the_same_rule(
    client: TestClient, make_user: Callable[..., str], make_api_key: Callable[[str], str], batches: dict[str, int],
    caller: str, params: dict[str, str], status: int, expected: list[str] | None,
) -> None:
    headers = {
        "samr_key": lambda: {"X-API-Key": make_api_key("samr")},
        "tax_clerk": lambda: {"Authorization": f"Bearer {make_user('clerk', 'tax')}"},
        "office": lambda: {"Authorization": f"Bearer {make_user('credit_office')}"},
        "nobody": lambda: {},
    }[caller]()
    answer = client.get(API, headers=headers, params=params)
    assert answer.status_code == status, answer.text
    if expected is None:
        if status == 403:
            assert answer.json()["error"]["code"] == "batch.other_department"
        return
    assert [b["batch_id"] for b in answer.json()] == [batches[name] for name in expected]
    assert answer.headers["x-total-count"] == str(len(expected))
    first = answer.json()[0]
    assert {"received", "accepted", "rejected", "item", "department", "finished_at"} <= set(first)


def test_the_api_pages_with_offset_and_limit(client: TestClient, make_user: Callable[..., str],
                                             batches: dict[str, int]) -> None:
    office = {"Authorization": f"Bearer {make_user('credit_office')}"}
    first = client.get(API, headers=office, params={"limit": 3}).json()
    rest = client.get(API, headers=office, params={"limit": 3, "offset": 3}).json()
    assert len(first) == 3 and len(rest) == 1
    assert [b["batch_id"] for b in first + rest] == sorted(batches.values(), reverse=True)
