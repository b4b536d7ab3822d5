"""Rules of disclosure, table-driven (display_cases.yaml): display windows per dated catalog
version, the boundary days of display, and who sees what."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Catalog, ItemVersion
from chengxin.disclosure.model import Audience
from chengxin.disclosure.rules import department_allowed, display_window, is_displayed, visible_to

CASES = yaml.safe_load((Path(__file__).parent / "display_cases.yaml").read_text(encoding="utf-8"))


@cache
def _catalog() -> Catalog:
    return load_catalog()


def _version(item: str, day: dt.date) -> ItemVersion:
    version = _catalog().version_on(item, day)
    assert version is not None, f"no version of {item} in force on {day}"
    return version


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


@pytest.mark.parametrize("case", CASES["windows"], ids=_ids(CASES["windows"]))
def test_display_window(case: dict[str, Any]) -> None:
    g, e = case["given"], case["expect"]
    version = _version(g["item"], g["decision_date"])
    if "version" in e:
        assert version.version == e["version"]
    assert display_window(version, g["severity"], g["decision_date"]) == (e["repair_from"], e["ends_on"])


@pytest.mark.parametrize("case", CASES["displayed"], ids=_ids(CASES["displayed"]))
def test_is_displayed(case: dict[str, Any]) -> None:
    g = case["given"]
    _, ends_on = display_window(_version(g["item"], g["decision_date"]), g["severity"], g["decision_date"])
    shown = is_displayed(g.get("status", "active"), g.get("display_stopped_on"), ends_on, g["today"],
                         g.get("display_from"))
    assert shown is case["expect"]


@pytest.mark.parametrize("case", CASES["visible"], ids=_ids(CASES["visible"]))
def test_visible_to(case: dict[str, Any]) -> None:
    g = dict(case["given"])
    audience = Audience(g.pop("audience"))
    args: dict[str, Any] = {"category": "negative", "subject_kind": "organization", "public_for_persons": False,
                            "displayed": True, "consent_categories": None, "department_allowed": False}
    args.update(g)
    assert visible_to(audience, **args) is case["expect"]


def test_a_version_without_the_severity_is_an_error() -> None:
    version = _version("commendation", dt.date(2020, 1, 1))
    # Non-negative items have only the default period: any severity falls back to it.
    assert display_window(version, "serious", dt.date(2020, 1, 1)) == (dt.date(2020, 1, 1), None)
    penalty = _version("admin_penalty", dt.date(2020, 1, 1))
    with pytest.raises(KeyError):
        display_window(penalty, "minor", dt.date(2020, 1, 1))  # the 2019 rule had no minor tier


@pytest.mark.parametrize(
    ("department", "shared_with", "expected"),
    [
        (None, ["tax"], True),  # the platform's own staff (credit office)
        ("samr", None, True),  # no restriction in the catalog: every department
        ("tax", ["tax", "hrss"], True),
        ("edu", ["tax", "hrss"], False),
        ("police", ["tax"], True),  # the source department reads its own item
    ],
)
def test_department_allowed(department: str | None, shared_with: list[str] | None, expected: bool) -> None:
    assert department_allowed(department, shared_with=shared_with, sources=["police"]) is expected
