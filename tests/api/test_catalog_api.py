"""The catalog API over HTTP: listing and searching items, an item's dated versions, templates, departments."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from chengxin.catalog.rules import template_columns
from chengxin.platform import Platform

ITEMS = "/api/v1/catalog/items"
ITEM = "admin_penalty"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _codes(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["items"])
    return [i["code"] for i in body["items"]]


def test_list_items(client: TestClient, platform: Platform) -> None:
    response = client.get(ITEMS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] > 30 and body["count"] == len(platform.catalog.items)
    assert dt.date.fromisoformat(body["on"])
    penalty = next(i for i in body["items"] if i["code"] == ITEM)
    assert penalty["name_zh"] == "行政处罚信息" and penalty["category"] == "negative"
    assert penalty["in_force"] is True and "samr" in penalty["departments"]
    assert penalty["subject_kinds"] == ["organization", "person"]


def test_search_finds_penalties_first(client: TestClient) -> None:
    codes = _codes(client.get(ITEMS, params={"q": "处罚"}))
    assert codes[0] == ITEM
    assert "volunteer_service" not in codes
    assert _codes(client.get(ITEMS, params={"q": "Administrative penalties"})) == [ITEM]
    assert _codes(client.get(ITEMS, params={"q": "不存在的目录项名称"})) == []


@pytest.mark.parametrize("category", ["basic", "positive", "negative"])
def test_filter_by_category(client: TestClient, category: str) -> None:
    items = client.get(ITEMS, params={"category": category}).json()["items"]
    assert items and all(i["category"] == category for i in items)
    assert (ITEM in [i["code"] for i in items]) == (category == "negative")


@pytest.mark.parametrize("kind", ["person", "organization"])
def test_filter_by_subject_kind(client: TestClient, kind: str) -> None:
    items = client.get(ITEMS, params={"subject_kind": kind}).json()["items"]
    assert items and all(kind in i["subject_kinds"] for i in items)
    codes = [i["code"] for i in items]
    assert ITEM in codes
    assert ("person_basic" in codes) == (kind == "person")
    assert ("org_registration" in codes) == (kind == "organization")


def test_filters_combine(client: TestClient) -> None:
    codes = _codes(client.get(ITEMS, params={"q": "处罚", "category": "negative", "subject_kind": "organization",
                                             "department": "samr"}))
    assert ITEM in codes
    assert _codes(client.get(ITEMS, params={"q": "处罚", "category": "positive"})) == []


@pytest.mark.parametrize("params", [{"category": "bogus"}, {"subject_kind": "robot"}, {"on": "2025-02-30"},
                                    {"q": "x" * 101}])
def test_bad_filters_are_422_in_the_error_shape(client: TestClient, params: dict[str, str]) -> None:
    response = client.get(ITEMS, params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "request.invalid" and CJK.search(error["message"])


def test_items_in_force_on_a_past_day(client: TestClient) -> None:
    body = client.get(ITEMS, params={"on": "2020-01-01"}).json()
    penalty = next(i for i in body["items"] if i["code"] == ITEM)
    assert body["on"] == "2020-01-01" and penalty["current_version"] == "2019.1" and penalty["in_force"]


def test_item_detail_has_dated_versions_in_order(client: TestClient) -> None:
    response = client.get(f"{ITEMS}/{ITEM}")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == ITEM and body["current_version"] == "2025.1"
    versions = body["versions"]
    assert [v["version"] for v in versions] == ["2019.1", "2023.1", "2025.1"]
    starts = [dt.date.fromisoformat(v["effective_from"]) for v in versions]
    assert starts == sorted(starts)
    for earlier, later in zip(versions, versions[1:]):
        assert dt.date.fromisoformat(earlier["effective_to"]) + dt.timedelta(days=1) == dt.date.fromisoformat(
            later["effective_from"])
    assert versions[-1]["effective_to"] is None
    assert versions[0]["display_periods"] == {"general": {"min": "P3M", "max": "P1Y"},
                                              "serious": {"min": "P6M", "max": "P3Y"}}
    assert versions[-1]["display_periods"] == {"minor": {"min": None, "max": "P3M"},
                                               "general": {"min": "P3M", "max": "P1Y"},
                                               "serious": {"min": "P1Y", "max": "P3Y"}}
    latest = versions[-1]
    assert latest["severities"] == ["minor", "general", "serious"] and "527号" in versions[0]["basis"]
    fields = {f["code"]: f for f in latest["fields"]}
    assert fields["decision_no"]["label_zh"] == "行政处罚决定书文号" and fields["decision_no"]["required"]
    assert "fine" in [o["value"] for o in fields["penalty_type"]["options"]]
    assert [c["code"] for c in latest["columns"]][:5] == ["source_id", "uscc", "ric", "subject_name", "decision_date"]


def test_unknown_item_is_a_json_404_in_chinese(client: TestClient) -> None:
    for path in ("no_such_item", "no_such_item/template.xlsx", "no_such_item/template.csv"):
        response = client.get(f"{ITEMS}/{path}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == "item.unknown" and "未知的目录项" in error["message"]
        assert "no_such_item" in error["message_en"]


def _header_labels(platform: Platform) -> list[str]:
    return [f"{c.label_zh}*" if c.required else c.label_zh
            for c in template_columns(platform.catalog.item(ITEM).latest)]


def test_xlsx_template_header_is_the_chinese_labels(client: TestClient, platform: Platform) -> None:
    response = client.get(f"{ITEMS}/{ITEM}/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"{ITEM}.xlsx" in response.headers["content-disposition"]
    assert response.content[:4] == b"PK\x03\x04"
    wb = load_workbook(io.BytesIO(response.content))
    first = wb.worksheets[0]
    assert first.title == "数据"
    header = [c.value for c in next(first.iter_rows(min_row=1, max_row=1))]
    assert header == _header_labels(platform)
    assert "来源编号*" in header and "案件名称" in header  # required ones marked, optional ones not
    assert first.max_row == 1  # no sample data to delete


def test_csv_template_starts_with_a_bom_and_the_labels(client: TestClient, platform: Platform) -> None:
    response = client.get(f"{ITEMS}/{ITEM}/template.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8")
    assert not text[1:].startswith("\ufeff")  # one BOM, not two
    [header] = list(csv.reader(io.StringIO(text[1:])))
    assert header == _header_labels(platform)


def test_departments(client: TestClient, platform: Platform) -> None:
    response = client.get("/api/v1/departments")
    assert response.status_code == 200
    departments = {d["code"]: d for d in response.json()["departments"]}
    assert set(departments) == set(platform.catalog.departments)
    samr = departments["samr"]
    assert samr["name_zh"] == "常州市市场监督管理局" and samr["name_en"]
    assert ITEM in samr["items"]
    assert all(CJK.search(d["name_zh"]) for d in departments.values())
