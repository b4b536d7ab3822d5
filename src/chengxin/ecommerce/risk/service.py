"""Findings of e-commerce fraud detection: the detection job, the analysts' queue, confirm → record.

- :func:`detect` (``chengxin ecommerce detect``; a job, never run inside web workers): reads the orders of
  the window as columnar frames (``extract.read_frames``), runs ``ecommerce.detection.pipeline.run_detectors``
  and stores each detection as a finding keyed by its fingerprint — a second run over the same data
  changes nothing (``unchanged``), a changed detection updates its row, a finding no longer detected is
  marked ``resolved_at``. Then the shop risk levels are recomputed (``warning.recompute``). One run at a
  time: starting one while another is running is refused (``ecommerce.detect_running``), across processes
  and hosts (a unique partial index); a run left running longer than ``stale_run_hours`` by a process that
  ended without finishing is marked failed and the new run proceeds.
- :func:`list_findings` / :func:`finding_detail`: the regulators' queue and one finding's evidence made
  readable (pseudonymous accounts, shared attributes as counts, the orders' time pattern, the density of
  the buyer–shop graph, confidence). Reading a finding about a person-owned shop is entered in that
  person's query log with its purpose.
- :func:`confirm` (确认): a negative record of the kind's catalog item (``data/findings.yaml``) against the
  shops' real-name owners — or the buyer accounts' bound subjects — submitted through the one record path
  (``records.service.ingest``) in the confirming department's name, exactly as a commitment breach is
  (``commitments.service.record_breach``), so objection, repair and the list criteria apply to it.
  :func:`dismiss` (驳回, with a reason) and :func:`reopen`. Every decision is a ``core.workflow``
  transition (case type ``ec_finding``) in ``case_event`` and the audit log.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database, utcnow
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.workflow import DEPARTMENT, OFFICE, SYSTEM, Transition, Workflow, case_history, record_transition
from chengxin.ecommerce.risk import rules
from chengxin.ecommerce.risk.config import FindingParams, KindParams, finding_params
from chengxin.ecommerce.risk.extract import Frames, read_frames
from chengxin.ecommerce.risk.models import (
    ACTOR_ROLE,
    CONFIRMED,
    DISMISSED,
    FINDING_STATES,
    OPEN,
    TARGET_ROLE,
    EcDetectionRun,
    EcFinding,
    EcFindingShop,
)
from chengxin.ecommerce.trade.models import EcAccount, EcOrder, EcPlatform, EcShop
from chengxin.subjects.models import Subject
from chengxin.subjects.service import decrypt_identity

__all__ = [
    "CASE_TYPE", "PER_PAGE", "WORKFLOW", "ConfirmIn", "Detector", "FindingDetail", "FindingRow", "RunSummary",
    "confirm", "detect", "dismiss", "finding_detail", "list_findings", "regulator_role", "reopen", "run_pipeline",
]

CASE_TYPE = "ec_finding"
PER_PAGE = 50
ORDER_IDS_KEPT = 5000  # order ids stored with a finding (its order_count is the full number)
SEVERITIES = ("general", "serious")
READ_PURPOSE = "电商失信监测线索研判"
READ_BASIS = "《电子商务法》第十七条、第八十六条；常州市电子商务领域诚信建设实施意见 四(二)（以网管网、协同监管）"

WORKFLOW = Workflow(
    case_type=CASE_TYPE,
    states=dict(FINDING_STATES),
    initial=OPEN,
    transitions=(
        # Findings are opened by the detection job (no event per finding: the run row says when).
        Transition("detect", "监测发现", frozenset(), OPEN, frozenset({SYSTEM})),
        # The record goes in the confirming department's own name (the record path allows nothing else),
        # so only a regulator's clerk confirms; the credit office reads, dismisses and reopens.
        Transition("confirm", "确认并形成失信记录", frozenset({OPEN}), CONFIRMED, frozenset({DEPARTMENT})),
        Transition("dismiss", "驳回", frozenset({OPEN}), DISMISSED, frozenset({DEPARTMENT, OFFICE}),
                   needs_reason=True),
        Transition("reopen", "重新研判", frozenset({DISMISSED}), OPEN, frozenset({DEPARTMENT, OFFICE}),
                   needs_reason=True),
    ),
)


def _day(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


def regulator_role(actor: audit.Actor, day: dt.date) -> str:
    """``department`` (a regulator's clerk or key) or ``office``; anyone else is refused (403)."""
    role = rules.staff_role(actor.kind, actor.role, actor.department_code, finding_params(day).regulators)
    if role is None:
        raise PermissionDenied("ecommerce.regulators_only", "仅限电商监管部门（市场监管、商务、网信）和市信用办使用",
                               "E-commerce regulators and the credit office only")
    return role


# -- the detection job --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    orders: int
    ratings: int
    shipments: int
    detections: int
    new: int
    updated: int
    unchanged: int
    resolved: int
    timings: dict[str, float]
    by_kind: dict[str, int]


def _plain(value: Any) -> Any:
    """A detector's evidence as plain JSON values (numpy scalars and arrays included)."""
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS))


def _summaries(frames: Frames, detections: Sequence[Any]) -> dict[int, dict[str, Any]]:
    """Per detection (by position): orders, amount, first and last order time, and the shop with most orders."""
    idx: list[int] = []
    oids: list[int] = []
    for i, d in enumerate(detections):
        idx.extend([i] * len(d.order_ids))
        oids.extend(int(o) for o in d.order_ids)
    out: dict[int, dict[str, Any]] = {i: {"orders": len(d.order_ids), "amount_cents": 0, "first_at": None,
                                          "last_at": None, "main_shop": None} for i, d in enumerate(detections)}
    if not oids:
        return out
    links = pl.DataFrame({"d": idx, "order_id": oids}, schema={"d": pl.Int64, "order_id": pl.Int64})
    joined = links.join(frames.orders.select("order_id", "shop_id", "amount_cents", "placed_at"), on="order_id")
    for row in joined.group_by("d").agg(pl.col("amount_cents").sum(), pl.col("placed_at").min().alias("first"),
                                        pl.col("placed_at").max().alias("last")).iter_rows(named=True):
        s = out[int(row["d"])]
        s["amount_cents"] = int(row["amount_cents"] or 0)
        s["first_at"] = row["first"].isoformat() if row["first"] else None
        s["last_at"] = row["last"].isoformat() if row["last"] else None
    top = (joined.group_by("d", "shop_id").len().sort(["d", "len", "shop_id"], descending=[False, True, False])
           .group_by("d", maintain_order=True).first())
    for row in top.iter_rows(named=True):
        out[int(row["d"])]["main_shop"] = int(row["shop_id"])
    return out


def _store(session: Session, run: EcDetectionRun, detections: Sequence[Any], frames: Frames, fp: FindingParams,
           now: dt.datetime) -> tuple[int, int, int, int, dict[str, int]]:
    """Upsert the detections as findings by fingerprint; mark those no longer detected. Returns counts."""
    summaries = _summaries(frames, detections)
    shop_ids = {int(s) for d in detections for s in d.shop_ids}
    buyer_ids = {int(b) for d in detections for b in d.buyer_ids}
    shop_platform: dict[int, int] = {}
    for chunk in _slices(sorted(shop_ids)):
        shop_platform.update({int(a): int(b) for a, b in session.execute(
            select(EcShop.id, EcShop.platform_id).where(EcShop.id.in_(chunk)))})
    buyer_platform: dict[int, int] = {}
    for chunk in _slices(sorted(buyer_ids)):
        buyer_platform.update({int(a): int(b) for a, b in session.execute(
            select(EcAccount.id, EcAccount.platform_id).where(EcAccount.id.in_(chunk)))})
    keyed: dict[str, tuple[int, Any]] = {}
    for i, d in enumerate(detections):
        keyed[rules.fingerprint_key(str(d.fingerprint))] = (i, d)  # a repeated fingerprint: the last one wins
    existing: dict[str, EcFinding] = {}
    for chunk in _slices(sorted(keyed)):
        existing.update({f.fingerprint: f for f in session.scalars(
            select(EcFinding).where(EcFinding.fingerprint.in_(chunk)))})
    new = updated = unchanged = 0
    by_kind: dict[str, int] = {}
    for key, (i, d) in keyed.items():
        kind = str(d.kind)
        if kind not in fp.kinds:
            raise DomainError("ecommerce.detection_kind_unknown", f"检测结果类型“{kind}”未在参数中配置",
                              f"Detection kind {kind!r} is not configured in findings.yaml")
        by_kind[kind] = by_kind.get(kind, 0) + 1
        shops = sorted({int(s) for s in d.shop_ids})
        buyers = sorted({int(b) for b in d.buyer_ids})
        summary = summaries[i]
        main = summary["main_shop"] if summary["main_shop"] in shops else (shops[0] if shops else None)
        platform_id = (shop_platform.get(main) if main is not None else None) or next(
            (buyer_platform[b] for b in buyers if b in buyer_platform), None)
        if platform_id is None:
            raise DomainError("ecommerce.detection_unplaced", "检测结果无法对应到电商平台（店铺和账户均未知）",
                              "A detection names no known shop or account")
        order_ids = sorted(int(o) for o in d.order_ids)
        evidence = {"detector": _plain(d.evidence),
                    "summary": {**{k: v for k, v in summary.items() if k != "main_shop"}, "accounts": len(buyers),
                                "shops": len(shops)},
                    "order_ids": order_ids[:ORDER_IDS_KEPT]}
        confidence = round(float(d.confidence), 6)
        digest = rules.content_hash({"kind": kind, "shops": shops, "buyers": buyers, "orders": order_ids,
                                     "confidence": round(confidence, 4), "evidence": evidence["detector"]})
        role = ACTOR_ROLE if fp.kinds[kind].counts_against_shop else TARGET_ROLE
        row = existing.get(key)
        if row is None:
            row = EcFinding(kind=kind, platform_id=platform_id, shop_id=main, shop_ids=shops,
                            buyer_account_ids=buyers, order_count=len(order_ids), confidence=confidence,
                            evidence=evidence, fingerprint=key, content_hash=digest, status=OPEN,
                            first_run_id=run.id, last_run_id=run.id, first_seen_at=now, last_seen_at=now,
                            record_ids=[])
            session.add(row)
            session.flush()
            session.add_all(EcFindingShop(finding_id=row.id, shop_id=s, role=role) for s in shops)
            new += 1
            continue
        row.last_run_id, row.last_seen_at, row.resolved_at = run.id, now, None
        if row.content_hash == digest:
            unchanged += 1
            continue
        updated += 1
        row.confidence, row.evidence, row.content_hash = confidence, evidence, digest
        row.order_count, row.buyer_account_ids, row.shop_id = len(order_ids), buyers, main
        if sorted(row.shop_ids) != shops:
            row.shop_ids = shops
            session.query(EcFindingShop).filter(EcFindingShop.finding_id == row.id).delete()
            session.add_all(EcFindingShop(finding_id=row.id, shop_id=s, role=role) for s in shops)
    # Findings of earlier runs that this run no longer detects (dismissed ones need no follow-up).
    gone = list(session.scalars(select(EcFinding).where(
        EcFinding.last_run_id != run.id, EcFinding.resolved_at.is_(None), EcFinding.status != DISMISSED)))
    for row in gone:
        row.resolved_at = now
    return new, updated, unchanged, len(gone), by_kind


def _slices(values: Sequence[Any], size: int = 900) -> list[Sequence[Any]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


Detector = Callable[[Frames, dt.datetime], tuple[Sequence[Any], dict[str, float]]]


def run_pipeline(frames: Frames, now: dt.datetime) -> tuple[Sequence[Any], dict[str, float]]:
    """The detectors of ``ecommerce.detection`` (the contract's ``run_detectors``): detections and timings."""
    from chengxin.ecommerce.detection.pipeline import run_detectors

    result = run_detectors(frames.orders, frames.ratings, frames.shipments, now=now)
    return result.detections, dict(result.timings)


RUNNING = "running"
STALE_ERROR = "超时未结束，视为进程已中断（stale: process ended without finishing）"


def _running(session: Session) -> EcDetectionRun | None:
    """The run now marked running (the unique partial index allows at most one)."""
    return session.scalars(select(EcDetectionRun).where(EcDetectionRun.status == RUNNING)).first()


def _refusal(run: EcDetectionRun | None) -> DomainError:
    """``ecommerce.detect_running``: a second run was asked for while ``run`` is running."""
    if run is None:  # it finished between our insert and this read: the caller may try again
        return DomainError("ecommerce.detect_running", "另一监测批次正在启动，请稍后再试",
                           "Another detection run is starting; try again later", status=409)
    started = run.started_at.astimezone(CHINA)
    return DomainError(
        "ecommerce.detect_running",
        f"监测批次 {run.id} 正在运行（{started:%Y-%m-%d %H:%M:%S} 开始，操作人 {run.actor}），同一时间只能运行一个监测批次；"
        "请待其结束后再运行",
        f"Detection run {run.id} is running (started {run.started_at.isoformat()} by {run.actor}); "
        "only one run at a time", status=409)


def _take_over_stale(session: Session, run: EcDetectionRun, started: dt.datetime, fp: FindingParams,
                     actor: audit.Actor) -> bool:
    """Mark ``run`` failed if it is older than ``stale_run_hours`` (its process ended without finishing).
    The update is conditional on the row still running, so two processes cannot both take it over."""
    if started - run.started_at < dt.timedelta(hours=fp.stale_run_hours):
        return False
    done = session.execute(update(EcDetectionRun).where(
        EcDetectionRun.id == run.id, EcDetectionRun.status == RUNNING).values(
        status="failed", finished_at=started, error=STALE_ERROR).execution_options(synchronize_session=False))
    if not done.rowcount:  # type: ignore[attr-defined]
        return False
    audit.write(session, actor=actor, action="ec_detection.stale", object_type="ec_detection_run",
                object_id=run.id, detail={"started_at": run.started_at.isoformat(),
                                          "stale_run_hours": fp.stale_run_hours})
    return True


def _start_run(db: Database, *, now: dt.datetime, since: dt.datetime, fp: FindingParams,
               actor: audit.Actor) -> int:
    """Write the run's ``running`` row, atomically across processes: refused (``ecommerce.detect_running``)
    while another run is running, unless that one is stale (then marked failed and this one proceeds).
    The unique partial index ``uq_ec_detection_run_running`` decides races the check before it cannot see
    (PostgreSQL: two transactions both find no running row; the second insert waits, then fails)."""
    for _attempt in range(2):  # a second try only when the blocking run finished before we could name it
        started = utcnow()
        try:
            with db.write() as session:
                current = _running(session)
                if current is not None and not _take_over_stale(session, current, started, fp, actor):
                    raise _refusal(current)
                run = EcDetectionRun(started_at=started, status=RUNNING, as_of=now, window_from=since,
                                     parameter_version=fp.version, orders=0, ratings=0, shipments=0,
                                     detections=0, findings_new=0, findings_updated=0, findings_unchanged=0,
                                     findings_resolved=0, timings={}, actor=actor.label[:128])
                session.add(run)
                session.flush()
                run_id = run.id
                audit.write(session, actor=actor, action="ec_detection.start", object_type="ec_detection_run",
                            object_id=run_id, detail={"as_of": now.isoformat(), "window_from": since.isoformat()})
            return run_id
        except IntegrityError:
            with db.read() as session:
                current = _running(session)
            if current is not None:
                raise _refusal(current) from None
    raise _refusal(None)


def detect(db: Database, *, now: dt.datetime, actor: audit.Actor,
           progress: Callable[[str, int], None] | None = None, recompute_risk: bool = True,
           detector: Detector = run_pipeline) -> RunSummary:
    """One detection run over the orders of the window ending ``now`` (see the module docstring).
    ``detector``: frames and ``now`` → (detections, timings); the pipeline unless a caller brings its own
    (detections computed per partition elsewhere, or a test's hand-built ones)."""
    import time

    day = _day(now)
    fp = finding_params(day)
    since = now - dt.timedelta(days=fp.lookback_days)
    run_id = _start_run(db, now=now, since=since, fp=fp, actor=actor)
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        with db.read() as session:
            frames = read_frames(session, since=since, until=now,
                                 progress=(lambda n: progress("read", n)) if progress else None)
        timings["read_frames"] = round(time.perf_counter() - t0, 3)
        if progress:
            progress("detect", 0)
        t0 = time.perf_counter()
        found, detector_timings = detector(frames, now)
        timings["run_detectors"] = round(time.perf_counter() - t0, 3)
        for name, seconds in detector_timings.items():
            timings[f"detector.{name}"] = round(float(seconds), 3)
        detections = list(found)
        t0 = time.perf_counter()
        with db.write() as session:
            run = session.get_one(EcDetectionRun, run_id)
            new, updated, unchanged, resolved, by_kind = _store(session, run, detections, frames, fp, now)
            timings["store"] = round(time.perf_counter() - t0, 3)
            run.status, run.finished_at = "finished", utcnow()
            run.orders, run.ratings, run.shipments = frames.orders.height, frames.ratings.height, frames.shipments.height
            run.detections, run.findings_new, run.findings_updated = len(detections), new, updated
            run.findings_unchanged, run.findings_resolved, run.timings = unchanged, resolved, timings
            audit.write(session, actor=actor, action="ec_detection.finish", object_type="ec_detection_run",
                        object_id=run_id, detail={"detections": len(detections), "new": new, "updated": updated,
                                                  "unchanged": unchanged, "resolved": resolved})
    except BaseException as exc:  # Ctrl-C too: a run left "running" would block the next for stale_run_hours
        with db.write() as session:
            failed = session.get_one(EcDetectionRun, run_id)
            failed.status, failed.finished_at, failed.timings = "failed", utcnow(), timings
            failed.error = "".join(traceback.format_exception_only(type(exc), exc))[:4000]
        raise
    if recompute_risk:
        from chengxin.ecommerce.risk.warning import recompute

        t0 = time.perf_counter()
        recompute(db, now=now, actor=actor)
        timings["risk_recompute"] = round(time.perf_counter() - t0, 3)
    return RunSummary(run_id, frames.orders.height, frames.ratings.height, frames.shipments.height, len(detections),
                      new, updated, unchanged, resolved, timings, by_kind)


# -- the analysts' queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingRow:
    id: int
    kind: str
    kind_zh: str
    platform_code: str
    platform_name: str
    shop_id: int | None
    shop_code: str | None
    shop_name: str | None
    accounts: int
    order_count: int
    confidence: float
    status: str
    status_zh: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    resolved_at: dt.datetime | None
    record_id: int | None


def _rows(session: Session, findings: Sequence[EcFinding]) -> list[FindingRow]:
    platforms = {p.id: p for p in session.scalars(select(EcPlatform).where(
        EcPlatform.id.in_({f.platform_id for f in findings} or {-1})))}
    shops = {s.id: s for s in session.scalars(select(EcShop).where(
        EcShop.id.in_({f.shop_id for f in findings if f.shop_id is not None} or {-1})))}
    out = []
    for f in findings:
        p, s = platforms[f.platform_id], shops.get(f.shop_id) if f.shop_id is not None else None
        out.append(FindingRow(
            id=f.id, kind=f.kind, kind_zh=rules.KIND_ZH.get(f.kind, f.kind), platform_code=p.code,
            platform_name=p.name, shop_id=f.shop_id, shop_code=s.shop_code if s else None,
            shop_name=s.name if s else None, accounts=len(f.buyer_account_ids or []), order_count=f.order_count,
            confidence=f.confidence, status=f.status, status_zh=FINDING_STATES.get(f.status, f.status),
            first_seen_at=f.first_seen_at, last_seen_at=f.last_seen_at, resolved_at=f.resolved_at,
            record_id=f.record_id))
    return out


def list_findings(session: Session, *, actor: audit.Actor, day: dt.date, kind: str = "", status: str = "",
                  platform: str = "", page: int = 1, per_page: int = PER_PAGE) -> tuple[list[FindingRow], int]:
    """The queue, most confident first, filtered by kind, state and platform (code)."""
    regulator_role(actor, day)
    if kind and kind not in rules.KIND_ZH:
        raise DomainError("ecommerce.kind_unknown", f"未知的线索类型“{kind}”", f"Unknown kind {kind!r}", field="kind")
    if status and status not in FINDING_STATES:
        raise DomainError("ecommerce.status_unknown", f"未知的状态“{status}”", f"Unknown status {status!r}",
                          field="status")
    query = select(EcFinding)
    if kind:
        query = query.where(EcFinding.kind == kind)
    if status:
        query = query.where(EcFinding.status == status)
    if platform:
        query = query.join(EcPlatform, EcPlatform.id == EcFinding.platform_id).where(EcPlatform.code == platform)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(EcFinding.confidence.desc(), EcFinding.id.desc())
                                .offset((max(page, 1) - 1) * per_page).limit(per_page)))
    return _rows(session, rows), total


# -- one finding ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopLine:
    id: int
    code: str
    name: str
    role_zh: str
    status: str
    owner_subject_id: int
    owner_kind: str
    owner_name: str  # masked for persons
    owner_id: str  # masked for persons
    licence_no: str | None


@dataclass(frozen=True)
class AccountLine:
    id: int
    label: str  # pseudonymous
    orders: int
    bound: bool  # the platform supplied the real-name identity


@dataclass(frozen=True)
class HistoryLine:
    action: str
    label_zh: str
    at: dt.datetime
    actor: str
    reason: str | None


@dataclass(frozen=True)
class FindingDetail:
    row: FindingRow
    role: str
    item_code: str
    item_name_zh: str
    against: str
    detector_evidence: dict[str, Any]
    detector_summary_zh: str | None  # the detector's own one-sentence reading
    evidence_lines: list[tuple[str, str]]
    summary: dict[str, Any]
    shops: list[ShopLine]
    accounts: list[AccountLine]
    accounts_bound: int
    shared: dict[str, dict[str, int]]
    density: tuple[int, int, int, float]
    timeline_svg: str
    bins: list[rules.TimeBin]
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None
    decision_department: str | None
    severity: str | None
    record_ids: list[int]
    first_run_id: int
    last_run_id: int
    history: list[HistoryLine]
    actions: list[str]
    confirm_blocked: str | None = None  # why this viewer cannot confirm (shown on the page)
    targets: list[tuple[str, str, str]] = field(default_factory=list)  # (name, id, role) a confirmation records


_EVIDENCE_ZH = {
    # common
    "method": "方法", "rule": "规则", "accounts": "账户数", "shops": "店铺数", "orders": "订单数", "ratings": "评价",
    "density": "密度", "time_pattern": "时间特征", "thresholds": "阈值", "rules": "规则命中", "targets": "被评价店铺",
    "shop_id": "店铺编号", "from": "起", "to": "止", "score": "得分",
    # order brushing (FRAUDAR)
    "account_shop_fill": "账户–店铺填充率", "block": "团块", "graph_core": "全图稠密核心", "graph": "全图平均",
    "ratio_to_core": "相对稠密核心倍数", "ratio_to_graph": "相对全图倍数", "shared_attributes": "共用属性",
    "addresses": "收货地址", "devices": "设备", "payment_accounts": "支付账户", "share_of_accounts": "共用账户占比",
    "first_order_at": "首笔下单", "last_order_at": "末笔下单", "burst_window_hours": "集中窗口（小时）",
    "orders_in_densest_windows": "最密集窗口内订单", "burst_share": "集中下单占比", "peak_shop_id": "峰值店铺编号",
    "peak_window_from": "峰值窗口起", "peak_window_to": "峰值窗口止", "peak_orders": "峰值窗口订单",
    "peak_orders_per_hour": "峰值每小时订单", "peak_shop_usual_orders_per_hour": "该店平时每小时订单",
    "rated": "已评价", "good_share": "好评占比", "fast_good_share": "快速好评占比", "fast_minutes": "快速好评阈值（分钟）",
    # fake traffic
    "ratings_per_hour": "每小时评价", "window_hours": "窗口（小时）",
    "expected_fast_good_in_window": "窗口内预期快速好评", "surprise_log10": "异常程度（−log10 概率）",
    "median_minutes_after_delivery": "签收后评价时间中位数（分钟）", "rated_before_delivery": "签收前评价",
    "five_star_share": "五星占比", "identical_texts": "雷同评价文字", "ratings_with_copied_text": "使用雷同文字的评价",
    "most_accounts_on_one_text": "同一文字最多账户", "distinct_copied_texts": "雷同文字种数",
    # malicious reviews (REV2)
    "fairness": "评价公正度（REV2）", "bad_ratings": "差评数", "bad_share": "差评占比",
    "mean_deviation_from_consensus": "与其他买家共识的平均偏离", "bad_on_top_shops_share": "差评集中于少数店铺的占比",
    "distinct_shops_rated_bad": "差评涉及店铺", "repeat_bad_share": "重复差评占比", "first_bad_at": "首次差评",
    "last_bad_at": "最近差评", "consensus_goodness": "店铺共识好评度", "ratings_of_shop": "店铺评价数",
    # empty parcels
    "signed_shipments": "已签收包裹", "flagged": "异常包裹", "rate": "异常率", "platform_base_rate": "全平台基准率",
    "rate_ratio": "相对基准倍数", "light": "重量过轻", "fast_transit": "运输过快", "few_scans": "扫描过少",
    "fast_and_few_scans": "运输快且扫描少", "signed_before_shipped": "先签收后发货",
    "median_weight_ratio_of_flagged": "异常包裹重量比中位数", "max_weight_ratio": "最大重量比",
    "min_expected_g": "最小应有重量（克）",
}
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _value_zh(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str) and _ISO.match(value):
        try:
            return f"{dt.datetime.fromisoformat(value).astimezone(CHINA):%Y-%m-%d %H:%M}"
        except ValueError:
            return value
    if isinstance(value, dict):
        return "，".join(f"{_EVIDENCE_ZH.get(str(k), str(k))} {_value_zh(v)}" for k, v in value.items())
    return str(value)


def _evidence_lines(evidence: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The detector's evidence as (中文标签, value) lines, nested keys flattened, times in Beijing time; its own
    one-sentence summary (``summary_zh``) is shown apart; unknown keys are shown as they are."""
    lines: list[tuple[str, str]] = []
    for key, value in evidence.items():
        if key == "summary_zh":
            continue
        label = (prefix + " · " if prefix else "") + _EVIDENCE_ZH.get(str(key), str(key))
        if isinstance(value, dict):
            lines.extend(_evidence_lines(value, label))
        elif isinstance(value, list):
            shown = "；".join(_value_zh(v) for v in value[:12]) + (f" …（共 {len(value)} 项）" if len(value) > 12 else "")
            lines.append((label, shown))
        else:
            lines.append((label, _value_zh(value)))
    return lines


def _finding(session: Session, finding_id: int, *, lock: bool = False) -> EcFinding:
    query = select(EcFinding).where(EcFinding.id == finding_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("ecommerce.finding_not_found", "未找到该监测线索", "No such finding")
    return row


def _kind(fp: FindingParams, kind: str) -> KindParams:
    params = fp.kinds.get(kind)
    if params is None:
        raise DomainError("ecommerce.kind_unknown", f"未知的线索类型“{kind}”", f"Unknown kind {kind!r}")
    return params


def _targets(session: Session, f: EcFinding, kp: KindParams, include_buyers: bool) -> list[tuple[Subject, bool]]:
    """The subjects a confirmation records against: (subject, is a buyer account's bound subject)."""
    out: list[tuple[Subject, bool]] = []
    seen: set[int] = set()
    if kp.against == "shops":
        owners = session.execute(select(EcShop.owner_subject_id).join(
            EcFindingShop, EcFindingShop.shop_id == EcShop.id).where(
            EcFindingShop.finding_id == f.id, EcFindingShop.role == ACTOR_ROLE).order_by(EcShop.id)).scalars()
        for sid in owners:
            if sid not in seen:
                seen.add(sid)
                out.append((session.get_one(Subject, sid), False))
    if kp.against == "buyers" or (include_buyers and kp.buyer_fields is not None):
        bound = session.execute(select(EcAccount.subject_id).where(
            EcAccount.id.in_(f.buyer_account_ids or [-1]), EcAccount.subject_id.is_not(None))
            .order_by(EcAccount.id)).scalars()
        for bound_id in bound:
            if bound_id is not None and bound_id not in seen:
                seen.add(bound_id)
                out.append((session.get_one(Subject, bound_id), True))
    return out


def _confirm_blocked(catalog: Catalog, actor: audit.Actor, role: str, kp: KindParams, day: dt.date,
                     targets: list[tuple[Subject, bool]]) -> DomainError | None:
    """Why ``actor`` cannot confirm this finding now (the page shows it; :func:`confirm` raises it), or None."""
    if role != DEPARTMENT:
        return PermissionDenied("ecommerce.confirm_by_regulator",
                                "确认须由电商监管部门经办人办理（失信记录以认定部门名义归集）",
                                "A regulator's clerk confirms (the record is in their department's name)")
    item = catalog.item(kp.item)
    version = item.version_on(day)
    departments = set(version.departments) if version is not None else {d for v in item.versions for d in v.departments}
    if actor.department_code not in departments:
        return PermissionDenied("ecommerce.department_not_source",
                                f"本单位不是目录项“{item.latest.name_zh}”的数据提供单位，不能确认此类线索",
                                f"Your department is not a source of {kp.item}")
    if not targets:
        if kp.against == "buyers":
            return DomainError("ecommerce.no_bound_subject",
                               "涉及账户均未由平台提供实名信息，无法形成失信记录；请先依法要求平台提供实名信息",
                               "No account has a real-name identity from the platform", status=409)
        return DomainError("ecommerce.no_owner", "未找到涉事店铺的经营者", "No shop owner found", status=409)
    return None


def finding_detail(session: Session, catalog: Catalog, *, finding_id: int, actor: audit.Actor, now: dt.datetime,
                   channel: str = "api") -> FindingDetail:
    """One finding, readable; reading one about a person (a shop owner) is logged in their query log.
    Call inside a write transaction (the query log)."""
    from chengxin.disclosure.models import READER_KINDS
    from chengxin.disclosure.service import log_query

    day = _day(now)
    role = regulator_role(actor, day)
    f = _finding(session, finding_id)
    fp = finding_params(day)
    kp = _kind(fp, f.kind)
    row = _rows(session, [f])[0]
    links = dict(session.execute(select(EcFindingShop.shop_id, EcFindingShop.role).where(
        EcFindingShop.finding_id == f.id)).all())
    shops_db = list(session.scalars(select(EcShop).where(EcShop.id.in_(list(links) or [-1])).order_by(EcShop.id)))
    owners = {s.id: s for s in session.scalars(select(Subject).where(
        Subject.id.in_({s.owner_subject_id for s in shops_db} or {-1})))}
    shops = [ShopLine(id=s.id, code=s.shop_code, name=s.name,
                      role_zh="涉事店铺" if links[s.id] == ACTOR_ROLE else "被评价店铺", status=s.status,
                      owner_subject_id=s.owner_subject_id, owner_kind=owners[s.owner_subject_id].kind,
                      owner_name=owners[s.owner_subject_id].display_name,
                      owner_id=owners[s.owner_subject_id].display_id, licence_no=s.licence_no) for s in shops_db]
    order_ids = [int(o) for o in (f.evidence or {}).get("order_ids", [])]
    orders = session.execute(select(EcOrder.buyer_account_id, EcOrder.shop_id, EcOrder.placed_at,
                                    EcOrder.address_hash, EcOrder.device_hash, EcOrder.payment_hash)
                             .where(EcOrder.id.in_(order_ids or [-1]))).all() if order_ids else []
    per_account: dict[int, int] = {}
    for o in orders:
        per_account[o.buyer_account_id] = per_account.get(o.buyer_account_id, 0) + 1
    accounts_db = list(session.scalars(select(EcAccount).where(
        EcAccount.id.in_((f.buyer_account_ids or [])[:500] or [-1])).order_by(EcAccount.id)))
    accounts = [AccountLine(a.id, rules.pseudonym(a.account_hash), per_account.get(a.id, 0), a.subject_id is not None)
                for a in accounts_db]
    bound = session.scalar(select(func.count()).select_from(EcAccount).where(
        EcAccount.id.in_(f.buyer_account_ids or [-1]), EcAccount.subject_id.is_not(None))) or 0
    bins = rules.time_bins((o.placed_at for o in orders), bins=24)
    history = [HistoryLine(e.action, WORKFLOW.transition(e.action).label_zh, e.at, e.actor, e.reason)
               for e in case_history(session, CASE_TYPE, f.id)]
    targets = _targets(session, f, kp, include_buyers=True)
    actions = [t.action for t in WORKFLOW.actions_for(f.status, role)]
    refusal = _confirm_blocked(catalog, actor, role, kp, day, targets) if f.status == OPEN else None
    for subject_id in sorted({s.owner_subject_id for s in shops_db if owners[s.owner_subject_id].kind == "person"}):
        log_query(session, subject_id=subject_id, reader_kind=actor.kind if actor.kind in READER_KINDS else "staff",
                  reader_name=actor.name, reader_department=actor.department_code, purpose=READ_PURPOSE,
                  basis=READ_BASIS, channel=channel, detail={"finding_id": f.id, "kind": f.kind})
    return FindingDetail(
        row=row, role=role, item_code=kp.item, item_name_zh=catalog.item(kp.item).latest.name_zh, against=kp.against,
        detector_evidence=dict((f.evidence or {}).get("detector") or {}),
        detector_summary_zh=_detector_summary(f),
        evidence_lines=_evidence_lines(dict((f.evidence or {}).get("detector") or {})),
        summary=dict((f.evidence or {}).get("summary") or {}), shops=shops, accounts=accounts, accounts_bound=bound,
        shared=rules.shared_attributes((o.buyer_account_id, o.address_hash, o.device_hash, o.payment_hash)
                                       for o in orders),
        density=rules.bipartite_density((o.buyer_account_id, o.shop_id) for o in orders),
        timeline_svg=rules.timeline_svg(bins, tz=CHINA), bins=bins, decided_by=f.decided_by, decided_at=f.decided_at,
        decision_note=f.decision_note, decision_department=f.decision_department, severity=f.severity,
        record_ids=list(f.record_ids or []), first_run_id=f.first_run_id, last_run_id=f.last_run_id,
        history=history, actions=actions, confirm_blocked=refusal.message if refusal else None,
        targets=[(s.display_name, s.display_id, "买家账户实名主体" if buyer else "店铺经营者") for s, buyer in targets])


# -- decisions ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmIn:
    note: str  # 研判意见
    severity: str = "general"
    decision_no: str | None = None  # 认定（处罚）文书号, when there is one
    include_buyers: bool = False  # also record against buyer accounts whose identity the platform supplied


def _clean(text: str | None, limit: int, field_name: str, label: str) -> str | None:
    value = " ".join((text or "").split())
    if len(value) > limit:
        raise DomainError(f"ecommerce.{field_name}_too_long", f"{label}不能超过 {limit} 字",
                          f"{field_name} is longer than {limit} characters", field=field_name)
    return value or None


def _detector_summary(f: EcFinding) -> str | None:
    text = ((f.evidence or {}).get("detector") or {}).get("summary_zh")
    return str(text) if text else None


def _summary_zh(f: EcFinding, shops: int) -> str:
    s = (f.evidence or {}).get("summary") or {}
    amount = int(s.get("amount_cents") or 0)
    period = ""
    if s.get("first_at") and s.get("last_at"):
        first = dt.datetime.fromisoformat(s["first_at"]).astimezone(CHINA)
        last = dt.datetime.fromisoformat(s["last_at"]).astimezone(CHINA)
        period = f"，时间 {first:%Y-%m-%d %H:%M} 至 {last:%Y-%m-%d %H:%M}"
    return (f"涉及买家账户 {len(f.buyer_account_ids or [])} 个、店铺 {shops} 家、订单 {f.order_count} 笔"
            f"（金额 {amount // 100}.{amount % 100:02d} 元）{period}；监测置信度 {f.confidence:.2f}"
            f"（线索编号 {f.id}，监测批次 {f.last_run_id}）。" + (_detector_summary(f) or ""))


def confirm(db: Database, catalog: Catalog, keyring: KeyRing, *, finding_id: int, body: ConfirmIn,
            actor: audit.Actor, now: dt.datetime) -> int:
    """确认: records through the record path, then the state change (two transactions, in an order safe to
    repeat — the records are idempotent by their source ids). Returns the finding id."""
    from chengxin.records.service import ApiRow, find_record_id, ingest

    day = _day(now)
    note = _clean(body.note, 2000, "note", "研判意见")
    decision_no = _clean(body.decision_no, 64, "decision_no", "认定文书号")
    if body.severity not in SEVERITIES:
        raise DomainError("ecommerce.severity_invalid", "失信程度只能是一般失信（general）或严重失信（serious）",
                          "severity must be general or serious", field="severity")
    fp = finding_params(day)
    with db.write() as session:  # the identities read below are audited with the read
        role = regulator_role(actor, day)
        f = _finding(session, finding_id)
        kp = _kind(fp, f.kind)
        WORKFLOW.check(f.status, "confirm", role)
        targets = _targets(session, f, kp, body.include_buyers)
        refusal = _confirm_blocked(catalog, actor, role, kp, day, targets)
        if refusal is not None:
            raise refusal
        department = str(actor.department_code)
        platform = session.get_one(EcPlatform, f.platform_id)
        main = session.get(EcShop, f.shop_id) if f.shop_id is not None else None
        shop_count = len(f.shop_ids or [])
        s = (f.evidence or {}).get("summary") or {}
        period = None
        if s.get("first_at") and s.get("last_at"):
            period = (dt.datetime.fromisoformat(s["first_at"]).astimezone(CHINA).date(),
                      dt.datetime.fromisoformat(s["last_at"]).astimezone(CHINA).date())
        authority = catalog.departments[department].name_zh if department in catalog.departments else department
        rows = []
        for n, (subject, buyer) in enumerate(targets, start=1):
            identifier, name = decrypt_identity(keyring, subject)
            audit.write(session, actor=actor, action="ec_finding.identity_read", subject_id=subject.id,
                        object_type=CASE_TYPE, object_id=f.id, purpose="确认电商失信线索，形成失信记录")
            rows.append(ApiRow(row_no=n, values=rules.record_values(
                kp, finding_id=f.id, subject_id=subject.id, subject_kind=subject.kind, identifier=identifier,
                subject_name=name, buyer=buyer, platform_name=platform.name,
                shop_name=main.name if main else None, shop_url=main.url if main else None,
                order_count=f.order_count, amount_cents=int(s.get("amount_cents") or 0), period=period,
                summary_zh=_summary_zh(f, shop_count), note=note, severity=body.severity, decided_on=day,
                decision_no=decision_no, authority_name=authority,
                target_shop=main.name if main and kp.against == "buyers" else None)))
        source_ids = [str(r.values["source_id"]) for r in rows]
        first_subject = targets[0][0].id
    receipt = ingest(db, rows, catalog=catalog, keyring=keyring, department=department, item_code=kp.item,
                     actor=actor, channel="ecommerce", today=day)
    if receipt.rejections:
        problem = receipt.rejections[0].problems[0]
        raise DomainError(problem.code, f"失信记录未能归集：{problem.message}",
                          f"The record was refused: {problem.message_en}", field=problem.field)
    with db.write() as session:
        f = _finding(session, finding_id, lock=True)
        record_ids = [find_record_id(session, department, sid) for sid in source_ids]
        if f.status != CONFIRMED:  # a repeat after a crash between the two steps finds it done
            f.status = record_transition(
                session, WORKFLOW, case_id=f.id, state=f.status, action="confirm", role=role, actor=actor, now=now,
                reason=note, subject_id=first_subject, detail={"records": record_ids, "item": kp.item, "department": department,
                                     "severity": body.severity, "decision_no": decision_no})
            f.decided_by, f.decided_at, f.decision_note = actor.label[:128], now, note
            f.decision_department, f.severity = department, body.severity
            f.record_ids, f.record_id = record_ids, (record_ids[0] if record_ids else None)
        shops = list(f.shop_ids or [])
    _after_decision(db, shops, now, actor)
    return finding_id


def _decide(db: Database, *, finding_id: int, action: str, reason: str, actor: audit.Actor,
            now: dt.datetime) -> int:
    day = _day(now)
    note = _clean(reason, 2000, "reason", "理由")
    with db.write() as session:
        role = regulator_role(actor, day)
        f = _finding(session, finding_id, lock=True)
        f.status = record_transition(session, WORKFLOW, case_id=f.id, state=f.status, action=action, role=role,
                                     actor=actor, now=now, reason=note, detail={"kind": f.kind})
        if action == "dismiss":
            f.decided_by, f.decided_at, f.decision_note = actor.label[:128], now, note
            f.decision_department = actor.department_code if role == DEPARTMENT else "credit_office"
        else:
            f.decided_by = f.decided_at = f.decision_note = f.decision_department = None
        shops = list(f.shop_ids or [])
    _after_decision(db, shops, now, actor)
    return finding_id


def dismiss(db: Database, *, finding_id: int, reason: str, actor: audit.Actor, now: dt.datetime) -> int:
    """驳回 (a false positive, or not enough to act on), with the reason."""
    return _decide(db, finding_id=finding_id, action="dismiss", reason=reason, actor=actor, now=now)


def reopen(db: Database, *, finding_id: int, reason: str, actor: audit.Actor, now: dt.datetime) -> int:
    """重新研判 a dismissed finding (new facts), with the reason."""
    return _decide(db, finding_id=finding_id, action="reopen", reason=reason, actor=actor, now=now)


def _after_decision(db: Database, shop_ids: Sequence[int], now: dt.datetime, actor: audit.Actor) -> None:
    """A decision moves the shops' risk at once (the nightly recompute would too)."""
    if shop_ids:
        from chengxin.ecommerce.risk.warning import recompute

        recompute(db, now=now, actor=actor, shop_ids=list(shop_ids))
