"""The dated policy parameters: the shipped file loads, values change on their dates, bad files are refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from chengxin.core.policy import POLICY_FILE, PolicyError, load_parameters, parse_parameters, policy_on


def _shipped() -> dict[str, object]:
    raw = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def test_the_shipped_file_is_complete_and_cites_its_sources() -> None:
    parameters = load_parameters()
    for parameter in parameters.values():
        assert parameter.description and parameter.reference
    policy = policy_on(dt.date(2026, 11, 25))
    assert policy.reports.free_self_reports_per_year == 2  # 征信业管理条例 Art. 17
    assert "其他" in policy.consent.purposes
    assert policy.sign_in.max_failures > 0 and policy.reports.valid_days > 0


def test_a_new_value_applies_from_its_date_and_the_old_one_before(tmp_path: Path) -> None:
    raw = _shipped()
    raw["consent.max_valid_days"] = {"description": "d", "reference": "r",
                                     "values": {dt.date(2026, 1, 1): 90, dt.date(2027, 3, 1): 60}}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert policy_on(dt.date(2027, 2, 28), path).consent.max_valid_days == 90
    assert policy_on(dt.date(2027, 3, 1), path).consent.max_valid_days == 60
    assert policy_on(dt.date(2020, 1, 1), path).consent.max_valid_days == 90  # before the first date: the first


@pytest.mark.parametrize(("change", "message"), [
    (lambda raw: raw.pop("reports.valid_days"), "missing parameters: reports.valid_days"),
    (lambda raw: raw.__setitem__("reports.colour", raw["reports.valid_days"]), "unknown parameters: reports.colour"),
    (lambda raw: raw["reports.valid_days"].__setitem__("values", {dt.date(2026, 1, 1): "thirty"}), "2026-01-01"),
    (lambda raw: raw["reports.valid_days"].__setitem__("values", {dt.date(2026, 1, 1): -1}), "valid_days"),
    (lambda raw: raw["reports.valid_days"].__setitem__(
        "values", {dt.date(2027, 1, 1): 30, dt.date(2026, 1, 1): 20}), "oldest first"),
    (lambda raw: raw["reports.valid_days"].__setitem__("values", {"soon": 30}), "must be dates"),
    (lambda raw: raw["reports.valid_days"].__setitem__("values", {}), "non-empty"),
    (lambda raw: raw["reports.valid_days"].pop("reference"), "reference"),
])
def test_a_broken_file_is_refused_with_the_parameter_named(change, message: str) -> None:  # type: ignore[no-untyped-def]
    raw = _shipped()
    change(raw)
    with pytest.raises(PolicyError, match=message):
        parse_parameters(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "policy.yaml")


def test_not_yaml_is_refused() -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_parameters("a: [", "policy.yaml")
