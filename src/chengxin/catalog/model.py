"""Types of the information catalog (信用信息目录).

The catalog itself is data (``catalog/data/``); these frozen dataclasses are what the
loader turns it into. Everything downstream (validation, templates, display rules) reads
these types and never the YAML directly.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class SubjectKind(enum.StrEnum):
    PERSON = "person"  # 自然人
    ORGANIZATION = "organization"  # 法人和非法人组织
    # Later issues add: shop, platform, logistics_firm, courier.


class Category(enum.StrEnum):
    BASIC = "basic"  # 基础信息
    POSITIVE = "positive"  # 良好信息 / 守信
    NEGATIVE = "negative"  # 失信信息


class Severity(enum.StrEnum):
    MINOR = "minor"  # 轻微
    GENERAL = "general"  # 一般失信
    SERIOUS = "serious"  # 严重失信


SEVERITY_LABELS_ZH: dict[Severity, str] = {
    Severity.MINOR: "轻微",
    Severity.GENERAL: "一般",
    Severity.SERIOUS: "严重",
}


class Sharing(enum.StrEnum):
    PUBLIC = "public"  # 公开
    AUTHORIZED = "authorized"  # 授权查询
    GOVERNMENT = "government"  # 政务共享


class FieldType(enum.StrEnum):
    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"  # amounts: kept as a string with fixed scale, never a float
    DATE = "date"
    BOOLEAN = "boolean"
    ENUM = "enum"
    RIC = "ric"  # a citizen ID inside the record (e.g. a legal representative)
    USCC = "uscc"  # a USCC inside the record (e.g. the issuing organisation)
    GTIN = "gtin"


@dataclass(frozen=True, slots=True)
class Duration:
    """An ISO 8601 calendar duration such as ``P3M`` or ``P1Y`` (years, months, days only)."""

    years: int = 0
    months: int = 0
    days: int = 0
    text: str = ""


@dataclass(frozen=True, slots=True)
class DisplayPeriod:
    """公示期限 for one severity: ``min`` before repair may be applied for, ``max`` before display stops."""

    min: Duration | None
    max: Duration | None  # None: displayed long-term (e.g. positive information)


@dataclass(frozen=True, slots=True)
class EnumOption:
    value: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an item's schema (the item-specific part of a record)."""

    code: str
    label_zh: str
    label_en: str
    type: FieldType
    required: bool = False
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    scale: int | None = None  # decimals: digits after the point
    options: tuple[EnumOption, ...] = ()
    help_zh: str = ""


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the exchange format: the common columns every item has, then its fields.

    ``code`` is the key in JSON / JSONL and the English CSV header; ``label_zh`` is the
    Chinese header of the Excel template. Readers accept either.
    """

    code: str
    label_zh: str
    label_en: str
    required: bool
    type: FieldType
    help_zh: str = ""
    options: tuple[EnumOption, ...] = ()


@dataclass(frozen=True, slots=True)
class Department:
    """数据提供单位 — a source department."""

    code: str
    name_zh: str
    name_en: str
    short_zh: str = ""


@dataclass(frozen=True, slots=True)
class RepairConditions:
    """What a repair application of this item needs besides the minimum display period (RULES §2):
    proof that the obligations were fulfilled and a signed credit commitment always; credit
    training, a rectification report or a credit report where the item says so."""

    training: bool = False  # 信用修复培训
    rectification: bool = False  # 整改报告
    credit_report: bool = False  # 信用报告（第三方）


@dataclass(frozen=True, slots=True)
class ItemVersion:
    """One dated version of a catalog item; the version in force on a record's decision date rules it."""

    item_code: str
    version: str
    effective_from: date
    effective_to: date | None  # inclusive; None = open-ended
    name_zh: str
    name_en: str
    description_zh: str
    subject_kinds: frozenset[SubjectKind]
    category: Category
    severities: tuple[Severity, ...]  # empty unless category is negative
    sharing: Sharing
    public_for_persons: bool  # RULES §1: penalties of individuals are not public by default
    display_periods: dict[Severity | None, DisplayPeriod]  # key None: non-negative items
    repairable: bool
    departments: frozenset[str]
    fields: tuple[FieldSpec, ...]
    basis: str
    report_section: str = "其他"  # RULES §6 report layout section
    repair: RepairConditions | None = None  # set exactly when ``repairable``
    notice_required: bool = False  # 信用告知 before the record is displayed (issue #4 §4)
    key_group: str | None = None  # 重点人群 / 重点领域 tag, e.g. "teacher", "food_drug"
    extra: dict[str, Any] = field(default_factory=dict)

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


# A compiled field validator: raw value in (str from CSV, or a typed value from xlsx/JSON),
# normalised JSON-ready value out, or a Problem. ``None`` out means "empty".
FieldValidator = Callable[[Any], "tuple[Any, None] | tuple[None, Any]"]


class UnknownItem(KeyError):
    """No catalog item has this code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"unknown catalog item: {self.code!r}"


class UnknownDepartment(KeyError):
    """No source department has this code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"unknown department: {self.code!r}"


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """目录项 — one item of the catalog with its dated versions (ordered by ``effective_from``)."""

    code: str
    versions: tuple[ItemVersion, ...]

    def version_on(self, day: date) -> ItemVersion | None:
        """The version in force on ``day`` (a record's decision date), or None."""
        for version in self.versions:
            if version.in_force_on(day):
                return version
        return None

    def current(self, today: date) -> ItemVersion | None:
        """The version in force ``today`` (time is passed in, never read from a clock)."""
        return self.version_on(today)

    @property
    def latest(self) -> ItemVersion:
        """The most recent version (it may not be in force yet, or any more)."""
        return self.versions[-1]

    @property
    def name_zh(self) -> str:
        return self.latest.name_zh

    @property
    def name_en(self) -> str:
        return self.latest.name_en

    @property
    def category(self) -> Category:
        return self.latest.category

    @property
    def subject_kinds(self) -> frozenset[SubjectKind]:
        return self.latest.subject_kinds

    @property
    def report_section(self) -> str:
        return self.latest.report_section

    @property
    def key_group(self) -> str | None:
        return self.latest.key_group


class Catalog:
    """The whole catalog (信用信息目录): items and source departments, as loaded from data."""

    __slots__ = ("items", "departments", "_search_index")

    def __init__(self, items: dict[str, CatalogItem], departments: dict[str, Department]) -> None:
        self.items = items
        self.departments = departments
        self._search_index: list[tuple[CatalogItem, str, str, str]] | None = None

    def __repr__(self) -> str:
        return f"<Catalog {len(self.items)} items, {len(self.departments)} departments>"

    def item(self, code: str) -> CatalogItem:
        """The item with this code; raises :class:`UnknownItem`."""
        try:
            return self.items[code]
        except KeyError:
            raise UnknownItem(code) from None

    def version_on(self, code: str, day: date) -> ItemVersion | None:
        """The version of item ``code`` in force on ``day``; raises :class:`UnknownItem`."""
        return self.item(code).version_on(day)

    def department(self, code: str) -> Department:
        try:
            return self.departments[code]
        except KeyError:
            raise UnknownDepartment(code) from None

    def items_for_department(self, dept_code: str, day: date) -> list[ItemVersion]:
        """The item versions in force on ``day`` that ``dept_code`` may submit, by item code."""
        self.department(dept_code)
        found = []
        for code in sorted(self.items):
            version = self.items[code].version_on(day)
            if version is not None and dept_code in version.departments:
                found.append(version)
        return found

    def search(self, text: str) -> list[CatalogItem]:
        """Items whose code, names, description or field labels (Chinese or English, any
        version) contain ``text``, case-insensitively; name matches first, then by code."""
        needle = text.strip().casefold()
        if self._search_index is None:
            self._search_index = [self._index_entry(item) for item in self.items.values()]
        ranked: list[tuple[int, str, CatalogItem]] = []
        for item, names, description, labels in self._search_index:
            if needle in names:
                ranked.append((0, item.code, item))
            elif needle in description:
                ranked.append((1, item.code, item))
            elif needle in labels:
                ranked.append((2, item.code, item))
        ranked.sort(key=lambda entry: (entry[0], entry[1]))
        return [item for _, _, item in ranked]

    @staticmethod
    def _index_entry(item: CatalogItem) -> tuple[CatalogItem, str, str, str]:
        names = {item.code}
        descriptions: set[str] = set()
        labels: set[str] = set()
        for version in item.versions:
            names.update((version.name_zh, version.name_en))
            descriptions.add(version.description_zh)
            for spec in version.fields:
                labels.update((spec.code, spec.label_zh, spec.label_en, spec.help_zh))
                for option in spec.options:
                    labels.update((option.label_zh, option.label_en))
        return (
            item,
            "\n".join(sorted(names)).casefold(),
            "\n".join(sorted(descriptions)).casefold(),
            "\n".join(sorted(labels)).casefold(),
        )
