"""商家信用风险预警: every shop's risk level, the regulators' board, risk notices (风险提示), platforms' reads.

- :func:`recompute` (``chengxin ecommerce risk recompute``, and after every detection run and decision):
  the facts of each shop are read with a handful of aggregate queries — its findings (where it acted),
  complaints (the :class:`ComplaintSource` seam), its owner's negative records on display and list
  memberships, its ratings of the last 30 and 180 days — and ``rules.shop_risk`` turns them into a level
  and reasons under the rule in force (``data/warning.yaml``). ``ec_shop_risk`` keeps the result. A change
  of level is appended to the list-change feed (``list_change``, kind ``shop_risk``, change
  ``risk_changed``, audience the shop's platform) in the same transaction, so the subscriptions outbox
  delivers it like a list change — no second outbox.
- :func:`risk_board`: the regulators' page, highest risk first, with reasons; each person shown as a shop
  owner gets a query-log row (the read of personal data, with its purpose).
- :func:`publish_notice` / :func:`withdraw_notice`: a risk notice for a shop at or above the level the rule
  names (实施意见 四(四)); the public reads :func:`public_notices` / :func:`public_notice` (masked forms only).
- :func:`refresh_owner_risk`: the owner's shops at risk, precomputed for the credit check (``ec_owner_risk``),
  rebuilt with every level change and every notice published or withdrawn.
- :func:`shop_risk_for` : a shop's level for its own platform (API key), the regulators and the office;
  logged in the owner's query log when the owner is a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from chengxin.checks.service import PLATFORM_PREFIX, is_platform
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.db import Database
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.workflow import DEPARTMENT, OFFICE, Transition, Workflow, case_history, record_transition
from chengxin.ecommerce.complaints.source import DbComplaintSource
from chengxin.ecommerce.risk import rules
from chengxin.ecommerce.risk.config import LEVEL_ORDER, WarningParams, warning_params
from chengxin.ecommerce.risk.models import (
    ACTOR_ROLE,
    CONFIRMED,
    NOTICE_STATES,
    OPEN,
    PUBLISHED,
    WITHDRAWN,
    EcFinding,
    EcFindingShop,
    EcOwnerRisk,
    EcRiskNotice,
    EcShopRisk,
)
from chengxin.ecommerce.risk.service import regulator_role
from chengxin.ecommerce.trade.models import EcPlatform, EcRating, EcShop
from chengxin.lists.models import ListChange, SubjectListStatus
from chengxin.lists.status import current_memberships
from chengxin.records.models import Record
from chengxin.subjects.models import Subject
from chengxin.subscriptions.config import RISK_CHANGED, SHOP_RISK

__all__ = [
    "COMPLAINTS", "NOTICE_CASE", "NOTICE_WORKFLOW", "BoardRow", "ComplaintSource", "NoComplaintSource", "NoticeView",
    "RecomputeSummary", "ShopRiskView", "public_notice", "public_notices", "publish_notice", "recompute",
    "refresh_owner_risk",
    "risk_board", "shop_by_code", "shop_risk_for", "staff_notices", "withdraw_notice",
]

NOTICE_CASE = "ec_risk_notice"
PER_PAGE = 50
NOTICE_WORKFLOW = Workflow(
    case_type=NOTICE_CASE,
    states=dict(NOTICE_STATES),
    initial=PUBLISHED,
    transitions=(
        Transition("publish", "发布风险提示", frozenset(), PUBLISHED, frozenset({DEPARTMENT, OFFICE})),
        Transition("withdraw", "撤回风险提示", frozenset({PUBLISHED}), WITHDRAWN, frozenset({DEPARTMENT, OFFICE}),
                   needs_reason=True),
    ),
)
NOTICE_BASIS = ("常州市电子商务领域诚信建设实施意见 四(四)：建立商家信用风险预警制度，对恶意刷单炒信等严重失信商家"
                "及时向社会公示相关信息，发布风险提示；《电子商务法》第三十九条、第八十六条")


def _day(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


# -- complaints: the seam ----------------------------------------------------------------------------------


class ComplaintSource(Protocol):
    """Consumer complaints about shops (12315 / 12312 / 12345 …, 实施意见 四(一)). The default reads
    ``ec_complaint`` (the departments' intake, ``ecommerce.complaints``; ``notices.complaint`` is about how
    objections and repairs were handled, not about shops). ``None`` means "not connected" (``NoComplaintSource``)
    — the rules then leave the component out and say so, rather than reading it as "no complaints"."""

    def shop_complaints(self, session: Session, shop_ids: Sequence[int] | None, since: dt.date,
                        until: dt.date) -> dict[int, int] | None: ...

    def platform_complaints(self, session: Session, platform_id: int, since: dt.date,
                            until: dt.date) -> int | None: ...


class NoComplaintSource:
    """No complaint data connected (pass it as ``complaints=`` to leave the component out)."""

    def shop_complaints(self, session: Session, shop_ids: Sequence[int] | None, since: dt.date,
                        until: dt.date) -> dict[int, int] | None:
        return None

    def platform_complaints(self, session: Session, platform_id: int, since: dt.date, until: dt.date) -> int | None:
        return None


# The table is there, so the source is connected: a shop without complaints in the window has 0, not "unknown".
COMPLAINTS: ComplaintSource = DbComplaintSource()


# -- the facts, in bulk ------------------------------------------------------------------------------------


def _slices(values: Sequence[int], size: int = 900) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


@dataclass(frozen=True)
class _Shop:
    id: int
    platform_id: int
    owner_subject_id: int


def _shops(session: Session, shop_ids: Sequence[int] | None) -> list[_Shop]:
    query = select(EcShop.id, EcShop.platform_id, EcShop.owner_subject_id)
    if shop_ids is None:
        return [_Shop(*r) for r in session.execute(query.order_by(EcShop.id))]
    out: list[_Shop] = []
    for chunk in _slices(sorted(set(shop_ids))):
        out.extend(_Shop(*r) for r in session.execute(query.where(EcShop.id.in_(chunk))))
    return out


def _facts(session: Session, shops: list[_Shop], params: WarningParams, now: dt.datetime,
           complaints: ComplaintSource) -> dict[int, rules.ShopFacts]:
    day = _day(now)
    ids = [s.id for s in shops]
    all_shops = len(ids) > 5000  # past this, one pass over each table beats thousands of IN lists
    findings: dict[int, list[rules.FindingFact]] = {}
    fq = (select(EcFindingShop.shop_id, EcFinding.kind, EcFinding.status, EcFinding.confidence, EcFinding.decided_at)
          .join(EcFinding, EcFinding.id == EcFindingShop.finding_id)
          .where(EcFindingShop.role == ACTOR_ROLE, EcFinding.status.in_([OPEN, CONFIRMED])))
    for chunk in [None] if all_shops else _slices(ids):
        q = fq if chunk is None else fq.where(EcFindingShop.shop_id.in_(chunk))
        for shop_id, kind, status, confidence, decided_at in session.execute(q):
            findings.setdefault(shop_id, []).append(rules.FindingFact(
                kind, status, float(confidence), decided_at.astimezone(CHINA).date() if decided_at else None))
    owners = sorted({s.owner_subject_id for s in shops})
    lookback = params.records.lookback_duration
    from chengxin.catalog.model import Duration
    from chengxin.catalog.rules import add_duration

    since = add_duration(day, Duration(years=-lookback.years, months=-lookback.months, days=-lookback.days))
    records: dict[int, list[rules.RecordFact]] = {}
    rq = (select(Record.subject_id, Record.item_code, Record.severity, Record.decision_date)
          .where(Record.category == "negative", Record.status == "active", Record.decision_date >= since,
                 Record.decision_date <= day,
                 (Record.display_stopped_on.is_(None)) | (Record.display_stopped_on > day),
                 (Record.display_from.is_(None)) | (Record.display_from <= day)))
    for chunk in _slices(owners):
        for subject_id, item, severity, decided in session.execute(rq.where(Record.subject_id.in_(chunk))):
            records.setdefault(subject_id, []).append(rules.RecordFact(item, severity, decided))
    lists: dict[int, frozenset[str]] = {}
    for chunk in _slices(owners):
        for subject_id, memberships in session.execute(select(SubjectListStatus.subject_id,
                                                              SubjectListStatus.memberships)
                                                       .where(SubjectListStatus.subject_id.in_(chunk))):
            lists[subject_id] = frozenset(m["list"] for m in current_memberships(list(memberships or []), day))
    t30, t180 = now - dt.timedelta(days=30), now - dt.timedelta(days=180)
    good = EcRating.value == "good"
    tq = (select(EcRating.shop_id,
                 func.sum(case((and_(good, EcRating.rated_at >= t30), 1), else_=0)),
                 func.sum(case((EcRating.rated_at >= t30, 1), else_=0)),
                 func.sum(case((good, 1), else_=0)), func.count())
          .where(EcRating.direction == "buyer_to_shop", EcRating.rated_at >= t180, EcRating.rated_at <= now)
          .group_by(EcRating.shop_id))
    trends: dict[int, rules.RatingTrend] = {}
    for chunk in [None] if all_shops else _slices(ids):
        trend_q = tq if chunk is None else tq.where(EcRating.shop_id.in_(chunk))
        for shop_id, g30, n30, g180, n180 in session.execute(trend_q):
            trends[shop_id] = rules.RatingTrend(int(g30 or 0), int(n30 or 0), int(g180 or 0), int(n180 or 0))
    counts = complaints.shop_complaints(session, None if all_shops else ids, day - dt.timedelta(days=180), day)
    return {s.id: rules.ShopFacts(
        findings=tuple(findings.get(s.id, ())),
        complaints=None if counts is None else counts.get(s.id, 0),
        records=tuple(records.get(s.owner_subject_id, ())),
        lists=lists.get(s.owner_subject_id, frozenset()),
        ratings=trends.get(s.id, rules.RatingTrend())) for s in shops}


# -- recompute -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecomputeSummary:
    shops: int
    changed: int  # shops whose level changed (each one a feed event)
    by_level: dict[str, int]
    parameter_version: str


def _event(shop: EcShop, platform: EcPlatform, operator_uscc: str, owner: Subject, risk: rules.ShopRisk,
           previous: str | None, base_url: str) -> dict[str, Any]:
    """The feed payload of a level change: who may hear of it (the shop's platform) and what it says
    (masked forms only)."""
    return {"audience": [f"{PLATFORM_PREFIX}{operator_uscc}"], "data": {
        "subject": {"kind": owner.kind, "display_id": owner.display_id, "display_name": owner.display_name},
        "shop": {"platform_code": platform.code, "platform_name": platform.name, "shop_code": shop.shop_code,
                 "name": shop.name},
        "level": risk.level, "level_zh": risk.level_zh, "previous_level": previous,
        "previous_level_zh": rules.LEVEL_ZH.get(previous or "", None), "score": risk.score,
        "reasons": [r.text_zh for r in risk.reasons if r.points], "parameter_version": risk.parameter_version,
        "url": f"{base_url.rstrip('/')}/api/v1/ecommerce/shops/{platform.code}/{shop.shop_code}/risk"}}


def recompute(db: Database, *, now: dt.datetime, actor: audit.Actor, shop_ids: Sequence[int] | None = None,
              complaints: ComplaintSource | None = None) -> RecomputeSummary:
    """Recompute the risk level of every shop (or of ``shop_ids``) in one transaction."""
    from chengxin.subscriptions.config import webhook_settings

    day = _day(now)
    params = warning_params(day)
    base_url = webhook_settings().public_base_url
    with db.write() as session:
        shops = _shops(session, shop_ids)
        facts = _facts(session, shops, params, now, complaints or COMPLAINTS)
        stored: dict[int, tuple[str, float, list[Any], str]] = {}
        for chunk in [None] if shop_ids is None else _slices([s.id for s in shops]):
            q = select(EcShopRisk.shop_id, EcShopRisk.level, EcShopRisk.score, EcShopRisk.reasons,
                       EcShopRisk.parameter_version)
            q = q if chunk is None else q.where(EcShopRisk.shop_id.in_(chunk))
            stored.update({r[0]: (r[1], float(r[2]), list(r[3] or []), r[4]) for r in session.execute(q)})
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        changed: list[tuple[_Shop, rules.ShopRisk, str | None]] = []
        by_level: dict[str, int] = {}
        for shop in shops:
            risk = rules.shop_risk(facts[shop.id], params, day)
            by_level[risk.level] = by_level.get(risk.level, 0) + 1
            reasons = [r.as_json() for r in risk.reasons]
            values = {"shop_id": shop.id, "platform_id": shop.platform_id, "owner_subject_id": shop.owner_subject_id,
                      "level": risk.level, "rank": risk.rank, "score": risk.score, "reasons": reasons,
                      "parameter_version": risk.parameter_version, "computed_at": now}
            before = stored.get(shop.id)
            if before is None:
                inserts.append({**values, "level_since": now, "previous_level": None})
                if risk.level != "low":
                    changed.append((shop, risk, None))
            elif before[0] != risk.level:
                updates.append({**values, "level_since": now, "previous_level": before[0]})
                changed.append((shop, risk, before[0]))
            elif (before[1], before[2], before[3]) != (risk.score, reasons, risk.parameter_version):
                updates.append(values)
        if inserts:
            session.execute(insert(EcShopRisk), inserts)
        if updates:
            session.execute(update(EcShopRisk), updates)
        if changed:
            _announce(session, changed, base_url, now)
            refresh_owner_risk(session, {shop.owner_subject_id for shop, _, _ in changed}, now)
        audit.write(session, actor=actor, action="ec_shop_risk.recompute", object_type="ec_shop_risk",
                    detail={"shops": len(shops), "changed": len(changed), "by_level": by_level,
                            "version": params.version, "scope": "all" if shop_ids is None else "some"})
    return RecomputeSummary(len(shops), len(changed), by_level, params.version)


def _announce(session: Session, changed: list[tuple[_Shop, rules.ShopRisk, str | None]], base_url: str,
              now: dt.datetime) -> None:
    shop_rows = {s.id: s for s in session.scalars(select(EcShop).where(EcShop.id.in_([c[0].id for c in changed])))}
    platforms = {p.id: p for p in session.scalars(select(EcPlatform).where(
        EcPlatform.id.in_({c[0].platform_id for c in changed})))}
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(
        {c[0].owner_subject_id for c in changed} | {p.subject_id for p in platforms.values()})))}
    for shop, risk, previous in changed:
        platform = platforms[shop.platform_id]
        session.add(ListChange(entry_id=None, subject_id=shop.owner_subject_id, list_kind=SHOP_RISK,
                               change=RISK_CHANGED, occurred_at=now,
                               payload=_event(shop_rows[shop.id], platform, subjects[platform.subject_id].display_id,
                                              subjects[shop.owner_subject_id], risk, previous, base_url)))


def refresh_owner_risk(session: Session, owner_ids: Iterable[int], now: dt.datetime) -> None:
    """Rebuild ``ec_owner_risk`` for these owners from their shops' levels (medium and above) and the
    notices in force: what the credit check returns in its one read (issue #7, 4)."""
    owners = sorted(set(owner_ids))
    session.flush()
    for chunk in _slices(owners):
        notices = {row[0]: row[1] for row in session.execute(select(EcRiskNotice.shop_id, EcRiskNotice.no).where(
            EcRiskNotice.owner_subject_id.in_(chunk), EcRiskNotice.state == PUBLISHED))}
        rows = session.execute(
            select(EcShopRisk.owner_subject_id, EcShopRisk.shop_id, EcShopRisk.level, EcShopRisk.level_since,
                   EcShop.shop_code, EcShop.name, EcPlatform.code, EcPlatform.name, Subject.display_id)
            .join(EcShop, EcShop.id == EcShopRisk.shop_id)
            .join(EcPlatform, EcPlatform.id == EcShopRisk.platform_id)
            .join(Subject, Subject.id == EcPlatform.subject_id)
            .where(EcShopRisk.owner_subject_id.in_(chunk), EcShopRisk.rank > 0)
            .order_by(EcShopRisk.owner_subject_id, EcShopRisk.rank.desc(), EcShopRisk.shop_id))
        shops: dict[int, list[dict[str, Any]]] = {}
        for owner, shop_id, level, since, shop_code, shop_name, p_code, p_name, p_uscc in rows:
            shops.setdefault(owner, []).append({
                "platform_code": p_code, "platform_name": p_name, "platform_uscc": p_uscc, "shop_code": shop_code,
                "shop_name": shop_name, "level": level, "level_zh": rules.LEVEL_ZH.get(level, level),
                "level_since": since.astimezone(CHINA).date().isoformat(), "notice_no": notices.get(shop_id)})
        session.execute(delete(EcOwnerRisk).where(EcOwnerRisk.subject_id.in_(chunk)))
        if shops:
            session.execute(insert(EcOwnerRisk), [{"subject_id": owner, "shops": listed, "updated_at": now}
                                                  for owner, listed in shops.items()])


# -- the regulators' board -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    shop_id: int
    shop_code: str
    shop_name: str
    shop_status: str
    platform_code: str
    platform_name: str
    owner_name: str  # masked for persons
    owner_id: str
    level: str
    level_zh: str
    score: float
    reasons: list[dict[str, Any]]
    computed_at: dt.datetime
    level_since: dt.datetime
    notice_no: str | None  # the notice in force, if any
    can_publish: bool


BOARD_PURPOSE = "商家信用风险预警监管"
BOARD_BASIS = ("常州市电子商务领域诚信建设实施意见 四(二)（以网管网、协同监管）、四(四)（商家信用风险预警）；"
               "《电子商务法》第八十六条")
PLATFORM_PURPOSE = "平台查询本平台店铺风险"
PLATFORM_BASIS = ("《电子商务法》第二十七条、第三十九条（平台核验、管理平台内经营者）；"
                  "常州市电子商务领域诚信建设实施意见 四(四)（商家信用风险预警）")


def _log_owner_reads(session: Session, reads: dict[int, list[dict[str, Any]]], *, actor: audit.Actor,
                     purpose: str, basis: str, channel: str, platform: EcPlatform | None = None) -> None:
    """One query-log row per person whose shops were shown (DESIGN.md: every read of personal data leaves
    a trace); ``reads``: person subject id → the shops of theirs shown. Organisations are not personal data
    and are not passed in. A platform reads in its operator's name (as the credit check logs it)."""
    from chengxin.disclosure.models import READER_KINDS
    from chengxin.disclosure.service import log_query

    reader_kind = actor.kind if actor.kind in READER_KINDS else "staff"
    uscc = None
    if platform is not None:
        uscc = (actor.department_code or "")[len(PLATFORM_PREFIX):] or None
    for subject_id in sorted(reads):
        log_query(session, subject_id=subject_id, reader_kind=reader_kind,
                  reader_name=f"电商平台 {platform.name}" if platform is not None else actor.name,
                  reader_department=None if platform is not None else actor.department_code,
                  requester_uscc=uscc, purpose=purpose, basis=basis, channel=channel,
                  detail={"shops": reads[subject_id]})


def risk_board(session: Session, *, actor: audit.Actor, day: dt.date, level: str = "", platform: str = "",
               page: int = 1, per_page: int = PER_PAGE, channel: str = "api") -> tuple[list[BoardRow], int]:
    """Shops by risk, highest first (level, then score), with reasons and any notice in force.
    The page shows the shops' owners: each person shown gets one query-log row (``BOARD_PURPOSE``), so call
    inside a write transaction."""
    regulator_role(actor, day)
    params = warning_params(day)
    min_rank = LEVEL_ORDER.index(params.notice_min_level)
    query = (select(EcShopRisk, EcShop, EcPlatform, Subject).join(EcShop, EcShop.id == EcShopRisk.shop_id)
             .join(EcPlatform, EcPlatform.id == EcShopRisk.platform_id)
             .join(Subject, Subject.id == EcShopRisk.owner_subject_id))
    if level:
        if level not in LEVEL_ORDER:
            raise DomainError("ecommerce.level_unknown", f"未知的风险等级“{level}”", f"Unknown level {level!r}",
                              field="level")
        query = query.where(EcShopRisk.level == level)
    else:
        query = query.where(EcShopRisk.rank > 0)
    if platform:
        query = query.where(EcPlatform.code == platform)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(EcShopRisk.rank.desc(), EcShopRisk.score.desc(), EcShopRisk.shop_id)
                           .offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    notices = dict(session.execute(select(EcRiskNotice.shop_id, EcRiskNotice.no).where(
        EcRiskNotice.state == PUBLISHED, EcRiskNotice.shop_id.in_([r[1].id for r in rows] or [-1]))).all())
    reads: dict[int, list[dict[str, Any]]] = {}
    for r, s, p, o in rows:
        if o.kind == "person":
            reads.setdefault(o.id, []).append({"platform": p.code, "shop": s.shop_code, "level": r.level})
    _log_owner_reads(session, reads, actor=actor, purpose=BOARD_PURPOSE, basis=BOARD_BASIS, channel=channel)
    return [BoardRow(shop_id=s.id, shop_code=s.shop_code, shop_name=s.name, shop_status=s.status,
                     platform_code=p.code, platform_name=p.name, owner_name=o.display_name, owner_id=o.display_id,
                     level=r.level, level_zh=rules.LEVEL_ZH.get(r.level, r.level), score=r.score,
                     reasons=list(r.reasons or []), computed_at=r.computed_at, level_since=r.level_since,
                     notice_no=notices.get(s.id), can_publish=r.rank >= min_rank and s.id not in notices)
            for r, s, p, o in rows], total


# -- a shop's level for its platform ----------------------------------------------------------------------


@dataclass(frozen=True)
class ShopRiskView:
    platform_code: str
    shop_code: str
    shop_name: str
    level: str | None  # None: not assessed yet
    level_zh: str
    score: float | None
    reasons: list[dict[str, Any]]
    parameter_version: str | None
    computed_at: dt.datetime | None
    level_since: dt.datetime | None
    notice_no: str | None


def shop_by_code(session: Session, platform_code: str, shop_code: str) -> tuple[EcShop, EcPlatform]:
    row = session.execute(select(EcShop, EcPlatform).join(EcPlatform, EcPlatform.id == EcShop.platform_id)
                          .where(EcPlatform.code == platform_code.lower(), EcShop.shop_code == shop_code)).first()
    if row is None:
        raise NotFound("ecommerce.shop_not_found", "未找到该店铺", "No such shop")
    return row[0], row[1]


def shop_risk_for(session: Session, *, actor: audit.Actor, platform_code: str, shop_code: str,
                  day: dt.date, channel: str = "api") -> ShopRiskView:
    """A shop's risk level and reasons, for the shop's own platform (its API key), the regulators and the
    credit office. Another platform gets 403 (a competitor's risk is not its business). The level is about
    the shop's owner: when that is a person, the read is entered in their query log (call inside a write
    transaction)."""
    shop, platform = shop_by_code(session, platform_code, shop_code)
    by_platform = is_platform(actor.department_code)
    if by_platform:
        operator = session.get_one(Subject, platform.subject_id)
        if actor.department_code != f"{PLATFORM_PREFIX}{operator.display_id}":
            raise PermissionDenied("ecommerce.other_platform", "只能查询本平台店铺的风险等级",
                                   "A platform may read the risk of its own shops only")
    else:
        regulator_role(actor, day)
    risk = session.get(EcShopRisk, shop.id)
    notice = session.scalar(select(EcRiskNotice.no).where(EcRiskNotice.shop_id == shop.id,
                                                          EcRiskNotice.state == PUBLISHED))
    if session.scalar(select(Subject.kind).where(Subject.id == shop.owner_subject_id)) == "person":
        read = {shop.owner_subject_id: [{"platform": platform.code, "shop": shop.shop_code,
                                         "level": risk.level if risk is not None else None}]}
        _log_owner_reads(session, read, actor=actor, channel=channel,
                         purpose=PLATFORM_PURPOSE if by_platform else BOARD_PURPOSE,
                         basis=PLATFORM_BASIS if by_platform else BOARD_BASIS,
                         platform=platform if by_platform else None)
    if risk is None:
        return ShopRiskView(platform.code, shop.shop_code, shop.name, None, "尚未评估", None, [], None, None, None,
                            notice)
    return ShopRiskView(platform.code, shop.shop_code, shop.name, risk.level, rules.LEVEL_ZH.get(risk.level, risk.level),
                        risk.score, list(risk.reasons or []), risk.parameter_version, risk.computed_at,
                        risk.level_since, notice)


# -- risk notices --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeView:
    no: str
    title: str
    text: str
    level: str
    level_zh: str
    score: float
    reasons: list[dict[str, Any]]
    platform_code: str
    platform_name: str
    shop_code: str
    shop_name: str
    shop_url: str | None
    owner_name: str
    owner_id: str
    licence_no: str | None
    department_code: str
    department_name: str
    published_at: dt.datetime
    state: str
    state_zh: str
    withdrawn_at: dt.datetime | None
    withdraw_reason: str | None
    basis: str = NOTICE_BASIS


def _notice_views(session: Session, rows: Sequence[EcRiskNotice], department_names: dict[str, str]) -> list[NoticeView]:
    shops = {s.id: s for s in session.scalars(select(EcShop).where(EcShop.id.in_({r.shop_id for r in rows} or {-1})))}
    platforms = {p.id: p for p in session.scalars(select(EcPlatform).where(
        EcPlatform.id.in_({r.platform_id for r in rows} or {-1})))}
    owners = {s.id: s for s in session.scalars(select(Subject).where(
        Subject.id.in_({r.owner_subject_id for r in rows} or {-1})))}
    return [NoticeView(
        no=r.no, title=r.title, text=r.text, level=r.level, level_zh=rules.LEVEL_ZH.get(r.level, r.level),
        score=r.score, reasons=list(r.reasons or []), platform_code=platforms[r.platform_id].code,
        platform_name=platforms[r.platform_id].name, shop_code=shops[r.shop_id].shop_code,
        shop_name=shops[r.shop_id].name, shop_url=shops[r.shop_id].url,
        owner_name=owners[r.owner_subject_id].display_name, owner_id=owners[r.owner_subject_id].display_id,
        licence_no=shops[r.shop_id].licence_no, department_code=r.department_code,
        department_name=department_names.get(r.department_code, r.department_code), published_at=r.published_at,
        state=r.state, state_zh=NOTICE_STATES.get(r.state, r.state), withdrawn_at=r.withdrawn_at,
        withdraw_reason=r.withdraw_reason) for r in rows]


def _notice_text(shop: EcShop, platform: EcPlatform, owner: Subject, risk: EcShopRisk, note: str | None,
                 authority: str, day: dt.date) -> str:
    reasons = "\n".join(f"{i}. {r['text_zh']}" for i, r in enumerate(
        (r for r in risk.reasons or [] if r.get("points")), start=1))
    owner_line = (f"经营者：{owner.display_name}（统一社会信用代码 {owner.display_id}）" if owner.kind == "organization"
                  else f"经营者：{owner.display_name}（自然人，身份信息已脱敏）")
    return (f"{authority}根据商家信用风险预警制度，对{platform.name}平台店铺“{shop.name}”（店铺编号 {shop.shop_code}）"
            f"发布风险提示：该店铺当前信用风险等级为“{rules.LEVEL_ZH.get(risk.level, risk.level)}”。\n"
            f"{owner_line}；亮照信息：{shop.licence_no or '未亮照'}。\n"
            f"主要风险因素：\n{reasons or '（无）'}\n"
            + (f"监管部门提示：{note}\n" if note else "")
            + f"请消费者审慎交易，注意保留交易凭证；如有异议，经营者可依法向发布单位提出。\n发布日期：{day:%Y年%m月%d日}")


def _notice_role(actor: audit.Actor, day: dt.date) -> tuple[str, str]:
    role = regulator_role(actor, day)
    department = actor.department_code if role == DEPARTMENT and actor.department_code else "credit_office"
    return role, department


def publish_notice(session: Session, *, shop_id: int, actor: audit.Actor, now: dt.datetime, note: str | None,
                   department_names: dict[str, str]) -> NoticeView:
    """发布风险提示 for a shop at or above the notice level of the rule in force (one in force per shop)."""
    day = _day(now)
    role, department = _notice_role(actor, day)
    params = warning_params(day)
    note = " ".join((note or "").split()) or None
    if note is not None and len(note) > 1000:
        raise DomainError("ecommerce.note_too_long", "提示内容不能超过 1000 字", "The note is longer than 1000 characters",
                          field="note")
    shop = session.get(EcShop, shop_id)
    if shop is None:
        raise NotFound("ecommerce.shop_not_found", "未找到该店铺", "No such shop")
    risk = session.get(EcShopRisk, shop_id)
    needed = LEVEL_ORDER.index(params.notice_min_level)
    if risk is None or risk.rank < needed:
        have = rules.LEVEL_ZH.get(risk.level, risk.level) if risk else "尚未评估"
        raise DomainError("ecommerce.notice_level_too_low",
                          f"该店铺风险等级为“{have}”，未达到发布风险提示的等级（“{rules.LEVEL_ZH[params.notice_min_level]}”及以上）",
                          f"The shop's level ({risk.level if risk else 'none'}) is below "
                          f"{params.notice_min_level}", status=409)
    existing = session.scalar(select(EcRiskNotice.no).where(EcRiskNotice.shop_id == shop_id,
                                                            EcRiskNotice.state == PUBLISHED))
    if existing:
        raise DomainError("ecommerce.notice_exists", f"该店铺已有生效的风险提示 {existing}，请先撤回再发布",
                          f"Notice {existing} is already published for this shop", status=409)
    platform = session.get_one(EcPlatform, shop.platform_id)
    owner = session.get_one(Subject, shop.owner_subject_id)
    authority = department_names.get(department, department)
    title = f"风险提示：{platform.name}店铺“{shop.name}”信用风险等级{rules.LEVEL_ZH.get(risk.level, risk.level)}"[:200]
    row = EcRiskNotice(no=f"TMP-{shop_id}-{now.timestamp()}"[:32], shop_id=shop.id, platform_id=platform.id,
                       owner_subject_id=owner.id, level=risk.level, score=risk.score, title=title,
                       text=_notice_text(shop, platform, owner, risk, note, authority, day),
                       reasons=[r for r in risk.reasons or [] if r.get("points")], department_code=department,
                       published_by=actor.label[:128], published_at=now, state=PUBLISHED)
    session.add(row)
    session.flush()
    row.no = rules.notice_number(day.year, row.id)
    row.state = record_transition(session, NOTICE_WORKFLOW, case_id=row.id, state=None, action="publish", role=role,
                                  actor=actor, now=now, subject_id=owner.id, reason=note,
                                  detail={"no": row.no, "shop_id": shop.id, "level": risk.level})
    refresh_owner_risk(session, [owner.id], now)
    return _notice_views(session, [row], department_names)[0]


def _notice(session: Session, no: str, *, lock: bool = False) -> EcRiskNotice:
    query = select(EcRiskNotice).where(EcRiskNotice.no == (no or "").strip().upper())
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("ecommerce.notice_not_found", "未找到该风险提示", "No such risk notice")
    return row


def withdraw_notice(session: Session, *, no: str, actor: audit.Actor, now: dt.datetime, reason: str,
                    department_names: dict[str, str]) -> NoticeView:
    """撤回风险提示 (kept, marked withdrawn, with the reason shown)."""
    role, _ = _notice_role(actor, _day(now))
    row = _notice(session, no, lock=True)
    reason = " ".join((reason or "").split())
    row.state = record_transition(session, NOTICE_WORKFLOW, case_id=row.id, state=row.state, action="withdraw",
                                  role=role, actor=actor, now=now, reason=reason, subject_id=row.owner_subject_id,
                                  detail={"no": row.no})
    row.withdrawn_at, row.withdrawn_by, row.withdraw_reason = now, actor.label[:128], reason[:2000]
    refresh_owner_risk(session, [row.owner_subject_id], now)
    return _notice_views(session, [row], department_names)[0]


def public_notices(session: Session, *, department_names: dict[str, str], page: int = 1, per_page: int = 20,
                   include_withdrawn: bool = False) -> tuple[list[NoticeView], int]:
    """风险提示公示: the notices in force, newest first (withdrawn ones on request)."""
    query = select(EcRiskNotice)
    if not include_withdrawn:
        query = query.where(EcRiskNotice.state == PUBLISHED)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(EcRiskNotice.published_at.desc(), EcRiskNotice.id.desc())
                                .offset((max(page, 1) - 1) * per_page).limit(per_page)))
    return _notice_views(session, rows, department_names), total


def public_notice(session: Session, *, no: str, department_names: dict[str, str]) -> NoticeView:
    """One notice, withdrawn ones too (marked 已撤回 with the reason: the public saw it, it must see the end)."""
    return _notice_views(session, [_notice(session, no)], department_names)[0]


def staff_notices(session: Session, *, actor: audit.Actor, day: dt.date,
                  department_names: dict[str, str]) -> list[NoticeView]:
    """Every notice for the regulators' page, newest first."""
    regulator_role(actor, day)
    rows = list(session.scalars(select(EcRiskNotice).order_by(EcRiskNotice.id.desc()).limit(200)))
    return _notice_views(session, rows, department_names)


def notice_history(session: Session, no: str) -> list[Any]:
    """The case events of a notice (publish, withdraw)."""
    return case_history(session, NOTICE_CASE, _notice(session, no).id)
