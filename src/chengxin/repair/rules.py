"""Pure rules of credit repair (信用修复, RULES §1–§2): may this record be repaired today, and if not,
every reason why — each with a code, a Chinese and an English message and the clause it rests on.

No database, no web, no clock: the record, the subject's other facts, what the application brings
and ``today`` are passed in. The numbers come from the catalog (the item version's display periods
and repair conditions) and from the dated policy (``policy_on(day).repair``), never from here.

Also here: the working-day deadlines of an application (decision, extension, the platform's total).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chengxin.catalog.model import Category, Duration, ItemVersion, Severity
from chengxin.core.policy import RepairPolicy
from chengxin.disclosure.rules import HELD_UNTIL_NOTICE, REVOKED, display_window
from chengxin.workdays.rules import Deadline, WorkCalendar, add_working_days

__all__ = [
    "DUE_SOON_WORKING_DAYS",
    "SEVERITY_ZH",
    "Assessment",
    "CaseDeadlines",
    "LaterPenalty",
    "Needs",
    "Reason",
    "RecordFacts",
    "SubjectFacts",
    "Submission",
    "assess",
    "deadlines_on_acceptance",
    "extended_deadline",
    "is_due_soon",
    "needs_of",
    "same_cause",
    "stop_display_deadline",
]

SEVERITY_ZH = {"minor": "轻微失信", "general": "一般失信", "serious": "严重失信"}

# The staff console's "due soon" window (core.workflow.ConsoleLine): due within 2 working days.
DUE_SOON_WORKING_DAYS = 2

# Kinds of reasons: what the record is, when one may apply, facts about the subject, what is missing
# from the application. The application form checks the first three before anything is filled in.
RECORD, TIMING, SUBJECT, MATERIAL = "record", "timing", "subject", "material"

# Clauses (the legal texts are in ../shared/laws; RULES §2 gives the sources).
CLAUSE_OBJECT = "国家发展改革委令第58号第三条；《深圳经济特区社会信用条例》第七十九条（修复的对象是正在公示的失信信息）"
CLAUSE_CONDITIONS = "《深圳经济特区社会信用条例》第八十条；国办发〔2025〕22号（履约证明、信用承诺书）"
CLAUSE_SERIOUS_LIST = "《浙江省公共信用信息管理条例》第三十二条；RULES §2（列入严重失信主体名单期间不予修复）"
CLAUSE_NEW_PENALTY = "国家发展改革委令第58号；RULES §2（因同一原因再次受到处罚的不予修复）"
CLAUSE_PENDING = "《深圳经济特区社会信用条例》第八十一条（同一事项已受理的，不重复受理）"


@dataclass(frozen=True)
class Reason:
    """One reason an application cannot be accepted."""

    code: str
    message: str
    message_en: str
    clause: str
    kind: str  # RECORD | TIMING | SUBJECT | MATERIAL


@dataclass(frozen=True)
class Needs:
    """What an application of this item must bring: always proof of fulfilled obligations and a
    signed credit commitment; training, a rectification report, a credit report where the item says so."""

    training: bool = False
    rectification: bool = False
    credit_report: bool = False

    def labels_zh(self) -> list[str]:
        labels = ["已履行法定义务、纠正失信行为的证明材料", "签署信用承诺书"]
        if self.training:
            labels.append("完成信用修复培训（上传结业证明或填写培训记录编号）")
        if self.rectification:
            labels.append("整改报告")
        if self.credit_report:
            labels.append("信用报告（由信用服务机构出具）")
        return labels


@dataclass(frozen=True)
class RecordFacts:
    """The record applied for, as its head says today."""

    item_code: str
    category: str
    severity: str | None
    decision_date: dt.date
    status: str
    display_stopped_on: dt.date | None = None
    display_from: dt.date | None = None
    cause: str | None = None  # the violation type where the item records one (see same_cause)


@dataclass(frozen=True)
class LaterPenalty:
    """Another record of the same subject and item decided after the one applied for."""

    decision_date: dt.date
    cause: str | None
    label: str  # how to name it to the subject, e.g. its source department and decision number


@dataclass(frozen=True)
class SubjectFacts:
    """What else is known about the subject."""

    last_repair_on: dt.date | None = None  # last approved repair of the same item (同类信息)
    on_serious_list: bool = False  # 严重失信主体名单 (the service's seam answers False until lists exist)
    later_penalties: tuple[LaterPenalty, ...] = ()
    pending_case_id: int | None = None  # an application for this record still being decided


@dataclass(frozen=True)
class Submission:
    """What the application brings."""

    proof_files: int = 0
    commitment_signed: bool = False  # ticked the commitment text in force
    training_files: int = 0  # training certificates (结业证明)
    training_record: str = ""  # or the number of a training record (培训记录编号)
    rectification_files: int = 0
    credit_report_files: int = 0


@dataclass(frozen=True)
class Assessment:
    reasons: tuple[Reason, ...]
    needs: Needs
    repair_from: dt.date | None  # first day one may apply (minimum display period served)
    ends_on: dt.date | None  # first day the record is no longer displayed by itself (None: long-term)
    first_day: dt.date | None = None  # first day every time-bound reason is gone, when only those remain

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def of_kind(self, *kinds: str) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.kind in kinds)


def duration_zh(d: Duration) -> str:
    parts = [f"{d.years}年" if d.years else "", f"{d.months}个月" if d.months else "", f"{d.days}天" if d.days else ""]
    return "".join(parts) or "0天"


def needs_of(version: ItemVersion | None) -> Needs:
    if version is None or not version.repairable or version.repair is None:
        return Needs()
    return Needs(version.repair.training, version.repair.rectification, version.repair.credit_report)


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def same_cause(cause: str | None, other: str | None) -> bool:
    """Two records of the same item are for the same cause unless both name a violation type and the
    types differ (a penalty for a different violation of the same item is not "the same cause")."""
    if not cause or not other:
        return True
    return _norm(cause) == _norm(other)


def _window(version: ItemVersion, record: RecordFacts) -> tuple[dt.date | None, dt.date | None, Duration | None]:
    try:
        repair_from, ends_on = display_window(version, record.severity, record.decision_date)
    except (KeyError, ValueError):
        # No display period for this severity: never displayed (as disclosure.service treats it).
        return None, record.decision_date, None
    key = Severity(record.severity) if record.severity else None
    period = version.display_periods.get(key) or version.display_periods.get(None)
    return repair_from, ends_on, period.min if period is not None else None


def assess(version: ItemVersion | None, record: RecordFacts, subject: SubjectFacts, submission: Submission, *,
           today: dt.date, policy: RepairPolicy, interval_clause: str) -> Assessment:
    """Eligible, or every reason not (RULES §2: conditions and the cases that forbid repair).

    ``version`` is the catalog item version that rules the record (None: the item left the catalog);
    ``policy`` the repair parameters in force today; ``interval_clause`` the reference of
    ``repair.min_interval_days``.
    """
    reasons: list[Reason] = []
    needs = needs_of(version)
    name = version.name_zh if version is not None else record.item_code
    repair_from: dt.date | None = None
    ends_on: dt.date | None = None
    waits: list[dt.date] = []  # days on which a time-bound reason goes away

    # -- the record --------------------------------------------------------------------------
    if record.status == REVOKED:
        reasons.append(Reason("repair.revoked", "该记录已被数据提供单位撤销，不再公示，无须修复",
                              "The record was revoked: it is not displayed, there is nothing to repair",
                              CLAUSE_OBJECT, RECORD))
    if record.category != Category.NEGATIVE.value:
        reasons.append(Reason("repair.not_negative", f"“{name}”不是失信信息，只有失信信息可以申请信用修复",
                              "Only negative information can be repaired", CLAUSE_OBJECT, RECORD))
    if version is None:
        reasons.append(Reason("repair.not_repairable", f"“{name}”已不在公共信用信息目录中，无法判断修复条件",
                              "The item is no longer in the catalog", CLAUSE_OBJECT, RECORD))
    elif record.category == Category.NEGATIVE.value and not version.repairable:
        reasons.append(Reason("repair.not_repairable",
                              f"“{name}”依规定不适用信用修复（依据：{version.basis}）",
                              f"{version.item_code} cannot be repaired under its rules", version.basis, RECORD))

    if version is not None:
        repair_from, ends_on, minimum = _window(version, record)
        if record.status != REVOKED:
            if record.display_from == HELD_UNTIL_NOTICE:
                reasons.append(Reason(
                    "repair.not_yet_displayed", "该记录须先发出信用告知，目前未公示，无须修复",
                    "The record awaits its credit notice and is not displayed", CLAUSE_OBJECT, RECORD))
            elif record.display_from is not None and today < record.display_from:
                reasons.append(Reason(
                    "repair.not_yet_displayed",
                    f"该记录处于信用告知期内，{record.display_from.isoformat()} 起才公示，目前无须修复",
                    f"The record is held after a credit notice until {record.display_from.isoformat()}",
                    CLAUSE_OBJECT, RECORD))
            if record.display_stopped_on is not None and today >= record.display_stopped_on:
                reasons.append(Reason(
                    "repair.display_stopped",
                    f"该记录已于 {record.display_stopped_on.isoformat()} 停止公示，无须再申请修复",
                    f"Display of the record stopped on {record.display_stopped_on.isoformat()}",
                    CLAUSE_OBJECT, RECORD))
            elif ends_on is not None and today >= ends_on:
                reasons.append(Reason(
                    "repair.display_ended",
                    f"该记录的公示期限已于 {ends_on.isoformat()} 届满，已不再公示，无须修复",
                    f"The display period ended on {ends_on.isoformat()}: the record is no longer displayed",
                    CLAUSE_OBJECT, RECORD))
        # -- timing: the minimum display period (最短公示期限) ----------------------------------
        if version.repairable and repair_from is not None and today < repair_from:
            severity_zh = SEVERITY_ZH.get(record.severity or "", "")
            period = f"满 {duration_zh(minimum)}" if minimum is not None else ""
            reasons.append(Reason(
                "repair.min_period",
                f"最短公示期限未满：{severity_zh}的“{name}”须自决定日期 {record.decision_date.isoformat()} 起"
                f"公示{period}，{repair_from.isoformat()} 起方可申请信用修复",
                f"The minimum display period has not passed: apply from {repair_from.isoformat()}",
                f"{version.basis}（公示期限）；《深圳经济特区社会信用条例》第七十九条", TIMING))
            waits.append(repair_from)

    # -- the subject -----------------------------------------------------------------------------
    if subject.last_repair_on is not None:
        first = subject.last_repair_on + dt.timedelta(days=policy.min_interval_days)
        if today < first:
            reasons.append(Reason(
                "repair.interval",
                f"距上次同类信息（{name}）信用修复（{subject.last_repair_on.isoformat()}）不满 "
                f"{policy.min_interval_days} 天，{first.isoformat()} 起方可申请",
                f"Less than {policy.min_interval_days} days since the last repair of the same kind: apply from "
                f"{first.isoformat()}", interval_clause, TIMING))
            waits.append(first)
    if subject.on_serious_list:
        reasons.append(Reason("repair.serious_list", "信用主体正被列入严重失信主体名单，名单期间不予信用修复",
                              "The subject is on the serious-dishonesty list", CLAUSE_SERIOUS_LIST, SUBJECT))
    repeated = sorted((p for p in subject.later_penalties
                       if p.decision_date > record.decision_date and same_cause(record.cause, p.cause)),
                      key=lambda p: p.decision_date)
    if repeated:
        named = "；".join(f"{p.decision_date.isoformat()} {p.label}" for p in repeated)
        reasons.append(Reason("repair.new_penalty", f"此后又因同一原因受到处罚（{named}），不予信用修复",
                              f"{len(repeated)} later penalty(ies) for the same cause", CLAUSE_NEW_PENALTY, SUBJECT))
    if subject.pending_case_id is not None:
        reasons.append(Reason("repair.pending",
                              f"该记录已有正在办理的信用修复申请（编号 {subject.pending_case_id}），请等待处理结果",
                              f"Application {subject.pending_case_id} for this record is being decided",
                              CLAUSE_PENDING, SUBJECT))

    # -- what the application brings (only worth saying for an item that can be repaired) --------
    if version is not None and version.repairable:
        item_clause = f"{CLAUSE_CONDITIONS}；目录项“{name}”（{version.version} 版）的修复条件"
        if submission.proof_files <= 0:
            reasons.append(Reason("repair.proof_missing", "请上传已履行法定义务、纠正失信行为的证明材料",
                                  "Attach proof that the obligations were fulfilled", CLAUSE_CONDITIONS, MATERIAL))
        if not submission.commitment_signed:
            reasons.append(Reason("repair.commitment_missing", "请阅读并签署现行的信用承诺书（勾选“本人已阅读并承诺”）",
                                  "Sign the credit commitment in force", CLAUSE_CONDITIONS, MATERIAL))
        if needs.training and submission.training_files <= 0 and not submission.training_record.strip():
            reasons.append(Reason("repair.training_missing",
                                  f"“{name}”须完成信用修复培训：请上传培训结业证明，或填写培训记录编号",
                                  "This item needs credit repair training: attach the certificate or give the "
                                  "training record number", item_clause, MATERIAL))
        if needs.rectification and submission.rectification_files <= 0:
            reasons.append(Reason("repair.rectification_missing", f"“{name}”须提交整改报告",
                                  "This item needs a rectification report", item_clause, MATERIAL))
        if needs.credit_report and submission.credit_report_files <= 0:
            reasons.append(Reason("repair.credit_report_missing", f"“{name}”须提交信用服务机构出具的信用报告",
                                  "This item needs a credit report", item_clause, MATERIAL))

    only_time = bool(waits) and all(r.kind in (TIMING, MATERIAL) for r in reasons)
    return Assessment(tuple(reasons), needs, repair_from, ends_on, max(waits) if only_time else None)


# -- deadlines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDeadlines:
    """The source department's decision deadline and the platform's total answer deadline."""

    decide: Deadline
    answer: Deadline

    @property
    def estimated(self) -> bool:
        return self.decide.estimated or self.answer.estimated


def deadlines_on_acceptance(calendar: WorkCalendar, accepted_on: dt.date, policy: RepairPolicy) -> CaseDeadlines:
    """Decision within ``decide_working_days`` of acceptance (深圳条例第八十二条); the platform relays and
    answers within ``platform_answer_working_days`` (国办发〔2025〕22号). Counted from the day after."""
    return CaseDeadlines(add_working_days(calendar, accepted_on, policy.decide_working_days),
                         add_working_days(calendar, accepted_on, policy.platform_answer_working_days))


def extended_deadline(calendar: WorkCalendar, due_on: dt.date, answer_due_on: dt.date,
                      policy: RepairPolicy) -> Deadline:
    """One extension by ``extension_working_days`` after the current deadline (深圳条例第八十二条, with
    the head of the department's approval), never past the platform's total answer deadline."""
    extended = add_working_days(calendar, due_on, policy.extension_working_days)
    if extended.due > answer_due_on:
        return Deadline(due_on, policy.extension_working_days, answer_due_on, extended.estimated_years)
    return extended


def stop_display_deadline(calendar: WorkCalendar, decided_on: dt.date, policy: RepairPolicy) -> Deadline:
    """After a decision to repair, display stops within ``stop_display_working_days`` (上海条例第三十八条)."""
    return add_working_days(calendar, decided_on, policy.stop_display_working_days)


def is_due_soon(calendar: WorkCalendar, due_on: dt.date, today: dt.date) -> bool:
    """Not overdue yet, and due within the next ``DUE_SOON_WORKING_DAYS`` working days."""
    return today <= due_on <= add_working_days(calendar, today, DUE_SOON_WORKING_DAYS).due
