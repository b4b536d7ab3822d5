"""API of credit notices (信用告知), integrity interviews (诚信约谈), complaints about handling (投诉)
and display-period ends (公示期满) — issue #4 §3–§5. A thin adapter over ``chengxin.notices``.

- Departments (clerk token or department API key): issue notices, read their own, record / withdraw.
- The credit office (staff token, role credit_office or admin): reads every notice; schedules and
  runs interviews; answers complaints; statistics.
- A person (person token from ``POST /api/v1/me/sessions``): their own notices (and those of the
  organisations they represent) — reply or state fulfilment with files; their interviews; complaints.

Errors are ``{"error": {code, message, message_en, field}}``: 401 no or bad credential, 403 not
yours to act on, 404 not found (also: another person's case), 409 not allowed in the current state.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from chengxin.api.deps import ActorDep, OfficeDep, PlatformDep
from chengxin.api.me import PersonDep
from chengxin.api.schemas import MAX_OFFSET, ErrorOut
from chengxin.attachments.service import AttachmentInfo, Upload
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.policy import policy_on
from chengxin.disclosure import expiry
from chengxin.notices import complaints, interviews
from chengxin.notices import service as notices
from chengxin.platform import Platform
from chengxin.workdays.rules import add_working_days
from chengxin.workdays.service import work_calendar

router = APIRouter(prefix="/api/v1")

CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 422)}


# -- shapes ---------------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SubjectOut(_Out):
    id: int
    kind: str = Field(description="person | organization")
    display_id: str = Field(description="统一社会信用代码，或遮蔽的公民身份号码")
    display_name: str


class HistoryOut(_Out):
    at: dt.datetime
    action: str
    label_zh: str
    from_state: str | None
    to_state: str
    role: str
    actor: str
    reason: str | None


class AttachmentOut(_Out):
    id: int
    filename: str
    mime: str
    size: int
    sha256_hex: str
    uploaded_at: dt.datetime


class NoticeOut(_Out):
    """信用告知书."""

    id: int
    notice_no: str = Field(description="告知书编号")
    state: str = Field(description="issued | responded | settled | expired | recorded | withdrawn")
    state_zh: str
    department_code: str
    department_name_zh: str
    item_code: str
    item_name_zh: str
    subject: SubjectOut
    source_id: str | None = Field(description="对应记录的来源编号（已知时）")
    facts: str
    obligation: str
    amount: Decimal | None
    issued_on: dt.date
    response_due: dt.date = Field(description="陈述申辩期限的最后一日（工作日计算）")
    due_estimated: bool = Field(description="期限跨越尚未公布节假日安排的年份，按周一至周五估算")
    due_warning: str
    decide_due: dt.date | None = Field(description="数据提供单位作出记入或撤回决定的最后一日")
    reply: str | None
    replied_at: dt.datetime | None
    decision: str | None
    closed_on: dt.date | None
    record_id: int | None
    record_source_id: str | None
    record_status: str | None
    display_from: dt.date | None = Field(description="对应记录开始公示之日；null：暂不公示")
    due_state: str = Field(description="ok | due_soon | overdue；已办结为空")
    actions: list[str] = Field(description="当前身份现在可以进行的操作")
    history: list[HistoryOut]
    attachments: list[AttachmentOut]


class NoticePageOut(BaseModel):
    total: int
    items: list[NoticeOut]


class NoticeIn(BaseModel):
    item: str = Field(min_length=1, max_length=64, description="目录项代码（须为须先行信用告知的目录项）",
                      examples=["tax_arrears"])
    uscc: str | None = Field(default=None, max_length=32, description="统一社会信用代码（与 ric 二选一）")
    ric: str | None = Field(default=None, max_length=32, description="公民身份号码（与 uscc 二选一）")
    subject_name: str = Field(min_length=1, max_length=200, description="信用主体名称或姓名")
    facts: str = Field(min_length=1, max_length=4000, description="告知事实")
    obligation: str = Field(min_length=1, max_length=1000, description="应履行的义务，如补缴税款及期限")
    amount: Decimal | None = Field(default=None, ge=0, description="涉及金额（元）")
    source_id: str | None = Field(default=None, max_length=64, description="将要（或已经）报送的记录的来源编号")


class OpinionIn(BaseModel):
    opinion: str | None = Field(default=None, max_length=4000, description="处理意见（信用主体已回复时必填）")


class ReasonIn(BaseModel):
    reason: str = Field(default="", max_length=4000, description="理由")


class RelatedRecordOut(_Out):
    id: int
    item_name_zh: str
    department_name_zh: str
    decision_date: dt.date
    source_id: str
    status: str


class InterviewOut(_Out):
    """诚信约谈."""

    id: int
    state: str = Field(description="scheduled | held | closed | cancelled")
    state_zh: str
    subject: SubjectOut
    scheduled_at: dt.datetime
    place: str
    participants: str
    reason: str
    records: list[RelatedRecordOut]
    minutes: str | None
    outcome: str | None = Field(description="commitment | no_action | referred")
    outcome_zh: str | None
    outcome_note: str | None
    due_state: str = Field(description="upcoming | overdue（时间已过、未记录纪要）")
    actions: list[str]
    history: list[HistoryOut]
    attachments: list[AttachmentOut]


class InterviewPageOut(BaseModel):
    total: int
    items: list[InterviewOut]


class InterviewIn(BaseModel):
    uscc: str | None = Field(default=None, max_length=32)
    ric: str | None = Field(default=None, max_length=32)
    scheduled_at: dt.datetime = Field(description="约谈时间（不带时区按北京时间）")
    place: str = Field(min_length=1, max_length=200)
    participants: str = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=1, max_length=4000, description="约谈事由")
    record_ids: list[int] = Field(default_factory=list, max_length=50, description="相关记录编号")


class RescheduleIn(BaseModel):
    scheduled_at: dt.datetime
    place: str | None = Field(default=None, max_length=200)
    reason: str = Field(min_length=1, max_length=4000)


class OutcomeIn(BaseModel):
    outcome: str = Field(description="commitment（整改承诺）| no_action（无需处理）| referred（移交处理）")
    note: str | None = Field(default=None, max_length=4000, description="结果说明（移交处理时必填）")


class ComplaintOut(_Out):
    """投诉."""

    id: int
    state: str = Field(description="received | answered | closed | withdrawn")
    state_zh: str
    subject: SubjectOut
    case_type: str
    case_type_zh: str
    case_id: int
    content: str
    received_on: dt.date
    answer_due: dt.date
    due_estimated: bool
    due_warning: str
    due_state: str
    answer: str | None
    outcome: str | None = Field(description="upheld | partly_upheld | not_upheld")
    outcome_zh: str | None
    answered_on: dt.date | None
    actions: list[str]
    history: list[HistoryOut]
    attachments: list[AttachmentOut]


class ComplaintPageOut(BaseModel):
    total: int
    items: list[ComplaintOut]


class AnswerIn(BaseModel):
    outcome: str = Field(description="upheld（成立）| partly_upheld（部分成立）| not_upheld（不成立）")
    answer: str = Field(min_length=1, max_length=4000, description="答复意见")


class ProcessOut(_Out):
    contact: str
    answer_working_days: int
    case_types: dict[str, str]
    steps: list[str]


class MonthStatsOut(_Out):
    month: str
    received: int
    by_outcome: dict[str, int]
    withdrawn: int
    open: int
    answered_late: int


class ComplaintStatsOut(_Out):
    months: list[MonthStatsOut]
    totals: MonthStatsOut
    overdue_now: int


class DayCountOut(BaseModel):
    day: dt.date
    records: int


class DisplayEndedOut(BaseModel):
    since: dt.date
    until: dt.date
    days: list[DayCountOut] = Field(description="每日停止公示（公示期满）的记录数，新的在前；无记录的日期省略")


# -- helpers --------------------------------------------------------------------------------------


def _uploads(files: list[UploadFile] | None) -> list[Upload]:
    """Read each file up to one byte over the limit: the attachment rules then refuse it clearly."""
    limit = policy_on(today_cn()).attachments.max_bytes
    return [Upload(f.filename or "file", f.file.read(limit + 1)) for f in files or [] if f.filename]


def attachment_response(info: AttachmentInfo, data: bytes) -> Response:
    return Response(data, media_type=info.mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.filename)}",
        "X-Content-Type-Options": "nosniff"})


def _notice(view: notices.NoticeView) -> NoticeOut:
    return NoticeOut.model_validate(view)


# -- notices: departments and the credit office ---------------------------------------------------


@router.post("/notices", tags=["notices"], summary="发出信用告知 Issue a credit notice", status_code=201,
             response_model=NoticeOut, responses=_ERRORS)
def issue_notice(body: NoticeIn, platform: PlatformDep, actor: ActorDep) -> NoticeOut:
    """By the source department, before it records an item the catalog marks ``notice_required``. The
    response period (working days) runs from today; a record submitted for it (same department,
    item and subject; and source id when given) is displayed only from the day after the period."""
    with platform.db.write() as session:
        view = notices.issue_notice(
            session, platform.catalog, platform.keyring, work_calendar(session), actor=actor, item_code=body.item,
            uscc=body.uscc, ric=body.ric, subject_name=body.subject_name, facts=body.facts,
            obligation=body.obligation, amount=body.amount, source_id=body.source_id, today=today_cn(),
            now=utcnow())
    return _notice(view)


@router.get("/notices", tags=["notices"], summary="信用告知列表 Notices", response_model=NoticePageOut,
            responses=_ERRORS)
def list_notices(
    platform: PlatformDep, actor: ActorDep,
    queue: Annotated[str | None, Query(description="awaiting_reply | awaiting_decision | open | closed，或状态")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NoticePageOut:
    """A department's own notices; the credit office sees every department's."""
    with platform.db.read() as session:
        views, total = notices.list_notices(session, platform.catalog, work_calendar(session), actor=actor,
                                            today=today_cn(), queue=queue, offset=offset, limit=limit)
    return NoticePageOut(total=total, items=[_notice(v) for v in views])


@router.get("/notices/{notice_id}", tags=["notices"], summary="信用告知详情 A notice with its history",
            response_model=NoticeOut, responses=_ERRORS)
def get_notice(notice_id: CaseId, platform: PlatformDep, actor: ActorDep) -> NoticeOut:
    with platform.db.read() as session:
        view = notices.notice_detail(session, platform.catalog, work_calendar(session), notice_id=notice_id,
                                     today=today_cn(), actor=actor)
    return _notice(view)


@router.post("/notices/{notice_id}/record", tags=["notices"], summary="决定记入 Record after the notice",
             response_model=NoticeOut, responses=_ERRORS)
def record_notice(notice_id: CaseId, body: OpinionIn, platform: PlatformDep, actor: ActorDep) -> NoticeOut:
    """After the response period (or the subject's reply, with the department's opinion on it)."""
    with platform.db.write() as session:
        view = notices.record_notice(session, platform.catalog, work_calendar(session), actor=actor,
                                     notice_id=notice_id, opinion=body.opinion, today=today_cn(), now=utcnow())
    return _notice(view)


@router.post("/notices/{notice_id}/withdraw", tags=["notices"], summary="撤回告知 Withdraw (no record)",
             response_model=NoticeOut, responses=_ERRORS)
def withdraw_notice(notice_id: CaseId, body: ReasonIn, platform: PlatformDep, actor: ActorDep) -> NoticeOut:
    with platform.db.write() as session:
        view = notices.withdraw_notice(session, platform.catalog, work_calendar(session), actor=actor,
                                       notice_id=notice_id, reason=body.reason, today=today_cn(), now=utcnow())
    return _notice(view)


@router.get("/notices/{notice_id}/attachments/{attachment_id}", tags=["notices"],
            summary="下载回复材料 A file of the subject's reply", response_class=Response, responses=_ERRORS)
def notice_attachment(notice_id: CaseId, attachment_id: CaseId, platform: PlatformDep, actor: ActorDep) -> Response:
    with platform.db.write() as session:  # the read is audited
        info, data = notices.read_notice_attachment(session, platform.keyring, notice_id=notice_id,
                                                    attachment_id=attachment_id, actor=actor)
    return attachment_response(info, data)


# -- notices, interviews, complaints: the person --------------------------------------------------


@router.get("/me/notices", tags=["me"], summary="我的信用告知 My credit notices", response_model=list[NoticeOut],
            responses=_ERRORS)
def my_notices(account: PersonDep, platform: PlatformDep) -> list[NoticeOut]:
    """Notices to me and to the organisations I represent."""
    with platform.db.read() as session:
        views = notices.notices_for_person(session, platform.catalog, work_calendar(session), account=account,
                                           today=today_cn())
    return [_notice(v) for v in views]


@router.get("/me/notices/{notice_id}", tags=["me"], summary="信用告知详情 One of my notices",
            response_model=NoticeOut, responses=_ERRORS)
def my_notice(notice_id: CaseId, account: PersonDep, platform: PlatformDep) -> NoticeOut:
    with platform.db.read() as session:
        view = notices.notice_detail(session, platform.catalog, work_calendar(session), notice_id=notice_id,
                                     today=today_cn(), account=account)
    return _notice(view)


def _reply(action: str, notice_id: int, account: Any, platform: Platform, text: str,
           files: list[UploadFile] | None) -> NoticeOut:
    uploads = _uploads(files)
    with platform.db.write() as session:
        view = notices.reply_to_notice(session, platform.catalog, platform.keyring, work_calendar(session),
                                       account=account, notice_id=notice_id, action=action, text=text,
                                       uploads=uploads, today=today_cn(), now=utcnow())
    return _notice(view)


@router.post("/me/notices/{notice_id}/respond", tags=["me"], summary="陈述申辩 State my defence",
             response_model=NoticeOut, responses=_ERRORS)
def respond_to_notice(notice_id: CaseId, account: PersonDep, platform: PlatformDep,
                      text: Annotated[str, Form(description="陈述申辩意见")] = "",
                      files: Annotated[list[UploadFile] | None, File(description="证明材料（PDF、PNG、JPEG）")] = None,
                      ) -> NoticeOut:
    """Within the response period (multipart form: ``text`` and ``files``)."""
    return _reply("respond", notice_id, account, platform, text, files)


@router.post("/me/notices/{notice_id}/settle", tags=["me"], summary="说明已履行 State the obligation is met",
             response_model=NoticeOut, responses=_ERRORS)
def settle_notice(notice_id: CaseId, account: PersonDep, platform: PlatformDep,
                  text: Annotated[str, Form(description="履行情况说明，如已于某日缴清")] = "",
                  files: Annotated[list[UploadFile] | None, File(description="缴款凭证等（PDF、PNG、JPEG）")] = None,
                  ) -> NoticeOut:
    return _reply("settle", notice_id, account, platform, text, files)


@router.get("/me/notices/{notice_id}/attachments/{attachment_id}", tags=["me"],
            summary="下载我的回复材料 A file I attached", response_class=Response, responses=_ERRORS)
def my_notice_attachment(notice_id: CaseId, attachment_id: CaseId, account: PersonDep,
                         platform: PlatformDep) -> Response:
    with platform.db.write() as session:
        info, data = notices.read_notice_attachment(session, platform.keyring, notice_id=notice_id,
                                                    attachment_id=attachment_id, account=account)
    return attachment_response(info, data)


@router.get("/me/interviews", tags=["me"], summary="我的诚信约谈 My interviews", response_model=list[InterviewOut],
            responses=_ERRORS)
def my_interviews(account: PersonDep, platform: PlatformDep) -> list[InterviewOut]:
    with platform.db.read() as session:
        views = interviews.interviews_for_person(session, platform.catalog, account=account, today=today_cn())
    return [InterviewOut.model_validate(v) for v in views]


@router.get("/me/interviews/{interview_id}", tags=["me"], summary="约谈详情 One of my interviews",
            response_model=InterviewOut, responses=_ERRORS)
def my_interview(interview_id: CaseId, account: PersonDep, platform: PlatformDep) -> InterviewOut:
    with platform.db.read() as session:
        view = interviews.interview_detail(session, platform.catalog, interview_id=interview_id, today=today_cn(),
                                           account=account)
    return InterviewOut.model_validate(view)


@router.get("/me/complaints", tags=["me"], summary="我的投诉 My complaints", response_model=list[ComplaintOut],
            responses=_ERRORS)
def my_complaints(account: PersonDep, platform: PlatformDep) -> list[ComplaintOut]:
    with platform.db.read() as session:
        views = complaints.complaints_for_person(session, work_calendar(session), account=account, today=today_cn())
    return [ComplaintOut.model_validate(v) for v in views]


@router.post("/me/complaints", tags=["me"], summary="投诉办理情况 Complain about how a case was handled",
             status_code=201, response_model=ComplaintOut, responses=_ERRORS)
def file_my_complaint(account: PersonDep, platform: PlatformDep,
                      case_type: Annotated[str, Form(description="objection（异议）| repair（信用修复）")] = "",
                      case_id: Annotated[str, Form(description="办理事项编号")] = "",
                      content: Annotated[str, Form(description="投诉内容")] = "",
                      files: Annotated[list[UploadFile] | None, File(description="证明材料")] = None) -> ComplaintOut:
    """Multipart form. Received at once; answered by the credit office within the published period."""
    uploads = _uploads(files)
    with platform.db.write() as session:
        view = complaints.file_complaint(session, platform.keyring, work_calendar(session), account=account,
                                         case_type=case_type, case_id=case_id, content=content, uploads=uploads,
                                         today=today_cn(), now=utcnow())
    return ComplaintOut.model_validate(view)


@router.get("/me/complaints/{complaint_id}", tags=["me"], summary="投诉详情 One of my complaints",
            response_model=ComplaintOut, responses=_ERRORS)
def my_complaint(complaint_id: CaseId, account: PersonDep, platform: PlatformDep) -> ComplaintOut:
    with platform.db.read() as session:
        view = complaints.complaint_detail(session, work_calendar(session), complaint_id=complaint_id,
                                           today=today_cn(), account=account)
    return ComplaintOut.model_validate(view)


@router.post("/me/complaints/{complaint_id}/withdraw", tags=["me"], summary="撤回投诉 Withdraw my complaint",
             response_model=ComplaintOut, responses=_ERRORS)
def withdraw_my_complaint(complaint_id: CaseId, body: ReasonIn, account: PersonDep,
                          platform: PlatformDep) -> ComplaintOut:
    with platform.db.write() as session:
        view = complaints.withdraw_complaint(session, work_calendar(session), account=account,
                                             complaint_id=complaint_id, reason=body.reason or None, today=today_cn(),
                                             now=utcnow())
    return ComplaintOut.model_validate(view)


@router.post("/me/complaints/{complaint_id}/close", tags=["me"], summary="确认办结 Accept the answer",
             response_model=ComplaintOut, responses=_ERRORS)
def close_my_complaint(complaint_id: CaseId, account: PersonDep, platform: PlatformDep) -> ComplaintOut:
    with platform.db.write() as session:
        view = complaints.close_complaint(session, work_calendar(session), today=today_cn(), now=utcnow(),
                                          complaint_id=complaint_id, account=account)
    return ComplaintOut.model_validate(view)


@router.get("/complaints/process", tags=["complaints"], summary="投诉处理流程与渠道 The published process",
            response_model=ProcessOut)
def complaint_process() -> ProcessOut:
    """No sign-in needed: how to complain about the handling of an objection or a repair, the contact
    and the answer period in force today."""
    return ProcessOut.model_validate(complaints.complaint_process(today_cn()))


# -- the credit office: interviews, complaints, statistics ----------------------------------------


def _soon(session: Any) -> dt.date:
    return add_working_days(work_calendar(session), today_cn(), 2).due


@router.post("/office/interviews", tags=["office"], summary="安排诚信约谈 Schedule an interview", status_code=201,
             response_model=InterviewOut, responses=_ERRORS)
def schedule_interview(body: InterviewIn, platform: PlatformDep, actor: OfficeDep) -> InterviewOut:
    with platform.db.write() as session:
        view = interviews.schedule_interview(
            session, platform.catalog, platform.keyring, actor=actor, uscc=body.uscc, ric=body.ric,
            scheduled_at=body.scheduled_at, place=body.place, participants=body.participants, reason=body.reason,
            record_ids=body.record_ids, today=today_cn(), now=utcnow())
    return InterviewOut.model_validate(view)


@router.get("/office/interviews", tags=["office"], summary="诚信约谈列表 Interviews", response_model=InterviewPageOut,
            responses=_ERRORS)
def list_interviews(platform: PlatformDep, actor: OfficeDep,
                    queue: Annotated[str | None, Query(description="open | closed，或状态")] = None,
                    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> InterviewPageOut:
    with platform.db.read() as session:
        views, total = interviews.list_interviews(session, platform.catalog, _soon(session), actor=actor,
                                                  today=today_cn(), queue=queue, offset=offset, limit=limit)
    return InterviewPageOut(total=total, items=[InterviewOut.model_validate(v) for v in views])


@router.get("/office/interviews/{interview_id}", tags=["office"], summary="约谈详情 An interview",
            response_model=InterviewOut, responses=_ERRORS)
def get_interview(interview_id: CaseId, platform: PlatformDep, actor: OfficeDep) -> InterviewOut:
    with platform.db.read() as session:
        view = interviews.interview_detail(session, platform.catalog, interview_id=interview_id, today=today_cn(),
                                           actor=actor)
    return InterviewOut.model_validate(view)


@router.post("/office/interviews/{interview_id}/reschedule", tags=["office"], summary="改期 Reschedule",
             response_model=InterviewOut, responses=_ERRORS)
def reschedule_interview(interview_id: CaseId, body: RescheduleIn, platform: PlatformDep,
                         actor: OfficeDep) -> InterviewOut:
    with platform.db.write() as session:
        view = interviews.reschedule_interview(session, platform.catalog, actor=actor, interview_id=interview_id,
                                               scheduled_at=body.scheduled_at, place=body.place, reason=body.reason,
                                               today=today_cn(), now=utcnow())
    return InterviewOut.model_validate(view)


@router.post("/office/interviews/{interview_id}/minutes", tags=["office"], summary="记录约谈纪要 Record the minutes",
             response_model=InterviewOut, responses=_ERRORS)
def record_minutes(interview_id: CaseId, platform: PlatformDep, actor: OfficeDep,
                   minutes: Annotated[str, Form(description="约谈纪要")] = "",
                   files: Annotated[list[UploadFile] | None, File(description="签字纪要扫描件等")] = None,
                   ) -> InterviewOut:
    """Multipart form, after the interview's time."""
    uploads = _uploads(files)
    with platform.db.write() as session:
        view = interviews.hold_interview(session, platform.catalog, platform.keyring, actor=actor,
                                         interview_id=interview_id, minutes=minutes, uploads=uploads,
                                         today=today_cn(), now=utcnow())
    return InterviewOut.model_validate(view)


@router.post("/office/interviews/{interview_id}/outcome", tags=["office"], summary="确定约谈结果 Record the outcome",
             response_model=InterviewOut, responses=_ERRORS)
def interview_outcome(interview_id: CaseId, body: OutcomeIn, platform: PlatformDep, actor: OfficeDep) -> InterviewOut:
    with platform.db.write() as session:
        view = interviews.close_interview(session, platform.catalog, actor=actor, interview_id=interview_id,
                                          outcome=body.outcome, note=body.note, today=today_cn(), now=utcnow())
    return InterviewOut.model_validate(view)


@router.post("/office/interviews/{interview_id}/cancel", tags=["office"], summary="取消约谈 Cancel",
             response_model=InterviewOut, responses=_ERRORS)
def cancel_interview(interview_id: CaseId, body: ReasonIn, platform: PlatformDep, actor: OfficeDep) -> InterviewOut:
    with platform.db.write() as session:
        view = interviews.cancel_interview(session, platform.catalog, actor=actor, interview_id=interview_id,
                                           reason=body.reason, today=today_cn(), now=utcnow())
    return InterviewOut.model_validate(view)


@router.get("/office/interviews/{interview_id}/attachments/{attachment_id}", tags=["office"],
            summary="下载约谈材料 A file of the minutes", response_class=Response, responses=_ERRORS)
def interview_attachment(interview_id: CaseId, attachment_id: CaseId, platform: PlatformDep,
                         actor: OfficeDep) -> Response:
    with platform.db.write() as session:
        info, data = interviews.read_interview_attachment(session, platform.keyring, actor=actor,
                                                          interview_id=interview_id, attachment_id=attachment_id)
    return attachment_response(info, data)


@router.get("/office/complaints", tags=["office"], summary="投诉列表 Complaints", response_model=ComplaintPageOut,
            responses=_ERRORS)
def list_complaints(platform: PlatformDep, actor: OfficeDep,
                    state: Annotated[str | None, Query(description="received | answered | closed | withdrawn")] = None,
                    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ComplaintPageOut:
    with platform.db.read() as session:
        views, total = complaints.list_complaints(session, work_calendar(session), actor=actor, today=today_cn(),
                                                  state=state, offset=offset, limit=limit)
    return ComplaintPageOut(total=total, items=[ComplaintOut.model_validate(v) for v in views])


@router.get("/office/complaints/stats", tags=["office"], summary="投诉统计 Complaints per month and outcome",
            response_model=ComplaintStatsOut, responses=_ERRORS)
def complaint_stats(platform: PlatformDep, actor: OfficeDep,
                    months: Annotated[int, Query(ge=1, le=60)] = 12) -> ComplaintStatsOut:
    del actor  # the credit office only
    with platform.db.read() as session:
        stats = complaints.complaint_stats(session, today=today_cn(), months=months)
    return ComplaintStatsOut.model_validate(stats)


@router.get("/office/complaints/{complaint_id}", tags=["office"], summary="投诉详情 A complaint",
            response_model=ComplaintOut, responses=_ERRORS)
def get_complaint(complaint_id: CaseId, platform: PlatformDep, actor: OfficeDep) -> ComplaintOut:
    with platform.db.read() as session:
        view = complaints.complaint_detail(session, work_calendar(session), complaint_id=complaint_id,
                                           today=today_cn(), actor=actor)
    return ComplaintOut.model_validate(view)


@router.post("/office/complaints/{complaint_id}/answer", tags=["office"], summary="答复投诉 Answer a complaint",
             response_model=ComplaintOut, responses=_ERRORS)
def answer_complaint(complaint_id: CaseId, body: AnswerIn, platform: PlatformDep, actor: OfficeDep) -> ComplaintOut:
    with platform.db.write() as session:
        view = complaints.answer_complaint(session, work_calendar(session), actor=actor, complaint_id=complaint_id,
                                           outcome=body.outcome, answer=body.answer, today=today_cn(), now=utcnow())
    return ComplaintOut.model_validate(view)


@router.get("/office/complaints/{complaint_id}/attachments/{attachment_id}", tags=["office"],
            summary="下载投诉材料 A file of a complaint", response_class=Response, responses=_ERRORS)
def complaint_attachment(complaint_id: CaseId, attachment_id: CaseId, platform: PlatformDep,
                         actor: OfficeDep) -> Response:
    with platform.db.write() as session:
        info, data = complaints.read_complaint_attachment(session, platform.keyring, complaint_id=complaint_id,
                                                          attachment_id=attachment_id, actor=actor)
    return attachment_response(info, data)


@router.get("/office/display-ended", tags=["office"], summary="每日公示期满记录数 Records whose display ended, per day",
            response_model=DisplayEndedOut, responses=_ERRORS)
def display_ended(platform: PlatformDep, actor: OfficeDep,
                  days: Annotated[int, Query(ge=1, le=366)] = 30) -> DisplayEndedOut:
    """As noted by ``chengxin display expire`` (the public file never waits for it)."""
    del actor
    until = today_cn()
    since = until - dt.timedelta(days=days - 1)
    with platform.db.read() as session:
        rows = expiry.ended_per_day(session, since=since, until=until)
    return DisplayEndedOut(since=since, until=until, days=[DayCountOut(day=d, records=n) for d, n in rows])
