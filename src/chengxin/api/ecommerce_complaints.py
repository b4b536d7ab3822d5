"""E-commerce complaints API (电商投诉举报, issue #7 §4–5).

- ``POST /api/v1/ecommerce/complaints/batches`` (JSON, up to ``batch_max_rows`` rows) and
  ``POST /api/v1/ecommerce/complaints/files`` (JSON Lines, CSV or Excel): a complaint department's API key
  (12315 → samr, 12345 → gov_service, 12312 → commerce …; the list is data) submits complaints about shops.
  The answer is the receipt (accepted / unchanged / corrected / rejected with each row's problems);
  ``GET /api/v1/ecommerce/batches/{id}`` reads it again.
- ``GET /api/v1/ecommerce/complaints``: the list for the regulators, filtered and paged.

401 without a key; 403 for a platform's key or a department that does not take complaints. No field about the
complainant is accepted (举报人保护): such a row is refused with ``complaint.reporter_data``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field

from chengxin.api.deps import ActorDep, PlatformDep, ReadSession
from chengxin.api.schemas import ErrorOut, ReceiptOut
from chengxin.api.uploads import spool_upload
from chengxin.core.clock import today_cn
from chengxin.core.db import utcnow
from chengxin.ecommerce.complaints import service
from chengxin.records.service import ApiRow

router = APIRouter(prefix="/api/v1/ecommerce/complaints", tags=["ecommerce"])
_ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (400, 401, 403, 404, 413, 422)}
_HARD_CAP = 100_000  # beyond any dated limit: refused before the body is turned into rows


class ComplaintsIn(BaseModel):
    """投诉举报：渠道（channel）、类别（category）、办理状态（status）为代码或中文；不得含投诉举报人的任何信息。"""

    department: str | None = Field(default=None, max_length=64, description="默认为 API 密钥所属部门")
    complaints: list[dict[str, Any]] = Field(max_length=_HARD_CAP, examples=[[{
        "source_complaint_id": "12315-2026-000123", "channel": "12315", "received_at": "2026-03-05T09:20:00+08:00",
        "platform": "tmall", "shop_code": "S1001", "source_order_id": "O-20260301-0001", "category": "not_as_described",
        "status": "handling", "summary": "收到的茶叶与商品页面描述的产地、等级不符"}]])


class ComplaintOut(BaseModel):
    id: int
    department: str
    source_complaint_id: str
    channel: str
    channel_zh: str
    received_at: dt.datetime
    platform_code: str
    platform_name: str
    shop_code: str
    shop_name: str
    source_order_id: str | None
    category: str
    category_zh: str
    status: str
    status_zh: str
    closed_at: dt.datetime | None
    summary: str | None


class ComplaintPageOut(BaseModel):
    items: list[ComplaintOut]
    total: int
    page: int
    per_page: int


@router.post("/batches", summary="报送电商投诉举报 Submit complaints about shops", response_model=ReceiptOut,
             responses=_ERRORS)
def submit_complaints(body: ComplaintsIn, actor: ActorDep, platform: PlatformDep) -> ReceiptOut:
    """Idempotent by (department, source_complaint_id): the same complaint again is ``unchanged``, a changed
    one (a new status, a closing time) ``corrected``. A row naming an unknown platform or shop is refused."""
    service.check_batch_size(len(body.complaints), today_cn())
    rows = [ApiRow(row_no=i, values=v) for i, v in enumerate(body.complaints, start=1)]
    return ReceiptOut.of(service.ingest_complaints(platform.db, rows, actor=actor, department=body.department,
                                                   channel="api", now=utcnow()))


@router.post("/files", summary="上传投诉举报文件 Submit a file of complaints (.jsonl / .csv / .xlsx)",
             response_model=ReceiptOut, responses=_ERRORS)
def submit_file(
    actor: ActorDep,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description=".jsonl、.csv（UTF-8 或 GBK）或 .xlsx；表头用中文或字段代码")],
    department: Annotated[str | None, Form(max_length=64)] = None,
) -> ReceiptOut:
    limit = platform.settings.max_upload_bytes
    with spool_upload(file, limit, "chengxin-ecc-") as path:
        receipt = service.ingest_file(platform.db, path, actor=actor, department=department, channel="file",
                                      now=utcnow(), filename=file.filename, max_bytes=limit)
    return ReceiptOut.of(receipt)


@router.get("", summary="电商投诉举报列表 Complaints about shops (regulators)", response_model=ComplaintPageOut,
            responses=_ERRORS)
def list_complaints(
    actor: ActorDep,
    session: ReadSession,
    platform: Annotated[str, Query(max_length=32)] = "",
    shop: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=24)] = "",
    category: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> ComplaintPageOut:
    rows, total = service.list_complaints(session, actor=actor, day=today_cn(), platform=platform, shop=shop,
                                          status=status, category=category, page=page)
    return ComplaintPageOut(items=[ComplaintOut(
        id=r.id, department=r.department_code, source_complaint_id=r.source_complaint_id, channel=r.channel,
        channel_zh=r.channel_zh, received_at=r.received_at, platform_code=r.platform_code, platform_name=r.platform_name,
        shop_code=r.shop_code, shop_name=r.shop_name, source_order_id=r.source_order_id, category=r.category,
        category_zh=r.category_zh, status=r.status, status_zh=r.status_zh, closed_at=r.closed_at, summary=r.summary)
        for r in rows], total=total, page=page, per_page=service.PER_PAGE)
