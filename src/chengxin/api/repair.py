"""Credit repair API (信用修复).

- ``/api/v1/me/repairs`` — the subject (person token, ``Authorization: Bearer``; for an organisation,
  its linked representative): the commitment text, an eligibility dry run, apply (multipart, with
  files), list, one application, withdraw, one's own files.
- ``/api/v1/repairs`` — the source department (staff token or the department's API key) and the credit
  office: the queue, one application with its files and history, the decision (approve / reject with
  a reason / extend once with a reason).

An application is decided at once: ``201`` with ``state`` ``accepted`` (deadline in ``due_on``) or
``refused`` (every reason in ``refusals``, each with its clause). Errors have the usual shape
``{"error": {code, message, message_en, field}}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from chengxin.api.deps import ActorDep, PlatformDep
from chengxin.api.me import PersonDep
from chengxin.api.schemas import ErrorOut
from chengxin.attachments.service import AttachmentInfo, Upload
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.core.policy import policy_on
from chengxin.people.service import actor_for
from chengxin.repair import rules
from chengxin.repair import service as repair
from chengxin.repair.commitment import commitment_on

me_router = APIRouter(prefix="/api/v1/me/repairs", tags=["repair"])
router = APIRouter(prefix="/api/v1/repairs", tags=["repair"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 409, 413, 422)}


# -- shapes ------------------------------------------------------------------------------------------


class ReasonOut(BaseModel):
    code: str = Field(examples=["repair.min_period"])
    message: str = Field(examples=["最短公示期限未满：……2026-03-01 起方可申请信用修复"])
    message_en: str
    clause: str = Field(description="所依据的条款")
    kind: str = Field(description="record | timing | subject | material")


def _reasons(reasons: tuple[rules.Reason, ...]) -> list[ReasonOut]:
    return [ReasonOut(code=r.code, message=r.message, message_en=r.message_en, clause=r.clause, kind=r.kind)
            for r in reasons]


class NeedsOut(BaseModel):
    training: bool = Field(description="须完成信用修复培训")
    rectification: bool = Field(description="须提交整改报告")
    credit_report: bool = Field(description="须提交信用报告")
    labels: list[str] = Field(description="申请须提交的全部材料（中文）")


class AssessmentOut(BaseModel):
    eligible: bool
    reasons: list[ReasonOut]
    needs: NeedsOut
    repair_from: dt.date | None = Field(description="最短公示期满、可申请的第一天")
    display_ends_on: dt.date | None = Field(description="公示自动截止日（None：长期）")
    first_day: dt.date | None = Field(description="只差时间条件时：可申请的第一天")


def _assessment(a: rules.Assessment) -> AssessmentOut:
    return AssessmentOut(eligible=a.eligible, reasons=_reasons(a.reasons),
                         needs=NeedsOut(training=a.needs.training, rectification=a.needs.rectification,
                                        credit_report=a.needs.credit_report, labels=a.needs.labels_zh()),
                         repair_from=a.repair_from, display_ends_on=a.ends_on, first_day=a.first_day)


class CommitmentOut(BaseModel):
    version: str
    text: str
    sha256: str = Field(description="文本（UTF-8）的 SHA-256")
    basis: str


class EligibilityIn(BaseModel):
    record_id: int
    proof_files: int = Field(default=0, ge=0, le=100, description="拟上传的履约证明材料份数")
    commitment_version: str = Field(default="", max_length=16, description="已阅读并勾选的承诺书版本")
    commitment_signed: bool = False
    training_files: int = Field(default=0, ge=0, le=100)
    training_record: str = Field(default="", max_length=100, description="培训记录编号")
    rectification_files: int = Field(default=0, ge=0, le=100)
    credit_report_files: int = Field(default=0, ge=0, le=100)


class RepairOut(BaseModel):
    id: int
    record_id: int
    subject_id: int
    subject_name: str = Field(description="主体名称（自然人为脱敏姓名）")
    subject_display_id: str
    department: str = Field(description="数据提供单位代码：由其作出修复决定")
    department_name: str
    item: str
    item_name: str
    severity: str | None
    decision_date: dt.date
    state: str = Field(description="submitted | refused | accepted | extended | approved | rejected | withdrawn")
    state_zh: str
    applied_at: dt.datetime
    accepted_on: dt.date | None
    due_on: dt.date | None = Field(description="数据提供单位作出决定的期限（工作日计算）")
    answer_due_on: dt.date | None = Field(description="平台答复的总期限")
    due_estimated: bool = Field(description="期限跨越尚未录入节假日安排的年份：按周一至周五估算")
    estimate_warning: str
    extended_on: dt.date | None
    decided_on: dt.date | None
    decision_reason: str | None
    display_stopped_on: dt.date | None = Field(description="准予修复后停止公示的日期")
    refusals: list[ReasonOut] = Field(description="不予受理的全部理由")
    overdue: bool
    due_soon: bool


def _out(v: repair.RepairView) -> RepairOut:
    return RepairOut(
        id=v.id, record_id=v.record_id, subject_id=v.subject_id, subject_name=v.subject_name,
        subject_display_id=v.subject_display_id, department=v.department_code, department_name=v.department_name_zh,
        item=v.item_code, item_name=v.item_name_zh, severity=v.severity, decision_date=v.decision_date, state=v.state,
        state_zh=v.state_zh, applied_at=v.applied_at, accepted_on=v.accepted_on, due_on=v.due_on,
        answer_due_on=v.answer_due_on, due_estimated=v.due_estimated, estimate_warning=v.estimate_warning,
        extended_on=v.extended_on, decided_on=v.decided_on, decision_reason=v.decision_reason,
        display_stopped_on=v.display_stopped_on, refusals=_reasons(v.refusals), overdue=v.overdue,
        due_soon=v.due_soon)


class FileOut(BaseModel):
    id: int
    kind: str = Field(description="proof | training | rectification | credit_report")
    filename: str
    mime: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class EventOut(BaseModel):
    action: str
    label_zh: str
    from_state: str | None
    to_state: str
    role: str
    actor: str
    at: dt.datetime
    reason: str | None


class ActionOut(BaseModel):
    action: str
    label_zh: str
    needs_reason: bool


class SignedCommitmentOut(BaseModel):
    version: str | None
    sha256: str | None
    signed_at: dt.datetime | None


class RepairDetailOut(RepairOut):
    note: str | None
    training_record: str | None
    commitment: SignedCommitmentOut
    files: list[FileOut]
    history: list[EventOut]
    actions: list[ActionOut] = Field(description="调用方现在可以采取的操作")


def _detail(d: repair.RepairDetail) -> RepairDetailOut:
    def file_out(kind: str, f: AttachmentInfo) -> FileOut:
        return FileOut(id=f.id, kind=kind, filename=f.filename, mime=f.mime, size=f.size, sha256=f.sha256_hex,
                       uploaded_at=f.uploaded_at)

    return RepairDetailOut(
        **_out(d.view).model_dump(), note=d.note, training_record=d.training_record,
        commitment=SignedCommitmentOut(version=d.commitment_version, sha256=d.commitment_sha256,
                                       signed_at=d.commitment_signed_at),
        files=[file_out(kind, f) for kind, f in d.files],
        history=[EventOut(action=e.action, label_zh=e.label_zh, from_state=e.from_state, to_state=e.to_state,
                          role=e.role, actor=e.actor, at=e.at, reason=e.reason) for e in d.history],
        actions=[ActionOut(action=t.action, label_zh=t.label_zh, needs_reason=t.needs_reason) for t in d.actions])


class DecisionIn(BaseModel):
    action: Literal["approve", "reject", "extend"] = Field(description="准予修复 | 不予修复 | 延长办理期限（仅一次）")
    reason: str = Field(default="", max_length=2000, description="不予修复、延长期限时必填")


def read_uploads(**files: list[UploadFile] | None) -> dict[str, list[Upload]]:
    """The files of each kind as bytes. The count over the whole application is checked before any
    file is read, and each file is read no further than one byte past the size limit (the attachment
    rules then refuse it by name), so a request never makes the server hold more than the limits."""
    from chengxin.attachments.rules import check_count

    policy = policy_on(today_cn()).attachments
    # A browser sends an empty part (no name) for a file input left empty: that is no file.
    chosen = {kind: [f for f in parts or [] if f.filename or f.size] for kind, parts in files.items()}
    check_count(policy, [f for parts in chosen.values() for f in parts])
    out: dict[str, list[Upload]] = {}
    for kind, parts in chosen.items():
        out[kind] = [Upload(f.filename or "附件", f.file.read(policy.max_bytes + 1)) for f in parts]
    return out


def file_response(info: AttachmentInfo, data: bytes) -> Response:
    from urllib.parse import quote

    return Response(data, media_type=info.mime, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


# -- the subject ------------------------------------------------------------------------------------


@me_router.get("/commitment", summary="信用承诺书（现行文本）The credit commitment in force", response_model=CommitmentOut)
def commitment() -> CommitmentOut:
    """Show this text to the subject; apply with its ``version`` and ``commitment_signed=true``."""
    c = commitment_on(today_cn())
    return CommitmentOut(version=c.version, text=c.text, sha256=c.sha256, basis=c.basis)


@me_router.post("/eligibility", summary="修复条件自查（不提交）Eligibility dry run", response_model=AssessmentOut,
                responses=_ERRORS)
def eligibility(body: EligibilityIn, account: PersonDep, platform: PlatformDep) -> AssessmentOut:
    """Would an application with these materials be accepted today? Every reason if not; nothing is kept."""
    today = today_cn()
    submission = rules.Submission(
        proof_files=body.proof_files,
        commitment_signed=body.commitment_signed and body.commitment_version == commitment_on(today).version,
        training_files=body.training_files, training_record=body.training_record,
        rectification_files=body.rectification_files, credit_report_files=body.credit_report_files)
    with platform.db.read() as session:
        return _assessment(repair.check(session, platform.catalog, account=account, record_id=body.record_id,
                                        submission=submission, today=today))


@me_router.post("", summary="申请信用修复 Apply for credit repair", response_model=RepairDetailOut, status_code=201,
                responses=_ERRORS)
def apply(
    account: PersonDep,
    platform: PlatformDep,
    record_id: Annotated[int, Form(description="申请修复的信用记录编号")],
    commitment_version: Annotated[str, Form(max_length=16, description="所签署的信用承诺书版本")] = "",
    commitment_signed: Annotated[bool, Form(description="本人已阅读并承诺")] = False,
    training_record: Annotated[str, Form(max_length=100, description="培训记录编号（无结业证明时）")] = "",
    note: Annotated[str, Form(max_length=2000, description="纠正失信行为、履行义务的情况说明")] = "",
    proof: Annotated[list[UploadFile] | None, File(description="履约证明材料（PDF/PNG/JPEG）")] = None,
    training: Annotated[list[UploadFile] | None, File(description="培训结业证明")] = None,
    rectification: Annotated[list[UploadFile] | None, File(description="整改报告")] = None,
    credit_report: Annotated[list[UploadFile] | None, File(description="信用报告")] = None,
) -> RepairDetailOut:
    """Accepted (``state`` accepted, with ``due_on``) or refused (``state`` refused, every reason in
    ``refusals``) at once; both are kept. Repair is free of charge."""
    uploads = read_uploads(proof=proof, training=training, rectification=rectification, credit_report=credit_report)
    materials = repair.Materials(**uploads, commitment_version=commitment_version,
                                 commitment_signed=commitment_signed, training_record=training_record, note=note)
    with platform.db.write() as session:
        detail = repair.apply(session, platform.catalog, platform.keyring, account=account, record_id=record_id,
                              materials=materials, now=utcnow())
    return _detail(detail)


@me_router.get("", summary="我的信用修复申请 My repair applications", response_model=list[RepairOut],
               responses=_ERRORS)
def my_applications(account: PersonDep, platform: PlatformDep) -> list[RepairOut]:
    """Mine and those of the organisations I represent, newest first."""
    with platform.db.read() as session:
        return [_out(v) for v in repair.applications_for(session, platform.catalog, account, today_cn())]


@me_router.get("/{case_id}", summary="一项申请 One application", response_model=RepairDetailOut, responses=_ERRORS)
def my_application(case_id: int, account: PersonDep, platform: PlatformDep) -> RepairDetailOut:
    with platform.db.read() as session:
        return _detail(repair.detail_for_account(session, platform.catalog, account=account, case_id=case_id,
                                                 today=today_cn()))


@me_router.post("/{case_id}/withdraw", summary="撤回申请 Withdraw", response_model=RepairDetailOut, responses=_ERRORS)
def withdraw(case_id: int, account: PersonDep, platform: PlatformDep) -> RepairDetailOut:
    with platform.db.write() as session:
        return _detail(repair.withdraw(session, platform.catalog, account=account, case_id=case_id, now=utcnow()))


@me_router.get("/{case_id}/files/{file_id}", summary="本人申请材料 My uploaded file", response_class=Response,
               responses=_ERRORS)
def my_file(case_id: int, file_id: int, account: PersonDep, platform: PlatformDep) -> Response:
    with platform.db.write() as session:  # the read is audited
        info, data = repair.read_file(session, platform.keyring, case_id=case_id, attachment_id=file_id,
                                      actor=actor_for(account), account=account)
    return file_response(info, data)


# -- the source department and the credit office ---------------------------------------------------


@router.get("", summary="信用修复办理队列 Repair queue", response_model=list[RepairOut], responses=_ERRORS)
def queue(
    actor: ActorDep,
    platform: PlatformDep,
    state: Annotated[str, Query(max_length=16, description="open（待决定，默认）| all | 某一状态")] = "open",
) -> list[RepairOut]:
    """A department (clerk or API key) sees the applications about its own records; the credit office
    sees the whole city. ``open``: earliest deadline first."""
    with platform.db.read() as session:
        return [_out(v) for v in repair.queue(session, platform.catalog, actor=actor, today=today_cn(), state=state)]


@router.get("/{case_id}", summary="申请详情 One application", response_model=RepairDetailOut, responses=_ERRORS)
def application(case_id: int, actor: ActorDep, platform: PlatformDep) -> RepairDetailOut:
    with platform.db.read() as session:
        return _detail(repair.detail_for_staff(session, platform.catalog, case_id=case_id, actor=actor,
                                               today=today_cn()))


@router.post("/{case_id}/decision", summary="作出决定 Decide", response_model=RepairDetailOut, responses=_ERRORS)
def decision(case_id: int, body: DecisionIn, actor: ActorDep, platform: PlatformDep) -> RepairDetailOut:
    """``approve``: public display of the record stops today (the record is kept). ``reject``: with the
    reason told to the subject. ``extend``: once, with the reason, by the policy's working days."""
    with platform.db.write() as session:
        return _detail(repair.decide(session, platform.catalog, case_id=case_id, action=body.action,
                                     reason=body.reason, actor=actor, now=utcnow()))


@router.get("/{case_id}/files/{file_id}", summary="申请材料 An uploaded file", response_class=Response,
            responses=_ERRORS)
def case_file(case_id: int, file_id: int, actor: ActorDep, platform: PlatformDep) -> Response:
    """Each read is written to the audit log with its purpose."""
    with platform.db.write() as session:
        info, data = repair.read_file(session, platform.keyring, case_id=case_id, attachment_id=file_id,
                                      actor=actor)
    return file_response(info, data)
