"""审计日志 through the API: who did what, when and why — for the administrator and the credit office (staff
bearer tokens). The same filter as the portal page /office/audit (``core.audit.find_events``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from chengxin.accounts.service import require_audit_reader
from chengxin.api.deps import PlatformDep, StaffDep
from chengxin.core import audit
from chengxin.core.errors import DomainError

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str = Field(description="staff:<用户名>、api_key:<密钥编号>、cli:<系统用户>、system:chengxin")
    department: str | None
    action: str
    action_zh: str | None
    subject_id: int | None
    object_type: str | None
    object_id: str | None
    purpose: str | None
    detail: dict[str, Any]

    @classmethod
    def of(cls, e: audit.AuditEvent) -> AuditEventOut:
        return cls(id=e.id, at=e.at, actor=e.actor, department=e.department_code, action=e.action,
                   action_zh=audit.ACTION_ZH.get(e.action), subject_id=e.subject_id, object_type=e.object_type,
                   object_id=e.object_id, purpose=e.purpose, detail=e.detail or {})


@router.get("/audit", summary="审计日志 The audit log", response_model=list[AuditEventOut],
            description="最新的在前；总数在响应头 X-Total-Count（超过 10,000 时为 10001）。group："
                        + "、".join(f"{k}（{v[0]}）" for k, v in audit.ACTION_GROUPS.items())
                        + "。Newest first; X-Total-Count counts up to 10,000.")
def audit_log(
    platform: PlatformDep,
    actor: StaffDep,
    response: Response,
    group: str = "",
    who: Annotated[str, Query(max_length=128, description="操作人（如 staff:wang，可填一部分）")] = "",
    department: Annotated[str, Query(max_length=64)] = "",
    object_type: Annotated[str, Query(max_length=32)] = "",
    object_id: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[dt.date | None, Query(description="起始日（北京时间，含）")] = None,
    until: Annotated[dt.date | None, Query(description="截止日（北京时间，含）")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEventOut]:
    require_audit_reader(actor)
    if group and group not in audit.ACTION_GROUPS:
        raise DomainError("audit.group", f"未知的事项类别：{group}", f"Unknown group {group}", field="group")
    start, end = audit.beijing_days(since, until)
    what = audit.AuditFilter(group=group, actor=who.strip(), department=department, object_type=object_type,
                             object_id=object_id, since=start, until=end)
    with platform.db.read() as session:
        events, total = audit.find_events(session, what, offset=offset, limit=limit)
        response.headers["X-Total-Count"] = str(total)
        return [AuditEventOut.of(e) for e in events]
