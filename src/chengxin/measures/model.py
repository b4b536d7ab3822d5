"""The measures list (奖惩措施清单) and the check scenarios as plain, immutable data.

Pure: no I/O. :meth:`MeasureBook.applicable` is what the credit check asks — which published measures
apply, on a day, in a scenario, to a subject of a kind on some lists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

RESTRICTION = "restriction"  # 惩戒
CONVENIENCE = "convenience"  # 激励
MEASURE_KINDS = (RESTRICTION, CONVENIENCE)
MEASURE_KIND_ZH = {RESTRICTION: "惩戒措施", CONVENIENCE: "激励措施"}
LIST_ZH = {"red": "守信激励对象名单（红名单）", "black": "严重失信主体名单（黑名单）", "watch": "重点关注名单"}
LIST_SHORT_ZH = {"red": "红名单", "black": "黑名单", "watch": "重点关注名单"}


def _in_force(since: dt.date, until: dt.date | None, day: dt.date) -> bool:
    return since <= day and (until is None or day <= until)


@dataclass(frozen=True, slots=True)
class Scenario:
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    subject_kinds: tuple[str, ...]
    effective_from: dt.date
    effective_to: dt.date | None
    # The answer also carries the subject's shops at risk (商家信用风险预警, issue #7): e-commerce scenarios.
    shop_risk: bool = False

    def in_force(self, day: dt.date) -> bool:
        return _in_force(self.effective_from, self.effective_to, day)


@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    name_zh: str
    name_en: str
    list_kind: str  # red | black | watch
    kind: str  # restriction | convenience
    subject_kinds: tuple[str, ...]
    scenarios: tuple[str, ...]
    departments: tuple[str, ...]
    basis: str
    references: tuple[str, ...]
    tag: str  # P | S | M (RULES.md tags)
    effective_from: dt.date
    effective_to: dt.date | None

    def in_force(self, day: dt.date) -> bool:
        return _in_force(self.effective_from, self.effective_to, day)

    def as_json(self) -> dict[str, Any]:
        """The measure as the check and GET /api/v1/measures return it."""
        return {
            "code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "list": self.list_kind,
            "kind": self.kind, "kind_zh": MEASURE_KIND_ZH[self.kind], "subject_kinds": list(self.subject_kinds),
            "scenarios": list(self.scenarios), "departments": list(self.departments), "basis": self.basis,
            "references": list(self.references), "tag": self.tag,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
        }


@dataclass(frozen=True)
class MeasureBook:
    """Every scenario and measure, with their dated history."""

    scenarios: tuple[Scenario, ...]
    measures: tuple[Measure, ...]
    _by_code: dict[str, Measure] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_code.update({m.code: m for m in self.measures})

    def scenario(self, code: str, day: dt.date) -> Scenario | None:
        return next((s for s in self.scenarios if s.code == code and s.in_force(day)), None)

    def scenarios_on(self, day: dt.date) -> list[Scenario]:
        return [s for s in self.scenarios if s.in_force(day)]

    def measures_on(self, day: dt.date) -> list[Measure]:
        return [m for m in self.measures if m.in_force(day)]

    def measure(self, code: str) -> Measure | None:
        return self._by_code.get(code)

    def applicable(self, scenario: str, list_kinds: frozenset[str] | set[str], subject_kind: str,
                   day: dt.date) -> list[Measure]:
        """The published measures of ``scenario`` for a subject of ``subject_kind`` on ``list_kinds`` on ``day``
        (浙江条例第二十八条: only measures published beforehand may be applied)."""
        return [m for m in self.measures
                if m.list_kind in list_kinds and scenario in m.scenarios and subject_kind in m.subject_kinds
                and m.in_force(day)]
