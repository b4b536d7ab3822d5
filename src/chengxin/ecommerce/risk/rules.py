"""Pure rules of e-commerce risk (no database, no clock: ``today`` / ``now`` are passed in).

- **Who works on findings** (:func:`staff_role`): the clerks (and API keys) of the regulators named in
  ``data/findings.yaml`` act as ``department``; the credit office and admins as ``office``.
- **Shop risk warning** (:func:`shop_risk`, 商家信用风险预警, 实施意见 四(四)): points from the shop's
  findings, complaints, its owner's negative records and list memberships and its rating trend, each
  capped, summed into a score and read as a level (低 / 中 / 高 / 极高) with one reason per source that
  gave points — weights, caps and levels from ``data/warning.yaml``.
- **Platform assessment** (:func:`assess_platform`, 第三方评估): components 0..1 from the share of shops
  with findings, how fast confirmed findings were acted on, licence-display coverage and complaints,
  weighted into a score 0..100 and a grade — ``data/assessment.yaml``; :func:`parse_period`.
- **Reading a finding**: pseudonymous account labels, the orders' time pattern as bins and a small SVG,
  shared attributes, bipartite density, and the values of the record a confirmation submits
  (:func:`record_values`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from chengxin.catalog.model import Duration
from chengxin.catalog.rules import add_duration
from chengxin.ecommerce.risk.config import LEVEL_ORDER, AssessmentParams, KindParams, WarningParams

__all__ = [
    "KIND_ZH", "LEVEL_ZH", "ActionFact", "Assessment", "Component", "FindingFact", "Period", "PlatformFacts",
    "RatingTrend", "Reason", "RecordFact", "ShopFacts", "ShopRisk", "TimeBin", "assess_platform",
    "bipartite_density", "confidence_zh", "content_hash", "fingerprint_key", "notice_number", "parse_period", "pseudonym",
    "record_source_id", "record_values", "shared_attributes", "shop_risk", "staff_role", "time_bins",
    "timeline_svg",
]

KIND_ZH = {"order_brushing": "刷单炒信", "fake_traffic": "虚假流量（好评注水）", "malicious_review": "恶意评价",
           "empty_parcel": "空包裹"}
LEVEL_ZH = {"low": "低", "medium": "中", "high": "高", "severe": "极高"}
SEVERITY_ZH = {"minor": "轻微失信", "general": "一般失信", "serious": "严重失信"}
LIST_ZH = {"red": "红名单", "black": "严重失信主体名单", "watch": "重点关注名单"}

DEPARTMENT = "department"
OFFICE = "office"


def staff_role(kind: str, role: str | None, department: str | None, regulators: Sequence[str]) -> str | None:
    """``department`` for a regulator's clerk or API key, ``office`` for the credit office and admins,
    None for anyone else (another department's clerk, a platform key, the public)."""
    if kind == "staff" and role in ("admin", "credit_office"):
        return OFFICE
    if kind in ("staff", "api_key") and department and department in regulators:
        return DEPARTMENT
    if kind in ("cli", "system"):
        return OFFICE
    return None


# -- the shop risk warning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingFact:
    """One finding in which the shop acted (not one where it was a victim)."""

    kind: str
    status: str  # open | confirmed (dismissed ones never count)
    confidence: float
    decided_on: dt.date | None = None


@dataclass(frozen=True)
class RecordFact:
    """One negative record of the shop's owner, on display."""

    item_code: str
    severity: str | None
    decision_date: dt.date


@dataclass(frozen=True)
class RatingTrend:
    """Buyer-to-shop ratings of the last 30 and 180 days (good ones and all)."""

    good_30d: int = 0
    rated_30d: int = 0
    good_180d: int = 0
    rated_180d: int = 0


@dataclass(frozen=True)
class ShopFacts:
    findings: tuple[FindingFact, ...] = ()
    complaints: int | None = None  # None: no complaint source is connected (the seam)
    records: tuple[RecordFact, ...] = ()
    lists: frozenset[str] = frozenset()
    ratings: RatingTrend = field(default_factory=RatingTrend)


@dataclass(frozen=True)
class Reason:
    code: str  # findings_open | findings_confirmed | complaints | records | list_<kind> | rating_trend | …
    points: float
    text_zh: str
    text_en: str

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "points": round(self.points, 1), "text_zh": self.text_zh, "text_en": self.text_en}


@dataclass(frozen=True)
class ShopRisk:
    score: float
    level: str
    level_zh: str
    rank: int  # 0 low … 3 severe
    reasons: tuple[Reason, ...]
    parameter_version: str


def _cap(points: float, cap: float) -> float:
    return max(-cap, min(points, cap))


def shop_risk(facts: ShopFacts, params: WarningParams, today: dt.date) -> ShopRisk:
    """商家信用风险预警: the shop's level and the reasons for it, under the rule version ``params``."""
    reasons: list[Reason] = []
    w = params.findings
    open_ = [f for f in facts.findings if f.status == "open"]
    if open_:
        raw = sum(w.open_points * max(0.0, min(1.0, f.confidence)) for f in open_)
        pts = _cap(raw, w.open_cap)
        kinds = "、".join(sorted({KIND_ZH.get(f.kind, f.kind) for f in open_}))
        top = max(f.confidence for f in open_)
        reasons.append(Reason("findings_open", pts, f"待研判的监测线索 {len(open_)} 条（{kinds}），最高置信度 {top:.2f}",
                              f"{len(open_)} open finding(s) ({', '.join(sorted({f.kind for f in open_}))}), "
                              f"highest confidence {top:.2f}"))
    since = today - dt.timedelta(days=w.confirmed_days)
    confirmed = [f for f in facts.findings if f.status == "confirmed" and (f.decided_on is None or f.decided_on >= since)]
    if confirmed:
        pts = _cap(w.confirmed_points * len(confirmed), w.confirmed_cap)
        kinds = "、".join(sorted({KIND_ZH.get(f.kind, f.kind) for f in confirmed}))
        reasons.append(Reason("findings_confirmed", pts,
                              f"近 {w.confirmed_days} 天经监管部门确认的失信线索 {len(confirmed)} 条（{kinds}）",
                              f"{len(confirmed)} finding(s) confirmed by a regulator in the last {w.confirmed_days} days"))
    if facts.complaints is None:
        reasons.append(Reason("complaints_unavailable", 0.0, "投诉举报数据未接入，本项未计分",
                              "No complaint data connected; not scored"))
    elif facts.complaints > 0:
        c = params.complaints
        pts = _cap(c.points_per_complaint * facts.complaints, c.cap)
        reasons.append(Reason("complaints", pts, f"消费者投诉举报 {facts.complaints} 件",
                              f"{facts.complaints} consumer complaint(s)"))
    r = params.records
    start = add_duration(today, Duration(years=-r.lookback_duration.years, months=-r.lookback_duration.months,
                                         days=-r.lookback_duration.days))
    recent = [x for x in facts.records if start <= x.decision_date <= today]
    if recent:
        pts = _cap(sum(r.points.get(x.severity or "general", r.points.get("general", 0.0)) for x in recent), r.cap)
        by: dict[str, int] = {}
        for x in recent:
            by[x.severity or "general"] = by.get(x.severity or "general", 0) + 1
        detail = "、".join(f"{SEVERITY_ZH.get(k, k)} {n} 条" for k, n in sorted(by.items(), key=lambda kv: kv[0]))
        reasons.append(Reason("records", pts, f"店铺经营者自 {start} 起有公示中的失信记录 {len(recent)} 条（{detail}）",
                              f"The owner has {len(recent)} negative record(s) on display since {start}"))
    floor_rank = 0
    for kind in ("black", "watch", "red"):
        if kind in facts.lists and kind in params.lists:
            lw = params.lists[kind]
            if lw.floor is not None:
                floor_rank = max(floor_rank, LEVEL_ORDER.index(lw.floor))
            reasons.append(Reason(f"list_{kind}", lw.points, f"店铺经营者在{LIST_ZH[kind]}中",
                                  f"The owner is on the {kind} list"))
    t = params.rating_trend
    rt = facts.ratings
    if rt.rated_30d >= t.min_ratings_30d and rt.rated_180d > 0:
        rate_30 = rt.good_30d / rt.rated_30d
        rate_180 = rt.good_180d / rt.rated_180d
        drop_pp = (rate_180 - rate_30) * 100
        if drop_pp > t.tolerance_pp:
            pts = _cap((drop_pp - t.tolerance_pp) * t.points_per_pp, t.cap)
            reasons.append(Reason("rating_trend", pts,
                                  f"近 30 天好评率 {rate_30:.1%}，较近 6 个月 {rate_180:.1%} 下降 {drop_pp:.1f} 个百分点",
                                  f"Good-rating rate {rate_30:.1%} in 30 days vs {rate_180:.1%} in 6 months "
                                  f"(down {drop_pp:.1f} pp)"))
    score = max(0.0, round(sum(x.points for x in reasons), 1))
    rank = 0
    for lv in params.levels:
        if score >= lv.min_score:
            rank = LEVEL_ORDER.index(lv.code)
    if floor_rank > rank:
        rank = floor_rank
        reasons.append(Reason("level_floor", 0.0, f"因名单身份，风险等级不低于“{LEVEL_ZH[LEVEL_ORDER[rank]]}”",
                              f"List membership sets the level to at least {LEVEL_ORDER[rank]}"))
    level = LEVEL_ORDER[rank]
    reasons.sort(key=lambda x: -abs(x.points))
    return ShopRisk(score=score, level=level, level_zh=params.level(level).name_zh if level in
                    {lv.code for lv in params.levels} else LEVEL_ZH[level], rank=rank, reasons=tuple(reasons),
                    parameter_version=params.version)


# -- the platform assessment ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    code: str  # 2026-Q3 | 2026-H1 | 2026-07 | 2026
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label_zh(self) -> str:
        if "-Q" in self.code:
            return f"{self.start.year}年第{self.code[-1]}季度"
        if "-H" in self.code:
            return f"{self.start.year}年{'上' if self.code.endswith('1') else '下'}半年"
        if len(self.code) == 7:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年"


_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|H([12])|(0[1-9]|1[0-2])))?$")


def parse_period(text: str) -> Period:
    """``2026-Q3`` → 2026-07-01..2026-09-30; also ``2026-H1``, ``2026-07`` and ``2026``. Raises ValueError."""
    raw = (text or "").strip().upper()
    m = _PERIOD.match(raw)
    if m is None or not 2000 <= int(m.group(1)) <= 2999:
        raise ValueError(f"not a period (2026-Q3, 2026-H1, 2026-07, 2026): {text!r}")
    year = int(m.group(1))
    if m.group(2):
        q = int(m.group(2))
        start, months = dt.date(year, 3 * q - 2, 1), 3
    elif m.group(3):
        h = int(m.group(3))
        start, months = dt.date(year, 6 * h - 5, 1), 6
    elif m.group(4):
        start, months = dt.date(year, int(m.group(4)), 1), 1
    else:
        start, months = dt.date(year, 1, 1), 12
    end = add_duration(start, Duration(months=months)) - dt.timedelta(days=1)
    return Period(raw, start, end)


@dataclass(frozen=True)
class ActionFact:
    """One finding confirmed in the period: days from confirmation to the platform's action (None: not
    acted on yet) and whether its deadline had passed when the assessment was made."""

    days: float | None
    deadline_passed: bool


@dataclass(frozen=True)
class PlatformFacts:
    shops_total: int
    shops_with_findings: int
    actions: tuple[ActionFact, ...]
    open_shops: int
    licensed_shops: int
    orders: int
    complaints: int | None  # None: no complaint source (seam)


@dataclass(frozen=True)
class Component:
    value: float | None  # 0..1; None: not applicable (its weight goes to the others)
    weight: float
    text_zh: str

    def as_json(self) -> dict[str, Any]:
        return {"value": None if self.value is None else round(self.value, 4), "weight": self.weight,
                "text_zh": self.text_zh}


@dataclass(frozen=True)
class Assessment:
    score: float
    grade: str
    grade_zh: str
    components: dict[str, Component]
    acted_timely: int
    counted_actions: int
    median_action_days: float | None
    parameter_version: str


def assess_platform(facts: PlatformFacts, params: AssessmentParams) -> Assessment:
    """第三方评估 of one platform for one period (see data/assessment.yaml for each component)."""
    w = params.weights
    comps: dict[str, Component] = {}
    if facts.shops_total > 0:
        share = facts.shops_with_findings / facts.shops_total
        comps["findings"] = Component(max(0.0, 1 - share / params.findings_share_zero_at), w.get("findings", 0.0),
                                      f"{facts.shops_with_findings}/{facts.shops_total} 家店铺有监测线索（{share:.1%}）")
    else:
        comps["findings"] = Component(None, w.get("findings", 0.0), "平台无店铺，不适用")
    counted = [a for a in facts.actions if a.days is not None or a.deadline_passed]
    timely = sum(1 for a in counted if a.days is not None and a.days <= params.action_days)
    acted_days = sorted(a.days for a in facts.actions if a.days is not None)
    median = None
    if acted_days:
        mid = len(acted_days) // 2
        median = acted_days[mid] if len(acted_days) % 2 else (acted_days[mid - 1] + acted_days[mid]) / 2
    if counted:
        comps["action"] = Component(timely / len(counted), w.get("action", 0.0),
                                    f"确认的线索 {len(counted)} 条中 {timely} 条在 {params.action_days} 天内处置")
    else:
        comps["action"] = Component(None, w.get("action", 0.0), "本期无已到处置期限的确认线索，不适用")
    if facts.open_shops > 0:
        comps["licence"] = Component(facts.licensed_shops / facts.open_shops, w.get("licence", 0.0),
                                     f"{facts.licensed_shops}/{facts.open_shops} 家营业中店铺亮照且经营者已核验")
    else:
        comps["licence"] = Component(None, w.get("licence", 0.0), "无营业中店铺，不适用")
    if facts.complaints is None:
        comps["complaints"] = Component(None, w.get("complaints", 0.0), "投诉举报数据未接入，不适用")
    else:
        per_1000 = facts.complaints * 1000 / facts.orders if facts.orders else 0.0
        comps["complaints"] = Component(max(0.0, 1 - per_1000 / params.complaints_per_1000_zero_at),
                                        w.get("complaints", 0.0), f"每千笔订单投诉 {per_1000:.2f} 件")
    applied = [c for c in comps.values() if c.value is not None and c.weight > 0]
    total_w = sum(c.weight for c in applied)
    score = round(100 * sum(c.weight * (c.value or 0.0) for c in applied) / total_w, 1) if total_w else 0.0
    grade = params.grades[-1]
    for g in params.grades:
        if score >= g.min_score:
            grade = g
            break
    return Assessment(score=score, grade=grade.code, grade_zh=grade.name_zh, components=comps, acted_timely=timely,
                      counted_actions=len(counted), median_action_days=median, parameter_version=params.version)


# -- reading a finding ------------------------------------------------------------------------------------


def pseudonym(account_hash: str) -> str:
    """The label analysts see for a buyer account: the first 8 hex digits of the platform's own keyed hash
    (already pseudonymous — we never hold account names), enough to tell accounts apart on one page."""
    return f"账户 {account_hash[:8]}…"


def fingerprint_key(fingerprint: str) -> str:
    """The stored key of a detector's fingerprint (kept as given up to 128 characters, else hashed)."""
    return fingerprint if len(fingerprint) <= 128 else "sha256:" + hashlib.sha256(fingerprint.encode()).hexdigest()


def content_hash(payload: Mapping[str, Any]) -> str:
    """What a detector said about a finding, canonically hashed: a re-run that says the same is unchanged."""
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)).hexdigest()


@dataclass(frozen=True)
class TimeBin:
    start: dt.datetime
    count: int


def time_bins(times: Iterable[dt.datetime], *, bins: int = 24) -> list[TimeBin]:
    """The orders' times in ``bins`` equal intervals between the first and the last (a burst shows as a
    tall narrow bar); an empty list for no times."""
    ts = sorted(times)
    if not ts:
        return []
    first, last = ts[0], ts[-1]
    span = (last - first).total_seconds()
    if span <= 0:
        return [TimeBin(first, len(ts))]
    width = span / bins
    counts = [0] * bins
    for t in ts:
        counts[min(bins - 1, int((t - first).total_seconds() / width))] += 1
    return [TimeBin(first + dt.timedelta(seconds=i * width), c) for i, c in enumerate(counts)]


def timeline_svg(bins: Sequence[TimeBin], *, width: int = 480, height: int = 80, tz: dt.tzinfo = dt.UTC) -> str:
    """A small bar chart of ``bins`` as inline SVG (no script), labelled with the first and last time."""
    if not bins:
        return ""
    top = max(b.count for b in bins) or 1
    bar = width / len(bins)
    body = []
    for i, b in enumerate(bins):
        h = 0 if b.count == 0 else max(1.0, (height - 20) * b.count / top)
        label = html.escape(f"{b.start.astimezone(tz):%Y-%m-%d %H:%M} 起 {b.count} 笔")
        body.append(f'<rect x="{i * bar + 1:.1f}" y="{height - 16 - h:.1f}" width="{max(bar - 2, 1):.1f}" '
                    f'height="{h:.1f}" fill="#b03a2e"><title>{label}</title></rect>')
    first = html.escape(f"{bins[0].start.astimezone(tz):%m-%d %H:%M}")
    last = html.escape(f"{bins[-1].start.astimezone(tz):%m-%d %H:%M}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="下单时间分布" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}">{"".join(body)}'
            f'<text x="0" y="{height - 2}" font-size="11">{first}</text>'
            f'<text x="{width}" y="{height - 2}" font-size="11" text-anchor="end">{last}</text>'
            f'<text x="0" y="11" font-size="11">峰值 {top} 笔/格</text></svg>')


def shared_attributes(rows: Iterable[tuple[int, str | None, str | None, str | None]]) -> dict[str, dict[str, int]]:
    """For (buyer account, address hash, device hash, payment hash) rows: per attribute, how many accounts
    and how many distinct values, and how many values are used by more than one account (counts only,
    never the values)."""
    out: dict[str, dict[str, int]] = {}
    cols: dict[str, dict[str, set[int]]] = {"address": {}, "device": {}, "payment": {}}
    accounts: set[int] = set()
    for buyer, *values in rows:
        accounts.add(buyer)
        for name, value in zip(("address", "device", "payment"), values, strict=True):
            if value:
                cols[name].setdefault(value, set()).add(buyer)
    for name, by_value in cols.items():
        shared = [v for v in by_value.values() if len(v) > 1]
        out[name] = {"accounts": len(accounts), "distinct": len(by_value), "shared_values": len(shared),
                     "accounts_sharing": len(set().union(*shared)) if shared else 0}
    return out


def bipartite_density(pairs: Iterable[tuple[int, int]]) -> tuple[int, int, int, float]:
    """(buyers, shops, distinct buyer–shop edges, density = edges / (buyers × shops)) of a finding's orders."""
    edges = set(pairs)
    buyers = {b for b, _ in edges}
    shops = {s for _, s in edges}
    n = len(buyers) * len(shops)
    return len(buyers), len(shops), len(edges), (len(edges) / n if n else 0.0)


# -- what a confirmation records --------------------------------------------------------------------------


def record_source_id(finding_id: int, subject_id: int) -> str:
    """One record per (finding, subject): confirming again (after a crash, a double click) is "unchanged"."""
    return f"ECF-{finding_id}-{subject_id}"


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def record_values(kind: KindParams, *, finding_id: int, subject_id: int, subject_kind: str,
                  identifier: str, subject_name: str, buyer: bool, platform_name: str, shop_name: str | None,
                  shop_url: str | None, order_count: int, amount_cents: int,
                  period: tuple[dt.date, dt.date] | None, summary_zh: str, note: str | None, severity: str,
                  decided_on: dt.date, decision_no: str | None, authority_name: str,
                  target_shop: str | None = None) -> dict[str, Any]:
    """The row a confirmed finding submits through the record path (catalog item ``kind.item``)."""
    fields = dict(kind.buyer_fields or kind.fields) if buyer else dict(kind.fields)
    facts = kind.facts_prefix_zh + summary_zh + (f"研判意见：{note}" if note else "")
    values: dict[str, Any] = {
        "source_id": record_source_id(finding_id, subject_id),
        "subject_name": subject_name,
        "ric" if subject_kind == "person" else "uscc": identifier,
        "decision_date": decided_on.isoformat(),
        "severity": severity,
        "platform_name": platform_name[:100],
        "facts": facts[:2000],
        "authority_name": authority_name[:200],
        **fields,
    }
    if decision_no:
        values["decision_no"] = decision_no[:64]
    if shop_name and not buyer:
        values["shop_name"] = shop_name[:200]
    if shop_url and not buyer:
        values["shop_url"] = shop_url[:500]
    if kind.item == "ec_order_brushing":
        values["fake_orders"] = max(1, order_count)
        values["fake_amount"] = _yuan(max(0, amount_cents))
    elif kind.item == "ec_fake_traffic":
        values["volume"] = order_count
        if period is not None:
            values["period_from"], values["period_to"] = period[0].isoformat(), period[1].isoformat()
    elif kind.item == "ec_malicious_review":
        values["review_count"] = max(1, order_count)
        if target_shop:
            values["target_shop"] = target_shop[:200]
    return values


def notice_number(year: int, notice_id: int) -> str:
    """The public number of a risk notice: 风险提示 FX-<year>-<id, 6 digits>."""
    return f"FX-{year}-{notice_id:06d}"


def confidence_zh(confidence: float) -> str:
    """How an analyst reads a confidence."""
    if math.isnan(confidence):
        return "—"
    band = "很高" if confidence >= 0.9 else "高" if confidence >= 0.75 else "中" if confidence >= 0.5 else "低"
    return f"{confidence:.2f}（{band}）"
