"""List rules, table-driven (cases.yaml) against the real criteria file: which records meet a
criterion on boundary days, terms and their last day, publicity windows, the due-process gates
before a decision, defence deadlines in working days, and the allowed transitions per list."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.rules import parse_duration
from chengxin.core.errors import DomainError, PermissionDenied
from chengxin.core.workflow import DEPARTMENT, OFFICE, SUBJECT, SYSTEM
from chengxin.lists import rules
from chengxin.lists.criteria import Criteria, load_criteria
from chengxin.scores.model import get_models
from chengxin.workdays.rules import WorkCalendar

HERE = Path(__file__).resolve().parent
CASES: dict[str, Any] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))
LIBRARY = WorkCalendar(frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays),
                       frozenset(range(2004, 2027)))


@cache
def _criteria() -> Criteria:
    return load_criteria(load_catalog())


def _facts(case: dict[str, Any]) -> list[rules.RecordFact]:
    day = case["day"]
    out = []
    for r in case["records"]:
        category = r.get("category") or ("negative" if r.get("severity") else "basic")
        out.append(rules.RecordFact(record_id=r["id"], item_code=r["item"], category=category,
                                    severity=r.get("severity"), decision_date=day - dt.timedelta(days=r["ago"]),
                                    displayed=r.get("displayed", True), fields=r.get("fields", {})))
    return out


def _score(case: dict[str, Any]) -> rules.ScoreFact | None:
    """The stored score of a case, with its band names from the model (as the service reads them)."""
    raw = case.get("score")
    if raw is None:
        return None
    band = get_models(load_catalog()).get(raw["model"]).band(raw["band"])
    return rules.ScoreFact(raw["model"], raw["band"], case["day"] - dt.timedelta(days=raw["ago"]), 0,
                           band.name_zh, band.name_en)


@pytest.mark.parametrize("case", CASES["match"], ids=lambda c: c["name"])
def test_match(case: dict[str, Any]) -> None:
    criterion = _criteria().on(case["criterion"], case["day"])
    if criterion is None:
        # Not in force that day: nothing can match (the version table decides).
        assert case["expect"] is None
        assert all(c.code != case["criterion"] for c in _criteria().in_force(case["day"]))
        return
    match = rules.evaluate(criterion, case["subject"], _facts(case), case["day"], _score(case))
    if case["expect"] is None:
        assert match is None
    else:
        assert match is not None
        assert list(match.record_ids) == case["expect"]
        assert match.reasons[0].code == criterion.code
        assert all(r.zh and r.en for r in match.reasons)
        if "reason" in case:
            assert any(case["reason"] in r.zh for r in match.reasons), [r.zh for r in match.reasons]


@pytest.mark.parametrize("case", CASES["terms"], ids=lambda c: c["name"])
def test_term_end(case: dict[str, Any]) -> None:
    term = parse_duration(case["term"]) if case["term"] else None
    assert rules.term_end(case["from"], term) == case["to"]


@pytest.mark.parametrize("case", CASES["expiry"], ids=str)
def test_expiry(case: dict[str, Any]) -> None:
    assert rules.is_expired(case["term_to"], case["day"]) is case["expired"]
    # The credit check's status reads the same boundary (lists.status.current_memberships).
    from chengxin.lists.status import current_memberships

    membership = {"term_from": "2020-01-01", "term_to": case["term_to"].isoformat() if case["term_to"] else None}
    assert bool(current_memberships([membership], case["day"])) is (not case["expired"])


@pytest.mark.parametrize("case", CASES["publicity"], ids=str)
def test_publicity_window(case: dict[str, Any]) -> None:
    assert rules.publicity_window(case["first"], case["days"]) == (case["first"], case["last"])


@pytest.mark.parametrize("case", CASES["decide"], ids=lambda c: c["name"])
def test_decision_block(case: dict[str, Any]) -> None:
    block = rules.decision_block(case["kind"], state=case["state"], defence_due_on=case.get("defence_due_on"),
                                 defence=case.get("defence"), publicity_to=case.get("publicity_to"),
                                 today=case["today"])
    assert (block.code if block else None) == case["block"]


@pytest.mark.parametrize("case", CASES["defence"], ids=lambda c: c["name"])
def test_defence_due(case: dict[str, Any]) -> None:
    assert rules.defence_due(LIBRARY, case["notice"], case["days"]).due == case["due"]


def test_match_all_passes_the_score_and_names_it_in_both_languages() -> None:
    day = dt.date(2026, 1, 10)
    score = rules.ScoreFact("civic-2025.1", "excellent", day, 780, "优秀", "Excellent")
    found = rules.match_all(_criteria().in_force(day), "person", [], day, score)
    assert [m.criterion.code for m in found] == ["red.civic_excellent"]
    codes = [r.code for r in found[0].reasons]
    assert codes == ["red.civic_excellent", "score_band", "no_negative"]
    band = found[0].reasons[1]
    assert band.zh == "文明信用积分等级为“优秀”（模型 civic-2025.1，计算日 2026-01-10）"
    assert band.en == "civic credit band is Excellent (model civic-2025.1, computed for 2026-01-10)"
    # A record-based red criterion earlier in the file wins the red list (one criterion per list).
    volunteer = [rules.RecordFact(1, "volunteer_service", "positive", None, day, True, {"star_level": "3"})]
    assert [m.criterion.code for m in rules.match_all(_criteria().in_force(day), "person", volunteer, day, score)] \
        == ["red.volunteer"]
    assert rules.match_all(_criteria().in_force(day), "person", [], day) == []


def test_match_all_takes_one_criterion_per_list() -> None:
    day = dt.date(2026, 1, 10)
    facts = [rules.RecordFact(1, "food_drug_violation", "negative", "serious", day, True, {}),
             rules.RecordFact(2, "work_safety_violation", "negative", "serious", day, True, {}),
             rules.RecordFact(3, "tax_arrears", "negative", "general", day, True, {})]
    found = rules.match_all(_criteria().in_force(day), "organization", facts, day)
    assert sorted(m.criterion.list_kind for m in found) == ["black", "watch"]


@pytest.mark.parametrize(("kind", "state", "role", "expected"), [
    ("black", "proposed", OFFICE, {"notice", "reject", "withdraw"}),
    ("red", "proposed", OFFICE, {"publicity", "reject", "withdraw"}),
    ("watch", "noticed", OFFICE, {"defence", "list", "reject", "withdraw"}),
    ("black", "noticed", SUBJECT, {"defence"}),
    ("red", "publicity", SUBJECT, set()),
    ("black", "proposed", DEPARTMENT, {"withdraw"}),
    ("black", "listed", OFFICE, {"remove"}),
    ("black", "listed", SYSTEM, {"expire"}),
    ("black", "ended", OFFICE, set()),
])
def test_allowed_actions(kind: str, state: str, role: str, expected: set[str]) -> None:
    assert {t.action for t in rules.actions_for(kind, state, role)} == expected


def test_workflow_refuses_wrong_state_and_role() -> None:
    with pytest.raises(DomainError) as wrong_state:
        rules.WORKFLOW.check("listed", "list", OFFICE)
    assert wrong_state.value.status == 409
    with pytest.raises(PermissionDenied):
        rules.WORKFLOW.check("noticed", "list", DEPARTMENT)
    with pytest.raises(DomainError) as no_reason:
        rules.WORKFLOW.check("listed", "remove", OFFICE, "  ")
    assert no_reason.value.code == "workflow.reason_required"
