"""Pure rules of credit notices (信用告知), integrity interviews (诚信约谈) and complaints about
handling (投诉) — issue #4 §4, §5. No database, no web, no clock: ``today``/``now`` are passed in.

- The three kinds of case as state machines (``core.workflow``): states with Chinese labels and the
  transitions each role may take.
- Deadlines in working days (RULES §2–§3 way of counting: the Nth working day after the event is
  the last day allowed), from the dated policy (``policy_on(day).notice`` / ``.complaint``).
- When a record of an item that needs a notice may be displayed (``record_display_from``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from chengxin.core.errors import DomainError
from chengxin.core.policy import Policy
from chengxin.core.workflow import DEPARTMENT, OFFICE, SUBJECT, SYSTEM, Transition, Workflow
from chengxin.disclosure.rules import HELD_UNTIL_NOTICE
from chengxin.workdays.rules import Deadline, WorkCalendar, add_working_days

__all__ = [
    "COMPLAINABLE", "COMPLAINT", "COMPLAINT_OUTCOMES", "DUE_SOON_WORKING_DAYS", "HELD", "INTERVIEW",
    "INTERVIEW_OUTCOMES", "MAX_TEXT", "NOTICE", "NOTICE_MATCHABLE", "DueCounts", "clean_text", "complaint_deadline",
    "count_due", "decide_deadline", "due_state", "month_of", "notice_deadline", "record_display_from",
]

# 信用告知 hold: a record of a notice-required item that no notice covers yet is "displayed from"
# this day — never. ``disclosure.rules.is_displayed(..., display_from)`` hides it on every read;
# the day a notice covers it, its real first day of display replaces this one.
HELD = HELD_UNTIL_NOTICE  # a record awaiting its credit notice (disclosure.rules)

# A form's free text (facts, a defence, minutes, a complaint): enough for a page, not a dossier —
# longer material goes in attachments.
MAX_TEXT = 4000

# The console counts a case as "due soon" when its deadline is within this many working days.
DUE_SOON_WORKING_DAYS = 2


def _t(action: str, label: str, sources: set[str], target: str, roles: set[str], *, reason: bool = False) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(roles), needs_reason=reason)


# -- 信用告知 ---------------------------------------------------------------------------------------
# The department tells the subject before recording certain dishonesty (catalog: notice_required);
# the subject may state a defence (陈述申辩) or show the obligation is met within the response
# period; the department then records (the record enters display) or withdraws (no record).
NOTICE = Workflow(
    case_type="notice",
    states={
        "issued": "已告知（待回复）",
        "responded": "已陈述申辩（待单位决定）",
        "settled": "已说明履行（待单位决定）",
        "expired": "期满未回复（待单位决定）",
        "recorded": "已记入",
        "withdrawn": "已撤回",
    },
    initial="issued",
    transitions=(
        _t("issue", "发出信用告知", set(), "issued", {DEPARTMENT}),
        _t("respond", "陈述申辩", {"issued"}, "responded", {SUBJECT}, reason=True),
        _t("settle", "说明已履行", {"issued", "responded"}, "settled", {SUBJECT}, reason=True),
        _t("expire", "告知期满", {"issued"}, "expired", {SYSTEM}),
        _t("record", "决定记入", {"responded", "settled", "expired"}, "recorded", {DEPARTMENT}),
        _t("withdraw", "撤回告知", {"issued", "responded", "settled", "expired"}, "withdrawn", {DEPARTMENT},
           reason=True),
    ),
)
# Notices a newly ingested record may be matched to (a withdrawn notice covers nothing).
NOTICE_MATCHABLE = ("issued", "responded", "settled", "expired", "recorded")
NOTICE_OPEN = ("issued", "responded", "settled", "expired")
# States in which the department has to decide (record or withdraw).
NOTICE_AWAITING_DEPARTMENT = ("responded", "settled", "expired")

# -- 诚信约谈 ---------------------------------------------------------------------------------------
INTERVIEW = Workflow(
    case_type="interview",
    states={"scheduled": "已安排", "held": "已约谈（待定结果）", "closed": "已办结", "cancelled": "已取消"},
    initial="scheduled",
    transitions=(
        _t("schedule", "安排约谈", set(), "scheduled", {OFFICE}),
        _t("reschedule", "改期", {"scheduled"}, "scheduled", {OFFICE}, reason=True),
        _t("hold", "记录约谈纪要", {"scheduled"}, "held", {OFFICE}),
        _t("close", "确定约谈结果", {"held"}, "closed", {OFFICE}),
        _t("cancel", "取消约谈", {"scheduled"}, "cancelled", {OFFICE}, reason=True),
    ),
)
INTERVIEW_OUTCOMES = {"commitment": "整改承诺", "no_action": "无需处理", "referred": "移交处理"}

# -- 投诉 -----------------------------------------------------------------------------------------
COMPLAINT = Workflow(
    case_type="complaint",
    states={"received": "已受理（待答复）", "answered": "已答复", "closed": "已办结", "withdrawn": "已撤回"},
    initial="received",
    transitions=(
        _t("file", "提交投诉", set(), "received", {SUBJECT}),
        _t("answer", "答复投诉", {"received"}, "answered", {OFFICE}, reason=True),
        _t("close", "办结", {"answered"}, "closed", {SUBJECT, OFFICE}),
        _t("withdraw", "撤回投诉", {"received"}, "withdrawn", {SUBJECT}),
    ),
)
COMPLAINT_OUTCOMES = {"upheld": "投诉成立", "partly_upheld": "部分成立", "not_upheld": "投诉不成立"}
# Cases whose handling may be complained about (issue #4 §5), by their workflow case_type.
COMPLAINABLE = {"objection": "异议", "repair": "信用修复"}


# -- deadlines ------------------------------------------------------------------------------------


def notice_deadline(calendar: WorkCalendar, policy: Policy, issued_on: dt.date) -> Deadline:
    """Last day of the response period: the Nth working day after the notice was issued."""
    return add_working_days(calendar, issued_on, policy.notice.response_working_days)


def decide_deadline(calendar: WorkCalendar, policy: Policy, since: dt.date) -> Deadline:
    """Last day for the department to record or withdraw, counted from the reply (or from the end of
    the response period when the subject did not reply)."""
    return add_working_days(calendar, since, policy.notice.decide_working_days)


def complaint_deadline(calendar: WorkCalendar, policy: Policy, received_on: dt.date) -> Deadline:
    """Last day for the credit office to answer a complaint (国办发〔2025〕22号: 10 working days)."""
    return add_working_days(calendar, received_on, policy.complaint.answer_working_days)


def record_display_from(state: str, response_due: dt.date, *, replied: bool, closed_on: dt.date | None) -> dt.date:
    """First day the record a notice covers may be displayed.

    - The response period always runs to its end: never before the day after ``response_due``.
    - The subject replied (defence or settlement) and the department has not decided: held — the
      department must weigh the reply first (浙江条例第二十八条: 听取陈述申辩).
    - Recorded after a reply: from the later of the day after the period and the decision day.
    - Withdrawn: held (a withdrawn notice covers no displayed record).
    """
    after_period = response_due + dt.timedelta(days=1)
    if state == "withdrawn":
        return HELD
    if state in ("responded", "settled"):
        return HELD
    if state == "recorded" and replied and closed_on is not None:
        return max(after_period, closed_on)
    return after_period


def due_state(due: dt.date, today: dt.date, soon_limit: dt.date) -> str:
    """``overdue`` (past the last day), ``due_soon`` (by ``soon_limit``) or ``ok``."""
    if today > due:
        return "overdue"
    if due <= soon_limit:
        return "due_soon"
    return "ok"


@dataclass(frozen=True)
class DueCounts:
    open: int
    due_soon: int
    overdue: int


def count_due(dues: list[dt.date | None], today: dt.date, soon_limit: dt.date) -> DueCounts:
    """Open cases, those due by ``soon_limit`` and those past their last day (no deadline: open only)."""
    soon = overdue = 0
    for due in dues:
        if due is None:
            continue
        state = due_state(due, today, soon_limit)
        soon += state == "due_soon"
        overdue += state == "overdue"
    return DueCounts(len(dues), soon, overdue)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def clean_text(value: str | None, *, field: str, label: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    """Trimmed free text, or a clear refusal (empty when required, longer than ``limit``)."""
    text = (value or "").strip()
    if required and not text:
        raise DomainError("form.required", f"请填写{label}", f"{field} is required", field=field)
    if len(text) > limit:
        raise DomainError("form.too_long", f"{label}不能超过 {limit} 字（现 {len(text)} 字），较长材料请作为附件上传",
                          f"{field} is longer than {limit} characters", field=field)
    return text


def can_record_minutes(scheduled_at: dt.datetime, now: dt.datetime) -> bool:
    """Minutes are written after the interview has taken place, never before its time."""
    return now >= scheduled_at


def label(states: Mapping[str, str], state: str) -> str:
    return states.get(state, state)
