"""名单认定标准 — the list criteria and their dated parameters, loaded from ``data/criteria.yaml``.

The criteria are data with effective dates (RULES.md §4): each one says which list it feeds, for
which kinds of subject, on which records (``conditions``), for how long (``term``), on what basis
(认定依据, published with every entry), whether notice and a defence period come first (black and
watch lists: 浙江条例第二十八条) or public display (red list: 河南条例第二十八条), and the entry and
exit conditions and remedies published with the list (上海条例第二十五条).

:func:`parse_criteria` refuses bad data with a message naming the criterion and the field: unknown
item codes, fields or option values (checked against the catalog), unknown list or subject kinds,
unknown condition kinds, band codes that no score model for the criterion's subject kinds has, bad
dates, overlapping versions of one criterion, a black-list criterion outside the four fields of
国办发〔2020〕49号, a black or watch criterion without notice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chengxin.catalog.model import Catalog, Duration, FieldType
from chengxin.catalog.rules import InvalidDuration, parse_duration
from chengxin.lists.models import BLACK, LIST_KINDS, RED, WATCH
from chengxin.scores.model import ModelError, get_models

__all__ = [
    "BLACK_DOMAINS", "CRITERIA_FILE", "Criteria", "CriteriaError", "Criterion", "DatedParameter", "NoNegative",
    "RecordsCondition", "SEVERITY_RANK", "ScoreBand", "load_criteria", "parse_criteria",
]

CRITERIA_FILE = Path(__file__).resolve().parent / "data" / "criteria.yaml"

# 国办发〔2020〕49号: the serious-dishonesty list only in these four fields.
BLACK_DOMAINS = {
    "health_safety": "严重危害人民群众身体健康和生命安全",
    "fair_competition": "严重破坏市场公平竞争秩序和社会正常秩序",
    "refuse_obligations": "有履行能力但拒不履行、逃避执行法定义务，情节严重",
    "national_defence": "拒不履行国防义务",
}
SEVERITY_RANK = {"minor": 1, "general": 2, "serious": 3}
SUBJECT_KINDS = ("person", "organization")
_PARAMETERS = ("defence_working_days", "red_publicity_days")
# The band codes of the score models (scores/data/models), per subject kind: what a ``score_band``
# condition may name. Passed in for tests; by default read from the shipped models, on first need.
BandCodes = Mapping[str, frozenset[str]]


class CriteriaError(ValueError):
    """The criteria file is invalid; the message names the file, the criterion and the field."""


@dataclass(frozen=True)
class RecordsCondition:
    """At least ``min_count`` displayed records of these items (severity ≥, field values, recent)."""

    items: tuple[str, ...]
    min_severity: str | None = None
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    min_count: int = 1
    within_days: int | None = None  # decision date in [day - within_days, day]


@dataclass(frozen=True)
class NoNegative:
    """No displayed negative record of severity ≥ ``min_severity`` decided in [day - within_days, day]."""

    min_severity: str
    within_days: int


@dataclass(frozen=True)
class ScoreBand:
    """The subject's stored score (``score_current``: 文明信用积分 for persons, 信用等级 for
    organisations) is in one of these bands on the day; no stored score: not met."""

    bands: tuple[str, ...]


Condition = RecordsCondition | NoNegative | ScoreBand


@dataclass(frozen=True)
class Criterion:
    code: str
    version: str
    effective_from: dt.date
    effective_to: dt.date | None  # inclusive; None: open-ended
    list_kind: str
    name_zh: str
    name_en: str
    subject_kinds: frozenset[str]
    authority: str  # 认定部门 (department code) of entries proposed by this rule
    conditions: tuple[Condition, ...]
    term: Duration | None  # None: until removed by decision
    notice_required: bool
    publicity: bool
    basis_zh: str
    entry_zh: str
    exit_zh: str
    remedies_zh: str
    domain: str | None = None  # black list: one of BLACK_DOMAINS

    def in_force_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    @property
    def items(self) -> frozenset[str]:
        return frozenset(i for c in self.conditions if isinstance(c, RecordsCondition) for i in c.items)

    @property
    def bands(self) -> frozenset[str]:
        """The score bands any ``score_band`` condition of this criterion accepts (empty: none)."""
        return frozenset(b for c in self.conditions if isinstance(c, ScoreBand) for b in c.bands)

    @property
    def domain_zh(self) -> str:
        return BLACK_DOMAINS.get(self.domain or "", "")


@dataclass(frozen=True)
class DatedParameter:
    name: str
    description_zh: str
    basis: str
    values: tuple[tuple[dt.date, int], ...]  # oldest first

    def on(self, day: dt.date) -> int:
        current = self.values[0][1]
        for since, value in self.values:
            if since <= day:
                current = value
        return current


@dataclass(frozen=True)
class Criteria:
    criteria: tuple[Criterion, ...]
    parameters: Mapping[str, DatedParameter]

    def in_force(self, day: dt.date, list_kind: str | None = None) -> list[Criterion]:
        return [c for c in self.criteria if c.in_force_on(day) and (list_kind is None or c.list_kind == list_kind)]

    def on(self, code: str, day: dt.date) -> Criterion | None:
        return next((c for c in self.criteria if c.code == code and c.in_force_on(day)), None)

    def version(self, code: str, version: str | None) -> Criterion | None:
        return next((c for c in self.criteria if c.code == code and c.version == version), None)

    def codes(self) -> list[str]:
        return sorted({c.code for c in self.criteria})

    def defence_working_days(self, day: dt.date) -> int:
        return self.parameters["defence_working_days"].on(day)

    def red_publicity_days(self, day: dt.date) -> int:
        return self.parameters["red_publicity_days"].on(day)


# -- parsing ----------------------------------------------------------------------------------------


def _fail(where: str, message: str) -> CriteriaError:
    return CriteriaError(f"{where}: {message}")


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"{key}: required text")
    return " ".join(value.split())


def _date(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> dt.date | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise _fail(where, f"{key}: expected a date YYYY-MM-DD, got {value!r}")
    return value


def _positive_int(raw: Mapping[str, Any], key: str, where: str, *, default: int | None = None) -> int | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(where, f"{key}: expected a whole number ≥ 1, got {value!r}")
    return value


def _severity(raw: Mapping[str, Any], key: str, where: str, *, required: bool) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if value not in SEVERITY_RANK:
        raise _fail(where, f"{key}: expected one of {', '.join(SEVERITY_RANK)}, got {value!r}")
    return str(value)


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    if unknown := sorted(set(raw) - allowed):
        raise _fail(where, f"unknown keys: {', '.join(map(str, unknown))}")


def _records_condition(raw: Any, where: str, catalog: Catalog) -> RecordsCondition:
    if not isinstance(raw, dict):
        raise _fail(where, "records: expected a mapping")
    _only(raw, {"items", "min_severity", "fields", "min_count", "within_days"}, where)
    items = raw.get("items")
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise _fail(where, "items: expected a non-empty list of catalog item codes")
    for code in items:
        if code not in catalog.items:
            raise _fail(where, f"items: unknown catalog item {code!r}")
    severity = _severity(raw, "min_severity", where, required=False)
    fields_raw = raw.get("fields") or {}
    if not isinstance(fields_raw, dict):
        raise _fail(where, "fields: expected a mapping field → [values]")
    fields: dict[str, tuple[str, ...]] = {}
    for name, values in fields_raw.items():
        if not isinstance(values, list) or not values:
            raise _fail(where, f"fields.{name}: expected a non-empty list of values")
        values_t = tuple(str(v) for v in values)
        for code in items:
            specs = [f for v in catalog.items[code].versions for f in v.fields if f.code == name]
            if not specs:
                raise _fail(where, f"fields.{name}: item {code!r} has no field {name!r}")
            options = {o.value for s in specs if s.type is FieldType.ENUM for o in s.options}
            if options and (bad := [v for v in values_t if v not in options]):
                raise _fail(where, f"fields.{name}: {bad} not among the options of {code!r} ({sorted(options)})")
        fields[str(name)] = values_t
    return RecordsCondition(items=tuple(items), min_severity=severity, fields=fields,
                            min_count=_positive_int(raw, "min_count", where, default=1) or 1,
                            within_days=_positive_int(raw, "within_days", where))


def _score_band_condition(raw: Any, where: str, kinds: frozenset[str], band_codes: Callable[[], BandCodes],
                          ) -> ScoreBand:
    if not isinstance(raw, dict):
        raise _fail(where, "score_band: expected a mapping {bands: [band codes]}")
    if unknown := sorted(map(str, set(raw) - {"bands"})):
        raise _fail(where, f"score_band: unknown keys: {', '.join(unknown)} (it takes bands: [band codes])")
    bands = raw.get("bands")
    if not isinstance(bands, list) or not bands or not all(isinstance(b, str) and b for b in bands):
        raise _fail(where, "score_band.bands: expected a non-empty list of band codes, e.g. [excellent, good]")
    known = frozenset().union(*(band_codes().get(k, frozenset()) for k in kinds))
    if unknown := [b for b in bands if b not in known]:
        raise _fail(where, f"score_band.bands: {unknown} is no band of a score model for "
                           f"{', '.join(sorted(kinds))} (known: {', '.join(sorted(known)) or 'none'})")
    if len(set(bands)) != len(bands):
        raise _fail(where, "score_band.bands: a band is named twice")
    return ScoreBand(tuple(bands))


def _condition(raw: Any, where: str, catalog: Catalog, kinds: frozenset[str],
               band_codes: Callable[[], BandCodes]) -> Condition:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise _fail(where, "each condition is a mapping with exactly one kind: records | no_negative | score_band")
    [(kind, body)] = raw.items()
    if kind == "score_band":
        return _score_band_condition(body, where, kinds, band_codes)
    if kind == "records":
        return _records_condition(body, where, catalog)
    if kind == "no_negative":
        if not isinstance(body, dict):
            raise _fail(where, "no_negative: expected a mapping")
        _only(body, {"min_severity", "within_days"}, where)
        severity = _severity(body, "min_severity", where, required=True)
        within = _positive_int(body, "within_days", where)
        if severity is None or within is None:
            raise _fail(where, "no_negative: needs min_severity and within_days")
        return NoNegative(severity, within)
    raise _fail(where, f"unknown condition kind {kind!r} (records | no_negative | score_band)")


_CRITERION_KEYS = {"code", "version", "effective_from", "effective_to", "list", "domain", "name_zh", "name_en",
                   "subject_kinds", "authority", "conditions", "term", "notice_required", "publicity", "basis_zh",
                   "entry_zh", "exit_zh", "remedies_zh"}


def _criterion(raw: Any, index: int, catalog: Catalog, band_codes: Callable[[], BandCodes]) -> Criterion:
    where = f"criteria[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping")
    code = raw.get("code")
    if not isinstance(code, str) or not code:
        raise _fail(where, "code: required")
    where = f"criteria[{index}] ({code})"
    _only(raw, _CRITERION_KEYS, where)
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise _fail(where, "version: required text, e.g. \"2021.1\"")
    where = f"criteria[{index}] ({code} {version})"
    start = _date(raw, "effective_from", where)
    end = _date(raw, "effective_to", where, required=False)
    assert start is not None
    if end is not None and end < start:
        raise _fail(where, f"effective_to {end} is before effective_from {start}")
    list_kind = raw.get("list")
    if list_kind not in LIST_KINDS:
        raise _fail(where, f"list: expected one of {', '.join(LIST_KINDS)}, got {list_kind!r}")
    kinds = raw.get("subject_kinds")
    if not isinstance(kinds, list) or not kinds or any(k not in SUBJECT_KINDS for k in kinds):
        raise _fail(where, f"subject_kinds: expected a non-empty list of {', '.join(SUBJECT_KINDS)}, got {kinds!r}")
    authority = raw.get("authority", "credit_office")
    if authority not in catalog.departments:
        raise _fail(where, f"authority: unknown department {authority!r}")
    conditions_raw = raw.get("conditions")
    if not isinstance(conditions_raw, list) or not conditions_raw:
        raise _fail(where, "conditions: expected a non-empty list")
    conditions = tuple(_condition(c, f"{where} conditions[{i}]", catalog, frozenset(kinds), band_codes)
                       for i, c in enumerate(conditions_raw))
    # Something positive must single the subject out (a record or a score band): "no negative
    # record" alone would put every subject on the list.
    if not any(isinstance(c, RecordsCondition | ScoreBand) for c in conditions):
        raise _fail(where, "conditions: at least one 'records' or 'score_band' condition is needed")
    term_raw = raw.get("term")
    term = None
    if term_raw is not None:
        try:
            term = parse_duration(term_raw)
        except InvalidDuration as exc:
            raise _fail(where, f"term: {exc}") from exc
    notice = raw.get("notice_required")
    publicity = raw.get("publicity", False)
    if not isinstance(notice, bool) or not isinstance(publicity, bool):
        raise _fail(where, "notice_required and publicity: true or false")
    domain = raw.get("domain")
    if list_kind == BLACK:
        # 国办发〔2020〕49号: the serious-dishonesty list only in four fields.
        if domain not in BLACK_DOMAINS:
            raise _fail(where, f"domain: a black-list criterion names one of {', '.join(BLACK_DOMAINS)}")
    elif domain is not None:
        raise _fail(where, "domain: only black-list criteria have one")
    if list_kind == BLACK and not any(isinstance(c, RecordsCondition) for c in conditions):
        # 国办发〔2020〕49号: serious dishonesty rests on decisions and judgements (records), never on a
        # computed score alone.
        raise _fail(where, "conditions: a black-list criterion needs a 'records' condition (a score is no basis)")
    if list_kind in (BLACK, WATCH) and not notice:
        # 浙江条例第二十八条、河南条例第二十八条: notice of reasons and basis before listing.
        raise _fail(where, "notice_required: black and watch lists need notice and a defence period")
    if list_kind == RED and not publicity:
        raise _fail(where, "publicity: red-list candidates are displayed before confirmation (河南条例第二十八条)")
    if list_kind != RED and publicity:
        raise _fail(where, "publicity: only red-list criteria have a publicity period")
    return Criterion(
        code=code, version=version, effective_from=start, effective_to=end, list_kind=list_kind,
        name_zh=_text(raw, "name_zh", where), name_en=_text(raw, "name_en", where), subject_kinds=frozenset(kinds),
        authority=authority, conditions=conditions, term=term, notice_required=notice, publicity=publicity,
        basis_zh=_text(raw, "basis_zh", where), entry_zh=_text(raw, "entry_zh", where),
        exit_zh=_text(raw, "exit_zh", where), remedies_zh=_text(raw, "remedies_zh", where), domain=domain)


def _parameter(name: str, raw: Any, source: str) -> DatedParameter:
    where = f"{source}: parameters.{name}"
    if not isinstance(raw, dict):
        raise CriteriaError(f"{where}: expected a mapping")
    values = raw.get("values")
    if not isinstance(values, list) or not values:
        raise CriteriaError(f"{where}: values: expected a non-empty list of {{effective_from, value}}")
    out: list[tuple[dt.date, int]] = []
    for i, v in enumerate(values):
        if not isinstance(v, dict):
            raise CriteriaError(f"{where}.values[{i}]: expected {{effective_from, value}}")
        day = _date(v, "effective_from", f"{where}.values[{i}]")
        value = _positive_int(v, "value", f"{where}.values[{i}]")
        assert day is not None and value is not None
        out.append((day, value))
    if [d for d, _ in out] != sorted({d for d, _ in out}):
        raise CriteriaError(f"{where}: values must be oldest first, one per date")
    return DatedParameter(name, _text(raw, "description_zh", where), _text(raw, "basis", where), tuple(out))


def _model_band_codes(catalog: Catalog) -> BandCodes:
    """Band codes per subject kind over every score model version (drafts included: a criterion may
    name a band of the next model before it takes effect)."""
    out: dict[str, set[str]] = {}
    try:
        models = get_models(catalog)
    except ModelError as exc:
        raise CriteriaError(f"score_band: the score models do not load: {exc}") from exc
    for model in models.by_id.values():
        out.setdefault(str(model.subject_kind), set()).update(b.code for b in model.bands)
    return {kind: frozenset(codes) for kind, codes in out.items()}


def parse_criteria(text: str, catalog: Catalog, source: str = "<string>", *,
                   band_codes: BandCodes | None = None) -> Criteria:
    """Parse and check a criteria file. ``band_codes`` (subject kind → score band codes) defaults
    to the shipped score models, read only if a ``score_band`` condition needs them."""
    cache: list[BandCodes] = [band_codes] if band_codes is not None else []

    def bands() -> BandCodes:
        if not cache:
            cache.append(_model_band_codes(catalog))
        return cache[0]

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CriteriaError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) != {"parameters", "criteria"}:
        raise CriteriaError(f"{source}: expected exactly two sections: parameters, criteria")
    params_raw = raw["parameters"]
    if not isinstance(params_raw, dict):
        raise CriteriaError(f"{source}: parameters: expected a mapping")
    if missing := sorted(set(_PARAMETERS) - set(params_raw)):
        raise CriteriaError(f"{source}: parameters: missing {', '.join(missing)}")
    if unknown := sorted(set(params_raw) - set(_PARAMETERS)):
        raise CriteriaError(f"{source}: parameters: unknown {', '.join(map(str, unknown))}")
    parameters = {name: _parameter(name, params_raw[name], source) for name in _PARAMETERS}
    if not isinstance(raw["criteria"], list) or not raw["criteria"]:
        raise CriteriaError(f"{source}: criteria: expected a non-empty list")
    try:
        criteria = [_criterion(c, i, catalog, bands) for i, c in enumerate(raw["criteria"])]
    except CriteriaError as exc:
        raise CriteriaError(f"{source}: {exc}") from exc
    by_code: dict[str, list[Criterion]] = {}
    for c in criteria:
        by_code.setdefault(c.code, []).append(c)
    for code, versions in by_code.items():
        if len({v.version for v in versions}) != len(versions):
            raise CriteriaError(f"{source}: {code}: the same version appears twice")
        if len({v.list_kind for v in versions}) != 1:
            raise CriteriaError(f"{source}: {code}: all versions of a criterion feed the same list")
        ordered = sorted(versions, key=lambda v: v.effective_from)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if a.effective_to is None or a.effective_to >= b.effective_from:
                raise CriteriaError(
                    f"{source}: {code}: versions {a.version} and {b.version} overlap "
                    f"({a.effective_from}–{a.effective_to or '…'} and {b.effective_from}–)")
    return Criteria(tuple(criteria), parameters)


def load_criteria(catalog: Catalog, path: Path = CRITERIA_FILE) -> Criteria:
    """The criteria checked against ``catalog`` (cached per catalog object and file)."""
    cached = _CACHE.get((id(catalog), path))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    found = parse_criteria(path.read_text(encoding="utf-8"), catalog, str(path))
    _CACHE[(id(catalog), path)] = (catalog, found)  # the catalog is kept, so its id is never reused
    return found


_CACHE: dict[tuple[int, Path], tuple[Catalog, Criteria]] = {}
