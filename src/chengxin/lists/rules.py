"""Pure rules of the lists (名单): which criteria a subject's records and stored score meet on a day,
terms and their boundary days, the due-process gates before a decision, and the allowed transitions.

No database, no web, no clock: ``day``/``today`` is always passed in. The numbers come from
``data/criteria.yaml`` (:mod:`chengxin.lists.criteria`), never from here.

Boundary days (decided here, pinned by tests/unit/lists/cases.yaml):

- ``within_days: D`` — a record counts when its decision date lies in ``[day - D, day]``, both
  ends included; a record decided after ``day`` (a future date) never counts.
- ``score_band`` — the subject's stored score (``score_current``) counts when its band is one of the
  criterion's and it was computed for ``day`` or before (``as_of <= day``); a score computed for a
  later day never counts, and a subject with no stored score does not meet the condition.
- A term starts on ``term_from`` and ``term_to`` is its **last day in force** (inclusive):
  ``P3Y`` from 2026-01-10 gives ``term_to`` 2029-01-09; the entry is a member through 2029-01-09
  and expires on 2029-01-10 (``ended_on``). ``lists.status.current_memberships`` reads it the same
  way (``term_from <= day <= term_to``).
- Publicity of a red-list candidate (河南条例第二十八条) runs for N days counted from its first day,
  both ends included; the office may confirm from the day after the last.
- Defence (浙江条例第二十八条): ``defence_due_on`` is the Nth working day after the notice day (the
  notice day itself never counts); the office may decide from the day after it, or earlier once
  the subject has stated a defence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chengxin.catalog.model import Duration
from chengxin.catalog.rules import add_duration
from chengxin.core.workflow import DEPARTMENT, OFFICE, SUBJECT, SYSTEM, Transition, Workflow
from chengxin.lists.criteria import SEVERITY_RANK, Condition, Criterion, NoNegative, RecordsCondition, ScoreBand
from chengxin.lists.models import (
    BLACK,
    ENDED,
    LISTED,
    NOTICED,
    PROPOSED,
    PUBLICITY,
    RED,
    REJECTED,
    WATCH,
    WITHDRAWN,
)
from chengxin.workdays.rules import Deadline, WorkCalendar, add_working_days

__all__ = [
    "CASE_TYPE", "CONDITION_KINDS", "KIND_ZH", "Match", "Reason", "RecordFact", "STATE_ZH", "ScoreFact",
    "SubjectFacts", "WORKFLOW",
    "actions_for", "decision_block", "defence_due", "evaluate", "is_expired", "match_all", "publicity_window",
    "term_end", "within",
]

CASE_TYPE = "list_entry"
KIND_ZH = {RED: "红名单", BLACK: "严重失信主体名单", WATCH: "重点关注名单"}
KIND_SHORT_ZH = {RED: "红名单", BLACK: "黑名单", WATCH: "重点关注"}
STATE_ZH = {PROPOSED: "拟列入", NOTICED: "已告知（陈述申辩期）", PUBLICITY: "公示中", LISTED: "已列入",
            ENDED: "已移出", REJECTED: "不予列入", WITHDRAWN: "已撤回"}
_OPENABLE = frozenset({PROPOSED, NOTICED, PUBLICITY})

# Who does what (brief: the department proposes, the credit office decides; 浙江条例第二十四条: the
# listing decision is the agency's). The subject states a defence after the notice; the system
# proposes by rule and ends entries whose term is over.
WORKFLOW = Workflow(
    case_type=CASE_TYPE,
    states=STATE_ZH,
    initial=PROPOSED,
    transitions=(
        Transition("propose", "提出拟列入", frozenset(), PROPOSED, frozenset({DEPARTMENT, OFFICE, SYSTEM})),
        # 浙江条例第二十八条、河南条例第二十八条: written notice of reasons and basis before listing.
        Transition("notice", "告知列入理由和依据", frozenset({PROPOSED}), NOTICED, frozenset({OFFICE})),
        Transition("defence", "记录陈述申辩", frozenset({NOTICED}), NOTICED, frozenset({SUBJECT, OFFICE})),
        # 河南条例第二十八条: red-list candidates are displayed publicly before confirmation.
        Transition("publicity", "公示拟列入对象", frozenset({PROPOSED}), PUBLICITY, frozenset({OFFICE})),
        Transition("list", "决定列入", frozenset({NOTICED, PUBLICITY}), LISTED, frozenset({OFFICE})),
        Transition("reject", "不予列入", _OPENABLE, REJECTED, frozenset({OFFICE}), needs_reason=True),
        Transition("withdraw", "撤回拟列入", _OPENABLE, WITHDRAWN, frozenset({DEPARTMENT, OFFICE}),
                   needs_reason=True),
        Transition("remove", "决定移出", frozenset({LISTED}), ENDED, frozenset({OFFICE}), needs_reason=True),
        Transition("expire", "有效期届满移出", frozenset({LISTED}), ENDED, frozenset({SYSTEM})),
    ),
)
# Actions that only some lists have: notice/defence for black and watch, publicity for red.
_KIND_ONLY = {"notice": (BLACK, WATCH), "defence": (BLACK, WATCH), "publicity": (RED,)}


def actions_for(list_kind: str, state: str, role: str) -> list[Transition]:
    """What ``role`` may do now to an entry of ``list_kind`` in ``state`` (the buttons on a page)."""
    return [t for t in WORKFLOW.actions_for(state, role) if list_kind in _KIND_ONLY.get(t.action, (list_kind,))]


def kind_allows(list_kind: str, action: str) -> bool:
    return list_kind in _KIND_ONLY.get(action, (list_kind,))


# -- facts and matches -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordFact:
    """One record of the subject, as the rules see it (the service decides ``displayed`` from the catalog)."""

    record_id: int
    item_code: str
    category: str  # basic | positive | negative
    severity: str | None
    decision_date: dt.date
    displayed: bool
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class ScoreFact:
    """The subject's stored score (``score_current``), as the rules see it; the service adds the
    band's names from the model that computed it."""

    model_id: str  # e.g. civic-2025.1
    band: str  # band code, e.g. excellent, A
    as_of: dt.date  # the day the score was computed for
    total: int = 0
    band_zh: str = ""  # e.g. 优秀 (the code when the model is unknown)
    band_en: str = ""


@dataclass(frozen=True)
class SubjectFacts:
    """What the condition evaluators read about one subject: its records and its stored score."""

    records: Sequence[RecordFact]
    score: ScoreFact | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Match:
    """A criterion met on a day, with the records that meet it and the reasons in words."""

    criterion: Criterion
    record_ids: tuple[int, ...]
    reasons: tuple[Reason, ...]


def within(decision_date: dt.date, day: dt.date, within_days: int | None) -> bool:
    """Decision date in ``[day - within_days, day]`` (both ends included); None: any past date."""
    if decision_date > day:
        return False
    return within_days is None or decision_date >= day - dt.timedelta(days=within_days)


def _severity_at_least(severity: str | None, minimum: str | None) -> bool:
    if minimum is None:
        return True
    return SEVERITY_RANK.get(severity or "", 0) >= SEVERITY_RANK[minimum]


def _field_ok(fields: Mapping[str, Any], wanted: Mapping[str, tuple[str, ...]]) -> bool:
    return all(str(fields.get(name, "")) in values for name, values in wanted.items())


def _records(cond: RecordsCondition, facts: SubjectFacts, day: dt.date,
             ) -> tuple[bool, tuple[int, ...], Reason | None]:
    found = [f for f in facts.records
             if f.displayed and f.item_code in cond.items and _severity_at_least(f.severity, cond.min_severity)
             and _field_ok(f.fields, cond.fields) and within(f.decision_date, day, cond.within_days)]
    if len(found) < cond.min_count:
        return False, (), None
    found.sort(key=lambda f: (f.decision_date, f.record_id))
    ids = tuple(f.record_id for f in found)
    span_zh = f"{cond.within_days}日内" if cond.within_days else ""
    span_en = f" within {cond.within_days} days" if cond.within_days else ""
    sev_zh = {"general": "一般及以上", "serious": "严重"}.get(cond.min_severity or "", "")
    zh = f"{span_zh}有{len(found)}条{sev_zh}“{'、'.join(cond.items)}”信息（记录 {', '.join(map(str, ids))}）"
    if cond.min_count > 1:
        zh += f"，达到{cond.min_count}条的标准"
    en = f"{len(found)} record(s) of {', '.join(cond.items)}{span_en} (records {', '.join(map(str, ids))})"
    return True, ids, Reason("records", zh, en)


def _no_negative(cond: NoNegative, facts: SubjectFacts, day: dt.date,
                 ) -> tuple[bool, tuple[int, ...], Reason | None]:
    bad = [f for f in facts.records if f.displayed and f.category == "negative"
           and _severity_at_least(f.severity, cond.min_severity) and within(f.decision_date, day, cond.within_days)]
    if bad:
        return False, (), None
    sev = {"general": "一般及以上", "serious": "严重", "minor": ""}[cond.min_severity]
    return True, (), Reason("no_negative", f"{cond.within_days}日内无{sev}失信信息",
                            f"no {cond.min_severity}-or-worse negative record within {cond.within_days} days")


# What the score is called in a reason, by model family (the part of the model id before the version).
_SCORE_NAMES = {"civic": ("文明信用积分等级", "civic credit band"), "grade": ("公共信用等级", "public credit grade")}


def _score_band(cond: ScoreBand, facts: SubjectFacts, day: dt.date,
                ) -> tuple[bool, tuple[int, ...], Reason | None]:
    score = facts.score
    if score is None or score.as_of > day or score.band not in cond.bands:
        return False, (), None
    name_zh, name_en = _SCORE_NAMES.get(score.model_id.split("-", 1)[0], ("信用积分等级", "score band"))
    return True, (), Reason(
        "score_band",
        f"{name_zh}为“{score.band_zh or score.band}”（模型 {score.model_id}，计算日 {score.as_of.isoformat()}）",
        f"{name_en} is {score.band_en or score.band} (model {score.model_id}, computed for {score.as_of.isoformat()})")


Evaluator = Callable[[Any, SubjectFacts, dt.date], tuple[bool, tuple[int, ...], Reason | None]]
# One evaluator per condition kind (the dataclasses are in criteria.py, which parses them). A new
# kind: its dataclass and parser there, its fact in SubjectFacts, its evaluator in this table.
CONDITION_KINDS: dict[type, Evaluator] = {RecordsCondition: _records, NoNegative: _no_negative,
                                          ScoreBand: _score_band}


def _evaluate_condition(cond: Condition, facts: SubjectFacts, day: dt.date,
                        ) -> tuple[bool, tuple[int, ...], Reason | None]:
    return CONDITION_KINDS[type(cond)](cond, facts, day)


def evaluate(criterion: Criterion, subject_kind: str, facts: Sequence[RecordFact], day: dt.date,
             score: ScoreFact | None = None) -> Match | None:
    """Does a subject of ``subject_kind`` with these records (and this stored score, if any) meet
    ``criterion`` on ``day``?"""
    if not criterion.in_force_on(day) or subject_kind not in criterion.subject_kinds:
        return None
    subject = SubjectFacts(facts, score)
    ids: list[int] = []
    reasons: list[Reason] = []
    for cond in criterion.conditions:
        ok, found, reason = _evaluate_condition(cond, subject, day)
        if not ok:
            return None
        ids.extend(i for i in found if i not in ids)
        if reason is not None:
            reasons.append(reason)
    head = Reason(criterion.code, f"符合“{criterion.name_zh}”认定标准（{criterion.version}版）",
                  f"Meets the criterion {criterion.name_en} (version {criterion.version})")
    return Match(criterion, tuple(ids), (head, *reasons))


def match_all(criteria: Iterable[Criterion], subject_kind: str, facts: Sequence[RecordFact], day: dt.date,
              score: ScoreFact | None = None) -> list[Match]:
    """Every criterion met on ``day``; at most one per list kind (the first in file order wins)."""
    out: list[Match] = []
    seen: set[str] = set()
    for criterion in criteria:
        if criterion.list_kind in seen:
            continue
        match = evaluate(criterion, subject_kind, facts, day, score)
        if match is not None:
            out.append(match)
            seen.add(criterion.list_kind)
    return out


# -- terms ------------------------------------------------------------------------------------------


def term_end(term_from: dt.date, term: Duration | None) -> dt.date | None:
    """The last day in force of a term of ``term`` starting on ``term_from`` (None: until removed)."""
    if term is None:
        return None
    return add_duration(term_from, term) - dt.timedelta(days=1)


def is_expired(term_to: dt.date | None, day: dt.date) -> bool:
    """Past its last day: from ``term_to + 1`` on the entry no longer counts and the job ends it."""
    return term_to is not None and day > term_to


def in_term(term_from: dt.date | None, term_to: dt.date | None, day: dt.date) -> bool:
    return (term_from is None or term_from <= day) and (term_to is None or day <= term_to)


# -- due process --------------------------------------------------------------------------------------


def defence_due(calendar: WorkCalendar, notice_day: dt.date, working_days: int) -> Deadline:
    """The last day to state a defence: the Nth working day after the notice day."""
    return add_working_days(calendar, notice_day, working_days)


def publicity_window(first_day: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """公示期: ``days`` days from ``first_day``, both ends included."""
    return first_day, first_day + dt.timedelta(days=days - 1)


def decision_block(list_kind: str, *, state: str, defence_due_on: dt.date | None, defence: str | None,
                   publicity_to: dt.date | None, today: dt.date) -> Reason | None:
    """Why the office may not decide to list yet (None: it may)."""
    if list_kind == RED:
        if state != PUBLICITY or publicity_to is None:
            return Reason("lists.publicity_required", "红名单拟列入对象须先公示（河南省社会信用条例第二十八条）",
                          "A red-list candidate must be displayed publicly first")
        if today <= publicity_to:
            return Reason("lists.publicity_running", f"公示期至 {publicity_to.isoformat()} 止，公示期满后方可决定列入",
                          f"The publicity period runs until {publicity_to.isoformat()}")
        return None
    if state != NOTICED or defence_due_on is None:
        return Reason("lists.notice_required", "列入前须告知列入的理由和依据（浙江省公共信用信息管理条例第二十八条）",
                      "The subject must be told the reasons and basis first")
    if not (defence or "").strip() and today <= defence_due_on:
        return Reason("lists.defence_running",
                      f"陈述申辩期至 {defence_due_on.isoformat()} 止，期满或者收到陈述申辩后方可决定列入",
                      f"The defence period runs until {defence_due_on.isoformat()}")
    return None


def validate_term(term_from: dt.date, term_to: dt.date | None) -> Reason | None:
    if term_to is not None and term_to < term_from:
        return Reason("lists.term_order", "有效期截止日不能早于起始日", "term_to is before term_from")
    return None
