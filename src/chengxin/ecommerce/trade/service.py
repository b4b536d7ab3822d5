"""Use cases of e-commerce trade: register platforms, take platforms' batches of shops, orders and ratings
(with receipts), and read the public figures of a shop (licence display, grade, lists, ratings, points,
the signed badge link and its verification).

Batches are atomic and idempotent like the records ingest (DESIGN.md "Data principles"): one batch is one
transaction; (platform, source id) identifies an order or a rating, (platform, shop code) a shop; the same
content again is ``unchanged``, different content is ``corrected``. Receipts are the records ingest's own
(``ingest_batch`` / ``ingest_rejection``, department ``platform:<USCC>``, item ``ec_shops`` / ``ec_orders`` /
``ec_ratings``), so they are read back by ``GET /api/v1/records/batches/{id}`` too and appear in 数据质量.

Who may push: a platform's API key (department ``platform:<USCC>``, ``chengxin api-keys create --platform``)
for the platforms its USCC operates, or the server's own CLI. Anyone else: 403; nobody: 401 (adapters).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Table, and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog, SubjectKind
from chengxin.checks.service import PLATFORM_PREFIX, is_platform
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing, verify_signature
from chengxin.core.db import Base, BulkWriter, Database, utcnow
from chengxin.core.errors import DomainError, NotFound, PermissionDenied, Problem
from chengxin.core.identifiers import normalize_uscc
from chengxin.ecommerce.trade import rules
from chengxin.ecommerce.trade.models import (
    EcAccount,
    EcOrder,
    EcOrderItem,
    EcPlatform,
    EcRating,
    EcShipment,
    EcShop,
)
from chengxin.ecommerce.trade.params import TradeRules, trade_rules_on
from chengxin.ledger.service import LedgerLock, lock_head, seal
from chengxin.lists.models import SubjectListStatus
from chengxin.lists.status import current_memberships
from chengxin.records.models import IngestBatch, IngestRejection
from chengxin.records.reader import IncomingRow, RejectedRow
from chengxin.records.service import REJECTION_SAMPLE, Receipt
from chengxin.subjects.models import Subject
from chengxin.subjects.rules import SubjectKey, lookup_index
from chengxin.subjects.service import SubjectRef, ensure_subject, ensure_subjects

__all__ = [
    "ITEM_ORDERS", "ITEM_RATINGS", "ITEM_SHOPS", "Aggregates", "BadgeCheck", "BatchReceipt", "PlatformRef",
    "PlatformSummary",
    "ITEM_NAMES_ZH", "ShopPublic", "ShopSummary", "buyer_points", "check_batch_size", "ingest_orders", "ingest_ratings",
    "ingest_shops", "platform_summaries", "register_platform", "resolve_platform", "search_shops", "shop_aggregates",
    "shop_points", "shop_public", "sign_badge_link", "verify_badge",
]

T = TypeVar("T")
ITEM_SHOPS, ITEM_ORDERS, ITEM_RATINGS = "ec_shops", "ec_orders", "ec_ratings"
# Their names where a batch is listed with the catalog's items (报送记录): they are pushed data, not catalog items.
ITEM_NAMES_ZH = {ITEM_SHOPS: "电商网店数据", ITEM_ORDERS: "电商订单数据", ITEM_RATINGS: "电商评价数据"}
CHUNK_ROWS = 1000
PER_PAGE = 20
BUYER_TO_SHOP, SHOP_TO_BUYER = "buyer_to_shop", "shop_to_buyer"
_CODE = re.compile(r"[a-z][a-z0-9_-]{1,31}")


def _table(model: type[Base]) -> Table:
    """The Core table of a model (bulk inserts skip the ORM's per-row bookkeeping)."""
    return cast(Table, model.__table__)


def _pairs(result: Any) -> dict[Any, Any]:
    """The (key, value) rows of a two-column query as a dict (``dict(result)`` would take the result for a
    mapping: it has ``keys()``)."""
    return {key: value for key, value in result}  # noqa: C416


# -- platforms -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlatformRef:
    id: int
    code: str
    name: str
    url: str | None
    subject_id: int
    uscc: str  # the operator's USCC (public)
    operator_name: str

    @property
    def department_code(self) -> str:
        """The department code of this platform's API keys and receipts."""
        return f"{PLATFORM_PREFIX}{self.uscc}"


def _ref(platform: EcPlatform, operator: Subject) -> PlatformRef:
    return PlatformRef(platform.id, platform.code, platform.name, platform.url, operator.id, operator.display_id,
                       operator.display_name)


def _may_administer(actor: audit.Actor) -> bool:
    return actor.kind in ("cli", "system") or actor.role in ("admin", "credit_office")


def register_platform(session: Session, keyring: KeyRing, *, uscc: str, code: str, name: str, url: str | None,
                      operator_name: str | None, actor: audit.Actor) -> PlatformRef:
    """Register a platform (or update its name and address) for the credit office. Its operator is an
    organisation subject, found by USCC or registered now (电子商务法 Art. 9: platform operators are legal
    persons or unincorporated organisations)."""
    if not _may_administer(actor):
        raise PermissionDenied("auth.office_only", "仅限信用办和管理员登记电商平台", "Credit office and administrators only")
    code = (code or "").strip().lower()
    if not _CODE.fullmatch(code):
        raise DomainError("platform.code", "平台代码须为 2–32 位小写字母、数字、_ 或 -，以字母开头（用于网址）",
                          "The platform code is 2-32 lowercase letters, digits, _ or -, starting with a letter",
                          field="code")
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise DomainError("platform.name", "请填写平台名称（不超过 200 字）", "Give the platform's name (≤200)", field="name")
    url = (url or "").strip() or None
    if url is not None and (len(url) > 500 or not re.fullmatch(r"https?://\S+", url)):
        raise DomainError("platform.url", "平台网址应以 http:// 或 https:// 开头", "The URL must be http(s)", field="url")
    subject_id = ensure_subject(session, keyring, ric=None, uscc=uscc, name=operator_name or name,
                                allowed=frozenset({SubjectKind.ORGANIZATION}))
    existing = session.execute(select(EcPlatform).where(EcPlatform.code == code)).scalar_one_or_none()
    if existing is not None and existing.subject_id != subject_id:
        raise DomainError("platform.code_taken", f"平台代码“{code}”已被其他经营者使用", f"Code {code} is taken", field="code",
                          status=409)
    if existing is None:
        existing = EcPlatform(subject_id=subject_id, code=code, name=name, url=url, created_at=utcnow())
        session.add(existing)
        action = "ecommerce.platform_register"
    else:
        existing.name, existing.url = name, url
        action = "ecommerce.platform_update"
    session.flush()
    audit.write(session, actor=actor, action=action, subject_id=subject_id, object_type="ec_platform",
                object_id=existing.id, detail={"code": code, "name": name})
    return _ref(existing, session.get_one(Subject, subject_id))


def get_platform(session: Session, code: str) -> PlatformRef:
    row = session.execute(select(EcPlatform, Subject).join(Subject, Subject.id == EcPlatform.subject_id)
                          .where(EcPlatform.code == (code or "").strip().lower())).first()
    if row is None:
        raise NotFound("platform.not_found", f"电商平台“{code}”未登记", f"No platform {code!r}")
    return _ref(row[0], row[1])


def list_platforms(session: Session) -> list[PlatformRef]:
    """Every registered platform, by code (no counts: cheap enough for every page view)."""
    rows = session.execute(select(EcPlatform, Subject).join(Subject, Subject.id == EcPlatform.subject_id)
                           .order_by(EcPlatform.code))
    return [_ref(p, s) for p, s in rows]


def _platforms_of_uscc(session: Session, uscc: str) -> list[PlatformRef]:
    rows = session.execute(select(EcPlatform, Subject).join(Subject, Subject.id == EcPlatform.subject_id)
                           .where(Subject.kind == SubjectKind.ORGANIZATION.value, Subject.display_id == uscc)
                           .order_by(EcPlatform.code))
    return [_ref(p, s) for p, s in rows]


def resolve_platform(session: Session, actor: audit.Actor, requested: str | None) -> PlatformRef:
    """The platform a submission is for, and whether ``actor`` may push for it.

    ``requested``: the platform's code or its operator's USCC (optional for a key whose USCC runs one
    platform). A platform key pushes only for its own platforms (403 otherwise); the CLI for any."""
    requested = (requested or "").strip() or None
    if actor.kind in ("cli", "system"):
        if requested is None:
            raise DomainError("platform.required", "请指明电商平台（代码或统一社会信用代码）", "Name the platform",
                              field="platform")
        if len(requested) == 18:
            found = _platforms_of_uscc(session, normalize_uscc(requested))
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise DomainError("platform.ambiguous", "该经营者运营多个平台，请用平台代码指明",
                                  "This operator runs several platforms; give the platform code", field="platform")
        return get_platform(session, requested)
    if not is_platform(actor.department_code):
        raise PermissionDenied("ecommerce.platform_key_required", "只有电商平台的 API 密钥可以报送店铺、订单和评价",
                               "Only a platform's API key may submit shops, orders and ratings")
    uscc = str(actor.department_code)[len(PLATFORM_PREFIX):]
    own = _platforms_of_uscc(session, uscc)
    if not own:
        raise PermissionDenied("ecommerce.platform_not_registered", "该密钥所属经营者尚未由信用办登记为电商平台",
                               "The key's operator is not a registered platform")
    if requested is None:
        if len(own) > 1:
            raise DomainError("platform.ambiguous", "该经营者运营多个平台，请用 platform 指明平台代码",
                              "This operator runs several platforms; give the platform code", field="platform")
        return own[0]
    for ref in own:
        if requested.lower() == ref.code or requested.upper() == ref.uscc:
            return ref
    raise PermissionDenied("ecommerce.other_platform", "无权为其他电商平台报送数据",
                           "You may not submit for another platform")


@dataclass(frozen=True, slots=True)
class PlatformSummary:
    ref: PlatformRef
    created_at: dt.datetime
    shops: int
    open_shops: int
    licensed_shops: int  # shops showing a licence number (亮照 coverage)
    orders: int
    ratings: int
    last_batch_at: dt.datetime | None


def platform_summaries(session: Session) -> list[PlatformSummary]:
    """Every platform with its counts (one grouped query per table, not one per platform)."""
    refs = list_platforms(session)
    created = _pairs(session.execute(select(EcPlatform.id, EcPlatform.created_at)))
    shops = {r.platform_id: r for r in session.execute(
        select(EcShop.platform_id, func.count().label("n"),
               func.sum(case((EcShop.status == "open", 1), else_=0)).label("open"),
               func.sum(case((EcShop.licence_no.is_not(None), 1), else_=0)).label("licensed"))
        .group_by(EcShop.platform_id))}
    orders = _pairs(session.execute(select(EcOrder.platform_id, func.count()).group_by(EcOrder.platform_id)))
    ratings = _pairs(session.execute(select(EcRating.platform_id, func.count()).group_by(EcRating.platform_id)))
    last = _pairs(session.execute(select(IngestBatch.department_code, func.max(IngestBatch.finished_at))
                                .where(IngestBatch.department_code.like(f"{PLATFORM_PREFIX}%"))
                                .group_by(IngestBatch.department_code)))
    out = []
    for ref in refs:
        s = shops.get(ref.id)
        out.append(PlatformSummary(ref, created[ref.id], int(s.n) if s else 0, int(s.open or 0) if s else 0,
                                   int(s.licensed or 0) if s else 0, int(orders.get(ref.id, 0)),
                                   int(ratings.get(ref.id, 0)), last.get(ref.department_code)))
    return out


# -- batches: the common frame -------------------------------------------------------------------------


def check_batch_size(rows: int, today: dt.date) -> None:
    """A JSON batch holds at most ``batch.max_rows`` rows (dated rule); more go as a file."""
    limit = trade_rules_on(today).batch.max_rows
    if rows > limit:
        raise DomainError("batch.too_large", f"一批最多 {limit} 行（本批 {rows} 行）；更多请以文件（jsonl / csv）上传",
                          f"A batch holds at most {limit} rows ({rows}); send a file instead", status=413)


def _chunks(rows: Iterable[IncomingRow], size: int) -> Iterator[list[IncomingRow]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


class BatchReceipt:
    """One submission's receipt and its stored batch row (``ingest_batch``, rejections), kept in step — for the
    e-commerce intakes that are not catalog records (platforms' trade data, departments' complaints)."""

    def __init__(self, session: Session, department: str, item: str, *, actor: audit.Actor, channel: str,
                 filename: str | None) -> None:
        self.session = session
        started = utcnow()
        self.row = IngestBatch(department_code=department, item_code=item, channel=channel,
                               filename=filename, actor=actor.label, started_at=started)
        session.add(self.row)
        session.flush()
        self.receipt = Receipt(self.row.id, department, item, channel, filename, started_at=started)

    def reject(self, row_no: int, source_id: str | None, problems: Sequence[Problem]) -> None:
        rejected = RejectedRow(row_no, (source_id or "")[:64] or None, tuple(problems))
        self.receipt.rejected += 1
        if len(self.receipt.rejections) < REJECTION_SAMPLE:
            self.receipt.rejections.append(rejected)
        for p in problems:
            self.session.add(IngestRejection(batch_id=self.row.id, row_no=row_no, source_id=rejected.source_id,
                                             field=p.field, code=p.code, message=p.message, message_en=p.message_en))

    def finish(self, actor: audit.Actor, action: str, warnings: Sequence[Problem] = (),
               detail: dict[str, Any] | None = None) -> Receipt:
        r = self.receipt
        if r.received == 0:
            raise DomainError("batch.empty", "没有可处理的数据行", "The submission has no data rows")
        r.warnings = list(warnings)
        r.finished_at = utcnow()
        for name in ("received", "accepted", "unchanged", "corrected", "rejected"):
            setattr(self.row, name, getattr(r, name))
        self.row.warnings = [w.as_dict() for w in r.warnings]
        self.row.finished_at = r.finished_at
        audit.write(self.session, actor=actor, action=action, object_type="ingest_batch", object_id=self.row.id,
                    detail={"received": r.received, "accepted": r.accepted, "corrected": r.corrected,
                            "rejected": r.rejected, **(detail or {})})
        return r


def _parse_chunk(batch: BatchReceipt, chunk: Sequence[IncomingRow], parse: Callable[[IncomingRow], T | list[Problem]],
                 key: str) -> list[T]:
    """The chunk's rows parsed; each row with problems goes to the receipt (under its source id ``key``)."""
    parsed: list[T] = []
    for row in chunk:
        result = parse(row)
        if isinstance(result, list):
            batch.reject(row.row_no, _source_id(row.values, key), result)
        else:
            parsed.append(result)
    return parsed


def _source_id(values: dict[str, object], key: str) -> str | None:
    raw = values.get(key)
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() <= 64:
        return str(raw)
    if isinstance(raw, str):
        return raw.strip()[:64] or None
    return None


# -- shops ---------------------------------------------------------------------------------------------

_NAME_MISMATCH = Problem("owner.name_mismatch", "经营者姓名与该公民身份号码登记的姓名不一致",
                         "The owner's name does not match the name registered for this citizen ID", field="owner_name")


def ingest_shops(db: Database, keyring: KeyRing, rows: Iterable[IncomingRow], *, actor: audit.Actor,
                 platform: str | None, channel: str, today: dt.date, filename: str | None = None,
                 warnings: Callable[[], Sequence[Problem]] = lambda: (),
                 progress: Callable[[int], None] | None = None) -> Receipt:
    """Register or update shops (实名登记, 电子商务法 Art. 27) with their real-name owners: each owner is
    found by blind index or registered now (encrypted, masked), in one transaction with the receipt."""
    with db.write() as session:
        ref = resolve_platform(session, actor, platform)
        batch = BatchReceipt(session, ref.department_code, ITEM_SHOPS, actor=actor, channel=channel, filename=filename)
        lock: LedgerLock | None = None
        subjects: dict[bytes, SubjectRef] = {}
        for chunk in _chunks(rows, CHUNK_ROWS):
            batch.receipt.received += len(chunk)
            parsed = [(shop, lookup_index(keyring, shop.owner_kind, shop.owner_identifier)) for shop in _parse_chunk(
                batch, chunk, lambda row: rules.parse_shop(row.values, row_no=row.row_no, today=today,
                                                           read_problems=row.problems), "shop_code")]
            wanted = {index: SubjectKey(SubjectKind(s.owner_kind), s.owner_identifier, s.owner_name)
                      for s, index in parsed if index not in subjects}
            if wanted:
                if lock is None:
                    lock = lock_head(session)  # new subjects take their ids from the ledger head, as in the ingest
                ensure_subjects(keyring, lock, wanted, subjects, BulkWriter(session))
            existing = {s.shop_code: s for s in session.execute(select(EcShop).where(
                EcShop.platform_id == ref.id, EcShop.shop_code.in_([s.shop_code for s, _ in parsed]))).scalars()}
            now = utcnow()
            for shop, index in parsed:
                owner = subjects[index]
                if (shop.owner_kind == SubjectKind.PERSON.value and owner.name_index is not None
                        and owner.name_index != keyring.blind_index(shop.owner_name)):
                    batch.reject(shop.row_no, shop.shop_code, [_NAME_MISMATCH])
                    continue
                values = {"name": shop.name, "url": shop.url, "owner_subject_id": owner.id,
                          "licence_no": shop.licence_no, "category": shop.category, "opened_on": shop.opened_on,
                          "status": shop.status}
                row_obj = existing.get(shop.shop_code)
                if row_obj is None:
                    row_obj = EcShop(platform_id=ref.id, shop_code=shop.shop_code, created_at=now, updated_at=now,
                                     **values)
                    session.add(row_obj)
                    existing[shop.shop_code] = row_obj
                    batch.receipt.accepted += 1
                elif all(getattr(row_obj, k) == v for k, v in values.items()):
                    batch.receipt.unchanged += 1
                else:
                    for k, v in values.items():
                        setattr(row_obj, k, v)
                    row_obj.updated_at = now
                    batch.receipt.corrected += 1
            session.flush()
            if progress:
                progress(len(chunk))
        if lock is not None:
            seal(session, lock, keyring)
        return batch.finish(actor, "ecommerce.shops_ingest", warnings())


# -- orders --------------------------------------------------------------------------------------------


def _accounts(session: Session, platform_id: int, hashes: set[str]) -> dict[str, int]:
    """Buyer account ids by hash, registering the new ones."""
    if not hashes:
        return {}
    found = _pairs(session.execute(select(EcAccount.account_hash, EcAccount.id).where(
        EcAccount.platform_id == platform_id, EcAccount.account_hash.in_(sorted(hashes)))))
    new = [EcAccount(platform_id=platform_id, account_hash=h) for h in sorted(hashes - set(found))]
    if new:
        session.add_all(new)
        session.flush()
        found.update({a.account_hash: a.id for a in new})
    return found


def _item_rows(order_id: int, row: rules.OrderRow) -> list[dict[str, Any]]:
    return [{"order_id": order_id, "line_no": i.line_no, "gtin": i.gtin, "name": i.name, "quantity": i.quantity,
             "unit_price_cents": i.unit_price_cents, "unit_weight_g": i.unit_weight_g} for i in row.items]


def _shipment_values(s: rules.ShipmentRow) -> dict[str, Any]:
    return {"logistics_uscc": s.logistics_uscc, "tracking_hash": s.tracking_hash,
            "declared_weight_g": s.declared_weight_g, "shipped_at": s.shipped_at, "signed_at": s.signed_at,
            "scan_count": s.scan_count, "distance_km": s.distance_km}


@dataclass(slots=True)
class _Known:
    """An order of this platform as a resubmission is compared with it."""

    id: int | None  # None: new in this chunk, not written yet
    content_hash: str
    shop_id: int
    buyer_id: int
    row: rules.OrderRow | None = None


def _order_values(o: rules.OrderRow) -> dict[str, Any]:
    return {"amount_cents": o.amount_cents, "placed_at": o.placed_at, "address_hash": o.address_hash,
            "device_hash": o.device_hash, "payment_hash": o.payment_hash, "status": o.status,
            "content_hash": o.content_hash}


def _correct_order(session: Session, order_id: int, o: rules.OrderRow, stamp: dt.datetime) -> None:
    """Replace an order's content by a corrected submission: values, items, shipment, ratings' period."""
    old_placed = session.scalar(select(EcOrder.placed_at).where(EcOrder.id == order_id))
    session.execute(update(EcOrder).where(EcOrder.id == order_id).values(**_order_values(o), updated_at=stamp))
    session.execute(delete(EcOrderItem).where(EcOrderItem.order_id == order_id))
    session.execute(_table(EcOrderItem).insert(), _item_rows(order_id, o))
    session.execute(delete(EcShipment).where(EcShipment.order_id == order_id))
    if o.shipment is not None:
        session.execute(_table(EcShipment).insert(), [{"order_id": order_id, **_shipment_values(o.shipment)}])
    if old_placed is None or rules.period_of(old_placed) != o.period:  # points follow the order's creation month
        session.execute(update(EcRating).where(EcRating.order_id == order_id).values(period=o.period))


def ingest_orders(db: Database, rows: Iterable[IncomingRow], *, actor: audit.Actor, platform: str | None,
                  channel: str, now: dt.datetime, filename: str | None = None,
                  warnings: Callable[[], Sequence[Problem]] = lambda: (),
                  progress: Callable[[int], None] | None = None) -> Receipt:
    """Orders with items and shipments. (platform, source_order_id) identifies an order: same content →
    unchanged; other content → corrected (items replaced, shipment updated); a resubmission may not move an
    order to another shop or buyer (``order.identity_changed``). New rows go in as bulk inserts."""
    with db.write() as session:
        ref = resolve_platform(session, actor, platform)
        batch = BatchReceipt(session, ref.department_code, ITEM_ORDERS, actor=actor, channel=channel, filename=filename)
        for chunk in _chunks(rows, CHUNK_ROWS):
            batch.receipt.received += len(chunk)
            parsed = _parse_chunk(batch, chunk, lambda row: rules.parse_order(
                row.values, row_no=row.row_no, now=now, read_problems=row.problems), "source_order_id")
            shops = _pairs(session.execute(select(EcShop.shop_code, EcShop.id).where(
                EcShop.platform_id == ref.id, EcShop.shop_code.in_({o.shop_code for o in parsed}))))
            known_rows = [o for o in parsed if o.shop_code in shops]
            for o in parsed:
                if o.shop_code not in shops:
                    batch.reject(o.row_no, o.source_order_id, [Problem(
                        "order.shop_unknown", f"店铺“{o.shop_code}”未在本平台登记，请先报送店铺",
                        f"Shop {o.shop_code!r} is not registered on this platform", field="shop_code")])
            accounts = _accounts(session, ref.id, {o.buyer_account_hash for o in known_rows})
            known = {r.source_order_id: _Known(r.id, r.content_hash, r.shop_id, r.buyer_account_id)
                     for r in session.execute(select(EcOrder.id, EcOrder.source_order_id, EcOrder.content_hash,
                                                     EcOrder.shop_id, EcOrder.buyer_account_id).where(
                         EcOrder.platform_id == ref.id,
                         EcOrder.source_order_id.in_({o.source_order_id for o in known_rows})))}
            stamp = utcnow()
            for o in known_rows:
                shop_id, buyer_id = shops[o.shop_code], accounts[o.buyer_account_hash]
                current = known.get(o.source_order_id)
                if current is None:
                    known[o.source_order_id] = _Known(None, o.content_hash, shop_id, buyer_id, o)
                    batch.receipt.accepted += 1
                elif current.content_hash == o.content_hash:
                    batch.receipt.unchanged += 1
                elif (current.shop_id, current.buyer_id) != (shop_id, buyer_id):
                    batch.reject(o.row_no, o.source_order_id, [Problem(
                        "order.identity_changed", "订单的店铺或买家账号不能更正；如确有错误，请以新的订单编号报送",
                        "An order's shop and buyer cannot be corrected", field="shop_code")])
                else:
                    if current.id is None:  # corrects a row of this very chunk: write the later one
                        current.row = o
                    else:
                        _correct_order(session, current.id, o, stamp)
                    current.content_hash = o.content_hash
                    batch.receipt.corrected += 1
            new = [k for k in known.values() if k.id is None and k.row is not None]
            if new:
                # Core executemany, then one indexed read of the new ids (RETURNING per row is far slower on SQLite).
                session.execute(_table(EcOrder).insert(), [
                    {"platform_id": ref.id, "source_order_id": k.row.source_order_id, "shop_id": k.shop_id,
                     "buyer_account_id": k.buyer_id, "created_at": stamp, "updated_at": stamp, **_order_values(k.row)}
                    for k in new if k.row is not None])
                ids = _pairs(session.execute(select(EcOrder.source_order_id, EcOrder.id).where(
                    EcOrder.platform_id == ref.id, EcOrder.source_order_id.in_([k.row.source_order_id for k in new
                                                                               if k.row is not None]))))
                session.execute(_table(EcOrderItem).insert(), [
                    item for k in new if k.row for item in _item_rows(ids[k.row.source_order_id], k.row)])
                shipments = [{"order_id": ids[k.row.source_order_id], **_shipment_values(k.row.shipment)}
                             for k in new if k.row and k.row.shipment is not None]
                if shipments:
                    session.execute(_table(EcShipment).insert(), shipments)
            if progress:
                progress(len(chunk))
        return batch.finish(actor, "ecommerce.orders_ingest", warnings())


# -- ratings -------------------------------------------------------------------------------------------


def _rating_values(r: rules.RatingRow) -> dict[str, Any]:
    return {"value": r.value, "stars": r.stars, "text": r.text, "text_hash": r.text_hash, "rated_at": r.rated_at,
            "follow_up_text": r.follow_up_text, "follow_up_at": r.follow_up_at, "content_hash": r.content_hash}


def ingest_ratings(db: Database, rows: Iterable[IncomingRow], *, actor: audit.Actor, platform: str | None,
                   channel: str, now: dt.datetime, filename: str | None = None,
                   rules_on: Callable[[dt.date], TradeRules] = trade_rules_on,
                   warnings: Callable[[], Sequence[Problem]] = lambda: (),
                   progress: Callable[[int], None] | None = None) -> Receipt:
    """Ratings in both directions (信用互评) and follow-up reviews (追加评价). One rating per order and
    direction; the follow-up once, within the window of the rules of the rating's day, never changed or
    withdrawn afterwards (电子商务法 Art. 39)."""
    with db.write() as session:
        ref = resolve_platform(session, actor, platform)
        batch = BatchReceipt(session, ref.department_code, ITEM_RATINGS, actor=actor, channel=channel, filename=filename)
        for chunk in _chunks(rows, CHUNK_ROWS):
            batch.receipt.received += len(chunk)
            parsed = _parse_chunk(batch, chunk, lambda row: rules.parse_rating(
                row.values, row_no=row.row_no, now=now, rules=rules_on, read_problems=row.problems), "source_rating_id")
            orders = {o.source_order_id: o for o in session.execute(
                select(EcOrder.id, EcOrder.source_order_id, EcOrder.shop_id, EcOrder.buyer_account_id,
                       EcOrder.placed_at).where(EcOrder.platform_id == ref.id,
                                                EcOrder.source_order_id.in_({r.source_order_id for r in parsed})))}
            existing = {e.source_rating_id: e for e in session.execute(select(EcRating).where(
                EcRating.platform_id == ref.id, EcRating.source_rating_id.in_({r.source_rating_id for r in parsed})))
                .scalars()}
            taken = {(e.order_id, e.direction): e.source_rating_id for e in session.execute(
                select(EcRating.order_id, EcRating.direction, EcRating.source_rating_id)
                .where(EcRating.order_id.in_([o.id for o in orders.values()])))}
            fresh: dict[str, dict[str, Any]] = {}  # new in this chunk, by source id
            stamp = utcnow()
            for r in parsed:
                order = orders.get(r.source_order_id)
                if order is None:
                    batch.reject(r.row_no, r.source_rating_id, [Problem(
                        "rating.order_unknown", f"订单“{r.source_order_id}”未在本平台报送，请先报送订单",
                        f"Order {r.source_order_id!r} is not known for this platform", field="source_order_id")])
                    continue
                if r.rated_at < order.placed_at:
                    batch.reject(r.row_no, r.source_rating_id, [Problem(
                        "rating.before_order", "评价时间早于下单时间", "rated_at is before the order was placed",
                        field="rated_at")])
                    continue
                holder = taken.get((order.id, r.direction))
                if holder is not None and holder != r.source_rating_id:
                    batch.reject(r.row_no, r.source_rating_id, [Problem(
                        "rating.duplicate", f"该订单的这一方向已有评价（{holder}）；每笔订单每个方向只能评价一次",
                        f"This order already has a {r.direction} rating ({holder})", field="direction")])
                    continue
                current = existing.get(r.source_rating_id)
                pending = fresh.get(r.source_rating_id)
                stored: tuple[int, str, str, str | None, dt.datetime | None] | None = None
                if current is not None:
                    stored = (current.order_id, current.direction, current.content_hash, current.follow_up_text,
                              current.follow_up_at)
                elif pending is not None:
                    stored = (pending["order_id"], pending["direction"], pending["content_hash"],
                              pending["follow_up_text"], pending["follow_up_at"])
                if stored is None:
                    fresh[r.source_rating_id] = {
                        "platform_id": ref.id, "source_rating_id": r.source_rating_id, "order_id": order.id,
                        "shop_id": order.shop_id, "buyer_account_id": order.buyer_account_id,
                        "period": rules.period_of(order.placed_at), "direction": r.direction, "created_at": stamp,
                        "updated_at": stamp, **_rating_values(r)}
                    taken[(order.id, r.direction)] = r.source_rating_id
                    batch.receipt.accepted += 1
                    continue
                if stored[2] == r.content_hash:
                    batch.receipt.unchanged += 1
                    continue
                if (stored[0], stored[1]) != (order.id, r.direction):
                    batch.reject(r.row_no, r.source_rating_id, [Problem(
                        "rating.identity_changed", "评价的订单和方向不能更正", "A rating's order and direction cannot change",
                        field="source_order_id")])
                    continue
                problem = rules.follow_up_change_problem(stored[3], stored[4], r.follow_up_text, r.follow_up_at)
                if problem is not None:
                    batch.reject(r.row_no, r.source_rating_id, [problem])
                    continue
                if pending is not None:
                    pending.update(_rating_values(r))
                elif current is not None:
                    for k, v in _rating_values(r).items():
                        setattr(current, k, v)
                    current.updated_at = stamp
                batch.receipt.corrected += 1
            if fresh:
                session.execute(_table(EcRating).insert(), list(fresh.values()))
            session.flush()
            if progress:
                progress(len(chunk))
        return batch.finish(actor, "ecommerce.ratings_ingest", warnings())


# -- public figures ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """Counts of buyers' ratings of a shop in one window."""

    good: int
    neutral: int
    bad: int

    @property
    def total(self) -> int:
        return self.good + self.neutral + self.bad

    @property
    def good_rate(self) -> float | None:
        return rules.good_rate(self.good, self.neutral, self.bad)


@dataclass(frozen=True, slots=True)
class Aggregates:
    """好评率 and counts over 30 days, 6 months and all time (windows from the dated rule), plus follow-ups."""

    recent_days: int
    half_year_months: int
    recent: Window
    half_year: Window
    all_time: Window
    follow_ups: int
    points: int


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier, clamped to the month's end (Aug 31 − 6M = Feb 28)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _cutoffs(now: dt.datetime, r: TradeRules) -> tuple[dt.datetime, dt.datetime]:
    today = now.astimezone(CHINA).date()
    recent = now - dt.timedelta(days=r.aggregates.recent_days)
    half = dt.datetime.combine(months_before(today, r.aggregates.half_year_months), dt.time(0), CHINA)
    return recent, half.astimezone(dt.UTC)


def _window_columns(recent: dt.datetime, half: dt.datetime) -> list[Any]:
    cols: list[Any] = []
    for label, since in (("r", recent), ("h", half), ("a", None)):
        for value in rules.RATING_VALUES:
            cond = EcRating.value == value if since is None else and_(EcRating.value == value, EcRating.rated_at >= since)
            cols.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0).label(f"{label}_{value}"))
    return cols


def _windows(row: Any) -> tuple[Window, Window, Window]:
    def w(label: str) -> Window:
        return Window(*(int(getattr(row, f"{label}_{v}")) for v in rules.RATING_VALUES))

    return w("r"), w("h"), w("a")


def shop_aggregates(session: Session, shop_id: int, now: dt.datetime, r: TradeRules | None = None) -> Aggregates:
    """The shop's public rating figures: one aggregate query over the index (shop, direction, rated_at, value)."""
    r = r or trade_rules_on(now.astimezone(CHINA).date())
    recent, half = _cutoffs(now, r)
    row = session.execute(select(*_window_columns(recent, half),
                                 func.count(EcRating.follow_up_at).label("follow_ups"))
                          .where(EcRating.shop_id == shop_id, EcRating.direction == BUYER_TO_SHOP)).one()
    a, b, c = _windows(row)
    return Aggregates(r.aggregates.recent_days, r.aggregates.half_year_months, a, b, c, int(row.follow_ups or 0),
                      shop_points(session, shop_id, r))


def _points_sql(session: Session, r: TradeRules, *, side: Any, order_side: Any, counterparty: Any, own_id: int,
                direction: str) -> int:
    """The points rule in SQL (``rules.points`` is the same in Python): per counterparty and period, the
    summed points clamped to ±pair_cap; orders under ``min_amount_cents`` left out.

    The ratings come from a covering index in group order; the few unscored orders (¥1 or less) are one small
    index range of ``ec_order`` (shop or buyer, amount) excluded with NOT IN — no join over all the orders."""
    p = r.points
    per_rating = case(*((EcRating.value == v, p.values[v]) for v in rules.RATING_VALUES), else_=0)
    unscored = select(EcOrder.id).where(order_side == own_id, EcOrder.amount_cents < p.min_amount_cents)
    pairs = (select(func.sum(per_rating).label("s"))
             .where(side == own_id, EcRating.direction == direction, EcRating.order_id.not_in(unscored))
             .group_by(counterparty, EcRating.period).subquery())
    clamped = case((pairs.c.s > p.pair_cap, p.pair_cap), (pairs.c.s < -p.pair_cap, -p.pair_cap), else_=pairs.c.s)
    return int(session.scalar(select(func.coalesce(func.sum(clamped), 0))) or 0)


def shop_points(session: Session, shop_id: int, r: TradeRules) -> int:
    """A shop's 信用积分 from its buyers' ratings."""
    return _points_sql(session, r, side=EcRating.shop_id, order_side=EcOrder.shop_id,
                       counterparty=EcRating.buyer_account_id, own_id=shop_id, direction=BUYER_TO_SHOP)


def buyer_points(session: Session, account_id: int, r: TradeRules) -> int:
    """A buyer account's 信用积分 from the shops' ratings of it."""
    return _points_sql(session, r, side=EcRating.buyer_account_id, order_side=EcOrder.buyer_account_id,
                       counterparty=EcRating.shop_id, own_id=account_id, direction=SHOP_TO_BUYER)


def account_points(session: Session, platform: PlatformRef, account_hash: str, today: dt.date) -> tuple[int, int]:
    """(points, ratings received) of one of the platform's own buyer accounts."""
    account_hash = rules.parse_hash(account_hash, "account_hash", required=True) or ""
    account_id = session.scalar(select(EcAccount.id).where(EcAccount.platform_id == platform.id,
                                                            EcAccount.account_hash == account_hash))
    if account_id is None:
        raise NotFound("account.not_found", "该买家账号没有报送记录", "No such buyer account on this platform")
    received = session.scalar(select(func.count()).select_from(EcRating).where(
        EcRating.buyer_account_id == account_id, EcRating.direction == SHOP_TO_BUYER)) or 0
    return buyer_points(session, account_id, trade_rules_on(today)), int(received)


@dataclass(frozen=True, slots=True)
class Owner:
    subject_id: int
    kind: str  # person | organization
    display_id: str  # masked citizen ID, or the USCC
    display_name: str  # masked name, or the organisation's name


@dataclass(frozen=True, slots=True)
class Grade:
    band: str
    band_name_zh: str
    total: int
    model_id: str


@dataclass(frozen=True, slots=True)
class ShopPublic:
    """What the licence-display page shows (all public or masked; nothing decrypted)."""

    id: int
    platform: PlatformRef
    shop_code: str
    name: str
    url: str | None
    category: str
    opened_on: dt.date
    status: str
    licence_no: str | None
    owner: Owner
    grade: Grade | None
    memberships: list[dict[str, Any]]
    aggregates: Aggregates
    rules_version: str
    points_basis: str


def _shop(session: Session, platform_code: str, shop_code: str) -> tuple[EcShop, PlatformRef]:
    ref = get_platform(session, platform_code)
    shop = session.execute(select(EcShop).where(EcShop.platform_id == ref.id, EcShop.shop_code == shop_code)) \
        .scalar_one_or_none()
    if shop is None:
        raise NotFound("shop.not_found", "该平台没有这家店铺", f"No shop {shop_code!r} on {platform_code}")
    return shop, ref


def _grade(session: Session, catalog: Catalog, owner: Subject, today: dt.date) -> Grade | None:
    """Organisations' public credit grade (issue #6 ``grade`` model), computed from their records today.
    Persons' civic points are personal (个人信息保护法 Art. 24): never shown on a public page."""
    if owner.kind != SubjectKind.ORGANIZATION.value:
        return None
    from chengxin.scores.service import compute_one  # scores builds on records; read-only use here

    try:
        score = compute_one(session, catalog, owner.id, today, explain=False)
    except DomainError:
        return None
    return Grade(score.band, score.band_name_zh, score.total, score.model_id)


def shop_public(session: Session, catalog: Catalog, platform_code: str, shop_code: str, *, now: dt.datetime,
                with_grade: bool = True) -> ShopPublic:
    """The public licence display of one shop (亮照亮标, 电子商务法 Art. 15)."""
    shop, ref = _shop(session, platform_code, shop_code)
    owner = session.get_one(Subject, shop.owner_subject_id)
    today = now.astimezone(CHINA).date()
    r = trade_rules_on(today)
    status = session.get(SubjectListStatus, owner.id)
    memberships = current_memberships(list(status.memberships) if status else [], today)
    return ShopPublic(
        shop.id, ref, shop.shop_code, shop.name, shop.url, shop.category, shop.opened_on, shop.status,
        shop.licence_no, Owner(owner.id, owner.kind, owner.display_id, owner.display_name),
        _grade(session, catalog, owner, today) if with_grade else None, memberships,
        shop_aggregates(session, shop.id, now, r), r.version, r.points.basis)


@dataclass(frozen=True, slots=True)
class ShopSummary:
    platform: str  # the platform's code
    platform_name: str
    shop_code: str
    name: str
    category: str
    status: str
    licence_no: str | None
    owner_kind: str
    good_rate: float | None
    ratings: int


def search_shops(session: Session, *, q: str = "", platform: str = "", page: int = 1,
                 per_page: int = PER_PAGE) -> tuple[list[ShopSummary], int]:
    """网店信用查询: shops by part of the name or exact shop code, optionally on one platform; paged, with
    each shop's all-time good-rating rate from one grouped query over the page's shops."""
    if page < 1 or page > 10_000:
        raise DomainError("shops.page", "页码应在 1–10000 之间", "page must be 1..10000", field="page")
    q = " ".join((q or "").split())[:100]
    query = select(EcShop, EcPlatform).join(EcPlatform, EcPlatform.id == EcShop.platform_id)
    if platform:
        query = query.where(EcPlatform.code == platform.strip().lower())
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(EcShop.name.like(like, escape="\\"), EcShop.shop_code == q))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.execute(query.order_by(EcShop.name, EcShop.id).offset((page - 1) * per_page).limit(per_page)))
    ids = [s.id for s, _ in rows]
    kinds = _pairs(session.execute(select(EcShop.id, Subject.kind).join(Subject, Subject.id == EcShop.owner_subject_id)
                                 .where(EcShop.id.in_(ids)))) if ids else {}
    counts: dict[int, tuple[int, int, int]] = {}
    if ids:
        for row in session.execute(
                select(EcRating.shop_id, *(func.sum(case((EcRating.value == v, 1), else_=0)).label(v)
                                           for v in rules.RATING_VALUES))
                .where(EcRating.shop_id.in_(ids), EcRating.direction == BUYER_TO_SHOP).group_by(EcRating.shop_id)):
            counts[row.shop_id] = (int(row.good or 0), int(row.neutral or 0), int(row.bad or 0))
    out = []
    for shop, p in rows:
        good, neutral, bad = counts.get(shop.id, (0, 0, 0))
        out.append(ShopSummary(p.code, p.name, shop.shop_code, shop.name, shop.category, shop.status, shop.licence_no,
                               kinds.get(shop.id, ""), rules.good_rate(good, neutral, bad), good + neutral + bad))
    return out, int(total)


def pages(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(total / per_page))


# -- the badge link ------------------------------------------------------------------------------------


def sign_badge_link(keyring: KeyRing, platform_code: str, shop_code: str, now: dt.datetime) -> tuple[int, str]:
    """(issue time, signature) for a badge link: Ed25519 with the platform's signing key (the key that signs
    reports and ledger checkpoints, ``core.crypto``) over the shop, its platform and the issue time."""
    issued = int(now.timestamp())
    return issued, rules.encode_signature(keyring.sign(rules.badge_message(platform_code, shop_code, issued)))


def badge_query(keyring: KeyRing, platform_code: str, shop_code: str, now: dt.datetime) -> str:
    issued, sig = sign_badge_link(keyring, platform_code, shop_code, now)
    return f"t={issued}&sig={sig}"


@dataclass(frozen=True, slots=True)
class BadgeCheck:
    status: str  # valid | expired | invalid | closed | suspended
    status_zh: str
    issued_at: dt.datetime | None
    expires_at: dt.datetime | None
    valid_days: int
    shop: ShopPublic | None  # None when the signature is invalid: a forged link shows no shop


def verify_badge(session: Session, keyring: KeyRing, catalog: Catalog, platform_code: str, shop_code: str, *,
                 t: str, sig: str, now: dt.datetime) -> BadgeCheck:
    """What a buyer sees when opening a badge link: 有效 / 已过期 / 签名无效 / 店铺已关闭 (rules.badge_status)."""
    valid_days = trade_rules_on(now.astimezone(CHINA).date()).badge.link_valid_days
    issued = int(t) if re.fullmatch(r"\d{1,11}", t or "") else 0
    signature = rules.decode_signature(sig)
    shop, ref = _shop(session, platform_code, shop_code)
    ok = signature is not None and issued > 0 and verify_signature(
        keyring.public_key, signature, rules.badge_message(ref.code, shop.shop_code, issued))
    status = rules.badge_status(signature_ok=ok, issued_at=issued, now=now, valid_days=valid_days,
                                shop_status=shop.status)
    issued_at = dt.datetime.fromtimestamp(issued, dt.UTC) if ok else None
    public = None if status == "invalid" else shop_public(session, catalog, ref.code, shop.shop_code, now=now)
    return BadgeCheck(status, rules.BADGE_STATUS_ZH[status], issued_at,
                      issued_at + dt.timedelta(days=valid_days) if issued_at else None, valid_days, public)


@dataclass
class BadgeView:
    """What the SVG needs."""

    shop_name: str
    platform_name: str
    shop_status: str
    grade: str | None
    query: str = field(default="")


def badge_view(session: Session, keyring: KeyRing, catalog: Catalog, platform_code: str, shop_code: str, *,
               now: dt.datetime) -> BadgeView:
    shop, ref = _shop(session, platform_code, shop_code)
    owner = session.get_one(Subject, shop.owner_subject_id)
    grade = _grade(session, catalog, owner, now.astimezone(CHINA).date())
    return BadgeView(shop.name, ref.name, shop.status, grade.band if grade else None,
                     badge_query(keyring, ref.code, shop.shop_code, now))


# -- files ---------------------------------------------------------------------------------------------

FILE_KINDS = ("shops", "orders", "ratings")


def ingest_file(db: Database, keyring: KeyRing, path: Any, kind: str, *, actor: audit.Actor, platform: str | None,
                channel: str, now: dt.datetime, filename: str | None = None, max_bytes: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> Receipt:
    """A JSON Lines or CSV file of shops, orders or ratings, read as a stream, written as one batch.
    ``progress(bytes_read, bytes_total)`` after each chunk. File-level problems raise ``FileRejected``."""
    from pathlib import Path

    from chengxin.ecommerce.trade import files

    if kind not in FILE_KINDS:
        raise DomainError("ecommerce.kind", "文件类型应为 shops、orders 或 ratings", "kind must be shops, orders or ratings",
                          field="kind")
    with files.open_kind(Path(path), kind, max_bytes=max_bytes, filename=filename) as source:
        def step(_rows: int) -> None:
            if progress is not None:
                progress(source.bytes_read, source.bytes_total)

        def warnings() -> list[Problem]:
            return list(source.warnings)

        common: dict[str, Any] = {"actor": actor, "platform": platform, "channel": channel, "filename": filename,
                                  "warnings": warnings, "progress": step}
        if kind == "shops":
            return ingest_shops(db, keyring, files.plain_rows(source), today=now.astimezone(CHINA).date(), **common)
        if kind == "orders":
            return ingest_orders(db, files.order_rows(source), now=now, **common)
        return ingest_ratings(db, files.plain_rows(source), now=now, **common)
