"""Use cases of complaint intake: take a department's batch of complaints about shops (API or file, with the
records ingest's receipt), and list them for the regulators.

Batches are atomic and idempotent like every ingest (DESIGN.md "Data principles"): one batch is one
transaction; (department, the department's own complaint number) identifies a complaint; the same content
again is ``unchanged``, different content is ``corrected`` (the row is updated: a complaint's status moves
from 已受理 to 属实 or 查无实据 by resubmission). The receipt is the records ingest's own (``ingest_batch`` /
``ingest_rejection``, item ``ec_complaints``), so ``GET /api/v1/ecommerce/batches/{id}`` and
``/api/v1/records/batches/{id}`` read it back.

Who may submit: a department listed for at least one channel in the dated rule (``data/complaints.yaml``:
12315 → samr, 12345 → gov_service, 12312 → commerce …), through its API key or its clerks, and only rows of
its own channels; or the server's CLI naming the department (``-d samr``). A platform's key, another
department: 403; nobody: 401 (adapters). Who may read the list: the e-commerce regulators of the risk rule
(``findings.yaml`` ``regulators``), the submitting departments and the credit office.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from chengxin.catalog.model import Column, EnumOption, FieldType
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.db import Database, utcnow
from chengxin.core.errors import DomainError, PermissionDenied, Problem
from chengxin.ecommerce.complaints import rules
from chengxin.ecommerce.complaints.models import EcComplaint
from chengxin.ecommerce.complaints.params import STATUSES, ComplaintRules, complaint_rules_on
from chengxin.ecommerce.trade.models import EcPlatform, EcShop
from chengxin.ecommerce.trade.service import BatchReceipt
from chengxin.records.reader import IncomingRow
from chengxin.records.service import Receipt

__all__ = ["ITEM", "ITEM_NAME_ZH", "PER_PAGE", "ComplaintView", "check_batch_size", "file_columns", "ingest_complaints",
           "ingest_file", "list_complaints", "may_read", "submitting_department"]

ITEM = "ec_complaints"
ITEM_NAME_ZH = "电商投诉举报"  # the batch's name in 报送记录 (complaints are not a catalog item)
CHUNK_ROWS = 1000
PER_PAGE = 50


def _day(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


# -- who ---------------------------------------------------------------------------------------------------


def submitting_department(actor: audit.Actor, department: str | None, r: ComplaintRules) -> str:
    """The department a submission is made for: the key's or clerk's own (naming another is 403), or the one
    the CLI names. Only a department the rule lists for some channel may submit (like a catalog item's
    ``departments``)."""
    if actor.kind in ("cli", "system"):
        if not department:
            raise DomainError("complaint.department_required", "请指定报送单位（如 -d samr）",
                              "Name the submitting department (e.g. -d samr)", field="department")
        chosen = department.strip()
    else:
        if actor.kind not in ("staff", "api_key") or not actor.department_code:
            raise PermissionDenied("complaint.department_only", "仅限投诉举报受理部门报送",
                                   "Only the departments that take complaints may submit them")
        if department and department != actor.department_code:
            raise PermissionDenied("submission.other_department", f"无权以“{department}”的名义报送数据",
                                   f"You may not submit on behalf of department {department}")
        chosen = actor.department_code
    if chosen not in r.departments:
        allowed = "、".join(sorted(r.departments))
        raise PermissionDenied("complaint.department_not_allowed",
                               f"“{chosen}”不是电商投诉举报数据的报送单位（报送单位：{allowed}）",
                               f"{chosen} does not submit complaints (those that do: {', '.join(sorted(r.departments))})")
    return chosen


def may_read(actor: audit.Actor, day: dt.date) -> bool:
    """The regulators (risk rule), the submitting departments, the credit office and the server itself."""
    from chengxin.ecommerce.risk.config import finding_params
    from chengxin.ecommerce.risk.rules import staff_role

    readers = (*finding_params(day).regulators, *sorted(complaint_rules_on(day).departments))
    return staff_role(actor.kind, actor.role, actor.department_code, readers) is not None


def check_batch_size(rows: int, today: dt.date) -> None:
    """A JSON batch holds at most ``batch_max_rows`` rows (dated rule); more go as a file."""
    limit = complaint_rules_on(today).batch_max_rows
    if rows > limit:
        raise DomainError("batch.too_large", f"一批最多 {limit} 行（本批 {rows} 行）；更多请以文件（jsonl / csv）报送",
                          f"A batch holds at most {limit} rows ({rows}); send a file instead", status=413)


# -- intake ------------------------------------------------------------------------------------------------




def _source_id(values: dict[str, object]) -> str | None:
    raw = values.get("source_complaint_id")
    return (raw.strip()[:64] or None) if isinstance(raw, str) else None


def _values(row: rules.ComplaintRow) -> dict[str, Any]:
    return {"channel": row.channel, "received_at": row.received_at, "source_order_id": row.source_order_id,
            "category": row.category, "status": row.status, "closed_at": row.closed_at, "summary": row.summary,
            "content_hash": row.content_hash}


def _chunks(rows: Iterable[IncomingRow], size: int) -> Iterator[list[IncomingRow]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def ingest_complaints(db: Database, rows: Iterable[IncomingRow], *, actor: audit.Actor, department: str | None,
                      channel: str, now: dt.datetime, filename: str | None = None,
                      rules_on: Callable[[dt.date], ComplaintRules] = complaint_rules_on,
                      warnings: Callable[[], Sequence[Problem]] = lambda: (),
                      progress: Callable[[int], None] | None = None) -> Receipt:
    """A department's complaints about shops, in one transaction, with a receipt row by row. A row naming a
    platform or shop we do not know is refused (the platform must have reported the shop first)."""
    r = rules_on(_day(now))
    dept = submitting_department(actor, department, r)
    with db.write() as session:
        batch = BatchReceipt(session, dept, ITEM, actor=actor, channel=channel, filename=filename)
        for chunk in _chunks(rows, CHUNK_ROWS):
            batch.receipt.received += len(chunk)
            parsed: list[rules.ComplaintRow] = []
            for row in chunk:
                result = rules.parse_complaint(row.values, row_no=row.row_no, now=now, rules=r, department=dept,
                                               read_problems=row.problems)
                if isinstance(result, list):
                    batch.reject(row.row_no, _source_id(row.values), result)
                else:
                    parsed.append(result)
            platforms = {code: pid for pid, code in session.execute(select(EcPlatform.id, EcPlatform.code).where(
                EcPlatform.code.in_({p.platform_code for p in parsed})))}
            shops = {(pid, code): sid for sid, pid, code in session.execute(
                select(EcShop.id, EcShop.platform_id, EcShop.shop_code).where(
                    EcShop.platform_id.in_(set(platforms.values())), EcShop.shop_code.in_({p.shop_code for p in parsed})))}
            # Earlier chunks of this batch are flushed: a number repeated later in the file is found here.
            existing = {e.source_complaint_id: e for e in session.scalars(select(EcComplaint).where(
                EcComplaint.department_code == dept,
                EcComplaint.source_complaint_id.in_({p.source_complaint_id for p in parsed})))}
            fresh: dict[str, dict[str, Any]] = {}  # new in this chunk, by the department's number
            stamp = utcnow()
            for p in parsed:
                platform_id = platforms.get(p.platform_code)
                if platform_id is None:
                    batch.reject(p.row_no, p.source_complaint_id, [Problem(
                        "complaint.platform_unknown",
                        f"未登记的电商平台“{p.platform_code}”（平台代码见 /api/v1/ecommerce/platforms）",
                        f"Unknown platform {p.platform_code!r}", field="platform")])
                    continue
                shop_id = shops.get((platform_id, p.shop_code))
                if shop_id is None:
                    batch.reject(p.row_no, p.source_complaint_id, [Problem(
                        "complaint.shop_unknown",
                        f"平台“{p.platform_code}”没有编号为“{p.shop_code}”的店铺（店铺须已由平台报送）",
                        f"Platform {p.platform_code!r} has no shop {p.shop_code!r}", field="shop_code")])
                    continue
                values = {**_values(p), "platform_id": platform_id, "shop_id": shop_id}
                current, pending = existing.get(p.source_complaint_id), fresh.get(p.source_complaint_id)
                if current is None and pending is None:
                    fresh[p.source_complaint_id] = {**values, "department_code": dept,
                                                    "source_complaint_id": p.source_complaint_id,
                                                    "batch_id": batch.row.id, "created_at": stamp, "updated_at": stamp}
                    batch.receipt.accepted += 1
                    continue
                # The hash covers platform and shop codes: the same hash is the same shop.
                stored = current.content_hash if current is not None else pending["content_hash"] if pending else ""
                if stored == p.content_hash:
                    batch.receipt.unchanged += 1
                    continue
                if pending is not None:
                    pending.update(values)
                elif current is not None:
                    for key, value in values.items():
                        setattr(current, key, value)
                    current.batch_id, current.updated_at = batch.row.id, stamp
                batch.receipt.corrected += 1
            if fresh:
                session.execute(insert(EcComplaint), list(fresh.values()))
            session.flush()
            if progress:
                progress(len(chunk))
        return batch.finish(actor, "ecommerce.complaints_ingest", warnings(), detail={"department": dept})


# -- files ---------------------------------------------------------------------------------------------------

_TIME_HELP = "北京时间，如 2026-03-01 10:30:00；也可填带时区的 ISO 8601"
# Columns that carry the complainant (举报人保护): read so that the row is refused by name, never stored.
_REPORTER_COLUMNS = (("reporter_name", "举报人姓名"), ("complainant_name", "投诉人姓名"),
                     ("reporter_phone", "举报人电话"), ("complainant_phone", "投诉人电话"),
                     ("contact_phone", "联系电话"), ("reporter_ric", "举报人身份证号码"),
                     ("complainant_ric", "投诉人身份证号码"), ("reporter_email", "举报人邮箱"),
                     ("reporter_address", "举报人住址"))


def _col(code: str, zh: str, kind: FieldType = FieldType.STRING, required: bool = False, help_zh: str = "",
         labels: Sequence[tuple[str, str]] = ()) -> Column:
    return Column(code=code, label_zh=zh, label_en=code.replace("_", " "), required=required, type=kind,
                  help_zh=help_zh, options=tuple(EnumOption(c, zh_, c) for c, zh_ in labels))


def file_columns(r: ComplaintRules) -> tuple[Column, ...]:
    """The columns of a complaints file (JSON Lines keys, CSV / Excel headers in Chinese or English)."""
    return (
        _col("source_complaint_id", "投诉举报编号", required=True, help_zh="本单位受理系统中的编号，同一编号再次报送为更正"),
        _col("channel", "渠道", FieldType.ENUM, required=True, labels=[(c.code, c.name_zh) for c in r.channels]),
        _col("received_at", "受理时间", required=True, help_zh=_TIME_HELP),
        _col("platform", "平台代码", required=True), _col("shop_code", "店铺编号", required=True),
        _col("source_order_id", "订单编号", help_zh="平台订单编号（投诉涉及具体订单时填写）"),
        _col("category", "类别", FieldType.ENUM, required=True, labels=[(c.code, c.name_zh) for c in r.categories]),
        _col("status", "办理状态", FieldType.ENUM, labels=list(rules.STATUS_ZH.items()), help_zh="不填为已受理"),
        _col("closed_at", "办结时间", help_zh="举报属实、查无实据、已撤回时必填；" + _TIME_HELP),
        _col("summary", "事项摘要", FieldType.TEXT, help_zh=f"不超过 {r.summary_max_chars} 字，不得填写投诉举报人的任何信息"),
        *(_col(code, zh) for code, zh in _REPORTER_COLUMNS),
    )


def ingest_file(db: Database, path: Path, *, actor: audit.Actor, department: str | None, channel: str,
                now: dt.datetime, filename: str | None = None, max_bytes: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> Receipt:
    """A JSON Lines, CSV or Excel file of complaints, read as a stream (the records ingest's reader), written
    as one batch. File-level problems raise ``FileRejected``."""
    from chengxin.ecommerce.trade.files import plain_rows
    from chengxin.records.fileio import open_rows

    submitting_department(actor, department, complaint_rules_on(_day(now)))  # refuse before reading the file
    with open_rows(Path(path), file_columns(complaint_rules_on(_day(now))), max_bytes=max_bytes,
                   filename=filename) as source:
        def step(_rows: int) -> None:
            if progress is not None:
                progress(source.bytes_read, source.bytes_total)

        return ingest_complaints(db, plain_rows(source), actor=actor, department=department, channel=channel,
                                 now=now, filename=filename, warnings=lambda: list(source.warnings), progress=step)


# -- the regulators' list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintView:
    id: int
    department_code: str
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


def list_complaints(session: Session, *, actor: audit.Actor, day: dt.date, platform: str = "", shop: str = "",
                    status: str = "", category: str = "", page: int = 1,
                    per_page: int = PER_PAGE) -> tuple[list[ComplaintView], int]:
    """Complaints about shops, newest received first, filtered by platform code, shop code, status, category.
    No personal data is shown (none is kept), so the read needs no query-log entry."""
    if not may_read(actor, day):
        raise PermissionDenied("complaint.readers_only", "仅限电商监管部门、投诉举报受理部门和市信用办查看",
                               "E-commerce regulators, the complaint departments and the credit office only")
    r = complaint_rules_on(day)
    if status and status not in STATUSES:
        raise DomainError("complaint.status_unknown", f"未知的办理状态“{status}”", f"Unknown status {status!r}",
                          field="status")
    if category and r.category(category) is None:
        raise DomainError("complaint.category_unknown", f"未知的类别“{category}”", f"Unknown category {category!r}",
                          field="category")
    query = (select(EcComplaint, EcPlatform.code, EcPlatform.name, EcShop.shop_code, EcShop.name)
             .join(EcPlatform, EcPlatform.id == EcComplaint.platform_id)
             .join(EcShop, EcShop.id == EcComplaint.shop_id))
    if platform:
        query = query.where(EcPlatform.code == platform.strip().lower())
    if shop.strip():
        query = query.where(EcShop.shop_code == shop.strip())
    if status:
        query = query.where(EcComplaint.status == status)
    if category:
        query = query.where(EcComplaint.category == category)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(EcComplaint.received_at.desc(), EcComplaint.id.desc())
                           .offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    out = []
    for c, p_code, p_name, s_code, s_name in rows:
        ch, cat = r.channel(c.channel), r.category(c.category)
        out.append(ComplaintView(
            id=c.id, department_code=c.department_code, source_complaint_id=c.source_complaint_id, channel=c.channel,
            channel_zh=ch.name_zh if ch else c.channel, received_at=c.received_at, platform_code=p_code,
            platform_name=p_name, shop_code=s_code, shop_name=s_name, source_order_id=c.source_order_id,
            category=c.category, category_zh=cat.name_zh if cat else c.category, status=c.status,
            status_zh=rules.STATUS_ZH.get(c.status, c.status), closed_at=c.closed_at, summary=c.summary))
    return out, total
