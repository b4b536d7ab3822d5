"""Loads the measures list, the scenarios and the check parameters; refuses bad data with a clear message.

Checks: known fields only, required fields present, unique codes, list kind and measure kind from the
closed sets, subject kinds known, scenarios named by a measure exist (and are in force at some time the
measure is), implementing departments exist in catalog/data/departments.yaml, effective_to not before
effective_from, and no two versions of one code in force on the same day.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chengxin.core.policy import Parameter
from chengxin.lists.models import LIST_KINDS
from chengxin.measures.model import MEASURE_KINDS, Measure, MeasureBook, Scenario

DATA = Path(__file__).resolve().parent / "data"
SUBJECT_KINDS = ("person", "organization")


class MeasureDataError(ValueError):
    """The measures or scenarios data is wrong (message names the file, the entry and the field)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class _ScenarioIn(_Strict):
    code: str = Field(min_length=1, max_length=48, pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    description_zh: str = Field(min_length=1)
    subject_kinds: list[Literal["person", "organization"]] = Field(min_length=1)
    shop_risk: bool = False
    effective_from: dt.date
    effective_to: dt.date | None = None


class _MeasureIn(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z][A-Z0-9-]*$")
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    list_kind: Literal["red", "black", "watch"] = Field(alias="list")
    kind: Literal["restriction", "convenience"]
    subject_kinds: list[Literal["person", "organization"]] = Field(min_length=1)
    scenarios: list[str] = Field(min_length=1)
    departments: list[str] = Field(min_length=1)
    basis: str = Field(min_length=1)
    references: list[str] = Field(min_length=1)
    tag: Literal["P", "S", "M"]
    effective_from: dt.date
    effective_to: dt.date | None = None


def _entries(text: str, source: str) -> list[dict[str, Any]]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MeasureDataError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise MeasureDataError(f"{source}: expected a non-empty list of entries")
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            raise MeasureDataError(f"{source}: entry {i}: expected a mapping")
    return raw


def _explain(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '(entry)'}: {e['msg']}" for e in exc.errors())


def _check_dates(source: str, label: str, since: dt.date, until: dt.date | None) -> None:
    if until is not None and until < since:
        raise MeasureDataError(f"{source}: {label}: effective_to {until} is before effective_from {since}")


def _check_overlaps(source: str, spans: dict[str, list[tuple[dt.date, dt.date | None]]]) -> None:
    for code, versions in spans.items():
        versions.sort()
        for (_, end), (start, _) in zip(versions, versions[1:], strict=False):
            if end is None or end >= start:
                raise MeasureDataError(f"{source}: {code}: two versions in force on {start} (close the older one "
                                       "with effective_to before the newer one starts)")


def parse_scenarios(text: str, source: str = "scenarios.yaml") -> tuple[Scenario, ...]:
    out: list[Scenario] = []
    spans: dict[str, list[tuple[dt.date, dt.date | None]]] = {}
    for i, entry in enumerate(_entries(text, source), start=1):
        label = f"entry {i} ({entry.get('code', '?')})"
        try:
            s = _ScenarioIn.model_validate(entry)
        except ValidationError as exc:
            raise MeasureDataError(f"{source}: {label}: {_explain(exc)}") from exc
        _check_dates(source, label, s.effective_from, s.effective_to)
        spans.setdefault(s.code, []).append((s.effective_from, s.effective_to))
        out.append(Scenario(s.code, s.name_zh, s.name_en, s.description_zh, tuple(s.subject_kinds),
                            s.effective_from, s.effective_to, s.shop_risk))
    _check_overlaps(source, spans)
    return tuple(out)


def parse_measures(text: str, scenarios: Iterable[Scenario], departments: Iterable[str],
                   source: str = "measures.yaml") -> tuple[Measure, ...]:
    scenario_list = list(scenarios)
    known_scenarios = {s.code for s in scenario_list}
    known_departments = set(departments)
    out: list[Measure] = []
    spans: dict[str, list[tuple[dt.date, dt.date | None]]] = {}
    for i, entry in enumerate(_entries(text, source), start=1):
        label = f"entry {i} ({entry.get('code', '?')})"
        try:
            m = _MeasureIn.model_validate(entry)
        except ValidationError as exc:
            raise MeasureDataError(f"{source}: {label}: {_explain(exc)}") from exc
        _check_dates(source, label, m.effective_from, m.effective_to)
        if unknown := sorted(set(m.scenarios) - known_scenarios):
            raise MeasureDataError(f"{source}: {label}: unknown scenario(s) {', '.join(unknown)} "
                                   f"(see scenarios.yaml)")
        if unknown := sorted(set(m.departments) - known_departments):
            raise MeasureDataError(f"{source}: {label}: unknown department(s) {', '.join(unknown)} "
                                   f"(see catalog/data/departments.yaml)")
        for code in m.scenarios:
            if not any(s.code == code and _overlap(s, m.effective_from, m.effective_to) for s in scenario_list):
                raise MeasureDataError(f"{source}: {label}: scenario {code} is never in force while the measure is")
        spans.setdefault(m.code, []).append((m.effective_from, m.effective_to))
        out.append(Measure(m.code, m.name_zh, m.name_en, m.list_kind, m.kind, tuple(m.subject_kinds), tuple(m.scenarios),
                           tuple(m.departments), m.basis.strip(), tuple(m.references), m.tag, m.effective_from,
                           m.effective_to))
    _check_overlaps(source, spans)
    assert all(m.list_kind in LIST_KINDS and m.kind in MEASURE_KINDS for m in out)
    return tuple(out)


def _overlap(s: Scenario, since: dt.date, until: dt.date | None) -> bool:
    return (until is None or s.effective_from <= until) and (s.effective_to is None or since <= s.effective_to)


def load_book(departments: Iterable[str], data_dir: Path = DATA) -> MeasureBook:
    scenarios = parse_scenarios((data_dir / "scenarios.yaml").read_text(encoding="utf-8"),
                                str(data_dir / "scenarios.yaml"))
    measures = parse_measures((data_dir / "measures.yaml").read_text(encoding="utf-8"), scenarios, departments,
                              str(data_dir / "measures.yaml"))
    return MeasureBook(scenarios, measures)


@functools.lru_cache(maxsize=2)
def measure_book() -> MeasureBook:
    """The measures list as shipped, checked against the catalog's departments (loaded once per process)."""
    from chengxin.catalog.loader import load_catalog

    return load_book(load_catalog().departments)


# -- dated parameters ----------------------------------------------------------------------------------

PARAMETER_NAMES = ("feedback_due_days", "batch_max_rows")


def parse_parameters(text: str, source: str = "parameters.yaml") -> dict[str, Parameter]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MeasureDataError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise MeasureDataError(f"{source}: expected a mapping of parameter names")
    if missing := sorted(set(PARAMETER_NAMES) - set(raw)):
        raise MeasureDataError(f"{source}: missing parameters: {', '.join(missing)}")
    if unknown := sorted(set(raw) - set(PARAMETER_NAMES)):
        raise MeasureDataError(f"{source}: unknown parameters: {', '.join(unknown)}")
    out: dict[str, Parameter] = {}
    for name, body in raw.items():
        values = body.get("values") if isinstance(body, dict) else None
        if not isinstance(values, dict) or not values:
            raise MeasureDataError(f"{source}: {name}: needs description, reference and a non-empty 'values' mapping")
        dates = list(values)
        if not all(isinstance(d, dt.date) for d in dates) or dates != sorted(dates):
            raise MeasureDataError(f"{source}: {name}: value keys must be dates (YYYY-MM-DD), oldest first")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values.values()):
            raise MeasureDataError(f"{source}: {name}: every value must be a positive whole number")
        try:
            out[name] = Parameter(name=name, description=body.get("description", ""),
                                  reference=body.get("reference", ""), unit=body.get("unit"),
                                  values=tuple(values.items()))
        except ValidationError as exc:
            raise MeasureDataError(f"{source}: {name}: {_explain(exc)}") from exc
    return out


@functools.lru_cache(maxsize=2)
def _parameters(path: Path = DATA / "parameters.yaml") -> dict[str, Parameter]:
    return parse_parameters(path.read_text(encoding="utf-8"), str(path))


def parameter(name: str, day: dt.date) -> int:
    """The value of a check parameter in force on ``day``."""
    value: int = _parameters()[name].on(day)
    return value
