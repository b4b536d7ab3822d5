"""JSON shapes of the API (what departments and platforms generate clients from)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from chengxin.core.errors import Problem
from chengxin.records.service import BatchRow, Receipt

MAX_OFFSET = 10**9  # a page further than this is a mistake (and would overflow SQLite's integers)


class ProblemOut(BaseModel):
    code: str = Field(examples=["uscc.check_character"])
    message: str = Field(examples=["统一社会信用代码校验位错误：应为 Q，实为 0"])
    message_en: str = Field(examples=["USCC check character is wrong: expected Q, got 0"])
    field: str | None = Field(default=None, examples=["uscc"])

    @classmethod
    def of(cls, p: Problem) -> ProblemOut:
        return cls(code=p.code, message=p.message, message_en=p.message_en, field=p.field)


class ErrorOut(BaseModel):
    error: ProblemOut


class RejectedRowOut(BaseModel):
    row: int
    source_id: str | None
    problems: list[ProblemOut]


class BatchOut(BaseModel):
    """报送记录 — one batch in the list: its counts, not its rows (the receipt has those)."""

    batch_id: int
    department: str
    item: str
    channel: str
    filename: str | None
    received: int
    accepted: int
    unchanged: int
    corrected: int
    rejected: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of_row(cls, b: BatchRow) -> BatchOut:
        return cls(batch_id=b.id, department=b.department, item=b.item, channel=b.channel, filename=b.filename,
                   received=b.received, accepted=b.accepted, unchanged=b.unchanged, corrected=b.corrected,
                   rejected=b.rejected, started_at=b.started_at, finished_at=b.finished_at)


class ReceiptOut(BatchOut):
    """回执 — what happened to every row: the batch's counts, its warnings and its rejected rows (paged)."""

    warnings: list[ProblemOut]
    rejections: list[RejectedRowOut]
    rejections_total: int
    rejections_offset: int = 0

    @classmethod
    def of(cls, r: Receipt, *, total: int | None = None, offset: int = 0) -> ReceiptOut:
        return cls(
            batch_id=r.batch_id, department=r.department, item=r.item, channel=r.channel, filename=r.filename,
            received=r.received, accepted=r.accepted, unchanged=r.unchanged, corrected=r.corrected,
            rejected=r.rejected, warnings=[ProblemOut.of(w) for w in r.warnings],
            rejections=[RejectedRowOut(row=x.row_no, source_id=x.source_id,
                                       problems=[ProblemOut.of(p) for p in x.problems]) for x in r.rejections],
            rejections_total=r.rejected if total is None else total, rejections_offset=offset,
            started_at=r.started_at, finished_at=r.finished_at,
        )


class BatchIn(BaseModel):
    """A batch of records of one catalog item; each record uses the column codes of the item's template."""

    item: str = Field(examples=["admin_penalty"])
    department: str | None = Field(default=None, description="默认为 API 密钥所属部门")
    # Any JSON value per element, not only objects: an element that is no object is that row's rejection in the
    # receipt, and the batch's other records are kept (a 422 for the whole batch would lose them).
    records: list[Any] = Field(max_length=10_000, json_schema_extra={"items": {"type": "object"}}, examples=[[{
        "source_id": "CZSJ-2025-00431", "uscc": "91320100748204660Q", "subject_name": "常州某某科技有限公司",
        "decision_date": "2025-08-20", "severity": "general", "decision_no": "常市监处罚〔2025〕431号"}]])


class RevokeIn(BaseModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        examples=["复议决定撤销原处罚决定"]
    )


class VersionOut(BaseModel):
    id: int
    version: int
    change: str
    status: str
    item_version: str
    severity: str | None
    decision_date: dt.date
    fields: dict[str, Any]
    reason: str | None
    batch_id: int | None
    created_at: dt.datetime


class RecordOut(BaseModel):
    id: int
    subject_id: int
    item: str
    department: str
    source_id: str
    status: str
    category: str
    severity: str | None
    decision_date: dt.date
    version: int
    versions: list[VersionOut]


class RejectionReasonOut(BaseModel):
    code: str
    field: str | None
    field_label: str | None  # the column's Chinese label in the item's template
    rejected: int
    example: str  # the latest wording of it, with the value that was refused


class QualityOut(BaseModel):
    department: str
    department_name: str
    item: str
    item_name: str
    batches: int
    received: int
    accepted: int
    unchanged: int
    corrected: int
    rejected: int
    rejection_rate: float
    last_submission: dt.datetime | None
    rejected_by_reason: dict[str, int]
    reasons: list[RejectionReasonOut]  # by code and field, most first


class TokenIn(BaseModel):
    username: str
    password: str


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"
    expires_at: dt.datetime
    must_change_password: bool = Field(
        default=False, description="管理员设置的密码：修改（POST /api/v1/auth/password）之前其他接口一律 403 "
                                   "An administrator's password: other calls answer 403 until it is changed")


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256, description="至少 10 位，不能与用户名或当前密码相同")


class SubjectOut(BaseModel):
    id: int
    kind: str
    display_id: str
    display_name: str
