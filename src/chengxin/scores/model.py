"""The points model (积分模型) as data: types, the loader that refuses bad models, the fairness guard.

A model is one YAML file in ``scores/data/models/`` named ``<family>-<version>.yaml``: ``civic``
(个人文明信用积分, persons) or ``grade`` (信用等级, organisations). Several versions of a family
coexist; the one in force on a day (``effective_from``/``effective_to``) is the published one, the
others are drafts to compare (``chengxin scores compare``) or history. Every stored score names its
model (``model_id``: ``civic-2025.1``).

Weights are kept as integers in thousandths (``weight_milli``) and every contribution is rounded per
record, so the per-subject rules and the vectorised batch compute the same integers, bit for bit.

The fairness guard (RULES.md §7, 个人信息保护法第二十四、二十八条): the loader refuses a model that names a
forbidden attribute (``data/forbidden_attributes.yaml``) as a field it reads, as a dimension, or
through a catalog item whose fields are such attributes (e.g. 自然人基本身份信息: 性别, 出生日期).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

import yaml

from chengxin.catalog.model import Catalog, Category, Duration, FieldSpec, FieldType, Severity, SubjectKind
from chengxin.catalog.rules import parse_duration

DATA_DIR = Path(__file__).parent / "data"
MODELS_DIR = DATA_DIR / "models"
FAMILIES = {"civic": SubjectKind.PERSON, "grade": SubjectKind.ORGANIZATION}
LIST_KINDS = ("red", "black", "watch")  # lists.models.LIST_KINDS (kept here: the loader must not need the DB layer)
DISPLAY_END = "display_end"
KNOWN_SIGNALS: frozenset[str] = frozenset()  # e-commerce signals (issue #7) register their names here


class ModelError(ValueError):
    """A model file is wrong: says which file and which key, in Chinese and English."""

    def __init__(self, file: str, key: str | None, message_zh: str, message_en: str) -> None:
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {message_en}")
        self.file, self.key, self.message_zh, self.message_en = file, key, message_zh, message_en
        self.where = where


class FairnessViolation(ModelError):
    """The model would use an attribute the rules forbid (个人信息保护法第二十四、二十八条)."""


# -- types -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dimension:
    code: str
    name_zh: str
    name_en: str
    min: int  # the dimension's total is clipped to [min, max] (caps per dimension)
    max: int


@dataclass(frozen=True, slots=True)
class DecayStep:
    start: Duration  # from this age (counted from the decision date) on …
    weight_milli: int  # … the record counts with this weight (thousandths)


@dataclass(frozen=True, slots=True)
class Decay:
    steps: tuple[DecayStep, ...]  # first step starts at P0D, weights never increase
    ends: Duration | None  # None: at the record's display end (公示期满); no end if the display has none


@dataclass(frozen=True, slots=True)
class PerUnit:
    field: str  # the catalog field holding the quantity (e.g. service_hours)
    unit: Decimal  # ``points`` per ``unit`` of the quantity, per record, rounded down
    points: int
    scale: int  # digits after the point of the catalog field (quantities are compared in these minor units)
    hint: Decimal  # "``hint`` more units would add N points" in explanations


@dataclass(frozen=True, slots=True)
class ItemRule:
    item_code: str
    dimension: str
    points: Mapping[str | None, int]  # severity → points (None: items without severities)
    per_unit: PerUnit | None
    decay: Decay
    name_zh: str = ""


@dataclass(frozen=True, slots=True)
class MembershipRule:
    list_kind: str
    dimension: str | None = None
    points: int = 0
    cap_band: str | None = None


@dataclass(frozen=True, slots=True)
class Benefit:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Band:
    code: str
    name_zh: str
    name_en: str
    min: int  # inclusive
    benefits: tuple[str, ...]


@dataclass(frozen=True)
class PointsModel:
    family: str
    version: str
    subject_kind: SubjectKind
    name_zh: str
    name_en: str
    effective_from: dt.date
    effective_to: dt.date | None
    basis: str
    base: int
    range_min: int
    range_max: int
    dimensions: tuple[Dimension, ...]
    items: Mapping[str, ItemRule]
    memberships: Mapping[str, MembershipRule]
    bands: tuple[Band, ...]  # from the top (highest ``min``) down; the last one's ``min`` is ``range_min``
    benefits: Mapping[str, Benefit]
    signals: tuple[str, ...] = ()
    source: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def id(self) -> str:
        return f"{self.family}-{self.version}"

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def band_of(self, total: int) -> Band:
        for band in self.bands:
            if total >= band.min:
                return band
        return self.bands[-1]

    def band_rank(self, code: str) -> int:
        """0 for the top band; larger is lower."""
        return [b.code for b in self.bands].index(code)

    def band(self, code: str) -> Band:
        return self.bands[self.band_rank(code)]

    def dimension_index(self, code: str) -> int:
        return [d.code for d in self.dimensions].index(code)


@dataclass(frozen=True)
class ForbiddenAttribute:
    code: str
    name_zh: str
    basis: str
    tokens: frozenset[str]  # English, lower case: compared with the parts of a field code
    words: tuple[str, ...]  # Chinese: substrings of a field's label or code
    field_types: frozenset[str]
    item_level: bool


@dataclass(frozen=True)
class Models:
    """Every model version, by id, and the forbidden attributes they were checked against."""

    by_id: Mapping[str, PointsModel]
    forbidden: tuple[ForbiddenAttribute, ...]
    forbidden_basis: str

    def get(self, model_id: str) -> PointsModel:
        try:
            return self.by_id[model_id]
        except KeyError:
            raise KeyError(model_id) from None

    def family(self, family: str) -> list[PointsModel]:
        return sorted((m for m in self.by_id.values() if m.family == family), key=lambda m: m.effective_from)

    def in_force(self, subject_kind: SubjectKind | str, day: dt.date) -> PointsModel | None:
        kind = SubjectKind(subject_kind)
        found = [m for m in self.by_id.values() if m.subject_kind is kind and m.in_force_on(day)]
        return max(found, key=lambda m: m.effective_from) if found else None


# -- the fairness guard --------------------------------------------------------------------------------


def load_forbidden(path: Path | None = None) -> tuple[tuple[ForbiddenAttribute, ...], str]:
    path = path or DATA_DIR / "forbidden_attributes.yaml"
    file = path.name
    data = _read_yaml(path, file)
    ctx = _Ctx(file)
    raw = ctx.mapping(data, None)
    basis = ctx.text(raw.get("basis"), "basis")
    out = []
    for i, entry in enumerate(ctx.sequence(raw.get("attributes"), "attributes")):
        where = f"attributes[{i}]"
        e = ctx.mapping(entry, where)
        ctx.no_unknown(e, {"code", "name_zh", "basis", "match", "field_types", "item_level"}, where)
        words = [ctx.text(w, f"{where}.match") for w in ctx.sequence(e.get("match"), f"{where}.match")]
        out.append(ForbiddenAttribute(
            code=ctx.text(e.get("code"), f"{where}.code"), name_zh=ctx.text(e.get("name_zh"), f"{where}.name_zh"),
            basis=ctx.text(e.get("basis"), f"{where}.basis"),
            tokens=frozenset(w.lower() for w in words if w.isascii()),
            words=tuple(w for w in words if not w.isascii()),
            field_types=frozenset(str(t) for t in (e.get("field_types") or [])),
            item_level=bool(e.get("item_level", True)),
        ))
    if not out:
        ctx.fail("attributes", "禁止使用的属性清单不能为空", "the list of forbidden attributes is empty")
    return tuple(out), basis


def forbidden_match(name: str, forbidden: tuple[ForbiddenAttribute, ...], *, label_zh: str = "",
                    field_type: str | None = None, item_level: bool = False) -> ForbiddenAttribute | None:
    """The forbidden attribute ``name`` (a field or dimension code) or its label is, if any."""
    tokens = {t for t in re.split(r"[^a-z0-9]+", f"{name} {label_zh}".lower()) if t}
    joined = f"{name} {label_zh}".lower()
    for attr in forbidden:
        if item_level and not attr.item_level:
            continue
        if field_type is not None and field_type in attr.field_types:
            return attr
        if tokens & attr.tokens or any(t in joined for t in attr.tokens if "_" in t):
            return attr
        if any(w in label_zh or w in name for w in attr.words):
            return attr
    return None


def _field_violation(spec: FieldSpec, forbidden: tuple[ForbiddenAttribute, ...], *,
                     item_level: bool) -> ForbiddenAttribute | None:
    return forbidden_match(spec.code, forbidden, label_zh=spec.label_zh, field_type=spec.type.value,
                           item_level=item_level)


# -- loading ----------------------------------------------------------------------------------------


def load_models(catalog: Catalog, directory: Path | None = None, forbidden_path: Path | None = None) -> Models:
    """Every model file of ``directory``, checked against the catalog and the fairness guard."""
    forbidden, basis = load_forbidden(forbidden_path)
    directory = directory or MODELS_DIR
    by_id: dict[str, PointsModel] = {}
    for path in sorted(directory.glob("*.yaml")):
        model = parse_model(_read_yaml(path, path.name), catalog, forbidden, file=path.name)
        if path.stem != model.id:
            raise ModelError(path.name, None, f"文件名应为 {model.id}.yaml", f"the file should be named {model.id}.yaml")
        by_id[model.id] = model
    for family in {m.family for m in by_id.values()}:
        versions = sorted((m for m in by_id.values() if m.family == family), key=lambda m: m.effective_from)
        for a, b in zip(versions, versions[1:], strict=False):
            if a.effective_from == b.effective_from:
                raise ModelError(f"{b.id}.yaml", "effective_from", f"与 {a.id} 的生效日期相同",
                                 f"same effective date as {a.id}")
            if a.effective_to is not None and a.effective_to >= b.effective_from:
                raise ModelError(f"{a.id}.yaml", "effective_to", f"与 {b.id} 的有效期重叠",
                                 f"overlaps the validity of {b.id}")
    return Models(by_id, forbidden, basis)


@lru_cache(maxsize=4)
def get_models(catalog: Catalog) -> Models:
    """The shipped models, loaded once per catalog object (a catalog hashes by identity)."""
    return load_models(catalog)


_TOP_KEYS = frozenset({
    "family", "version", "subject_kind", "name_zh", "name_en", "effective_from", "effective_to", "basis", "base",
    "range", "dimensions", "decay", "items", "memberships", "bands", "benefits", "signals",
})


def parse_model(data: Any, catalog: Catalog, forbidden: tuple[ForbiddenAttribute, ...], *,
                file: str = "<model>") -> PointsModel:
    """Build and check one model; raises :class:`ModelError` (or :class:`FairnessViolation`) naming the key."""
    ctx = _Ctx(file)
    raw = ctx.mapping(data, None)
    ctx.no_unknown(raw, _TOP_KEYS, None)
    family = ctx.text(raw.get("family"), "family")
    if family not in FAMILIES:
        ctx.fail("family", f"未知的模型类别 {family}（应为 civic 或 grade）", f"unknown family {family!r} (civic or grade)")
    version = ctx.text(raw.get("version"), "version")
    if not re.fullmatch(r"[0-9]{4}\.[0-9]+", version):
        ctx.fail("version", "版本号格式应为 年份.序号，如 2025.1", "version must look like 2025.1")
    try:
        kind = SubjectKind(ctx.text(raw.get("subject_kind"), "subject_kind"))
    except ValueError:
        ctx.fail("subject_kind", "主体类型应为 person 或 organization", "subject_kind must be person or organization")
    if kind is not FAMILIES[family]:
        ctx.fail("subject_kind", f"{family} 模型只适用于 {FAMILIES[family].value}",
                 f"a {family} model applies to {FAMILIES[family].value}")
    effective_from = ctx.day(raw.get("effective_from"), "effective_from")
    effective_to = ctx.day(raw["effective_to"], "effective_to") if raw.get("effective_to") is not None else None
    if effective_to is not None and effective_to < effective_from:
        ctx.fail("effective_to", "失效日期早于生效日期", "effective_to is before effective_from")
    base = ctx.integer(raw.get("base"), "base")
    rng = ctx.mapping(raw.get("range"), "range")
    ctx.no_unknown(rng, {"min", "max"}, "range")
    range_min, range_max = ctx.integer(rng.get("min"), "range.min"), ctx.integer(rng.get("max"), "range.max")
    if not range_min <= base <= range_max:
        ctx.fail("base", f"基础分 {base} 不在分值范围 {range_min}–{range_max} 内",
                 f"base {base} is outside the range {range_min}–{range_max}")

    dimensions: list[Dimension] = []
    for i, entry in enumerate(ctx.sequence(raw.get("dimensions"), "dimensions")):
        where = f"dimensions[{i}]"
        d = ctx.mapping(entry, where)
        ctx.no_unknown(d, {"code", "name_zh", "name_en", "min", "max"}, where)
        code = ctx.code(d.get("code"), f"{where}.code")
        if any(x.code == code for x in dimensions):
            ctx.fail(f"{where}.code", f"维度 {code} 重复", f"dimension {code} appears twice")
        name_zh = ctx.text(d.get("name_zh"), f"{where}.name_zh")
        hit = forbidden_match(code, forbidden, label_zh=name_zh)
        if hit is not None:
            _unfair(file, f"{where}.code", hit, f"维度“{name_zh}”")
        low, high = ctx.integer(d.get("min"), f"{where}.min"), ctx.integer(d.get("max"), f"{where}.max")
        if low > 0 or high < 0 or low > high:
            ctx.fail(where, "维度上下限应满足 min ≤ 0 ≤ max", "a dimension's caps must satisfy min <= 0 <= max")
        dimensions.append(Dimension(code, name_zh, ctx.text(d.get("name_en"), f"{where}.name_en"), low, high))
    if not dimensions:
        ctx.fail("dimensions", "至少需要一个维度", "at least one dimension is needed")
    dim_codes = {d.code for d in dimensions}

    decay_raw = ctx.mapping(raw.get("decay"), "decay")
    ctx.no_unknown(decay_raw, {"negative", "positive"}, "decay")
    decays = {cat: _decay(ctx, decay_raw.get(cat), f"decay.{cat}", allow_display_end=(cat == "negative"))
              for cat in ("negative", "positive")}

    items: dict[str, ItemRule] = {}
    for code, entry in ctx.mapping(raw.get("items"), "items").items():
        items[str(code)] = _item_rule(ctx, str(code), entry, catalog, kind, dim_codes, decays, forbidden)

    memberships: dict[str, MembershipRule] = {}
    bands_raw = ctx.sequence(raw.get("bands"), "bands")
    band_codes = [str(ctx.mapping(b, f"bands[{i}]").get("code")) for i, b in enumerate(bands_raw)]
    for list_kind, entry in ctx.mapping(raw.get("memberships") or {}, "memberships").items():
        where = f"memberships.{list_kind}"
        if list_kind not in LIST_KINDS:
            ctx.fail(where, f"未知的名单类型 {list_kind}", f"unknown list kind {list_kind!r}")
        m = ctx.mapping(entry, where)
        ctx.no_unknown(m, {"dimension", "points", "cap_band"}, where)
        dim = m.get("dimension")
        if dim is not None and dim not in dim_codes:
            ctx.fail(f"{where}.dimension", f"未知的维度 {dim}", f"unknown dimension {dim!r}")
        points = ctx.integer(m.get("points", 0), f"{where}.points")
        if points and dim is None:
            ctx.fail(where, "加减分须指明维度", "points need a dimension")
        cap = m.get("cap_band")
        if cap is not None and cap not in band_codes:
            ctx.fail(f"{where}.cap_band", f"未知的等级 {cap}", f"unknown band {cap!r}")
        memberships[str(list_kind)] = MembershipRule(str(list_kind), dim, points, cap)

    benefits: dict[str, Benefit] = {}
    for code, entry in ctx.mapping(raw.get("benefits") or {}, "benefits").items():
        b = ctx.mapping(entry, f"benefits.{code}")
        ctx.no_unknown(b, {"name_zh", "name_en"}, f"benefits.{code}")
        benefits[str(code)] = Benefit(str(code), ctx.text(b.get("name_zh"), f"benefits.{code}.name_zh"),
                                      ctx.text(b.get("name_en"), f"benefits.{code}.name_en"))

    bands: list[Band] = []
    for i, entry in enumerate(bands_raw):
        where = f"bands[{i}]"
        b = ctx.mapping(entry, where)
        ctx.no_unknown(b, {"code", "name_zh", "name_en", "min", "benefits"}, where)
        low = ctx.integer(b.get("min"), f"{where}.min")
        if bands and low >= bands[-1].min:
            ctx.fail(f"{where}.min", "等级须从高到低排列，下限严格递减", "bands go from the top down with decreasing min")
        perks = tuple(str(x) for x in (b.get("benefits") or []))
        for perk in perks:
            if perk not in benefits:
                ctx.fail(f"{where}.benefits", f"未定义的激励措施 {perk}", f"undefined benefit {perk!r}")
        code = ctx.code(b.get("code"), f"{where}.code")
        if any(x.code == code for x in bands):
            ctx.fail(f"{where}.code", f"等级 {code} 重复", f"band {code} appears twice")
        bands.append(Band(code, ctx.text(b.get("name_zh"), f"{where}.name_zh"),
                          ctx.text(b.get("name_en"), f"{where}.name_en"), low, perks))
    if len(bands) < 2:
        ctx.fail("bands", "至少需要两个等级", "at least two bands are needed")
    if bands[-1].min != range_min or bands[0].min > range_max:
        ctx.fail("bands", "最低等级的下限应等于分值范围下限，最高等级的下限不超过上限",
                 "the lowest band must start at range.min and the highest at most at range.max")

    signals = tuple(str(s) for s in (raw.get("signals") or []))
    for s in signals:
        if s not in KNOWN_SIGNALS:
            ctx.fail("signals", f"未知的信号 {s}（电子商务信号由 issue #7 提供）",
                     f"unknown signal {s!r} (e-commerce signals come with issue #7)")
    return PointsModel(
        family=family, version=version, subject_kind=kind, name_zh=ctx.text(raw.get("name_zh"), "name_zh"),
        name_en=ctx.text(raw.get("name_en"), "name_en"), effective_from=effective_from, effective_to=effective_to,
        basis=ctx.text(raw.get("basis"), "basis"), base=base, range_min=range_min, range_max=range_max,
        dimensions=tuple(dimensions), items=items, memberships=memberships, bands=tuple(bands), benefits=benefits,
        signals=signals, source=file, raw=raw,
    )


def _unfair(file: str, key: str, attr: ForbiddenAttribute, what: str) -> NoReturn:
    raise FairnessViolation(
        file, key,
        f"{what}涉及禁止使用的属性“{attr.name_zh}”（{attr.basis}）",
        f"{what} uses the forbidden attribute {attr.code} ({attr.basis})",
    )


def _decay(ctx: _Ctx, value: Any, where: str, *, allow_display_end: bool) -> Decay:
    d = ctx.mapping(value, where)
    ctx.no_unknown(d, {"steps", "ends"}, where)
    steps: list[DecayStep] = []
    for i, entry in enumerate(ctx.sequence(d.get("steps"), f"{where}.steps")):
        s = ctx.mapping(entry, f"{where}.steps[{i}]")
        ctx.no_unknown(s, {"from", "weight"}, f"{where}.steps[{i}]")
        start = ctx.duration(s.get("from"), f"{where}.steps[{i}].from")
        weight = ctx.decimal(s.get("weight"), f"{where}.steps[{i}].weight")
        milli = weight * 1000
        if milli != milli.to_integral_value() or not 0 <= milli <= 1000:
            ctx.fail(f"{where}.steps[{i}].weight", "权重应在 0 到 1 之间，最多三位小数",
                     "a weight is between 0 and 1 with at most 3 decimals")
        if steps:
            if _days_hint(start) <= _days_hint(steps[-1].start):
                ctx.fail(f"{where}.steps[{i}].from", "各阶段的起点须递增", "step ages must increase")
            if int(milli) > steps[-1].weight_milli:
                ctx.fail(f"{where}.steps[{i}].weight", "权重不能随时间增加", "weights may not grow with age")
        elif _days_hint(start) != 0:
            ctx.fail(f"{where}.steps[{i}].from", "第一阶段须从 P0D 开始", "the first step starts at P0D")
        steps.append(DecayStep(start, int(milli)))
    if not steps:
        ctx.fail(f"{where}.steps", "至少需要一个阶段", "at least one step is needed")
    ends_raw = d.get("ends")
    if ends_raw == DISPLAY_END:
        if not allow_display_end:
            ctx.fail(f"{where}.ends", "良好信息长期公示，须给出计分期限", "positive information needs a fixed end")
        ends = None
    else:
        ends = ctx.duration(ends_raw, f"{where}.ends")
        if _days_hint(ends) <= _days_hint(steps[-1].start):
            ctx.fail(f"{where}.ends", "计分期限须晚于最后一个阶段的起点", "ends must come after the last step")
    return Decay(tuple(steps), ends)


def _days_hint(d: Duration) -> int:
    return d.years * 366 + d.months * 31 + d.days


def _item_rule(ctx: _Ctx, code: str, entry: Any, catalog: Catalog, kind: SubjectKind, dims: set[str],
               decays: Mapping[str, Decay], forbidden: tuple[ForbiddenAttribute, ...]) -> ItemRule:
    where = f"items.{code}"
    try:
        item = catalog.item(code)
    except KeyError:
        ctx.fail(where, f"目录中没有目录项 {code}", f"no catalog item {code!r}")
    versions = item.versions
    # The fairness guard, item level: an item whose fields are forbidden attributes may not score.
    for version in versions:
        for spec in version.fields:
            hit = _field_violation(spec, forbidden, item_level=True)
            if hit is not None:
                _unfair(ctx.file, where, hit, f"目录项“{item.latest.name_zh}”的字段“{spec.label_zh}”")
    if not any(kind in v.subject_kinds for v in versions):
        ctx.fail(where, f"目录项 {code} 不适用于该主体类型", f"item {code} does not apply to {kind.value}")
    categories = {v.category for v in versions}
    if Category.BASIC in categories:
        ctx.fail(where, f"基础信息（{code}）不计分", f"basic information ({code}) never scores")
    category = next(iter(categories))
    e = ctx.mapping(entry, where)
    ctx.no_unknown(e, {"dimension", "points", "per_unit"}, where)
    dim = e.get("dimension")
    if dim not in dims:
        ctx.fail(f"{where}.dimension", f"未知的维度 {dim}", f"unknown dimension {dim!r}")
    severities = {s.value for v in versions for s in v.severities}
    points: dict[str | None, int] = {}
    per_unit: PerUnit | None = None
    raw_points = e.get("points")
    if category is Category.NEGATIVE:
        if e.get("per_unit") is not None:
            ctx.fail(f"{where}.per_unit", "失信信息按严重程度扣分，不按数量", "negative items score by severity")
        pts = ctx.mapping(raw_points, f"{where}.points")
        for sev, value in pts.items():
            if sev not in severities:
                ctx.fail(f"{where}.points.{sev}", f"目录项 {code} 没有严重程度 {sev}", f"item {code} has no severity {sev!r}")
            p = ctx.integer(value, f"{where}.points.{sev}")
            if p > 0:
                ctx.fail(f"{where}.points.{sev}", "失信信息只能扣分", "negative items may only deduct")
            points[str(sev)] = p
        missing = severities - set(points)
        if missing:
            ctx.fail(f"{where}.points", f"缺少严重程度 {', '.join(sorted(missing))} 的分值",
                     f"points missing for {', '.join(sorted(missing))}")
    else:
        if raw_points is not None:
            p = ctx.integer(raw_points, f"{where}.points")
            if p < 0:
                ctx.fail(f"{where}.points", "良好信息只能加分", "positive items may only add")
            points[None] = p
        if e.get("per_unit") is not None:
            per_unit = _per_unit(ctx, e["per_unit"], f"{where}.per_unit", versions, forbidden)
        if (raw_points is None) == (per_unit is None):
            ctx.fail(where, "良好信息须给出 points 或 per_unit（二者之一）", "positive items need points or per_unit (one)")
    return ItemRule(code, str(dim), points, per_unit, decays[category.value], item.latest.name_zh)


def _per_unit(ctx: _Ctx, value: Any, where: str, versions: Any, forbidden: tuple[ForbiddenAttribute, ...]) -> PerUnit:
    u = ctx.mapping(value, where)
    ctx.no_unknown(u, {"field", "unit", "points", "hint"}, where)
    name = ctx.text(u.get("field"), f"{where}.field")
    hit = forbidden_match(name, forbidden)
    specs = [f for v in versions for f in v.fields if f.code == name]
    if hit is None:
        for spec in specs:
            hit = _field_violation(spec, forbidden, item_level=False)
            if hit is not None:
                break
    if hit is not None:
        _unfair(ctx.file, f"{where}.field", hit, f"字段 {name} ")
    if not specs:
        ctx.fail(f"{where}.field", f"目录项没有字段 {name}", f"the item has no field {name!r}")
    if any(s.type not in (FieldType.DECIMAL, FieldType.INTEGER) for s in specs):
        ctx.fail(f"{where}.field", f"字段 {name} 不是数值", f"field {name} is not a number")
    unit = ctx.decimal(u.get("unit"), f"{where}.unit")
    points = ctx.integer(u.get("points"), f"{where}.points")
    if unit <= 0 or points <= 0:
        ctx.fail(where, "unit 和 points 须为正数", "unit and points must be positive")
    scale = max((s.scale or 0) for s in specs)
    if unit * 10**scale != (unit * 10**scale).to_integral_value():
        ctx.fail(f"{where}.unit", f"单位的小数位不能多于字段的 {scale} 位", f"unit has more decimals than the field ({scale})")
    hint = ctx.decimal(u.get("hint", unit), f"{where}.hint")
    return PerUnit(name, unit, points, scale, hint)


# -- YAML helpers ------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    pass


def _no_duplicates(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _read_yaml(path: Path, file: str) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ModelError(file, None, f"YAML 格式错误：{exc}", f"invalid YAML: {exc}") from exc
    except OSError as exc:
        raise ModelError(file, None, f"无法读取文件：{exc}", f"cannot read the file: {exc}") from exc


def read_model_text(text: str, catalog: Catalog, *, file: str = "<model>") -> PointsModel:
    """Parse a model given as YAML text (tests, the CLI's ``check`` of a draft file)."""
    forbidden, _ = load_forbidden()
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ModelError(file, None, f"YAML 格式错误：{exc}", f"invalid YAML: {exc}") from exc
    return parse_model(data, catalog, forbidden, file=file)


class _Ctx:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str | None, zh: str, en: str) -> NoReturn:
        raise ModelError(self.file, key, zh, en)

    def mapping(self, value: Any, where: str | None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, "应为映射（键: 值）", "must be a mapping")
        return value

    def sequence(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, "应为列表", "must be a list")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "缺少或不是文字", "missing or not text")
        return value.strip()

    def code(self, value: Any, where: str) -> str:
        text = self.text(value, where)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", text):
            self.fail(where, f"代码 {text} 只能含字母、数字和下划线", f"code {text!r} must be letters, digits, _")
        return text

    def integer(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, "应为整数", "must be an integer")
        return value

    def decimal(self, value: Any, where: str) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(where, "应为数值", "must be a number")
        try:
            return Decimal(str(value))
        except InvalidOperation:
            self.fail(where, "应为数值", "must be a number")

    def day(self, value: Any, where: str) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(where, "应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)")

    def duration(self, value: Any, where: str) -> Duration:
        if not isinstance(value, str):
            self.fail(where, "应为 ISO 8601 期间，如 P1Y", "must be an ISO 8601 duration such as P1Y")
        try:
            return parse_duration(value)
        except ValueError:
            self.fail(where, f"无效的期间 {value}", f"invalid duration {value!r}")

    def no_unknown(self, data: Mapping[str, Any], allowed: set[str] | frozenset[str], where: str | None) -> None:
        for key in data:
            if key not in allowed:
                self.fail(f"{where}.{key}" if where else str(key), f"未知的键 {key}", f"unknown key {key!r}")


__all__ = [
    "Band", "Benefit", "Decay", "DecayStep", "Dimension", "FairnessViolation", "ForbiddenAttribute", "ItemRule",
    "MembershipRule", "ModelError", "Models", "PerUnit", "PointsModel", "Severity", "forbidden_match", "get_models",
    "load_forbidden", "load_models", "parse_model", "read_model_text",
]
