"""Dated policy parameters (政策参数): the numbers and texts the rules depend on, as data.

Like OpenFisca's parameters, each parameter in ``data/policy.yaml`` keeps its own history — the
values it took and the Beijing date each took effect — with a description and the clause it comes
from. :func:`policy_on` resolves every parameter on one day into a typed :class:`Policy`, so code
reads ``policy_on(today).consent.max_valid_days`` and never a constant. A decision made on a day is
explained by the values in force on that day, also after the policy has changed.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from chengxin.core.dated import DatedError, Span, Stated, check_spans, explain, index_on, read_yaml, spans_in_force
from chengxin.core.dated import Strict as _Strict

__all__ = ["POLICY_FILE", "Parameter", "Policy", "PolicyError", "load_parameters", "parse_parameters", "policy_on"]

POLICY_FILE = Path(__file__).resolve().parent / "data" / "policy.yaml"


class PolicyError(DatedError):
    """The parameter file is invalid; the message names the file, the parameter and the problem."""


class ConsentPolicy(_Strict):
    """授权查询 (RULES §6)."""

    purposes: tuple[str, ...] = Field(min_length=1)
    max_valid_days: int = Field(gt=0)
    rate_window_minutes: int = Field(gt=0)
    rate_max_failures: int = Field(gt=0)


class ReportPolicy(_Strict):
    """信用报告 (RULES §6)."""

    valid_days: int = Field(gt=0)
    legal_basis: str = Field(min_length=1)
    free_self_reports_per_year: int = Field(ge=0)


class SignInPolicy(_Strict):
    """Sign-in lock-out of person and staff accounts (登录失败处理)."""

    max_failures: int = Field(gt=0)
    lock_minutes: int = Field(gt=0)
    address_max_failures: int = Field(gt=0)  # from one client address, over every account (password spraying)
    address_window_minutes: int = Field(gt=0)


class AttachmentPolicy(_Strict):
    """Files a subject attaches (objection evidence, repair proof, complaint material)."""

    max_bytes: int = Field(gt=0)
    max_count: int = Field(gt=0)
    types: tuple[str, ...] = Field(min_length=1)  # MIME types, checked against the file's own bytes


class ObjectionPolicy(_Strict):
    """异议 deadlines in working days (RULES §3)."""

    platform_check_working_days: int = Field(ge=0)
    forward_working_days: int = Field(ge=0)
    decide_working_days: int = Field(gt=0)
    max_total_working_days: int = Field(gt=0)
    contest_within_working_days: int = Field(gt=0)
    office_review_working_days: int = Field(gt=0)
    reason_max_chars: int = Field(gt=0)
    statement_max_chars: int = Field(gt=0)


class RepairPolicy(_Strict):
    """信用修复 deadlines and conditions (RULES §2)."""

    decide_working_days: int = Field(gt=0)
    extension_working_days: int = Field(ge=0)
    platform_answer_working_days: int = Field(gt=0)
    stop_display_working_days: int = Field(ge=0)
    min_interval_days: int = Field(ge=0)


class NoticePolicy(_Strict):
    """信用告知: the subject's time to respond before the record is displayed."""

    response_working_days: int = Field(gt=0)
    decide_working_days: int = Field(gt=0)


class ComplaintPolicy(_Strict):
    """Complaints about how an objection or repair was handled (issue #4 §5)."""

    answer_working_days: int = Field(gt=0)
    contact: str = Field(min_length=1)


class Policy(_Strict):
    """Every parameter, resolved on one day."""

    day: dt.date
    consent: ConsentPolicy
    reports: ReportPolicy
    sign_in: SignInPolicy
    attachments: AttachmentPolicy
    objection: ObjectionPolicy
    repair: RepairPolicy
    notice: NoticePolicy
    complaint: ComplaintPolicy


class Parameter(_Strict):
    """One parameter: what it is, where it comes from, and its dated values (oldest first)."""

    name: str
    description: str = Field(min_length=1)
    reference: str = Field(min_length=1)
    unit: str | None = None
    values: tuple[tuple[dt.date, Any], ...] = Field(min_length=1)

    def on(self, day: dt.date) -> Any:
        """The value in force on ``day``; before the first date, the first value (no older one is known).

        Each value lasts until the next one's date (the dates are checked oldest first on load)."""
        spans = spans_in_force([Span(since) for since, _ in self.values], chained=True)
        i = index_on(spans, day, oldest_before=True)
        assert i is not None  # chained spans from the first date on, and the first before it
        return self.values[i][1]


def _expected_names() -> set[str]:
    names: set[str] = set()
    for section, field in Policy.model_fields.items():
        if field.annotation is dt.date:
            continue
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        names.update(f"{section}.{name}" for name in model.model_fields)
    return names


def _resolve(parameters: dict[str, Parameter], day: dt.date) -> Policy:
    nested: dict[str, Any] = {"day": day}
    for name, parameter in parameters.items():
        section, key = name.split(".", 1)
        nested.setdefault(section, {})[key] = parameter.on(day)
    return Policy.model_validate(nested)


def parse_parameters(text: str, source: str = "<string>") -> dict[str, Parameter]:
    """Parse and check a parameter file: every parameter the code reads present, no unknown ones,
    dates ascending, and every dated combination a valid :class:`Policy`."""
    raw = read_yaml(text, source=source, error=PolicyError)
    if not isinstance(raw, dict):
        raise PolicyError("policy.shape", "文件应为以参数名为键的映射", "expected a mapping of parameter names",
                          source=source)
    expected = _expected_names()
    if missing := sorted(expected - set(raw)):
        raise PolicyError("policy.missing", f"缺少参数：{', '.join(missing)}", f"missing parameters: {', '.join(missing)}",
                          source=source, field=missing[0])
    if unknown := sorted(map(str, set(raw) - expected)):
        raise PolicyError("policy.unknown", f"未知参数：{', '.join(unknown)}", f"unknown parameters: {', '.join(unknown)}",
                          source=source, field=unknown[0])
    parameters: dict[str, Parameter] = {}
    for name, body in raw.items():
        if not isinstance(body, dict) or not isinstance(body.get("values"), dict) or not body["values"]:
            raise PolicyError("policy.values", f"{name}：须有 description、reference 和非空的 values 映射",
                              f"{name}: needs description, reference and a non-empty 'values' mapping",
                              source=source, field=name)
        dates = list(body["values"])
        if not all(isinstance(d, dt.date) for d in dates):
            raise PolicyError("policy.dates", f"{name}：values 的键须为日期（YYYY-MM-DD）",
                              f"{name}: value keys must be dates (YYYY-MM-DD)", source=source, field=f"{name}.values")
        # A parameter's values are dated versions that follow one another: the one shared order check.
        check_spans([Stated(f"{name}@{d.isoformat()}", f"{name}.values", Span(d)) for d in dates],
                    chained=True, source=source, error=PolicyError)
        try:
            parameters[name] = Parameter(
                name=name, description=body.get("description", ""), reference=body.get("reference", ""),
                unit=body.get("unit"), values=tuple(body["values"].items()))
        except ValidationError as exc:
            raise PolicyError("policy.invalid", f"{name}：参数不符合规则", f"{name}: invalid parameter",
                              source=source, field=name, detail=explain(exc)) from exc
    change_days = sorted({d for p in parameters.values() for d, _ in p.values})
    for day in change_days:
        try:
            _resolve(parameters, day)
        except ValidationError as exc:
            raise PolicyError("policy.invalid_on", f"{day.isoformat()} 起施行的参数值不符合规则",
                              f"the values in force on {day.isoformat()} are invalid",
                              source=source, detail=explain(exc)) from exc
    return parameters


@functools.lru_cache(maxsize=4)
def load_parameters(path: Path = POLICY_FILE) -> dict[str, Parameter]:
    return parse_parameters(path.read_text(encoding="utf-8"), str(path))


@functools.lru_cache(maxsize=512)
def policy_on(day: dt.date, path: Path = POLICY_FILE) -> Policy:
    """Every parameter as in force on the Beijing date ``day``."""
    return _resolve(load_parameters(path), day)
