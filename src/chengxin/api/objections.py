"""异议 API: the subject's side under ``/api/v1/me`` (person token, see ``api.me``) and the staff side
under ``/api/v1/objections`` (a department's API key or staff token: its own records' objections;
the credit office: all of them). A thin adapter over ``objections.service``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from chengxin.api.deps import ActorDep, PlatformDep
from chengxin.api.disclosure import CreditFileOut
from chengxin.api.me import PersonDep
from chengxin.api.schemas import ErrorOut
from chengxin.attachments.service import AttachmentInfo, Upload
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.errors import NotFound
from chengxin.core.policy import policy_on
from chengxin.disclosure.service import own_file
from chengxin.objections import rules
from chengxin.objections import service as objections
from chengxin.people.models import PersonAccount
from chengxin.people.orgs import can_act_for, represented_subjects
from chengxin.platform import Platform

router = APIRouter(prefix="/api/v1", tags=["objections"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 413, 422)}
STAGES = {"check": rules.CHECK_STAGE, "department": rules.DEPARTMENT_STAGE, "review": rules.REVIEW_STAGE,
          "open": rules.IN_PROGRESS, "decided": frozenset({rules.DECIDED}), "closed": frozenset({rules.CLOSED})}


# -- shapes ----------------------------------------------------------------------------------------


class ObjectionOut(BaseModel):
    """异议 — one objection, its deadlines (Beijing dates; ``due_on`` is the current stage's last day)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    record_id: int
    record_label: str
    subject_id: int
    subject_name: str
    item_code: str
    item_name_zh: str
    department_code: str
    department_name_zh: str
    source_id: str
    record_version: int = Field(description="被提出异议时的记录版本")
    record_status: str
    grounds: str = Field(description=" | ".join(rules.GROUNDS))
    grounds_zh: str
    reason: str
    state: str = Field(description=" | ".join(rules.STATES))
    state_zh: str
    filed_at: dt.datetime
    filed_on: dt.date
    check_due: dt.date = Field(description="平台核查期限")
    forward_due: dt.date = Field(description="转交数据提供单位期限")
    cap_due: dt.date = Field(description="异议处理（含延长）最迟答复日")
    forwarded_on: dt.date | None
    extended_on: dt.date | None
    decided_on: dt.date | None
    contest_due: dt.date | None = Field(description="申请复核期限")
    contested_on: dt.date | None
    contest_reason: str | None
    closed_on: dt.date | None
    due_on: dt.date | None = Field(description="当前环节的期限（最后一日）")
    due_estimated: bool = Field(description="期限落在尚未公布节假日安排的年份，按周一至周五估算")
    due_warning: str
    urgency: str = Field(description="overdue | due_soon | ok")
    escalated: bool
    check_note: str | None
    outcome: str | None = Field(description="corrected | revoked | upheld | unverifiable | withdrawn")
    outcome_zh: str | None
    outcome_reason: str | None
    review_outcome: str | None = Field(description="confirmed | corrected | revoked")
    review_zh: str | None
    review_reason: str | None
    corrected_version: int | None = Field(description="更正写入的记录版本")
    marks_record: bool = Field(description="该异议使记录带有“异议中”标注（办理中，或未能核实而保留标注）")
    can_contest: bool


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    label_zh: str
    from_state: str | None
    to_state: str
    to_state_zh: str
    role: str
    role_zh: str
    at: dt.datetime
    reason: str | None


class StaffEventOut(EventOut):
    actor: str


class NoticeOut(BaseModel):
    """告知 — what the subject was told."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    objection_id: int
    kind: str = Field(description="filed | decided | reviewed")
    text: str
    created_at: dt.datetime


class AttachmentOut(BaseModel):
    id: int
    filename: str
    mime: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class ActionOut(BaseModel):
    action: str
    label_zh: str
    needs_reason: bool


class FieldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label_zh: str
    value: str


class EditableOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label_zh: str
    type: str
    current: str
    hint: str


class _DetailBase(BaseModel):
    objection: ObjectionOut
    actions: list[ActionOut] = Field(description="调用方当前可以进行的操作")
    notices: list[NoticeOut]
    attachments: list[AttachmentOut]


class ObjectionDetailOut(_DetailBase):
    history: list[EventOut]


class StaffObjectionDetailOut(_DetailBase):
    role: str = Field(description="department | office")
    history: list[StaffEventOut]
    record_fields: list[FieldOut]
    editable: list[EditableOut] = Field(description="更正时可填写的字段（corrections 的键）")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class ActIn(BaseModel):
    """A staff act. Departments: correct | revoke | uphold | unverifiable | extend. The credit office:
    forward | check_correct (platform check) and confirm | review_correct | review_revoke (review)."""

    action: str = Field(examples=["uphold"])
    reason: str | None = Field(default=None, max_length=4000, examples=["经核查，处罚决定事实清楚、依据充分"])
    corrections: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="correct / check_correct / review_correct：更正后的字段值（字段代码 → 值）",
        examples=[{"penalty_content": "警告"}])


class SubjectOut(BaseModel):
    subject_id: int
    kind: str
    display_id: str
    display_name: str
    own: bool


class StatementIn(BaseModel):
    text: str = Field(max_length=4000, description="本人声明（不超过 500 字，不含控制字符）")


class StatementVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action: str = Field(description="set | replace | withdraw")
    text: str | None
    at: dt.datetime


class StatementOut(BaseModel):
    record_id: int
    statement: str | None
    history: list[StatementVersionOut]


def _attachment_out(a: AttachmentInfo) -> AttachmentOut:
    return AttachmentOut(id=a.id, filename=a.filename, mime=a.mime, size=a.size, sha256=a.sha256_hex,
                         uploaded_at=a.uploaded_at)


def _out(view: objections.ObjectionView) -> ObjectionOut:
    return ObjectionOut.model_validate(view)


def _detail_parts(d: objections.ObjectionDetail) -> dict[str, Any]:
    return {"objection": _out(d.view),
            "actions": [ActionOut(action=t.action, label_zh=t.label_zh, needs_reason=t.needs_reason) for t in d.actions],
            "notices": [NoticeOut.model_validate(n) for n in d.notices],
            "attachments": [_attachment_out(a) for a in d.attachments]}


def _file_response(info: AttachmentInfo, data: bytes) -> Response:
    return Response(data, media_type=info.mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


def read_uploads(files: list[UploadFile] | None) -> list[Upload]:
    """The uploaded files, each read up to one byte past the limit (the service refuses it with 413)."""
    limit = policy_on(today_cn()).attachments.max_bytes + 1
    return [Upload(f.filename or "附件", f.file.read(limit)) for f in (files or []) if f.filename or f.size]


# -- the subject's side ----------------------------------------------------------------------------


@router.get("/me/objections/subjects", summary="可代表的信用主体 Subjects I may act for", response_model=list[SubjectOut],
            responses=_ERRORS)
def my_subjects(account: PersonDep, platform: PlatformDep) -> list[SubjectOut]:
    """Myself first, then the organisations the credit office linked to my account (经办人)."""
    with platform.db.read() as session:
        return [SubjectOut(**s.__dict__) for s in represented_subjects(session, account)]


@router.get("/me/objections/subjects/{subject_id}/file", summary="所代表主体的信用档案 A represented subject's file",
            response_model=CreditFileOut, responses=_ERRORS)
def represented_file(subject_id: int, account: PersonDep, platform: PlatformDep) -> CreditFileOut:
    """Every record of myself or of an organisation I represent (to choose the record to object to)."""
    with platform.db.read() as session:
        if not can_act_for(session, account, subject_id):
            raise NotFound("subject.not_represented", "您不能代表该信用主体", "You do not act for this subject")
        file = own_file(session, platform.catalog, platform.keyring, subject_id, today_cn())
    return CreditFileOut.model_validate(file)


@router.post("/me/objections", summary="提出异议 File an objection", response_model=ObjectionOut, status_code=201,
             responses=_ERRORS)
def file_objection(
    account: PersonDep,
    platform: PlatformDep,
    record_id: Annotated[int, Form(description="记录编号（本人或所代表单位的有效记录）")],
    grounds: Annotated[str, Form(description=" | ".join(f"{k}（{v}）" for k, v in rules.GROUNDS.items()))],
    reason: Annotated[str, Form(description="异议理由")],
    subject_id: Annotated[int | None, Form(description="代表单位提出时，所代表主体的编号（须与记录一致）")] = None,
    files: Annotated[list[UploadFile] | None, File(description="证明材料：PDF / PNG / JPEG，按内容识别")] = None,
) -> ObjectionOut:
    """The record is marked 异议中 at once; the answer is due within the working-day deadlines of
    the rules in force (see ``cap_due``). A second objection to a record whose objection is open: 409."""
    uploads = read_uploads(files)
    with platform.db.write() as session:
        view = objections.file_objection(session, platform.catalog, platform.keyring, account=account,
                                         record_id=record_id, grounds=grounds, reason=reason, uploads=uploads,
                                         now=utcnow(), subject_id=subject_id)
    return _out(view)


@router.get("/me/objections", summary="我的异议 My objections", response_model=list[ObjectionOut], responses=_ERRORS)
def my_objections(account: PersonDep, platform: PlatformDep) -> list[ObjectionOut]:
    with platform.db.read() as session:
        return [_out(v) for v in objections.list_for_account(session, platform.catalog, account, today_cn())]


@router.get("/me/objection-notices", summary="异议告知 What I was told", response_model=list[NoticeOut],
            responses=_ERRORS)
def my_notices(account: PersonDep, platform: PlatformDep) -> list[NoticeOut]:
    with platform.db.read() as session:
        return [NoticeOut.model_validate(n) for n in objections.notices_for(session, account)]


@router.get("/me/objections/{objection_id}", summary="异议详情 One of my objections", response_model=ObjectionDetailOut,
            responses=_ERRORS)
def my_objection(objection_id: int, account: PersonDep, platform: PlatformDep) -> ObjectionDetailOut:
    with platform.db.read() as session:
        d = objections.subject_detail(session, platform.catalog, account=account, objection_id=objection_id,
                                      today=today_cn())
    return ObjectionDetailOut(**_detail_parts(d), history=[EventOut.model_validate(e) for e in d.history])


def _subject_act(platform: Platform, account: PersonAccount, objection_id: int, action: str,
                 reason: str | None) -> ObjectionOut:
    with platform.db.write() as session:
        view = objections.subject_act(session, platform.catalog, platform.keyring, account=account,
                                      objection_id=objection_id, action=action, reason=reason, now=utcnow())
    return _out(view)


@router.post("/me/objections/{objection_id}/withdraw", summary="撤回异议 Withdraw", response_model=ObjectionOut,
             responses=_ERRORS)
def withdraw(objection_id: int, account: PersonDep, platform: PlatformDep) -> ObjectionOut:
    return _subject_act(platform, account, objection_id, "withdraw", None)


@router.post("/me/objections/{objection_id}/contest", summary="申请复核 Contest the answer to the credit office",
             response_model=ObjectionOut, responses=_ERRORS)
def contest(objection_id: int, body: ReasonIn, account: PersonDep, platform: PlatformDep) -> ObjectionOut:
    """Second level: within ``contest_due``; the credit office answers within its review deadline."""
    return _subject_act(platform, account, objection_id, "contest", body.reason)


@router.post("/me/objections/{objection_id}/accept", summary="接受处理结果 Accept the answer",
             response_model=ObjectionOut, responses=_ERRORS)
def accept(objection_id: int, account: PersonDep, platform: PlatformDep) -> ObjectionOut:
    return _subject_act(platform, account, objection_id, "accept", None)


@router.get("/me/objections/{objection_id}/attachments/{attachment_id}", summary="下载本人异议材料 My evidence file",
            response_class=Response, responses=_ERRORS)
def my_attachment(objection_id: int, attachment_id: int, account: PersonDep, platform: PlatformDep) -> Response:
    from chengxin.people.service import actor_for

    with platform.db.write() as session:
        info, data = objections.read_objection_attachment(
            session, platform.keyring, objection_id=objection_id, attachment_id=attachment_id,
            actor=actor_for(account), account=account)
    return _file_response(info, data)


def _statement_out(platform: Platform, account: PersonAccount, record_id: int) -> StatementOut:
    with platform.db.read() as session:
        history = objections.statement_history(session, account=account, record_id=record_id)
    current = history[-1].text if history else None
    return StatementOut(record_id=record_id, statement=current,
                        history=[StatementVersionOut.model_validate(v) for v in history])


@router.get("/me/records/{record_id}/statement", summary="本人声明 My statement on a record",
            response_model=StatementOut, responses=_ERRORS)
def get_statement(record_id: int, account: PersonDep, platform: PlatformDep) -> StatementOut:
    return _statement_out(platform, account, record_id)


@router.put("/me/records/{record_id}/statement", summary="附加或更换本人声明 Attach or replace my statement",
            response_model=StatementOut, responses=_ERRORS)
def put_statement(record_id: int, body: StatementIn, account: PersonDep, platform: PlatformDep) -> StatementOut:
    """Shown with the record in my file and in reports; every version is kept."""
    with platform.db.write() as session:
        objections.set_statement(session, account=account, record_id=record_id, text=body.text, now=utcnow())
    return _statement_out(platform, account, record_id)


@router.delete("/me/records/{record_id}/statement", summary="撤回本人声明 Withdraw my statement",
               response_model=StatementOut, responses=_ERRORS)
def delete_statement(record_id: int, account: PersonDep, platform: PlatformDep) -> StatementOut:
    with platform.db.write() as session:
        objections.withdraw_statement(session, account=account, record_id=record_id, now=utcnow())
    return _statement_out(platform, account, record_id)


# -- the staff's side ------------------------------------------------------------------------------


@router.get("/objections", summary="异议队列 Objection queue", response_model=list[ObjectionOut], responses=_ERRORS)
def staff_queue(
    platform: PlatformDep,
    actor: ActorDep,
    stage: Annotated[str | None, Query(description=" | ".join(STAGES))] = None,
    state: Annotated[str | None, Query(description="one state")] = None,
    department: Annotated[str | None, Query(description="市信用办：只看某单位")] = None,
    overdue: Annotated[bool, Query(description="只看逾期")] = False,
) -> list[ObjectionOut]:
    """A department's key sees its own records' objections (default: those it must decide now);
    the credit office sees all. Overdue first, then by deadline."""
    states: frozenset[str] | None
    if state:
        states = frozenset({state})
    elif stage:
        if stage not in STAGES:
            raise NotFound("objection.bad_stage", f"未知的环节：{stage}", f"Unknown stage {stage}")
        states = STAGES[stage]
    else:
        states = None if actor.role in ("admin", "credit_office") else rules.DEPARTMENT_STAGE
    with platform.db.read() as session:
        views = objections.queue(session, platform.catalog, actor=actor, today=today_cn(), states=states,
                                 department=department, overdue_only=overdue)
    return [_out(v) for v in views]


@router.get("/objections/{objection_id}", summary="异议详情（办理）An objection to handle",
            response_model=StaffObjectionDetailOut, responses=_ERRORS)
def staff_objection(objection_id: int, platform: PlatformDep, actor: ActorDep) -> StaffObjectionDetailOut:
    """The read is audited (it shows the subject's record)."""
    with platform.db.write() as session:
        d = objections.staff_detail(session, platform.catalog, actor=actor, objection_id=objection_id,
                                    today=today_cn())
    return StaffObjectionDetailOut(**_detail_parts(d), role=d.role,
                                   history=[StaffEventOut.model_validate(e) for e in d.history],
                                   record_fields=[FieldOut.model_validate(f) for f in d.record_fields],
                                   editable=[EditableOut.model_validate(e) for e in d.editable])


@router.post("/objections/{objection_id}/actions", summary="办理异议 Act on an objection", response_model=ObjectionOut,
             responses=_ERRORS)
def staff_action(objection_id: int, body: ActIn, platform: PlatformDep, actor: ActorDep) -> ObjectionOut:
    """Refused with 409 in the wrong state, 403 for the wrong role or department, 400 without a reason
    where one is needed; a correction goes through the normal ingest (a new version in the ledger)."""
    with platform.db.write() as session:
        view = objections.staff_act(session, platform.catalog, platform.keyring, actor=actor,
                                    objection_id=objection_id, action=body.action, reason=body.reason,
                                    corrections=body.corrections, now=utcnow())
    return _out(view)


@router.get("/objections/{objection_id}/attachments/{attachment_id}", summary="下载异议材料 An evidence file",
            response_class=Response, responses=_ERRORS)
def staff_attachment(objection_id: int, attachment_id: int, platform: PlatformDep, actor: ActorDep) -> Response:
    with platform.db.write() as session:
        info, data = objections.read_objection_attachment(session, platform.keyring, objection_id=objection_id,
                                                          attachment_id=attachment_id, actor=actor)
    return _file_response(info, data)
