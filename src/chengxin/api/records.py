"""Collection API: batches of records, file uploads, receipts, revocation, data quality."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from chengxin.api.deps import ActorDep, PlatformDep, ReadSession
from chengxin.api.progress import Report, stream_progress, wants_progress
from chengxin.api.schemas import (
    BatchIn,
    BatchOut,
    QualityOut,
    ReceiptOut,
    RecordOut,
    RejectionReasonOut,
    RevokeIn,
    VersionOut,
)
from chengxin.api.uploads import spool_upload
from chengxin.catalog.rules import column_labels
from chengxin.core import audit
from chengxin.core.clock import today_cn
from chengxin.core.errors import DomainError, Problem
from chengxin.platform import Platform
from chengxin.records import service
from chengxin.records.fileio import unknown_columns_warning
from chengxin.records.service import ApiRow, RecordDetail, check_submission

router = APIRouter(prefix="/api/v1", tags=["records"])

UPLOAD_PREFIX = "chengxin-upload-"


def _department(actor: audit.Actor, requested: str | None) -> str:
    department = requested or actor.department_code
    if not department:
        raise DomainError("submission.department_required", "请指明数据提供单位", "Say which department submits")
    return department


def _record_out(d: RecordDetail) -> RecordOut:
    return RecordOut(
        id=d.id, subject_id=d.subject_id, item=d.item_code, department=d.department_code, source_id=d.source_id,
        status=d.status, category=d.category, severity=d.severity, decision_date=d.decision_date, version=d.version,
        versions=[VersionOut(**v.__dict__) for v in d.versions],
    )


@router.post("/records/batches", summary="报送一批记录 Submit a batch of records", response_model=ReceiptOut)
def submit_batch(body: BatchIn, platform: PlatformDep, actor: ActorDep) -> ReceiptOut:
    """Every record is validated against the catalog item version in force on its decision date.

    Valid records are kept even when others are rejected; the receipt lists every rejected row
    (``row`` is the 1-based position in ``records``) with its field and reason.
    """
    department = _department(actor, body.department)
    known = column_labels(check_submission(platform.catalog, department, body.item, actor))
    # Keys that name no column of any version of the item: ignored, and said so (a typo, a Chinese label as key).
    unknown = dict.fromkeys(key for r in body.records if isinstance(r, dict) for key in r if key not in known)
    rows = [_api_row(i, r) for i, r in enumerate(body.records, start=1)]
    receipt = service.ingest(
        platform.db, rows, catalog=platform.catalog, keyring=platform.keyring, department=department,
        item_code=body.item, actor=actor, channel="api", today=today_cn(),
        warnings=[unknown_columns_warning(list(unknown)[:100])] if unknown else (),
        chunk_rows=platform.settings.ingest_chunk_rows,
    )
    return ReceiptOut.of(receipt)


_JSON_TYPES = {str: ("字符串", "string"), int: ("数字", "number"), float: ("数字", "number"),
               bool: ("布尔值", "boolean"), list: ("数组", "array"), type(None): ("null", "null")}


def _api_row(row_no: int, value: Any) -> ApiRow:
    """One element of a batch's ``records``: an object is a row; anything else is a row rejected as such
    (``row.not_object``, as a JSONL line that is no object), so the batch's other records are still kept."""
    if isinstance(value, dict):
        return ApiRow(row_no=row_no, values=value)
    kind, kind_en = _JSON_TYPES.get(type(value), (type(value).__name__, type(value).__name__))
    return ApiRow(row_no=row_no, values={}, problems=[Problem(
        "row.not_object", f'第 {row_no} 条记录不是 JSON 对象（应为 {{"字段代码": 值, …}}），实为 {kind}。',
        f"Record {row_no} is a JSON {kind_en}, not an object.")])


def ingest_upload(platform: Platform, actor: audit.Actor, upload: UploadFile, item: str, department: str,
                  *, channel: str) -> service.Receipt:
    """Spool an upload to disk (size-checked), then ingest it as a file (large files on two cores)."""
    with spool_upload(upload, platform.settings.max_upload_bytes, UPLOAD_PREFIX) as path:
        return ingest_spooled(platform, actor, path, upload.filename, item, department, channel=channel)


def ingest_upload_streamed(platform: Platform, actor: audit.Actor, upload: UploadFile, item: str, department: str,
                           *, channel: str, result: Callable[[service.Receipt], dict[str, Any]]) -> StreamingResponse:
    """As :func:`ingest_upload`, the answer streamed (``api.progress``): the upload is spooled here — a refusal of
    the whole upload (too large) raises before anything is streamed — then ingested in a thread of its own that
    reports each chunk and ends with ``result(receipt)``; the thread owns the spooled copy until the batch is
    written."""
    spooled = ExitStack()
    try:
        path = spooled.enter_context(spool_upload(upload, platform.settings.max_upload_bytes, UPLOAD_PREFIX))
    except BaseException:
        spooled.close()
        raise

    def ingest(report: Report) -> dict[str, Any]:
        done = 0

        def advance(rows: int, bytes_read: int, bytes_total: int) -> None:
            nonlocal done
            done += rows
            report({"rows": done, "bytes": bytes_read, "total": bytes_total})

        with spooled:
            return result(ingest_spooled(platform, actor, path, upload.filename, item, department, channel=channel,
                                         progress=advance))

    return stream_progress(ingest, name=f"chengxin-upload-{department}")


def ingest_spooled(platform: Platform, actor: audit.Actor, path: Path, filename: str | None, item: str,
                   department: str, *, channel: str,
                   progress: Callable[[int, int, int], None] | None = None) -> service.Receipt:
    """Ingest an upload already spooled to ``path`` (``spool_upload``); ``progress(rows, bytes_read,
    bytes_total)`` per chunk, as :func:`records.pipeline.ingest_file` reports it."""
    from chengxin.records.pipeline import ingest_file

    return ingest_file(
        platform.db, path, catalog=platform.catalog, keyring=platform.keyring, department=department,
        item_code=item, actor=actor, channel=channel, today=today_cn(), filename=filename,
        max_bytes=platform.settings.max_upload_bytes, chunk_rows=platform.settings.ingest_chunk_rows,
        progress=progress,
    )


@router.post("/records/files", summary="上传文件报送 Submit a file (.xlsx / .csv / .jsonl)", response_model=ReceiptOut,
             responses={200: {"content": {"application/x-ndjson": {}}}})
def submit_file(
    request: Request,
    platform: PlatformDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description=".xlsx / .csv (UTF-8 或 GBK) / .jsonl")],
    item: Annotated[str, Form()],
    department: Annotated[str | None, Form()] = None,
) -> Any:
    """The receipt once the file is ingested; or, with ``Accept: application/x-ndjson``, progress lines while it
    is (``{"rows", "bytes", "total"}`` per chunk; blank keep-alive lines) and then ``{"done": true, "receipt":
    …}`` or ``{"error": …}`` — for large files, so that no client times out on a quiet connection."""
    submitter = _department(actor, department)
    if not wants_progress(request):
        return ReceiptOut.of(ingest_upload(platform, actor, file, item, submitter, channel="file"))
    check_submission(platform.catalog, submitter, item, actor)  # refused before the upload is even spooled
    return ingest_upload_streamed(
        platform, actor, file, item, submitter, channel="file",
        result=lambda receipt: {"url": f"/api/v1/records/batches/{receipt.batch_id}",
                                "receipt": ReceiptOut.of(receipt).model_dump(mode="json")})


@router.get("/records/batches", summary="报送记录 Batches, newest first", response_model=list[BatchOut],
            description="一个单位（市信用办可指定任一单位，或全部）的批次，最新的在前；可按目录项筛选、只看有被拒绝行的批次。"
                        "总数在响应头 X-Total-Count。A department's batches (the credit office: any or all), newest "
                        "first; by item, only those with rejected rows. The total is in X-Total-Count.")
def list_batches(
    session: ReadSession,
    actor: ActorDep,
    response: Response,
    department: str | None = None,
    item: str | None = None,
    rejected_only: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[BatchOut]:
    scope = service.department_scope(actor, department)
    rows, total = service.recent_batches(session, scope, item=item, rejected_only=rejected_only, offset=offset,
                                         limit=limit)
    response.headers["X-Total-Count"] = str(total)
    return [BatchOut.of_row(b) for b in rows]


@router.get("/records/batches/{batch_id}", summary="批次回执 A batch's receipt", response_model=ReceiptOut)
def get_batch(
    batch_id: int,
    session: ReadSession,
    actor: ActorDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReceiptOut:
    receipt, total = service.get_receipt(session, batch_id, offset=offset, limit=limit)
    service.require_batch_reader(actor, receipt.department)
    return ReceiptOut.of(receipt, total=total, offset=offset)


@router.get("/records/{record_id}", summary="记录及其全部版本 A record with its history", response_model=RecordOut)
def get_record(record_id: int, session: ReadSession, actor: ActorDep) -> RecordOut:
    return _record_out(service.get_record(session, record_id, actor=actor))


@router.get("/records/by-source/{department}/{source_id}", summary="按来源编号查记录 Record by source id",
            response_model=RecordOut)
def get_record_by_source(department: str, source_id: str, session: ReadSession, actor: ActorDep) -> RecordOut:
    return _record_out(service.get_record(session, service.find_record_id(session, department, source_id),
                                          actor=actor))


@router.post("/records/{record_id}/revoke", summary="撤销记录 Revoke a record", response_model=RecordOut)
def revoke(record_id: int, body: RevokeIn, platform: PlatformDep, actor: ActorDep) -> RecordOut:
    return _record_out(service.revoke_record(platform.db, keyring=platform.keyring, record_id=record_id,
                                             actor=actor, reason=body.reason))


@router.get("/quality", summary="数据质量 Data quality per department and item")
def quality(
    platform: PlatformDep, session: ReadSession, actor: ActorDep, department: str | None = None,
    item: str | None = None,
) -> dict[str, Any]:
    """Staff of the credit office see every department; a department (clerk or API key) sees its own."""
    scope = service.department_scope(actor, department, code="quality.other_department")
    rows = service.quality(session, department=scope, item=item)
    return {"rows": [quality_out(platform, q).model_dump() for q in rows]}


def quality_out(platform: Platform, q: service.QualityRow) -> QualityOut:
    dept = platform.catalog.departments.get(q.department)
    item = platform.catalog.items.get(q.item)
    labels = column_labels(item) if item else {}
    return QualityOut(
        department=q.department, department_name=dept.name_zh if dept else q.department, item=q.item,
        item_name=item.latest.name_zh if item else q.item, batches=q.batches, received=q.received,
        accepted=q.accepted, unchanged=q.unchanged, corrected=q.corrected, rejected=q.rejected,
        rejection_rate=round(q.rejected / q.received, 4) if q.received else 0.0,
        last_submission=q.last_submission, rejected_by_reason=q.rejected_by_reason,
        reasons=[RejectionReasonOut(code=r.code, field=r.field, field_label=labels.get(r.field) if r.field else None,
                                    rejected=r.rejected, example=r.example) for r in q.reasons],
    )
