"""Repair rules, table-driven: eligibility (eligibility_cases.yaml) read as the rules read, and the
working-day deadlines of an application (deadline_cases.yaml) across the Spring Festival, National
Day and adjusted working weekends, with estimates flagged in years without a published schedule."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Catalog, RepairConditions
from chengxin.core.policy import RepairPolicy, policy_on
from chengxin.repair import rules
from chengxin.workdays.rules import WorkCalendar

HERE = Path(__file__).parent
ELIGIBILITY: dict[str, Any] = yaml.safe_load((HERE / "eligibility_cases.yaml").read_text(encoding="utf-8"))
DEADLINES: dict[str, Any] = yaml.safe_load((HERE / "deadline_cases.yaml").read_text(encoding="utf-8"))
LIBRARY = WorkCalendar(frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays),
                       frozenset(range(2004, 2027)))
POLICY = policy_on(dt.date(2026, 1, 1)).repair


@cache
def _catalog() -> Catalog:
    return load_catalog()


def _assess(case: dict[str, Any]) -> rules.Assessment:
    d = ELIGIBILITY["defaults"]
    record = {**d["record"], **case.get("record", {})}
    version = _catalog().version_on(record["item"], record["decision_date"])
    assert version is not None, record
    if "repair" in case:
        version = dataclasses.replace(version, repair=RepairConditions(**case["repair"]))
    subject = {**d["subject"], **case.get("subject", {})}
    subject["later_penalties"] = tuple(rules.LaterPenalty(**p) for p in subject.get("later_penalties", ()))
    policy = RepairPolicy(**{**POLICY.model_dump(), **d["policy"], **case.get("policy", {})})
    return rules.assess(
        version,
        rules.RecordFacts(item_code=record["item"], category=version.category.value, severity=record["severity"],
                          decision_date=record["decision_date"], status=record["status"],
                          display_stopped_on=record.get("display_stopped_on"), display_from=record.get("display_from"),
                          cause=record.get("cause")),
        rules.SubjectFacts(**subject),
        rules.Submission(**{**d["submission"], **case.get("submission", {})}),
        today=case["today"], policy=policy, interval_clause="国家发展改革委令第58号；RULES §2")


@pytest.mark.parametrize("case", ELIGIBILITY["cases"], ids=[c["name"] for c in ELIGIBILITY["cases"]])
def test_eligibility(case: dict[str, Any]) -> None:
    assessment = _assess(case)
    codes = [r.code for r in assessment.reasons]
    assert sorted(codes) == sorted(case["expect"]), [r.message for r in assessment.reasons]
    assert assessment.eligible is (not case["expect"])
    assert len(set(codes)) == len(codes)
    for reason in assessment.reasons:  # every reason: Chinese for the subject, English, and its clause
        assert reason.message and reason.message_en and reason.clause
        assert reason.kind in (rules.RECORD, rules.TIMING, rules.SUBJECT, rules.MATERIAL)
    if "first_day" in case:
        assert assessment.first_day == case["first_day"]
    elif case["expect"]:
        assert assessment.first_day is None or all(r.kind in (rules.TIMING, rules.MATERIAL)
                                                   for r in assessment.reasons)
    for code, words in case.get("says", {}).items():
        assert words in next(r.message for r in assessment.reasons if r.code == code)


def test_an_item_gone_from_the_catalog_cannot_be_repaired() -> None:
    facts = rules.RecordFacts("gone_item", "negative", "general", dt.date(2025, 9, 1), "active")
    assessment = rules.assess(None, facts, rules.SubjectFacts(), rules.Submission(), today=dt.date(2026, 1, 5),
                              policy=POLICY, interval_clause="x")
    assert [r.code for r in assessment.reasons] == ["repair.not_repairable"]
    assert assessment.needs == rules.Needs()


def test_the_needs_follow_the_catalog() -> None:
    catalog = _catalog()
    day = dt.date(2026, 1, 5)
    assert rules.needs_of(catalog.version_on("admin_penalty", day)) == rules.Needs()
    assert rules.needs_of(catalog.version_on("food_drug_violation", day)) == rules.Needs(training=True,
                                                                                       rectification=True)
    assert rules.needs_of(catalog.version_on("dishonest_debtor", day)) == rules.Needs()
    labels = rules.Needs(training=True, credit_report=True).labels_zh()
    assert labels[:2] == ["已履行法定义务、纠正失信行为的证明材料", "签署信用承诺书"] and len(labels) == 4


@pytest.mark.parametrize(("cause", "other", "same"), [
    ("未按规定公示年度报告", "未按规定公示 年度报告", True),
    ("未按规定公示年度报告", "虚假宣传", False),
    (None, "虚假宣传", True),
    ("虚假宣传", "", True),
])
def test_same_cause(cause: str | None, other: str | None, same: bool) -> None:
    assert rules.same_cause(cause, other) is same


# -- deadlines ---------------------------------------------------------------------------------------


def _policy(case: dict[str, Any]) -> RepairPolicy:
    return RepairPolicy(**{**POLICY.model_dump(), **case.get("policy", {})})


@pytest.mark.parametrize("case", DEADLINES["acceptance"], ids=[c["name"] for c in DEADLINES["acceptance"]])
def test_deadlines_on_acceptance(case: dict[str, Any]) -> None:
    deadlines = rules.deadlines_on_acceptance(LIBRARY, case["accepted_on"], _policy(case))
    assert (deadlines.decide.due, deadlines.answer.due) == (case["decide"], case["answer"])
    assert deadlines.estimated is case.get("estimated", False)
    if deadlines.estimated:
        assert "尚未录入" in (deadlines.decide.warning_zh() or deadlines.answer.warning_zh())


@pytest.mark.parametrize("case", DEADLINES["extension"], ids=[c["name"] for c in DEADLINES["extension"]])
def test_extended_deadline(case: dict[str, Any]) -> None:
    extended = rules.extended_deadline(LIBRARY, case["due_on"], case["answer_due_on"], _policy(case))
    assert extended.due == case["extended"]
    assert extended.estimated is case.get("estimated", False)


@pytest.mark.parametrize("case", DEADLINES["stop_display"], ids=[c["name"] for c in DEADLINES["stop_display"]])
def test_stop_display_deadline(case: dict[str, Any]) -> None:
    assert rules.stop_display_deadline(LIBRARY, case["decided_on"], POLICY).due == case["by"]


@pytest.mark.parametrize("case", DEADLINES["due_soon"], ids=[c["name"] for c in DEADLINES["due_soon"]])
def test_due_soon(case: dict[str, Any]) -> None:
    assert rules.is_due_soon(LIBRARY, case["due_on"], case["today"]) is case["due_soon"]
