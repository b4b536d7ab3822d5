"""异议 rules (pure: no database, no clock — ``today`` and the working-day calendar are passed in).

RULES §3, modelled on Shanghai Art. 36, Zhejiang Arts. 30–31, Shenzhen Arts. 50–51 and 征信业管理条例
Art. 25: the record is marked 异议中 at once; the platform checks its own copy (a mismatch with the
source is corrected at once), otherwise forwards the objection to the source department, which
decides within its deadline (extendable once, never beyond the total cap counted from filing):
correct, revoke, uphold with reasons, or — when the facts cannot be verified — keep the record with
both the check and the objection noted. The subject may contest the answer to the credit office
(second level). Every number comes from the dated policy (``policy_on(day).objection``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from chengxin.core import audit
from chengxin.core import workflow as wf
from chengxin.core.errors import DomainError
from chengxin.core.policy import ObjectionPolicy
from chengxin.workdays.rules import Deadline, WorkCalendar, add_working_days

CASE_TYPE = "objection"

# 异议事由 — the grounds the rules name (Zhejiang Art. 30 [P]; RULES §3). Codes are the API contract.
GROUNDS: dict[str, str] = {
    "wrong_information": "信息错误",
    "missing_information": "信息遗漏",
    "display_overdue": "超期公示（公示期满仍在公示）",
    "wrongly_listed": "错误列入或未移出名单",
    "other": "其他",
}

# -- states ----------------------------------------------------------------------------------------

FILED = "filed"  # 待核查转办: the office checks the platform's copy, then forwards (or corrects at once)
CHECK_OVERDUE = "check_overdue"  # the check / forward deadline passed (escalated)
FORWARDED = "forwarded"  # 待部门处理: the source department decides
EXTENDED = "extended"  # the department extended its deadline once (up to the total cap)
DEPT_OVERDUE = "dept_overdue"  # the department's deadline passed (escalated: 督办)
DECIDED = "decided"  # 已答复: the subject was told the outcome and may contest it
CONTESTED = "contested"  # 复核中: the credit office reviews (second level)
REVIEW_OVERDUE = "review_overdue"  # the review deadline passed (escalated)
CLOSED = "closed"  # 已办结

STATES: dict[str, str] = {
    FILED: "待核查转办",
    CHECK_OVERDUE: "核查转办逾期",
    FORWARDED: "待部门处理",
    EXTENDED: "延期处理中",
    DEPT_OVERDUE: "部门处理逾期（督办）",
    DECIDED: "已答复（可申请复核）",
    CONTESTED: "复核中",
    REVIEW_OVERDUE: "复核逾期",
    CLOSED: "已办结",
}
CHECK_STAGE = frozenset({FILED, CHECK_OVERDUE})
DEPARTMENT_STAGE = frozenset({FORWARDED, EXTENDED, DEPT_OVERDUE})
REVIEW_STAGE = frozenset({CONTESTED, REVIEW_OVERDUE})
# Someone must act by a deadline; the record carries the 异议中 mark meanwhile.
IN_PROGRESS = CHECK_STAGE | DEPARTMENT_STAGE | REVIEW_STAGE
OVERDUE_STATES = frozenset({CHECK_OVERDUE, DEPT_OVERDUE, REVIEW_OVERDUE})
# "One open objection per record at a time": an answered one is still open while it may be contested.
OPEN_STATES = frozenset(STATES) - {CLOSED}

# -- outcomes --------------------------------------------------------------------------------------

CORRECTED, REVOKED, UPHELD, UNVERIFIABLE, WITHDRAWN = "corrected", "revoked", "upheld", "unverifiable", "withdrawn"
CONFIRMED = "confirmed"
OUTCOME_ZH: dict[str, str] = {
    CORRECTED: "已更正记录",
    REVOKED: "已撤销记录",
    UPHELD: "维持原记录",
    # 征信业管理条例 Art. 25: the check and the objection are both recorded with the record.
    UNVERIFIABLE: "异议未能核实，保留记录并标注",
    WITHDRAWN: "已撤回异议",
}
REVIEW_ZH: dict[str, str] = {CONFIRMED: "复核维持原处理结果", CORRECTED: "复核后更正记录", REVOKED: "复核后撤销记录"}

# The outcome each deciding action gives (first level) and the review outcome (second level).
OUTCOME_OF: dict[str, str] = {"check_correct": CORRECTED, "correct": CORRECTED, "revoke": REVOKED,
                              "uphold": UPHELD, "unverifiable": UNVERIFIABLE, "withdraw": WITHDRAWN}
REVIEW_OF: dict[str, str] = {"confirm": CONFIRMED, "review_correct": CORRECTED, "review_revoke": REVOKED}
CORRECTING = frozenset({"check_correct", "correct", "review_correct"})  # need corrected field values
REVOKING = frozenset({"revoke", "review_revoke"})
DEPARTMENT_DECISIONS = ("correct", "revoke", "uphold", "unverifiable")


def _t(action: str, label: str, sources: Collection[str], target: str, roles: Collection[str],
       needs_reason: bool = False) -> wf.Transition:
    return wf.Transition(action, label, frozenset(sources), target, frozenset(roles), needs_reason)


WORKFLOW = wf.Workflow(
    case_type=CASE_TYPE,
    states=STATES,
    initial=FILED,
    transitions=(
        _t("file", "提出异议", (), FILED, {wf.SUBJECT}),
        # The platform's check (1 working day) and the forwarding (2 working days) are one act of the
        # office: it compares its copy with the source; a match is forwarded, a mismatch corrected.
        _t("forward", "核查后转交数据提供单位", CHECK_STAGE, FORWARDED, {wf.OFFICE}),
        _t("check_correct", "核查发现与来源不一致并更正", CHECK_STAGE, DECIDED, {wf.OFFICE}, True),
        # Extendable once (the state machine allows it only from FORWARDED), up to the total cap.
        _t("extend", "延长处理期限", {FORWARDED}, EXTENDED, {wf.DEPARTMENT}, True),
        _t("correct", "更正记录", DEPARTMENT_STAGE, DECIDED, {wf.DEPARTMENT}, True),
        _t("revoke", "撤销记录", DEPARTMENT_STAGE, DECIDED, {wf.DEPARTMENT}, True),
        _t("uphold", "维持原记录", DEPARTMENT_STAGE, DECIDED, {wf.DEPARTMENT}, True),
        _t("unverifiable", "答复无法核实", DEPARTMENT_STAGE, DECIDED, {wf.DEPARTMENT}, True),
        _t("withdraw", "撤回异议", CHECK_STAGE | DEPARTMENT_STAGE, CLOSED, {wf.SUBJECT}),
        _t("contest", "申请复核", {DECIDED}, CONTESTED, {wf.SUBJECT}, True),
        _t("accept", "接受处理结果", {DECIDED}, CLOSED, {wf.SUBJECT}),
        _t("confirm", "复核维持原处理结果", REVIEW_STAGE, CLOSED, {wf.OFFICE}, True),
        _t("review_correct", "复核后更正记录", REVIEW_STAGE, CLOSED, {wf.OFFICE}, True),
        _t("review_revoke", "复核后撤销记录", REVIEW_STAGE, CLOSED, {wf.OFFICE}, True),
        _t("escalate_check", "核查转办逾期督办", {FILED}, CHECK_OVERDUE, {wf.SYSTEM}),
        _t("escalate_department", "部门处理逾期督办", {FORWARDED, EXTENDED}, DEPT_OVERDUE, {wf.SYSTEM}),
        _t("escalate_review", "复核逾期督办", {CONTESTED}, REVIEW_OVERDUE, {wf.SYSTEM}),
        _t("finalize", "复核申请期满办结", {DECIDED}, CLOSED, {wf.SYSTEM}),
    ),
)
ESCALATION: dict[str, str] = {FILED: "escalate_check", FORWARDED: "escalate_department",
                              EXTENDED: "escalate_department", CONTESTED: "escalate_review"}


# -- who acts --------------------------------------------------------------------------------------


def staff_role(actor: audit.Actor, department_code: str) -> str | None:
    """The workflow role of a staff member or department API key on a case of ``department_code``:
    the credit office (and admins) everywhere, a department only on its own records' cases."""
    if actor.kind == "staff" and actor.role in ("admin", "credit_office"):
        return wf.OFFICE
    if actor.kind in ("staff", "api_key") and actor.department_code == department_code:
        return wf.DEPARTMENT
    return None


# -- deadlines (working days, RULES §3) ------------------------------------------------------------

DUE_SOON_WORKING_DAYS = 2  # the staff console's "due soon" (core.workflow.ConsoleLine)


@dataclass(frozen=True)
class FilingDeadlines:
    check: Deadline  # the platform checks its copy
    forward: Deadline  # … and forwards to the source department: a filed objection's deadline
    cap: Deadline  # the whole first level, extension included, never beyond this


def filing_deadlines(calendar: WorkCalendar, policy: ObjectionPolicy, filed_on: dt.date) -> FilingDeadlines:
    return FilingDeadlines(
        check=add_working_days(calendar, filed_on, policy.platform_check_working_days),
        forward=add_working_days(calendar, filed_on, policy.forward_working_days),
        cap=add_working_days(calendar, filed_on, policy.max_total_working_days),
    )


def decide_deadline(calendar: WorkCalendar, policy: ObjectionPolicy, filed_on: dt.date,
                    forwarded_on: dt.date) -> Deadline:
    """The department's deadline: N working days from forwarding, but never past the total cap."""
    own = add_working_days(calendar, forwarded_on, policy.decide_working_days)
    cap = add_working_days(calendar, filed_on, policy.max_total_working_days)
    return own if own.due <= cap.due else cap


def extended_deadline(calendar: WorkCalendar, policy: ObjectionPolicy, filed_on: dt.date) -> Deadline:
    """An extension runs to the total cap counted from filing (Shenzhen Art. 51: 20 working days at most)."""
    return add_working_days(calendar, filed_on, policy.max_total_working_days)


def contest_deadline(calendar: WorkCalendar, policy: ObjectionPolicy, decided_on: dt.date) -> Deadline:
    return add_working_days(calendar, decided_on, policy.contest_within_working_days)


def review_deadline(calendar: WorkCalendar, policy: ObjectionPolicy, contested_on: dt.date) -> Deadline:
    return add_working_days(calendar, contested_on, policy.office_review_working_days)


def due_soon_limit(calendar: WorkCalendar, today: dt.date) -> dt.date:
    """Deadlines up to this day (and not yet passed) are "due soon" on the console."""
    return add_working_days(calendar, today, DUE_SOON_WORKING_DAYS).due


def urgency(due: dt.date | None, today: dt.date, soon_limit: dt.date) -> str:
    """overdue | due_soon | ok — a deadline's last day is still in time (workdays.rules.Deadline)."""
    if due is None:
        return "ok"
    if today > due:
        return "overdue"
    return "due_soon" if due <= soon_limit else "ok"


def estimate_warning(estimated: bool, due: dt.date | None) -> str:
    """Shown wherever an estimated deadline is shown (a year without a published holiday schedule)."""
    if not estimated or due is None:
        return ""
    return (f"注意：期限计算时 {due.year} 年节假日安排尚未录入，按周一至周五估算"
            f"（{due.isoformat()}），安排公布后请核对")


def escalation(state: str, due: dt.date | None, today: dt.date) -> str | None:
    """The SYSTEM action that escalates a case past its current deadline, if any."""
    if state in ESCALATION and due is not None and today > due:
        return ESCALATION[state]
    return None


def finalizes(state: str, contest_due: dt.date | None, today: dt.date) -> bool:
    """An answer not contested within the window is final."""
    return state == DECIDED and contest_due is not None and today > contest_due


def check_contest_window(contest_due: dt.date | None, today: dt.date) -> None:
    if contest_due is not None and today > contest_due:
        raise DomainError("objection.contest_closed",
                          f"申请复核的期限已于 {contest_due.isoformat()} 届满，不能再申请复核",
                          f"The time to contest ended on {contest_due.isoformat()}", status=409)


# -- the 异议中 mark --------------------------------------------------------------------------------


def effective_outcome(outcome: str | None, review_outcome: str | None) -> str | None:
    """The outcome that stands: a review that corrected or revoked replaces the first answer."""
    if review_outcome in (CORRECTED, REVOKED):
        return review_outcome
    return outcome


def marks_record(state: str, outcome: str | None, review_outcome: str | None) -> bool:
    """Does this objection put the 异议中 mark on its record? While it is being handled (first level
    and review); after an answer only when it stands as unverifiable — then the mark is the permanent
    note of 征信业管理条例 Art. 25 (the check and the objection recorded with the record)."""
    if state in IN_PROGRESS:
        return True
    return effective_outcome(outcome, review_outcome) == UNVERIFIABLE


# -- texts the subject types -----------------------------------------------------------------------

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def clean_text(raw: str | None, *, field: str, label_zh: str, max_chars: int, required: bool = True) -> str:
    """Trimmed text, line breaks kept (CRLF → LF); refused with the field named when it is empty
    (if required), too long, or carries control or bidirectional-override characters."""
    text = (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        if required:
            raise DomainError(f"{field}.required", f"请填写{label_zh}", f"{field} is required", field=field)
        return ""
    bad = [ch for ch in text if ch in _BIDI or (unicodedata.category(ch) == "Cc" and ch != "\n")]
    if bad:
        raise DomainError(f"{field}.control_characters", f"{label_zh}含有不可见的控制字符（U+{ord(bad[0]):04X}），请删除后重新提交",
                          f"{field} contains control characters", field=field)
    if len(text) > max_chars:
        raise DomainError(f"{field}.too_long", f"{label_zh}不能超过 {max_chars} 字（现为 {len(text)} 字）",
                          f"{field} is longer than {max_chars} characters", field=field)
    return text


def check_grounds(grounds: str) -> str:
    if grounds not in GROUNDS:
        choices = "、".join(GROUNDS.values())
        raise DomainError("grounds.invalid", f"请选择异议事由：{choices}",
                          f"grounds must be one of {', '.join(GROUNDS)}", field="grounds")
    return grounds


# -- corrections -----------------------------------------------------------------------------------

COMMON_EDITABLE = ("decision_date", "severity")  # the subject and the source id never change


def merge_correction(base: Mapping[str, Any], corrections: Mapping[str, Any], editable: Collection[str]) -> dict[str, Any]:
    """The record as re-submitted: its current values with the corrected ones (blank = unchanged).

    The result goes through the normal ingest, which validates it against the catalog and writes a
    new version to the ledger; an unknown field is refused here so a typo never passes silently."""
    unknown = sorted(k for k in corrections if k not in editable)
    if unknown:
        raise DomainError("correction.unknown_field", f"不能更正的字段：{'、'.join(unknown)}",
                          f"Fields that cannot be corrected: {', '.join(unknown)}", field=unknown[0])
    changed = {k: (v.replace("\r\n", "\n").strip() if isinstance(v, str) else v) for k, v in corrections.items()
               if v is not None and not (isinstance(v, str) and not v.strip())}
    if not changed:
        raise DomainError("correction.empty", "请填写需要更正的字段（更正后的值）", "Give the corrected field values",
                          field="corrections")
    for code, value in changed.items():
        # The catalog's validators take text as it comes; a typed correction must not smuggle in
        # invisible control characters (PostgreSQL's JSONB refuses NUL outright).
        if isinstance(value, str) and any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
            raise DomainError("correction.control_characters", f"字段“{code}”含有不可见的控制字符，请删除后重新提交",
                              f"{code} contains control characters", field=code)
    row = dict(base)
    row.update(changed)
    return row


# -- what the subject is told ----------------------------------------------------------------------


def filed_notice(record_label: str, forward_due: dt.date, cap_due: dt.date) -> str:
    return (f"您对“{record_label}”提出的异议已受理，该信息已标注“异议中”。平台将核查并于 {forward_due.isoformat()} 前"
            f"转交数据提供单位，异议处理最迟于 {cap_due.isoformat()} 前答复。")


def outcome_notice(record_label: str, outcome: str, reason: str | None, contest_due: dt.date) -> str:
    text = f"您对“{record_label}”提出的异议已处理：{OUTCOME_ZH[outcome]}。"
    if reason:
        text += f"处理说明：{reason}。"
    return text + f"如对处理结果有异议，可于 {contest_due.isoformat()} 前向市信用办申请复核。"


def review_notice(record_label: str, review_outcome: str, reason: str | None) -> str:
    text = f"您对“{record_label}”异议处理结果的复核申请已办结：{REVIEW_ZH[review_outcome]}。"
    return text + (f"复核意见：{reason}。" if reason else "")
