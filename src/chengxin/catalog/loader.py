"""Load the information catalog (信用信息目录) from its versioned YAML data.

Layout of a catalog directory (the package's ``data/`` by default)::

    departments.yaml        a list of {code, name_zh, name_en, short_zh}
    items/<code>.yaml       one file per catalog item, named after its code

An item file::

    code: admin_penalty              # must equal the file name
    name_zh: 行政处罚信息
    name_en: Administrative penalties
    description_zh: ...              # optional
    subject_kinds: [organization, person]
    category: negative               # basic | positive | negative
    report_section: 行政管理          # a RULES §6 report section, see REPORT_SECTIONS
    key_group: food_drug             # optional tag (重点人群 / 重点领域)
    versions:
      - version: "2023.1"            # a string: quote it
        effective_from: 2023-05-01   # a YAML date
        effective_to: 2025-06-21     # inclusive; null or omitted = open-ended
        basis: 国家发展改革委令第58号
        severities: [general, serious]          # negative items only, and required there
        sharing: public                          # public | authorized | government
        public_for_persons: false
        display_periods:                         # one entry per listed severity, ISO 8601 durations
          general: {min: P3M, max: P1Y}          # min: before repair may be applied for (null: at once)
          serious: {min: P1Y, max: P3Y}          # max: display stops by itself (null: long-term)
        repairable: true
        repair: {training: false, rectification: false, credit_report: false}  # optional, repairable only:
                                                 # what an application needs beyond proof + commitment
        notice_required: false                   # optional: a credit notice (信用告知) precedes display
        departments: [samr, tax]                 # codes from departments.yaml
        fields: [...]                            # code, label_zh, label_en, type, required, max_length,
                                                 # pattern, minimum, maximum, scale, options, help_zh
        extra: {}                                # optional free-form notes for later rules

Non-negative items have no ``severities`` and a single ``display_periods`` entry ``default``.

**Inheritance rule.** Versions are listed oldest first. ``version``, ``effective_from`` and
``effective_to`` belong to each version. Every other version key may be omitted from a later
version, which then takes the *previous* version's value unchanged — whole values, never merged
(a version that changes one field restates the whole ``fields`` list). The first version must
state every key (``severities`` only for negative items; ``extra`` is always optional).

Validation is strict: an unknown key, an unknown enum value or department, version date ranges
that overlap or are out of order, a display period missing for a listed severity, a duration that
is not ``P[nY][nM][nD]``, an enum field without options, a duplicate field code, or a field code
that clashes with a common column, each stops the load with a :class:`CatalogError` naming the
file, item, version and key.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Hashable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import yaml

from chengxin.catalog.model import (
    Catalog,
    CatalogItem,
    Category,
    Department,
    DisplayPeriod,
    Duration,
    EnumOption,
    FieldSpec,
    FieldType,
    ItemVersion,
    RepairConditions,
    Severity,
    Sharing,
    SubjectKind,
)
from chengxin.catalog.rules import COMMON_COLUMN_CODES, InvalidDuration, add_duration, parse_duration

__all__ = ["DATA_DIR", "REPORT_SECTIONS", "CatalogError", "clear_catalog_cache", "load_catalog"]

DATA_DIR = Path(__file__).resolve().parent / "data"

# RULES §6: the sections of a credit report (信用中国 report layout V2.0).
REPORT_SECTIONS: tuple[str, ...] = (
    "基本信息",
    "行政管理",
    "诚实守信",
    "严重失信",
    "经营异常",
    "信用承诺",
    "信用评价",
    "司法判决",
    "其他",
)

_ITEM_KEYS = frozenset(
    {
        "code",
        "name_zh",
        "name_en",
        "description_zh",
        "subject_kinds",
        "category",
        "report_section",
        "key_group",
        "versions",
    }
)
_ITEM_REQUIRED = ("code", "name_zh", "name_en", "subject_kinds", "category", "report_section", "versions")
_OWN_VERSION_KEYS = frozenset({"version", "effective_from", "effective_to"})
_INHERITED_KEYS = (
    "basis",
    "severities",
    "sharing",
    "public_for_persons",
    "display_periods",
    "repairable",
    "repair",
    "notice_required",
    "departments",
    "fields",
    "extra",
)
_VERSION_KEYS = _OWN_VERSION_KEYS | frozenset(_INHERITED_KEYS)
_FIRST_VERSION_REQUIRED = (
    "basis",
    "sharing",
    "public_for_persons",
    "display_periods",
    "repairable",
    "departments",
    "fields",
)
_FIELD_KEYS = frozenset(
    {
        "code",
        "label_zh",
        "label_en",
        "type",
        "required",
        "max_length",
        "pattern",
        "minimum",
        "maximum",
        "scale",
        "options",
        "help_zh",
    }
)
_OPTION_KEYS = frozenset({"value", "label_zh", "label_en"})
_PERIOD_KEYS = frozenset({"min", "max"})
_DEPARTMENT_KEYS = frozenset({"code", "name_zh", "name_en", "short_zh"})
_DEFAULT_PERIOD = "default"

_CODE_RE = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")
_OPTION_VALUE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\Z")
_MAX_SCALE = 10
_DURATION_REFERENCE_DAY = date(2000, 1, 31)  # compares min and max (month ends are the hard case)


class CatalogError(Exception):
    """The catalog data is wrong; the message names the file, item, version and key."""

    def __init__(
        self,
        problem: str,
        *,
        file: str,
        item: str | None = None,
        version: str | None = None,
        key: str | None = None,
    ) -> None:
        where = [file]
        if item is not None:
            where.append(f"item {item!r}")
        if version is not None:
            where.append(f"version {version!r}")
        if key is not None:
            where.append(f"key {key!r}")
        super().__init__(", ".join(where) + ": " + problem)
        self.file = file
        self.item = item
        self.version = version
        self.key = key
        self.problem = problem


class _Context:
    """Where the loader is, so every refusal names it."""

    def __init__(self, file: str, item: str | None = None, version: str | None = None) -> None:
        self.file = file
        self.item = item
        self.version = version

    def fail(self, key: str | None, problem: str) -> NoReturn:
        raise CatalogError(problem, file=self.file, item=self.item, version=self.version, key=key)

    # -- typed getters ------------------------------------------------------------------------

    def text(
        self, data: Mapping[str, Any], key: str, *, path: str | None = None, required: bool = True
    ) -> str:
        where = path or key
        value = data.get(key)
        if value is None:
            if required:
                self.fail(where, "is required")
            return ""
        if not isinstance(value, str):
            self.fail(where, f"must be text, not {type(value).__name__} {value!r} (quote it in YAML)")
        if required and not value.strip():
            self.fail(where, "must not be empty")
        return value.strip()

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"must be true or false, not {value!r}")
        return value

    def day(self, value: Any, where: str) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return date.fromisoformat(value)
        self.fail(where, f"must be a date YYYY-MM-DD, not {value!r}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, f"must be a mapping, not {type(value).__name__}")
        return value

    def sequence(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, f"must be a list, not {type(value).__name__}")
        return value

    def no_unknown_keys(self, data: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
        for key in data:
            if key not in allowed:
                self.fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def enum_value(self, enum_type: Any, value: Any, where: str) -> Any:
        try:
            return enum_type(value)
        except ValueError:
            allowed = ", ".join(member.value for member in enum_type)
            self.fail(where, f"unknown value {value!r} (allowed: {allowed})")

    def code(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or _CODE_RE.match(value) is None:
            self.fail(where, f"must be a lower-case code [a-z][a-z0-9_]*, not {value!r}")
        return value


# ---------------------------------------------------------------------------------------------


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load and check the catalog in ``directory`` (default: the package's ``data/``).

    The result is cached per directory (``functools.lru_cache``): after editing the files call
    :func:`clear_catalog_cache` (or restart) to see the change.
    """
    return _load_cached((directory or DATA_DIR).resolve())


def clear_catalog_cache() -> None:
    """Forget every loaded catalog (the next :func:`load_catalog` reads the files again)."""
    _load_cached.cache_clear()


@functools.lru_cache(maxsize=16)
def _load_cached(directory: Path) -> Catalog:
    departments = _load_departments(directory)
    items_dir = directory / "items"
    if not items_dir.is_dir():
        raise CatalogError("directory of item files is missing", file="items/")
    items: dict[str, CatalogItem] = {}
    for path in sorted(items_dir.glob("*.yaml")):
        item = _load_item(path, f"items/{path.name}", departments)
        items[item.code] = item
    if not items:
        raise CatalogError("no item files (*.yaml)", file="items/")
    return Catalog(items=items, departments=departments)


try:  # libyaml's parser when present (several times faster), same safe constructors
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _StrictLoader(_SafeLoader):
    """``yaml.safe_load``'s loader, except that a key given twice in one mapping is an error
    (PyYAML silently keeps the last one, which would hide a mistake in the rules)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, file: str) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_StrictLoader)  # a SafeLoader subclass: as safe as safe_load
    except FileNotFoundError:
        raise CatalogError("file is missing", file=file) from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"not valid YAML: {exc}", file=file) from None


def _load_departments(directory: Path) -> dict[str, Department]:
    file = "departments.yaml"
    ctx = _Context(file)
    data = _read_yaml(directory / file, file)
    entries = ctx.sequence(data, "(top level)")
    departments: dict[str, Department] = {}
    for index, raw in enumerate(entries):
        where = f"[{index}]"
        entry = ctx.mapping(raw, where)
        ctx.no_unknown_keys(entry, _DEPARTMENT_KEYS, prefix=f"{where}.")
        code = ctx.code(entry.get("code"), f"{where}.code")
        if code in departments:
            ctx.fail(f"{where}.code", f"duplicate department code {code!r}")
        departments[code] = Department(
            code=code,
            name_zh=ctx.text(entry, "name_zh", path=f"{where}.name_zh"),
            name_en=ctx.text(entry, "name_en", path=f"{where}.name_en"),
            short_zh=ctx.text(entry, "short_zh", path=f"{where}.short_zh", required=False),
        )
    if not departments:
        ctx.fail(None, "no departments")
    return departments


def _load_item(path: Path, file: str, departments: Mapping[str, Department]) -> CatalogItem:
    ctx = _Context(file)
    data = ctx.mapping(_read_yaml(path, file), "(top level)")
    ctx.item = data.get("code") if isinstance(data.get("code"), str) else path.stem
    ctx.no_unknown_keys(data, _ITEM_KEYS)
    for key in _ITEM_REQUIRED:
        if data.get(key) is None:
            ctx.fail(key, "is required")
    code = ctx.code(data["code"], "code")
    if code != path.stem:
        ctx.fail("code", f"must equal the file name {path.stem!r}")
    name_zh = ctx.text(data, "name_zh")
    name_en = ctx.text(data, "name_en")
    description_zh = ctx.text(data, "description_zh", required=False)
    category: Category = ctx.enum_value(Category, data["category"], "category")
    kinds_raw = ctx.sequence(data["subject_kinds"], "subject_kinds")
    if not kinds_raw:
        ctx.fail("subject_kinds", "must list at least one subject kind")
    kinds = [ctx.enum_value(SubjectKind, kind, "subject_kinds") for kind in kinds_raw]
    if len(set(kinds)) != len(kinds):
        ctx.fail("subject_kinds", "lists a subject kind twice")
    report_section = ctx.text(data, "report_section")
    if report_section not in REPORT_SECTIONS:
        ctx.fail(
            "report_section", f"unknown value {report_section!r} (allowed: {', '.join(REPORT_SECTIONS)})"
        )
    key_group = None
    if data.get("key_group") is not None:
        key_group = ctx.code(data["key_group"], "key_group")
    raw_versions = ctx.sequence(data["versions"], "versions")
    if not raw_versions:
        ctx.fail("versions", "must list at least one version")

    common = {
        "item_code": code,
        "name_zh": name_zh,
        "name_en": name_en,
        "description_zh": description_zh,
        "subject_kinds": frozenset(kinds),
        "category": category,
        "report_section": report_section,
        "key_group": key_group,
    }
    versions: list[ItemVersion] = []
    inherited: dict[str, Any] = {}
    seen_labels: set[str] = set()
    for index, raw in enumerate(raw_versions):
        entry = ctx.mapping(raw, f"versions[{index}]")
        label = entry.get("version")
        ctx.version = label if isinstance(label, str) else f"#{index + 1}"
        ctx.no_unknown_keys(entry, _VERSION_KEYS)
        version_label = ctx.text(entry, "version")
        if version_label in seen_labels:
            ctx.fail("version", "duplicate version label")
        seen_labels.add(version_label)
        effective_from = ctx.day(entry.get("effective_from"), "effective_from")
        effective_to = (
            None if entry.get("effective_to") is None else ctx.day(entry["effective_to"], "effective_to")
        )
        if effective_to is not None and effective_to < effective_from:
            ctx.fail("effective_to", f"{effective_to} is before effective_from {effective_from}")
        if versions:
            previous = versions[-1]
            if effective_from <= previous.effective_from:
                ctx.fail(
                    "effective_from",
                    f"versions are out of order: {effective_from} is not after version "
                    f"{previous.version!r} starting {previous.effective_from}",
                )
            if previous.effective_to is None or effective_from <= previous.effective_to:
                ends = "open-ended" if previous.effective_to is None else f"ending {previous.effective_to}"
                ctx.fail(
                    "effective_from",
                    f"overlaps version {previous.version!r} ({previous.effective_from}, {ends}); "
                    "give the earlier version an effective_to before this date",
                )
        merged = dict(inherited)
        merged.update({key: entry[key] for key in _INHERITED_KEYS if key in entry})
        if not versions:
            for key in _FIRST_VERSION_REQUIRED:
                if key not in entry:
                    ctx.fail(key, "is required in the first version (later versions may inherit it)")
        version = _build_version(
            ctx, merged, departments, common, version_label, effective_from, effective_to, category
        )
        versions.append(version)
        inherited = merged
    return CatalogItem(code=code, versions=tuple(versions))


def _build_version(
    ctx: _Context,
    data: Mapping[str, Any],
    departments: Mapping[str, Department],
    common: Mapping[str, Any],
    label: str,
    effective_from: date,
    effective_to: date | None,
    category: Category,
) -> ItemVersion:
    basis = ctx.text(data, "basis")
    sharing: Sharing = ctx.enum_value(Sharing, data.get("sharing"), "sharing")
    public_for_persons = ctx.flag(data.get("public_for_persons"), "public_for_persons")
    if public_for_persons and sharing is not Sharing.PUBLIC:
        ctx.fail("public_for_persons", f"cannot be true when sharing is {sharing.value!r}, not 'public'")
    repairable = ctx.flag(data.get("repairable"), "repairable")
    repair = _repair_conditions(ctx, data.get("repair"), repairable)
    notice_required = ctx.flag(data.get("notice_required", False), "notice_required")
    if notice_required and category is not Category.NEGATIVE:
        ctx.fail("notice_required", "only negative information is preceded by a credit notice")

    severities: tuple[Severity, ...] = ()
    raw_severities = data.get("severities")
    if category is Category.NEGATIVE:
        if not raw_severities:
            ctx.fail("severities", "a negative item must list its severities (minor, general, serious)")
        listed = [
            ctx.enum_value(Severity, s, "severities") for s in ctx.sequence(raw_severities, "severities")
        ]
        if len(set(listed)) != len(listed):
            ctx.fail("severities", "lists a severity twice")
        severities = tuple(s for s in Severity if s in listed)  # canonical order: minor, general, serious
    elif raw_severities:
        ctx.fail("severities", f"only negative items have severities; this item is {category.value}")

    periods = _display_periods(ctx, data.get("display_periods"), severities, category)

    raw_departments = ctx.sequence(data.get("departments"), "departments")
    if not raw_departments:
        ctx.fail("departments", "must allow at least one department")
    for code in raw_departments:
        if code not in departments:
            ctx.fail("departments", f"unknown department {code!r} (not in departments.yaml)")
    if len(set(raw_departments)) != len(raw_departments):
        ctx.fail("departments", "lists a department twice")

    fields = _fields(ctx, data.get("fields"))
    extra = dict(ctx.mapping(data.get("extra") or {}, "extra"))

    return ItemVersion(
        version=label,
        effective_from=effective_from,
        effective_to=effective_to,
        severities=severities,
        sharing=sharing,
        public_for_persons=public_for_persons,
        display_periods=periods,
        repairable=repairable,
        repair=repair,
        notice_required=notice_required,
        departments=frozenset(raw_departments),
        fields=fields,
        basis=basis,
        extra=extra,
        **common,
    )


_REPAIR_KEYS = frozenset({"training", "rectification", "credit_report"})


def _repair_conditions(ctx: _Context, raw: Any, repairable: bool) -> RepairConditions | None:
    if not repairable:
        if raw is not None:
            ctx.fail("repair", "only a repairable item has repair conditions")
        return None
    data = ctx.mapping(raw or {}, "repair")
    unknown = set(data) - _REPAIR_KEYS
    if unknown:
        ctx.fail("repair", f"unknown keys {sorted(unknown)} (allowed: {', '.join(sorted(_REPAIR_KEYS))})")
    return RepairConditions(**{k: ctx.flag(data[k], f"repair.{k}") for k in data})


def _duration(ctx: _Context, value: Any, where: str) -> Duration | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except InvalidDuration:
        ctx.fail(where, f"not an ISO 8601 duration P[nY][nM][nD]: {value!r}")


def _display_periods(
    ctx: _Context, raw: Any, severities: tuple[Severity, ...], category: Category
) -> dict[Severity | None, DisplayPeriod]:
    data = ctx.mapping(raw, "display_periods")
    expected: dict[str, Severity | None]
    if category is Category.NEGATIVE:
        expected = {s.value: s for s in severities}
    else:
        expected = {_DEFAULT_PERIOD: None}
    for key in data:
        if key not in expected:
            if category is Category.NEGATIVE:
                ctx.fail(f"display_periods.{key}", "is not one of this version's severities")
            ctx.fail(f"display_periods.{key}", f"a {category.value} item has only display_periods.default")
    periods: dict[Severity | None, DisplayPeriod] = {}
    for name, severity in expected.items():
        where = f"display_periods.{name}"
        if name not in data:
            if category is Category.NEGATIVE:
                ctx.fail(where, f"missing: the version lists severity {name!r}")
            ctx.fail(where, "missing (non-negative items give one 'default' entry)")
        entry = ctx.mapping(data[name], where)
        ctx.no_unknown_keys(entry, _PERIOD_KEYS, prefix=f"{where}.")
        low = _duration(ctx, entry.get("min"), f"{where}.min")
        high = _duration(ctx, entry.get("max"), f"{where}.max")
        if low is not None and high is not None:
            if add_duration(_DURATION_REFERENCE_DAY, low) > add_duration(_DURATION_REFERENCE_DAY, high):
                ctx.fail(where, f"min {low.text} is longer than max {high.text}")
        periods[severity] = DisplayPeriod(min=low, max=high)
    return periods


def _fields(ctx: _Context, raw: Any) -> tuple[FieldSpec, ...]:
    entries = ctx.sequence(raw, "fields")
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for index, raw_entry in enumerate(entries):
        entry = ctx.mapping(raw_entry, f"fields[{index}]")
        name = entry.get("code") if isinstance(entry.get("code"), str) else f"[{index}]"
        where = f"fields.{name}"
        ctx.no_unknown_keys(entry, _FIELD_KEYS, prefix=f"{where}.")
        code = ctx.code(entry.get("code"), f"{where}.code")
        if code in COMMON_COLUMN_CODES:
            ctx.fail(f"{where}.code", f"clashes with the common column {code!r} (fixed by code)")
        if code in seen:
            ctx.fail(f"{where}.code", f"duplicate field code {code!r}")
        seen.add(code)
        specs.append(_field(ctx, entry, code, where))
    return tuple(specs)


def _field(ctx: _Context, entry: Mapping[str, Any], code: str, where: str) -> FieldSpec:
    field_type: FieldType = ctx.enum_value(FieldType, entry.get("type"), f"{where}.type")
    required = ctx.flag(entry.get("required", False), f"{where}.required")

    def only_for(key: str, types: tuple[FieldType, ...]) -> None:
        if entry.get(key) is not None and field_type not in types:
            ctx.fail(f"{where}.{key}", f"does not apply to a {field_type.value} field")

    only_for("max_length", (FieldType.STRING, FieldType.TEXT))
    only_for("pattern", (FieldType.STRING,))
    only_for("minimum", (FieldType.INTEGER, FieldType.DECIMAL))
    only_for("maximum", (FieldType.INTEGER, FieldType.DECIMAL))
    only_for("scale", (FieldType.DECIMAL,))
    only_for("options", (FieldType.ENUM,))

    max_length = entry.get("max_length")
    if field_type in (FieldType.STRING, FieldType.TEXT):
        if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 1:
            ctx.fail(f"{where}.max_length", f"a {field_type.value} field needs a positive max_length")

    pattern = entry.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            ctx.fail(f"{where}.pattern", "must be text")
        try:
            re.compile(pattern)
        except re.error as exc:
            ctx.fail(f"{where}.pattern", f"not a valid regular expression: {exc}")

    bounds: list[float | None] = []
    for key in ("minimum", "maximum"):
        value = entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            ctx.fail(f"{where}.{key}", f"must be a number, not {value!r}")
        bounds.append(value)
    minimum, maximum = bounds
    if minimum is not None and maximum is not None and minimum > maximum:
        ctx.fail(f"{where}.minimum", f"minimum {minimum} is above maximum {maximum}")

    scale = entry.get("scale")
    if field_type is FieldType.DECIMAL:
        if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= _MAX_SCALE:
            ctx.fail(f"{where}.scale", f"a decimal field needs a scale 0..{_MAX_SCALE}")

    options: tuple[EnumOption, ...] = ()
    if field_type is FieldType.ENUM:
        raw_options = entry.get("options")
        if not raw_options:
            ctx.fail(f"{where}.options", "an enum field needs options")
        values: set[str] = set()
        built = []
        for index, raw_option in enumerate(ctx.sequence(raw_options, f"{where}.options")):
            at = f"{where}.options[{index}]"
            option = ctx.mapping(raw_option, at)
            ctx.no_unknown_keys(option, _OPTION_KEYS, prefix=f"{at}.")
            value = option.get("value")
            if not isinstance(value, str) or _OPTION_VALUE_RE.match(value) is None:
                ctx.fail(
                    f"{at}.value", f"must be a short code (letters, digits, _ . -), not {value!r}; quote it"
                )
            if value in values:
                ctx.fail(f"{at}.value", f"duplicate option value {value!r}")
            values.add(value)
            built.append(
                EnumOption(
                    value=value,
                    label_zh=ctx.text(option, "label_zh", path=f"{at}.label_zh"),
                    label_en=ctx.text(option, "label_en", path=f"{at}.label_en"),
                )
            )
        options = tuple(built)

    return FieldSpec(
        code=code,
        label_zh=ctx.text(entry, "label_zh", path=f"{where}.label_zh"),
        label_en=ctx.text(entry, "label_en", path=f"{where}.label_en"),
        type=field_type,
        required=required,
        max_length=max_length,
        pattern=pattern,
        minimum=minimum,
        maximum=maximum,
        scale=scale,
        options=options,
        help_zh=ctx.text(entry, "help_zh", path=f"{where}.help_zh", required=False),
    )
