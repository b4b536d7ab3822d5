"""Pure rules of the civic credit points and grades: score one subject, explain it, say what would change it.

No database, no web, no clock: the record facts, the list memberships, the model, the catalog and
``today`` are passed in. The vectorised batch (``scores.batch``) uses :func:`record_weight_windows`
and :func:`contribution` from here, so the two paths cannot drift apart.

How a record counts (all integers, so every path computes the same numbers):
1. Only a record that is displayed today counts: not revoked, not held after a credit notice, its
   display not stopped (repair) and its display period not over (``disclosure.rules.is_displayed``).
2. Its raw points: by severity from the model, or for quantity items ``points × ⌊quantity / unit⌋``
   (quantity and unit compared in the field's minor units).
3. Its weight by age (decay steps, thousandths) from the decision date; a negative record stops
   counting at its display end, a positive one at the model's ``ends``.
4. Contribution = raw × weight / 1000, rounded half away from zero, per record.
Dimension totals are clipped to the dimension's caps; the total is ``base`` + the dimensions, clipped
to the range; the band follows, then list memberships may cap the band (黑名单 → the lowest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from chengxin.catalog.model import Catalog, Category, Duration, ItemVersion, Severity
from chengxin.catalog.rules import add_duration
from chengxin.disclosure.expiry import last_decision_date_ended
from chengxin.disclosure.rules import ACTIVE, display_window, is_displayed
from chengxin.scores.model import Band, ItemRule, PointsModel


@dataclass(frozen=True, slots=True)
class RecordFact:
    """What the rules need of one record (``record`` head columns + the quantity field, if any)."""

    record_id: int
    item_code: str
    severity: str | None
    decision_date: dt.date
    status: str = ACTIVE
    display_stopped_on: dt.date | None = None
    display_from: dt.date | None = None
    quantity: Decimal | None = None  # the model's per-unit field of this record (e.g. service_hours)
    under_objection: bool = False


@dataclass(frozen=True, slots=True)
class Membership:
    list_kind: str
    entry_id: int | None = None
    term_from: dt.date | None = None
    term_to: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    """One record (or list membership) that moved the score."""

    record_id: int | None
    item_code: str
    name_zh: str
    dimension: str
    severity: str | None
    decision_date: dt.date | None
    raw_points: int
    weight_milli: int
    points: int  # raw × weight, rounded; before dimension caps
    counts_until: dt.date | None  # first day it no longer counts (None: while displayed)
    next_step_on: dt.date | None  # first day its weight steps down (None: no further step)
    next_points: int | None  # its points from ``next_step_on``
    under_objection: bool = False
    list_kind: str | None = None


@dataclass(frozen=True, slots=True)
class DimensionTotal:
    code: str
    name_zh: str
    raw: int  # sum of contributions
    total: int  # clipped to the caps
    min: int
    max: int

    @property
    def capped(self) -> bool:
        return self.raw != self.total


@dataclass(frozen=True, slots=True)
class Change:
    """“What would change it”: one dated or conditional change, in Chinese and English."""

    kind: str  # stops | steps_down | more_units | band_cap
    on: dt.date | None
    delta: int  # points the total would move by (after caps)
    text_zh: str
    text_en: str
    record_id: int | None = None
    item_code: str | None = None
    units: Decimal | None = None


@dataclass(frozen=True)
class Score:
    model_id: str
    subject_kind: str
    day: dt.date
    total: int
    band: str
    band_name_zh: str
    points_band: str  # the band of the total before list caps
    dimensions: tuple[DimensionTotal, ...]
    contributions: tuple[Contribution, ...]
    capped_by: tuple[str, ...] = ()  # list kinds that capped the band
    changes: tuple[Change, ...] = field(default=())
    benefits: tuple[str, ...] = ()

    def dimension_totals(self) -> dict[str, int]:
        return {d.code: d.total for d in self.dimensions}


# -- one record ----------------------------------------------------------------------------------------


def round_half_away(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers (denominator > 0)."""
    q = (2 * abs(numerator) + denominator) // (2 * denominator)
    return q if numerator >= 0 else -q


def contribution(raw: int, weight_milli: int) -> int:
    return round_half_away(raw * weight_milli, 1000)


def quantity_points(rule: ItemRule, quantity: Decimal | None) -> int:
    """``points`` per whole ``unit`` of the quantity, rounded down (minor units: no float anywhere)."""
    unit = rule.per_unit
    assert unit is not None
    if quantity is None or quantity <= 0:
        return 0
    factor = Decimal(10) ** unit.scale
    minor = int((quantity * factor).to_integral_value(rounding=ROUND_FLOOR))
    return minor_points(minor, int(unit.unit * factor), unit.points)


def minor_points(quantity_minor: int, unit_minor: int, points: int) -> int:
    return (quantity_minor // unit_minor) * points


def raw_points(rule: ItemRule, severity: str | None, quantity: Decimal | None) -> int:
    if rule.per_unit is not None:
        return quantity_points(rule, quantity)
    return rule.points.get(severity, rule.points.get(None, 0))


def version_of(catalog: Catalog, item_code: str, day: dt.date) -> ItemVersion | None:
    try:
        return catalog.version_on(item_code, day)
    except KeyError:
        return None


def counting_end(rule: ItemRule, version: ItemVersion, severity: str | None, decision_date: dt.date) -> dt.date | None:
    """The first day the record stops counting by age (None: never by age)."""
    if rule.decay.ends is not None:
        return add_duration(decision_date, rule.decay.ends)
    if version.category is not Category.NEGATIVE:
        return None
    try:
        return display_window(version, severity, decision_date)[1]
    except KeyError:
        return None


def weight_on(rule: ItemRule, decision_date: dt.date, day: dt.date) -> tuple[int, dt.date | None, int | None]:
    """(weight today, first day of the next step or None, the next step's weight or None)."""
    weight = 0
    for i, step in enumerate(rule.decay.steps):
        if add_duration(decision_date, step.start) <= day:
            weight = step.weight_milli
            continue
        if i == 0:
            return 0, add_duration(decision_date, step.start), step.weight_milli
        return weight, add_duration(decision_date, step.start), step.weight_milli
    return weight, None, None


def score_record(model: PointsModel, catalog: Catalog, fact: RecordFact, day: dt.date) -> Contribution | None:
    """How one record counts today, or None when it does not count."""
    rule = model.items.get(fact.item_code)
    if rule is None:
        return None
    version = version_of(catalog, fact.item_code, fact.decision_date)
    if version is None:
        return None
    if version.severities and fact.severity not in {s.value for s in version.severities}:
        return None  # a severity the item version does not know scores nothing (the batch agrees)
    display_end = _display_end(version, fact)
    if not is_displayed(fact.status, fact.display_stopped_on, display_end, day, fact.display_from):
        return None
    until = counting_end(rule, version, fact.severity, fact.decision_date)
    if until is not None and day >= until:
        return None
    weight, next_on, next_weight = weight_on(rule, fact.decision_date, day)
    if weight == 0:
        return None
    raw = raw_points(rule, fact.severity, fact.quantity)
    if raw == 0:
        return None
    stop = min((d for d in (until, fact.display_stopped_on) if d is not None), default=None)
    if next_on is not None and stop is not None and next_on >= stop:
        next_on = next_weight = None
    return Contribution(
        record_id=fact.record_id, item_code=fact.item_code, name_zh=rule.name_zh, dimension=rule.dimension,
        severity=fact.severity, decision_date=fact.decision_date, raw_points=raw, weight_milli=weight,
        points=contribution(raw, weight), counts_until=stop, next_step_on=next_on,
        next_points=contribution(raw, next_weight) if next_weight is not None else None,
        under_objection=fact.under_objection,
    )


def _display_end(version: ItemVersion, fact: RecordFact) -> dt.date | None:
    try:
        return display_window(version, fact.severity, fact.decision_date)[1]
    except KeyError:
        return None


# -- one subject ---------------------------------------------------------------------------------------


def current_memberships(memberships: Iterable[Membership], day: dt.date) -> list[Membership]:
    return [m for m in memberships
            if (m.term_from is None or m.term_from <= day) and (m.term_to is None or day <= m.term_to)]


def combine(model: PointsModel, dim_raw: Sequence[int], list_kinds: Iterable[str]) -> tuple[
        list[int], int, Band, Band, tuple[str, ...]]:
    """From raw dimension sums (membership points included) to clipped dimensions, total, band, cap.

    Shared by the rules and the batch (which calls it on arrays' rows only for checks)."""
    dims = [min(max(raw, d.min), d.max) for raw, d in zip(dim_raw, model.dimensions, strict=True)]
    total = min(max(model.base + sum(dims), model.range_min), model.range_max)
    points_band = band = model.band_of(total)
    capped_by: list[str] = []
    for kind in sorted(set(list_kinds)):
        rule = model.memberships.get(kind)
        if rule is not None and rule.cap_band is not None and model.band_rank(rule.cap_band) > model.band_rank(band.code):
            band = model.band(rule.cap_band)
            capped_by.append(kind)
        elif rule is not None and rule.cap_band is not None and model.band_rank(rule.cap_band) > model.band_rank(
                points_band.code):
            capped_by.append(kind)
    return dims, total, points_band, band, tuple(capped_by)


def score_subject(
    model: PointsModel,
    catalog: Catalog,
    facts: Iterable[RecordFact],
    memberships: Iterable[Membership],
    day: dt.date,
    *,
    explain: bool = True,
) -> Score:
    """The score of one subject on ``day``: total, band, dimension totals, contributions, what would change it."""
    contributions = [c for c in (score_record(model, catalog, f, day) for f in facts) if c is not None]
    members = current_memberships(memberships, day)
    for m in members:
        rule = model.memberships.get(m.list_kind)
        if rule is not None and rule.points and rule.dimension is not None:
            contributions.append(Contribution(
                record_id=None, item_code=f"list:{m.list_kind}", name_zh=_LIST_NAMES.get(m.list_kind, m.list_kind),
                dimension=rule.dimension, severity=None, decision_date=m.term_from, raw_points=rule.points,
                weight_milli=1000, points=rule.points, counts_until=m.term_to + dt.timedelta(days=1) if m.term_to else None,
                next_step_on=None, next_points=None, list_kind=m.list_kind))
    dim_raw = _dim_raw(model, contributions)
    dims, total, points_band, band, capped_by = combine(model, dim_raw, [m.list_kind for m in members])
    dimensions = tuple(
        DimensionTotal(d.code, d.name_zh, raw, clipped, d.min, d.max)
        for d, raw, clipped in zip(model.dimensions, dim_raw, dims, strict=True)
    )
    contributions.sort(key=lambda c: (-abs(c.points), c.decision_date or dt.date.min, c.record_id or 0))
    score = Score(model.id, model.subject_kind.value, day, total, band.code, band.name_zh, points_band.code,
                  dimensions, tuple(contributions), capped_by, (), band.benefits)
    if not explain:
        return score
    changes = what_would_change(model, score, [m.list_kind for m in members])
    return Score(model.id, model.subject_kind.value, day, total, band.code, band.name_zh, points_band.code,
                 dimensions, tuple(contributions), capped_by, tuple(changes), band.benefits)


_LIST_NAMES = {"red": "守信激励对象名单（红名单）", "black": "严重失信主体名单（黑名单）", "watch": "重点关注名单"}


def _dim_raw(model: PointsModel, contributions: Iterable[Contribution]) -> list[int]:
    index = {d.code: i for i, d in enumerate(model.dimensions)}
    raw = [0] * len(model.dimensions)
    for c in contributions:
        raw[index[c.dimension]] += c.points
    return raw


def _total_with(model: PointsModel, contributions: Sequence[Contribution], list_kinds: Sequence[str]) -> int:
    return combine(model, _dim_raw(model, contributions), list_kinds)[1]


def what_would_change(model: PointsModel, score: Score, list_kinds: Sequence[str]) -> list[Change]:
    """Dated changes (a record stops counting, its weight steps down) and conditional ones (more units).

    Each dated change is computed on its own against today's other contributions (caps included)."""
    out: list[Change] = []
    contribs = list(score.contributions)
    for i, c in enumerate(contribs):
        if c.record_id is None:
            continue
        others = contribs[:i] + contribs[i + 1:]
        if c.next_step_on is not None and c.next_points is not None:
            stepped = [*others, _replace_points(c, c.next_points)]
            delta = _total_with(model, stepped, list_kinds) - score.total
            if delta:
                out.append(Change(
                    "steps_down", c.next_step_on, delta,
                    f"{c.name_zh}（{c.decision_date}）自 {c.next_step_on} 起按 {c.next_points} 分计，总分变动 {delta:+d}",
                    f"{c.item_code} of {c.decision_date} counts {c.next_points} from {c.next_step_on}: {delta:+d}",
                    record_id=c.record_id, item_code=c.item_code))
        if c.counts_until is not None:
            delta = _total_with(model, others, list_kinds) - score.total
            if delta:
                out.append(Change(
                    "stops", c.counts_until, delta,
                    f"{c.name_zh}（{c.decision_date}）自 {c.counts_until} 起不再计分，总分变动 {delta:+d}",
                    f"{c.item_code} of {c.decision_date} stops counting on {c.counts_until}: {delta:+d}",
                    record_id=c.record_id, item_code=c.item_code))
    out.sort(key=lambda ch: (ch.on or dt.date.max, ch.record_id or 0))
    out.extend(_more_units(model, score, list_kinds))
    if score.capped_by:
        names = "、".join(_LIST_NAMES.get(k, k) for k in score.capped_by)
        out.append(Change("band_cap", None, 0, f"列入{names}期间，等级最高为“{score.band_name_zh}”",
                          f"while on the {', '.join(score.capped_by)} list the band is at most {score.band}"))
    return out


def _replace_points(c: Contribution, points: int) -> Contribution:
    return Contribution(c.record_id, c.item_code, c.name_zh, c.dimension, c.severity, c.decision_date, c.raw_points,
                        c.weight_milli, points, c.counts_until, None, None, c.under_objection, c.list_kind)


def _more_units(model: PointsModel, score: Score, list_kinds: Sequence[str]) -> list[Change]:
    """For quantity items: what ``hint`` more units would add, and how many would reach the next band."""
    out: list[Change] = []
    rank = model.band_rank(score.points_band)
    target = model.bands[rank - 1] if rank > 0 else None
    for rule in model.items.values():
        unit = rule.per_unit
        if unit is None:
            continue
        full = rule.decay.steps[0].weight_milli

        def gain(units: Decimal, rule: ItemRule = rule, full: int = full) -> int:
            extra = Contribution(None, rule.item_code, rule.name_zh, rule.dimension, None, score.day, 0, full,
                                 contribution(quantity_points(rule, units), full), None, None, None)
            return _total_with(model, [*score.contributions, extra], list_kinds) - score.total

        delta = gain(unit.hint)
        label = _UNIT_LABELS.get(unit.field, ("单位", "units"))
        if delta > 0:
            out.append(Change("more_units", None, delta,
                              f"再增加 {_show(unit.hint)} {label[0]}{rule.name_zh}，可加 {delta} 分",
                              f"{_show(unit.hint)} more {label[1]} of {rule.item_code} would add {delta} points",
                              item_code=rule.item_code, units=unit.hint))
        if target is not None:
            needed = target.min - score.total
            steps = -(-needed * unit.unit // unit.points) if needed > 0 else Decimal(0)
            units = Decimal(steps)
            if needed > 0 and gain(units) >= needed:
                out.append(Change("more_units", None, needed,
                                  f"再增加 {_show(units)} {label[0]}{rule.name_zh}，可达到“{target.name_zh}”",
                                  f"{_show(units)} more {label[1]} of {rule.item_code} would reach band {target.code}",
                                  item_code=rule.item_code, units=units))
    return out


_UNIT_LABELS = {"service_hours": ("小时", "hours"), "amount": ("元", "CNY")}


def _show(d: Decimal) -> str:
    return format(d.normalize(), "f")


# -- the batch's view of the same rules ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeightWindow:
    """Records of ``item_code`` with ``severity`` decided in [``decided_from``, ``decided_to``] count with
    ``weight_milli`` on the given day, ``raw`` points each (None: per-unit, from the quantity)."""

    item_code: str
    severity: str | None
    decided_from: dt.date
    decided_to: dt.date
    weight_milli: int
    raw: int | None
    dimension: str


def record_weight_windows(model: PointsModel, catalog: Catalog, day: dt.date) -> list[WeightWindow]:
    """Every (item, severity, decision-date window) that counts on ``day``, with its weight.

    The same facts as :func:`score_record` applied to every decision date: a record counts with step
    k's weight when ``add(d, start_k) <= day < add(d, start_{k+1})`` and ``day < counting_end``;
    ``last_decision_date_ended`` turns each such condition into a decision-date bound (``add_duration``
    never decreases as d grows). Stopped, held and revoked records are filtered by the batch's query.
    """
    out: list[WeightWindow] = []
    for code in sorted(model.items):
        rule = model.items[code]
        for version in catalog.item(code).versions:
            v_from = version.effective_from
            v_to = min(version.effective_to or day, day)
            if v_to < v_from:
                continue
            severities: list[str | None] = [s.value for s in version.severities] or [None]
            for severity in severities:
                raw = None if rule.per_unit is not None else rule.points.get(severity, rule.points.get(None, 0))
                if raw == 0:
                    continue
                low = v_from  # decisions on or after this day …
                for end_period in _end_periods(rule, version, severity):  # … whose display and count go on
                    low = max(low, last_decision_date_ended(end_period, day) + dt.timedelta(days=1))
                steps = rule.decay.steps
                for k, step in enumerate(steps):
                    hi = min(v_to, last_decision_date_ended(step.start, day))  # step k reached
                    lo = low
                    if k + 1 < len(steps):  # … and step k+1 not yet reached
                        lo = max(lo, last_decision_date_ended(steps[k + 1].start, day) + dt.timedelta(days=1))
                    if lo <= hi and step.weight_milli:
                        out.append(WeightWindow(code, severity, lo, hi, step.weight_milli, raw, rule.dimension))
    return out


def _end_periods(rule: ItemRule, version: ItemVersion, severity: str | None) -> list[Duration]:
    """The durations after the decision date at which a record stops counting: its display end (公示期满)
    and the model's own end, where either exists."""
    out = [rule.decay.ends] if rule.decay.ends is not None else []
    key = Severity(severity) if severity is not None else None
    period = version.display_periods.get(key) or version.display_periods.get(None)
    if period is not None and period.max is not None:
        out.append(period.max)
    return out


def band_counts(model: PointsModel, bands: Iterable[str]) -> dict[str, int]:
    counts = {b.code: 0 for b in model.bands}
    for b in bands:
        counts[b] = counts.get(b, 0) + 1
    return counts


def membership_from_status(m: Mapping[str, object]) -> Membership:
    """A membership as ``subject_list_status.memberships`` carries it (ISO dates)."""
    def day(v: object) -> dt.date | None:
        return dt.date.fromisoformat(v) if isinstance(v, str) and v else None
    entry = m.get("entry_id")
    return Membership(str(m.get("list")), entry if isinstance(entry, int) else None, day(m.get("term_from")),
                      day(m.get("term_to")))
