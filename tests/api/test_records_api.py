"""The collection API over HTTP: who may call what, receipts, corrections, revocation, files, quality."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from chengxin.accounts.service import revoke_api_key
from chengxin.catalog.model import ItemVersion
from chengxin.catalog.rules import template_columns
from chengxin.core.audit import Actor
from chengxin.platform import Platform
from chengxin.records import pipeline
from factories import uscc_for, valid_row

ITEM, DEPT, OTHER = "admin_penalty", "samr", "tax"
BATCHES = "/api/v1/records/batches"
FILES = "/api/v1/records/files"
QUALITY = "/api/v1/quality"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ADMIN = Actor(kind="staff", name="admin", role="admin")
CJK = re.compile(r"[\u4e00-\u9fff]")


# -- helpers -----------------------------------------------------------------------------------------


def _version(platform: Platform, day: str = "2025-09-01") -> ItemVersion:
    version = platform.catalog.item(ITEM).version_on(dt.date.fromisoformat(day))
    assert version is not None
    return version


def _bad_uscc(n: int) -> str:
    good = uscc_for(n)
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def _without(row: dict[str, Any], *codes: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in codes}


def _key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """A JSON error in the API's shape: a code, a Chinese message and an English one."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "message_en", "field"}
    if code is not None:
        assert error["code"] == code, error
    assert CJK.search(error["message"]), error
    assert error["message_en"]
    return error  # type: ignore[no-any-return]


def assert_clear_4xx(response: Any) -> dict[str, Any]:
    """Any refusal of an upload: a 4xx with a JSON error a clerk can act on, never a 500."""
    assert 400 <= response.status_code < 500, response.text
    return assert_error(response, response.status_code)


def _check(response: Any, status: int, code: str | None) -> None:
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        assert_error(response, status, code)


def _penalty_csv(version: ItemVersion, rows: list[dict[str, Any]], *, encoding: str = "utf-8",
                 drop: tuple[str, ...] = ()) -> bytes:
    """A CSV with the template's Chinese labels as header (no ``*``, as a clerk might type them)."""
    columns = [c for c in template_columns(version) if c.code not in drop]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.label_zh for c in columns])
    for row in rows:
        writer.writerow([row.get(c.code, "") for c in columns])
    return out.getvalue().encode(encoding)


def _upload(client: TestClient, headers: dict[str, str], data: bytes, *, name: str = "penalties.csv",
            item: str = ITEM, department: str | None = None, mime: str = "text/csv") -> Any:
    form = {"item": item} if department is None else {"item": item, "department": department}
    return client.post(FILES, headers=headers, data=form, files={"file": (name, data, mime)})


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture()
def samr_key(make_api_key: Callable[[str], str]) -> str:
    return make_api_key(DEPT)


@pytest.fixture()
def office(make_user: Callable[..., str]) -> dict[str, str]:
    return _bearer(make_user("credit_office"))


@pytest.fixture()
def headers_for(
    platform: Platform, make_user: Callable[..., str], make_api_key: Callable[[str], str]
) -> Callable[[str], dict[str, str]]:
    """Request headers that authenticate as one of the roles of the permission tables."""

    def revoked_key() -> dict[str, str]:
        key = make_api_key(DEPT)
        with platform.db.write() as session:
            revoke_api_key(session, key.split("_", 2)[1], actor=ADMIN)
        return _key(key)

    makers: dict[str, Callable[[], dict[str, str]]] = {
        "anonymous": lambda: {},
        "malformed_key": lambda: _key("cx_not-a-key"),
        "unknown_key": lambda: _key("cx_0123456789ab_doesnotexist"),
        "revoked_key": revoked_key,
        "bad_token": lambda: _bearer("no-such-session-token"),
        "other_dept_key": lambda: _key(make_api_key(OTHER)),
        "other_dept_clerk": lambda: _bearer(make_user("clerk", OTHER)),
        "samr_key": lambda: _key(make_api_key(DEPT)),
        "samr_key_as_bearer": lambda: _bearer(make_api_key(DEPT)),
        "samr_clerk": lambda: _bearer(make_user("clerk", DEPT)),
        "credit_office": lambda: _bearer(make_user("credit_office")),
        "admin": lambda: _bearer(make_user("admin")),
    }
    return lambda role: makers[role]()


@pytest.fixture()
def seeded(client: TestClient, platform: Platform, samr_key: str) -> dict[str, Any]:
    """One samr batch (2 valid rows, 1 bad): its id, a record's id and source id."""
    v = _version(platform)
    rows = [valid_row(v, 1), valid_row(v, 2), valid_row(v, 3, uscc=_bad_uscc(3))]
    response = client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": rows})
    assert response.status_code == 200, response.text
    record = client.get(f"/api/v1/records/by-source/{DEPT}/SRC-0000001", headers=_key(samr_key))
    assert record.status_code == 200, record.text
    return {"batch_id": response.json()["batch_id"], "record_id": record.json()["id"], "source_id": "SRC-0000001"}


# -- permission tables (one per endpoint) -------------------------------------------------------------

UNAUTHENTICATED = [
    ("anonymous", 401, "auth.required"),
    ("malformed_key", 401, "auth.bad_api_key"),
    ("unknown_key", 401, "auth.bad_api_key"),
    ("revoked_key", 401, "auth.revoked_api_key"),
    ("bad_token", 401, "auth.bad_token"),
]
SOURCE_DEPARTMENT = [
    ("samr_key", 200, None),
    ("samr_key_as_bearer", 200, None),
    ("samr_clerk", 200, None),
]

# Submitting is for the source department only (records.service.authorize_submission): the credit
# office and administrators read and revoke, but may not submit in a department's name.
SUBMIT_TABLE = [
    *UNAUTHENTICATED,
    ("other_dept_key", 403, "submission.other_department"),
    ("other_dept_clerk", 403, "submission.other_department"),
    *SOURCE_DEPARTMENT,
    ("credit_office", 403, "submission.other_department"),
    ("admin", 403, "submission.other_department"),
]


def _read_table(other_code: str) -> list[tuple[str, int, str | None]]:
    return [
        *UNAUTHENTICATED,
        ("other_dept_key", 403, other_code),
        ("other_dept_clerk", 403, other_code),
        *SOURCE_DEPARTMENT,
        ("credit_office", 200, None),
        ("admin", 200, None),
    ]


@pytest.mark.parametrize(("role", "status", "code"), SUBMIT_TABLE)
def test_submit_batch_permissions(client: TestClient, platform: Platform,
                                  headers_for: Callable[[str], dict[str, str]],
                                  role: str, status: int, code: str | None) -> None:
    body = {"item": ITEM, "department": DEPT, "records": [valid_row(_version(platform), 1)]}
    response = client.post(BATCHES, headers=headers_for(role), json=body)
    _check(response, status, code)
    if status == 200:
        assert response.json()["accepted"] == 1 and response.json()["department"] == DEPT


@pytest.mark.parametrize(("role", "status", "code"), SUBMIT_TABLE)
def test_submit_file_permissions(client: TestClient, platform: Platform,
                                 headers_for: Callable[[str], dict[str, str]],
                                 role: str, status: int, code: str | None) -> None:
    v = _version(platform)
    response = _upload(client, headers_for(role), _penalty_csv(v, [valid_row(v, 1)]), department=DEPT)
    _check(response, status, code)
    if status == 200:
        assert (response.json()["channel"], response.json()["accepted"]) == ("file", 1)


@pytest.mark.parametrize(("role", "status", "code"), _read_table("batch.other_department"))
def test_get_batch_permissions(client: TestClient, seeded: dict[str, Any],
                               headers_for: Callable[[str], dict[str, str]],
                               role: str, status: int, code: str | None) -> None:
    response = client.get(f"{BATCHES}/{seeded['batch_id']}", headers=headers_for(role))
    _check(response, status, code)
    if status == 200:
        assert response.json()["batch_id"] == seeded["batch_id"] and response.json()["rejected"] == 1


@pytest.mark.parametrize(("role", "status", "code"), _read_table("record.other_department"))
def test_get_record_permissions(client: TestClient, seeded: dict[str, Any],
                                headers_for: Callable[[str], dict[str, str]],
                                role: str, status: int, code: str | None) -> None:
    response = client.get(f"/api/v1/records/{seeded['record_id']}", headers=headers_for(role))
    _check(response, status, code)
    if status == 200:
        assert response.json()["source_id"] == seeded["source_id"]


@pytest.mark.parametrize(("role", "status", "code"), _read_table("record.other_department"))
def test_get_record_by_source_permissions(client: TestClient, seeded: dict[str, Any],
                                          headers_for: Callable[[str], dict[str, str]],
                                          role: str, status: int, code: str | None) -> None:
    response = client.get(f"/api/v1/records/by-source/{DEPT}/{seeded['source_id']}", headers=headers_for(role))
    _check(response, status, code)
    if status == 200:
        assert response.json()["id"] == seeded["record_id"]


@pytest.mark.parametrize(("role", "status", "code"), _read_table("record.other_department"))
def test_revoke_record_permissions(client: TestClient, seeded: dict[str, Any],
                                   headers_for: Callable[[str], dict[str, str]],
                                   role: str, status: int, code: str | None) -> None:
    path = f"/api/v1/records/{seeded['record_id']}"
    response = client.post(f"{path}/revoke", headers=headers_for(role), json={"reason": "复议决定撤销原处罚决定"})
    _check(response, status, code)
    after = client.get(path, headers=headers_for("credit_office")).json()
    assert after["status"] == ("revoked" if status == 200 else "active")


@pytest.mark.parametrize(("role", "status", "code"), _read_table("quality.other_department"))
def test_quality_permissions(client: TestClient, seeded: dict[str, Any],
                             headers_for: Callable[[str], dict[str, str]],
                             role: str, status: int, code: str | None) -> None:
    response = client.get(QUALITY, headers=headers_for(role), params={"department": DEPT})
    _check(response, status, code)
    if status == 200:
        assert [(r["department"], r["item"]) for r in response.json()["rows"]] == [(DEPT, ITEM)]


def test_credit_office_must_name_a_department_and_then_is_refused(
    client: TestClient, platform: Platform, office: dict[str, str]
) -> None:
    body = {"item": ITEM, "records": [valid_row(_version(platform), 1)]}
    assert_error(client.post(BATCHES, headers=office, json=body), 400, "submission.department_required")


def test_a_department_cannot_submit_an_item_it_is_not_a_source_of(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    foreign = next(code for code, item in platform.catalog.items.items()
                   if all(DEPT not in v.departments for v in item.versions))
    response = client.post(BATCHES, headers=_key(samr_key), json={"item": foreign, "records": [{}]})
    assert_error(response, 403, "submission.item_not_allowed")


def test_unknown_ids_are_404(client: TestClient, seeded: dict[str, Any], office: dict[str, str]) -> None:
    assert_error(client.get(f"{BATCHES}/999999", headers=office), 404, "batch.not_found")
    assert_error(client.get("/api/v1/records/999999", headers=office), 404, "record.not_found")
    assert_error(client.get(f"/api/v1/records/by-source/{DEPT}/NOPE", headers=office), 404, "record.not_found")
    assert_error(client.post("/api/v1/records/999999/revoke", headers=office, json={"reason": "x"}), 404,
                 "record.not_found")


# -- receipts, corrections, revocation -----------------------------------------------------------------


def test_batch_receipt_keeps_valid_rows_and_explains_every_rejection(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    v = _version(platform)
    rows = [
        valid_row(v, 1),
        valid_row(v, 2, uscc=_bad_uscc(2)),
        valid_row(v, 3),
        _without(valid_row(v, 4), "decision_no"),
        valid_row(v, 5),
    ]
    response = client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": rows})
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["department"] == DEPT and receipt["item"] == ITEM and receipt["channel"] == "api"
    counts = {k: receipt[k] for k in ("received", "accepted", "unchanged", "corrected", "rejected")}
    assert counts == {"received": 5, "accepted": 3, "unchanged": 0, "corrected": 0, "rejected": 2}
    assert receipt["rejections_total"] == 2
    rejected = {r["row"]: r for r in receipt["rejections"]}
    assert sorted(rejected) == [2, 4]  # 1-based positions in ``records``
    assert rejected[2]["source_id"] == "SRC-0000002" and rejected[4]["source_id"] == "SRC-0000004"
    [uscc_problem] = rejected[2]["problems"]
    assert (uscc_problem["field"], uscc_problem["code"]) == ("uscc", "uscc.check_character")
    assert "校验位" in uscc_problem["message"] and "check" in uscc_problem["message_en"]
    [missing] = rejected[4]["problems"]
    assert (missing["field"], missing["code"]) == ("decision_no", "field.required")
    assert "行政处罚决定书文号" in missing["message"] and missing["message_en"]
    for row in receipt["rejections"]:
        for problem in row["problems"]:
            assert CJK.search(problem["message"]) and problem["message_en"]

    for n in (1, 3, 5):
        found = client.get(f"/api/v1/records/by-source/{DEPT}/SRC-{n:07d}", headers=_key(samr_key))
        assert found.status_code == 200, found.text
        body = found.json()
        assert (body["status"], body["version"], body["item"], body["department"]) == ("active", 1, ITEM, DEPT)
        assert body["versions"][0]["fields"]["decision_no"] == rows[n - 1]["decision_no"]
    for n in (2, 4):
        assert_error(client.get(f"/api/v1/records/by-source/{DEPT}/SRC-{n:07d}", headers=_key(samr_key)), 404,
                     "record.not_found")

    # The stored receipt says the same.
    stored = client.get(f"{BATCHES}/{receipt['batch_id']}", headers=_key(samr_key)).json()
    assert stored["rejections"] == receipt["rejections"] and stored["accepted"] == 3


def test_resubmission_is_unchanged_and_a_change_is_a_correction_with_history(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    v = _version(platform)
    rows = [valid_row(v, n) for n in (1, 2, 3)] + [valid_row(v, 4, uscc=_bad_uscc(4)),
                                                  _without(valid_row(v, 5), "facts")]
    body = {"item": ITEM, "records": rows}
    first = client.post(BATCHES, headers=_key(samr_key), json=body).json()
    assert (first["accepted"], first["rejected"]) == (3, 2)

    again = client.post(BATCHES, headers=_key(samr_key), json=body).json()
    assert again["batch_id"] != first["batch_id"]
    assert (again["received"], again["accepted"], again["unchanged"], again["corrected"], again["rejected"]) == (
        5, 0, 3, 0, 2)

    changed = [dict(r) for r in rows]
    changed[0]["facts"] = "更正后的违法事实"
    third = client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": changed}).json()
    assert (third["accepted"], third["unchanged"], third["corrected"], third["rejected"]) == (0, 2, 1, 2)

    record = client.get(f"/api/v1/records/by-source/{DEPT}/SRC-0000001", headers=_key(samr_key)).json()
    assert record["version"] == 2 and record["status"] == "active"
    assert [(x["version"], x["change"]) for x in record["versions"]] == [(1, "create"), (2, "correct")]
    assert record["versions"][0]["fields"]["facts"] == rows[0]["facts"]  # the old version is kept
    assert record["versions"][1]["fields"]["facts"] == "更正后的违法事实"
    assert record["versions"][0]["batch_id"] == first["batch_id"]
    assert record["versions"][1]["batch_id"] == third["batch_id"]
    by_id = client.get(f"/api/v1/records/{record['id']}", headers=_key(samr_key)).json()
    assert by_id == record


def test_revocation_needs_a_reason_and_keeps_the_history(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    v = _version(platform)
    row = valid_row(v, 1)
    client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": [row]})
    record_id = client.get(f"/api/v1/records/by-source/{DEPT}/SRC-0000001", headers=_key(samr_key)).json()["id"]
    path = f"/api/v1/records/{record_id}/revoke"

    for body in ({}, {"reason": ""}, {"reason": "   "}):  # a blank reason is no reason
        error = assert_error(client.post(path, headers=_key(samr_key), json=body), 422, "request.invalid")
        assert "reason" in error["message"] and error["field"] == "reason"
    assert client.get(f"/api/v1/records/{record_id}", headers=_key(samr_key)).json()["status"] == "active"

    revoked = client.post(path, headers=_key(samr_key), json={"reason": "复议决定撤销原处罚决定"})
    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    assert (body["status"], body["version"]) == ("revoked", 2)
    assert [(x["version"], x["change"], x["status"]) for x in body["versions"]] == [
        (1, "create", "active"), (2, "revoke", "revoked")]
    assert body["versions"][1]["reason"] == "复议决定撤销原处罚决定"
    assert body["versions"][1]["fields"] == body["versions"][0]["fields"]

    assert_error(client.post(path, headers=_key(samr_key), json={"reason": "again"}), 409, "record.already_revoked")
    resubmitted = client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": [row]}).json()
    assert resubmitted["rejected"] == 1
    assert resubmitted["rejections"][0]["problems"][0]["code"] == "record.revoked"


def test_a_batch_over_10000_records_is_refused(client: TestClient, samr_key: str) -> None:
    response = client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": [{}] * 10_001})
    error = assert_error(response, 422, "request.invalid")
    assert error["field"] == "records"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"item": "no_such_item", "records": [{}]}, 404, "item.unknown"),
        ({"item": ITEM, "department": OTHER, "records": [{}]}, 403, "submission.other_department"),
        ({"item": ITEM, "department": "no_such_dept", "records": [{}]}, 404, "department.unknown"),
        ({"item": ITEM, "records": []}, 400, "batch.empty"),
        ({"records": [{}]}, 422, "request.invalid"),
    ],
)
def test_bad_batches_are_refused_with_a_code(client: TestClient, samr_key: str, body: dict[str, Any],
                                              status: int, code: str) -> None:
    assert_error(client.post(BATCHES, headers=_key(samr_key), json=body), status, code)


def test_a_record_that_is_no_object_or_holds_arrays_is_rejected_and_the_others_kept(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    """A JSON array or object is no value a clerk typed: never read as text (``str(["张三"])``), refused for its
    field; an element that is no object is its row's one rejection; keys naming no column are a warning."""
    v = _version(platform)
    records: list[Any] = [
        valid_row(v, 1),
        "not an object",
        {**valid_row(v, 3), "subject_name": ["常州某某科技有限公司"]},
        None,
        {**valid_row(v, 5), "decision_no": {"no": "常市监处罚〔2025〕5号"}},
        {**valid_row(v, 6), "source_id": ["SRC-0000006"]},
        {**valid_row(v, 7), "uscc": [uscc_for(7)], "备注": "x", "decsion_no": "typo"},
        {**valid_row(v, 8), "备注": "x"},
    ]
    response = client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": records})
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["received"], receipt["accepted"], receipt["rejected"]) == (8, 2, 6)
    problems = {r["row"]: [(p["field"], p["code"]) for p in r["problems"]] for r in receipt["rejections"]}
    assert problems == {
        2: [(None, "row.not_object")],
        3: [("subject_name", "field.not_scalar")],
        4: [(None, "row.not_object")],
        5: [("decision_no", "field.not_scalar")],
        6: [("source_id", "field.not_scalar")],
        7: [("uscc", "field.not_scalar")],
    }
    rows = {r["row"]: r for r in receipt["rejections"]}
    assert "第 2 条记录不是 JSON 对象" in rows[2]["problems"][0]["message"] and "实为 字符串" in \
        rows[2]["problems"][0]["message"]
    assert rows[4]["problems"][0]["message_en"] == "Record 4 is a JSON null, not an object."
    assert rows[6]["source_id"] is None  # an array is no source id, not even in the receipt
    assert rows[3]["source_id"] == "SRC-0000003"
    assert "不能是 JSON 数组或对象：[\"常州某某科技有限公司\"]" in rows[3]["problems"][0]["message"]
    [warning] = receipt["warnings"]
    assert warning["code"] == "file.unknown_columns" and "备注、decsion_no" in warning["message"]
    for n in (1, 8):
        assert client.get(f"/api/v1/records/by-source/{DEPT}/SRC-{n:07d}", headers=_key(samr_key)).status_code == 200
    assert_error(client.get(f"/api/v1/records/by-source/{DEPT}/SRC-{3:07d}", headers=_key(samr_key)), 404,
                 "record.not_found")


def test_rejections_of_a_stored_receipt_are_paged_in_row_order(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    v = _version(platform)
    # Two problems per row: pages count rows, not problems.
    rows = [_without(valid_row(v, n, uscc=_bad_uscc(n)), "facts") for n in range(1, 251)]
    receipt = client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": rows}).json()
    assert (receipt["rejected"], receipt["rejections_total"]) == (250, 250)
    path = f"{BATCHES}/{receipt['batch_id']}"
    for offset, expected in ((0, range(1, 101)), (100, range(101, 201)), (200, range(201, 251)), (250, range(0))):
        page = client.get(path, headers=_key(samr_key), params={"offset": offset, "limit": 100})
        assert page.status_code == 200, page.text
        body = page.json()
        assert [r["row"] for r in body["rejections"]] == list(expected)
        assert body["rejections_total"] == 250 and body["rejections_offset"] == offset
        assert all(r["source_id"] == f"SRC-{r['row']:07d}" for r in body["rejections"])
        assert all({p["code"] for p in r["problems"]} == {"uscc.check_character", "field.required"}
                   for r in body["rejections"])
    default = client.get(path, headers=_key(samr_key)).json()
    assert [r["row"] for r in default["rejections"]] == list(range(1, 101))
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"offset": "x"}):
        assert_error(client.get(path, headers=_key(samr_key), params=params), 422, "request.invalid")


# -- file uploads --------------------------------------------------------------------------------------


def _template(client: TestClient) -> bytes:
    response = client.get(f"/api/v1/catalog/items/{ITEM}/template.xlsx")
    assert response.status_code == 200
    return response.content


def _fill_template(client: TestClient, platform: Platform, rows: list[dict[str, Any]],
                   cells: dict[tuple[int, str], Any] | None = None) -> bytes:
    """The downloaded template with ``rows`` typed in from row 2 (enum columns as their Chinese
    labels, as the drop-downs offer them); ``cells`` overrides single cells by (row index, code)."""
    wb = load_workbook(io.BytesIO(_template(client)))
    ws = wb["数据"]
    columns = {c.label_zh: c for c in template_columns(platform.catalog.item(ITEM).latest)}
    by_code: dict[str, int] = {}
    for cell in ws[1]:
        label = str(cell.value).rstrip("*")
        by_code[columns[label].code] = cell.column
    for i, row in enumerate(rows):
        for code, value in row.items():
            column = next(c for c in columns.values() if c.code == code)
            if column.options and value is not None:
                value = next((o.label_zh for o in column.options if o.value == value), value)
            if (i, code) in (cells or {}):
                value = (cells or {})[(i, code)]
            ws.cell(row=i + 2, column=by_code[code], value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_template_round_trip(client: TestClient, platform: Platform, samr_key: str) -> None:
    v = _version(platform)
    data = _fill_template(client, platform, [valid_row(v, 1), valid_row(v, 2), valid_row(v, 3, uscc=_bad_uscc(3))])
    response = _upload(client, _key(samr_key), data, name="行政处罚.xlsx", mime=XLSX)
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["received"], receipt["accepted"], receipt["rejected"]) == (3, 2, 1)
    assert receipt["channel"] == "file" and receipt["filename"] == "行政处罚.xlsx"
    [bad] = receipt["rejections"]
    assert bad["row"] == 4 and bad["source_id"] == "SRC-0000003"  # the Excel row number
    assert [(p["field"], p["code"]) for p in bad["problems"]] == [("uscc", "uscc.check_character")]
    record = client.get(f"/api/v1/records/by-source/{DEPT}/SRC-0000002", headers=_key(samr_key)).json()
    assert record["versions"][0]["fields"]["penalty_type"] == valid_row(v, 2)["penalty_type"]  # label → code


def test_gbk_csv_with_chinese_headers_is_accepted_and_a_second_upload_is_unchanged(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    v = _version(platform)
    rows = [valid_row(v, n, subject_name=f"常州市钟楼区测试商贸{n}有限公司") for n in range(1, 4)]
    data = _penalty_csv(v, rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really GBK
    first = _upload(client, _key(samr_key), data)
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["rejected"]) == (3, 0), first.json()["rejections"]
    record = client.get(f"/api/v1/records/by-source/{DEPT}/SRC-0000001", headers=_key(samr_key)).json()
    assert record["versions"][0]["fields"]["facts"] == rows[0]["facts"]  # Chinese text decoded right

    second = _upload(client, _key(samr_key), data)
    assert second.status_code == 200, second.text
    body = second.json()
    assert (body["received"], body["accepted"], body["unchanged"], body["corrected"], body["rejected"]) == (
        3, 0, 3, 0, 0)


def test_csv_without_a_required_column_names_it(client: TestClient, platform: Platform, samr_key: str) -> None:
    v = _version(platform)
    data = _penalty_csv(v, [valid_row(v, 1)], drop=("decision_no", "facts"))
    error = assert_error(_upload(client, _key(samr_key), data), 400, "file.missing_columns")
    assert "行政处罚决定书文号" in error["message"] and "违法事实" in error["message"]
    assert "decision_no" in error["message_en"]


_PENALTY_HEADER = ("来源编号,统一社会信用代码,主体名称（姓名）,决定日期,失信程度,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,"
                   "处罚类别,处罚内容,处罚机关名称\n")


def _urandom_not_text(size: int = 2 * 1024 * 1024) -> bytes:
    while True:
        data = os.urandom(size)
        if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"PK")):
            return data


BAD_FILES: dict[str, tuple[str, Callable[[bytes], bytes], str | None]] = {
    "empty": ("a.csv", lambda _t: b"", "file.empty"),
    "whitespace": ("a.csv", lambda _t: b" \r\n\t\r\n", "file.empty"),
    "urandom_2mb": ("a.xlsx", lambda _t: _urandom_not_text(), "file.binary"),
    # Read by the two-process file reader (PARALLEL_FROM_BYTES lowered to 4 MiB in the test below).
    "urandom_5mb": ("a.csv", lambda _t: _urandom_not_text(5 * 1024 * 1024), "file.binary"),
    "png": ("a.xlsx", lambda _t: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200, "file.unknown_format"),
    "truncated_xlsx": ("a.xlsx", lambda t: t[: len(t) // 2], "file.bad_xlsx"),
    "zip_magic_only": ("a.xlsx", lambda _t: b"PK\x03\x04" + b"\x00" * 100, "file.bad_xlsx"),
    "html": ("a.xlsx", lambda _t: "<html><body>行政处罚</body></html>".encode(), "file.unknown_format"),
    "no_header": ("a.csv", lambda _t: "随便,写点\n什么,内容\n".encode(), "file.no_header"),
    "bad_jsonl": ("a.jsonl", lambda _t: b'{"source_id": \n', "file.bad_json"),
    # A good header and 4 MiB of (blank) lines, then 2 MiB of bytes that are not text: the columnar reader hands
    # them to the row path, which names the line where the encoding breaks.
    "lines_then_garbage": ("a.csv", lambda _t: _PENALTY_HEADER.encode() + b",,,\n" * 1_100_000
                           + _urandom_not_text().replace(b"\x00", b"\x01"), "file.encoding"),
    "header_only": ("a.csv", lambda _t: _PENALTY_HEADER.encode(), None),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_unreadable_files_get_a_clear_4xx_never_a_500(client: TestClient, samr_key: str, case: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 4 * 1024 * 1024)  # 5 MiB of garbage: the reader process
    name, make, code = BAD_FILES[case]
    response = _upload(client, _key(samr_key), make(_template(client)), name=name,
                       mime="application/octet-stream")
    error = assert_clear_4xx(response)
    if code:
        assert error["code"] == code
    else:
        assert error["code"] in ("batch.empty", "file.no_rows")


def test_upload_needs_a_known_item_and_a_file(client: TestClient, platform: Platform, samr_key: str) -> None:
    v = _version(platform)
    data = _penalty_csv(v, [valid_row(v, 1)])
    assert_error(_upload(client, _key(samr_key), data, item="no_such_item"), 404, "item.unknown")
    no_file = client.post(FILES, headers=_key(samr_key), data={"item": ITEM})
    assert_error(no_file, 422, "request.invalid")
    no_item = client.post(FILES, headers=_key(samr_key), files={"file": ("a.csv", data, "text/csv")})
    assert_error(no_item, 422, "request.invalid")


def test_a_formula_cell_rejects_its_row_with_a_chinese_reason(
    client: TestClient, platform: Platform, samr_key: str
) -> None:
    v = _version(platform)
    data = _fill_template(client, platform, [valid_row(v, 1), valid_row(v, 2)], cells={(1, "fine_amount"): "=100*2"})
    response = _upload(client, _key(samr_key), data, name="a.xlsx", mime=XLSX)
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["accepted"], receipt["rejected"]) == (1, 1)
    [bad] = receipt["rejections"]
    assert bad["row"] == 3
    problem = next(p for p in bad["problems"] if p["code"] == "file.formula_cell")
    assert problem["field"] == "fine_amount" and "公式" in problem["message"] and "罚款金额" in problem["message"]


@pytest.mark.parametrize("cell", [45901, 45901.0, dt.datetime(2025, 9, 1)])
def test_an_excel_date_cell_in_the_decision_date_column_is_read_as_that_date(
    client: TestClient, platform: Platform, samr_key: str, cell: Any
) -> None:
    assert dt.date(1899, 12, 30) + dt.timedelta(days=45901) == dt.date(2025, 9, 1)
    v = _version(platform)
    data = _fill_template(client, platform, [valid_row(v, 1)], cells={(0, "decision_date"): cell})
    response = _upload(client, _key(samr_key), data, name="a.xlsx", mime=XLSX)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1, response.json()["rejections"]
    record = client.get(f"/api/v1/records/by-source/{DEPT}/SRC-0000001", headers=_key(samr_key)).json()
    assert record["decision_date"] == "2025-09-01"


# -- data quality --------------------------------------------------------------------------------------


def test_quality_per_department_and_item(
    client: TestClient, platform: Platform, samr_key: str, office: dict[str, str],
    make_api_key: Callable[[str], str],
) -> None:
    v = _version(platform)
    samr_rows = [valid_row(v, 1), valid_row(v, 2), valid_row(v, 3, uscc=_bad_uscc(3)),
                 _without(valid_row(v, 4), "decision_no"), valid_row(v, 5, uscc=_bad_uscc(5))]
    assert client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": samr_rows}).status_code == 200
    assert client.post(BATCHES, headers=_key(samr_key), json={"item": ITEM, "records": samr_rows[:1]}).status_code == 200
    tax_key = _key(make_api_key(OTHER))
    tax_rows = [valid_row(v, 11, source_id="TAX-1"), valid_row(v, 12, source_id="TAX-2", severity="bogus")]
    assert client.post(BATCHES, headers=tax_key, json={"item": ITEM, "records": tax_rows}).status_code == 200

    everything = client.get(QUALITY, headers=office)
    assert everything.status_code == 200, everything.text
    rows = {(r["department"], r["item"]): r for r in everything.json()["rows"]}
    assert set(rows) == {(DEPT, ITEM), (OTHER, ITEM)}
    samr = rows[(DEPT, ITEM)]
    assert {k: samr[k] for k in ("batches", "received", "accepted", "unchanged", "rejected")} == {
        "batches": 2, "received": 6, "accepted": 2, "unchanged": 1, "rejected": 3}
    assert samr["rejected_by_reason"] == {"uscc.check_character": 2, "field.required": 1}
    # The same by field, with the column's label and the latest wording (the refused value in it), most first.
    assert [(r["code"], r["field"], r["field_label"], r["rejected"]) for r in samr["reasons"]] == [
        ("uscc.check_character", "uscc", "统一社会信用代码", 2), ("field.required", "decision_no", "行政处罚决定书文号", 1)]
    assert samr["reasons"][0]["example"].startswith("统一社会信用代码校验位错误")
    assert _bad_uscc(5)[-1] in samr["reasons"][0]["example"]  # the later of the two refused codes
    assert "行政处罚决定书文号" in samr["reasons"][1]["example"] and "必填" in samr["reasons"][1]["example"]
    assert samr["rejection_rate"] == pytest.approx(0.5)
    assert samr["department_name"] != DEPT and CJK.search(samr["department_name"])
    assert samr["item_name"] == "行政处罚信息" and samr["last_submission"]
    tax = rows[(OTHER, ITEM)]
    assert (tax["received"], tax["accepted"], tax["rejected"]) == (2, 1, 1)
    assert tax["rejected_by_reason"] == {"field.not_option": 1}
    [severity] = tax["reasons"]
    assert (severity["field"], severity["field_label"]) == ("severity", "失信程度") and "bogus" in severity["example"]

    only_tax = client.get(QUALITY, headers=office, params={"department": OTHER}).json()["rows"]
    assert [r["department"] for r in only_tax] == [OTHER]
    none = client.get(QUALITY, headers=office, params={"item": "volunteer_service"}).json()["rows"]
    assert none == []

    own = client.get(QUALITY, headers=_key(samr_key))
    assert own.status_code == 200
    assert [(r["department"], r["item"]) for r in own.json()["rows"]] == [(DEPT, ITEM)]
    assert own.json()["rows"][0] == samr
    assert_error(client.get(QUALITY, headers=_key(samr_key), params={"department": OTHER}), 403,
                 "quality.other_department")


def test_a_large_file_read_by_the_second_process_gives_the_same_receipt(
    client: TestClient, platform: Platform, samr_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_FROM_BYTES", 4 * 1024 * 1024)  # a 4 MiB file: the reader process
    v = _version(platform)
    rows = [valid_row(v, n, facts="违法事实" * 40) for n in range(1, 5001)]
    rows[99] = valid_row(v, 100, uscc=_bad_uscc(100), facts="违法事实" * 40)
    data = _penalty_csv(v, rows)
    assert len(data) >= pipeline.PARALLEL_FROM_BYTES, len(data)
    first = _upload(client, _key(samr_key), data)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["received"], body["accepted"], body["rejected"]) == (5000, 4999, 1)
    assert body["rejections"][0]["row"] == 101 and body["rejections"][0]["source_id"] == "SRC-0000100"
    second = _upload(client, _key(samr_key), data).json()
    assert (second["accepted"], second["unchanged"], second["rejected"]) == (0, 4999, 1)
