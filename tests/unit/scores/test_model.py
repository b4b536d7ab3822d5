"""The model loader refuses bad models with the key that is wrong; the fairness guard refuses any
forbidden attribute, directly or through a catalog item whose fields are such attributes (issue #6 §6)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengxin.catalog.loader import load_catalog
from chengxin.scores.model import (
    MODELS_DIR,
    FairnessViolation,
    ModelError,
    forbidden_match,
    load_forbidden,
    load_models,
    parse_model,
)

CATALOG = load_catalog()
FORBIDDEN, _ = load_forbidden()
BASE: dict[str, Any] = yaml.safe_load((MODELS_DIR / "civic-2025.1.yaml").read_text(encoding="utf-8"))


def parse(data: dict[str, Any]) -> Any:
    return parse_model(data, CATALOG, FORBIDDEN, file="t.yaml")


def edited(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node: Any = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()


def test_shipped_models_load() -> None:
    models = load_models(CATALOG)
    assert set(models.by_id) == {"civic-2025.1", "civic-2026.1", "grade-2025.1"}
    assert parse(BASE).id == "civic-2025.1"


BAD = [
    ("family", "credit", "family"),
    ("version", "v1", "version"),
    ("subject_kind", "organization", "subject_kind"),
    ("base", 950, "base"),
    ("base", "600", "base"),
    ("effective_to", "2024-01-01", "effective_to"),
    ("dimensions.0.min", 10, "dimensions[0]"),
    ("decay.negative.steps", [{"from": "P1Y", "weight": 1}], "decay.negative.steps[0].from"),
    ("decay.negative.steps", [{"from": "P0D", "weight": 0.5}, {"from": "P1Y", "weight": 1}],
     "decay.negative.steps[1].weight"),
    ("decay.negative.steps", [{"from": "P0D", "weight": 0.1234}], "decay.negative.steps[0].weight"),
    ("decay.positive.ends", "display_end", "decay.positive.ends"),
    ("decay.positive.ends", "three years", "decay.positive.ends"),
    ("items.no_such_item", {"dimension": "law", "points": {"general": -1}}, "items.no_such_item"),
    ("items.admin_penalty", {"dimension": "nowhere", "points": {"general": -1}}, "items.admin_penalty.dimension"),
    ("items.admin_penalty", {"dimension": "law", "points": {"general": 10, "serious": -1, "minor": -1}},
     "items.admin_penalty.points.general"),
    ("items.admin_penalty", {"dimension": "law", "points": {"general": -10}}, "items.admin_penalty.points"),
    ("items.admin_penalty", {"dimension": "law", "points": {"huge": -10}}, "items.admin_penalty.points.huge"),
    ("items.commendation", {"dimension": "honours", "points": -5}, "items.commendation.points"),
    ("items.occ_teacher", {"dimension": "honours", "points": 5}, "items.occ_teacher"),
    ("items.business_abnormal", {"dimension": "law", "points": {"general": -5}}, "items.business_abnormal"),
    ("items.volunteer_service", {"dimension": "prosocial", "per_unit": {"field": "nope", "unit": 1, "points": 1}},
     "items.volunteer_service.per_unit.field"),
    ("items.volunteer_service", {"dimension": "prosocial", "per_unit": {"field": "project_name", "unit": 1,
                                                                        "points": 1}},
     "items.volunteer_service.per_unit.field"),
    ("items.volunteer_service", {"dimension": "prosocial", "per_unit": {"field": "service_hours", "unit": 0.25,
                                                                        "points": 1}},
     "items.volunteer_service.per_unit.unit"),
    ("memberships.grey", {"points": 1, "dimension": "law"}, "memberships.grey"),
    ("memberships.black", {"cap_band": "worst"}, "memberships.black.cap_band"),
    ("bands.1.min", 800, "bands[1].min"),
    ("bands.4.min", 350, "bands"),
    ("bands.0.benefits", ["free_lunch"], "bands[0].benefits"),
    ("signals", ["ecommerce_rating"], "signals"),
    ("colour", "red", "colour"),
]


@pytest.mark.parametrize(("path", "value", "key"), BAD, ids=[f"{b[0]}={b[1]!r}"[:60] for b in BAD])
def test_loader_refuses_bad_models_naming_the_key(path: str, value: Any, key: str) -> None:
    with pytest.raises(ModelError) as info:
        parse(edited(path, value))
    assert info.value.key == key
    assert info.value.message_zh and info.value.message_en


def test_loader_refuses_overlapping_versions(tmp_path: Any) -> None:
    for name in ("civic-2025.1", "civic-2026.1"):
        data = copy.deepcopy(BASE)
        data["version"] = name.split("-")[1]
        data["effective_from"] = "2025-01-01" if name.endswith("2025.1") else "2026-06-01"
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ModelError) as info:
        load_models(CATALOG, tmp_path)
    assert info.value.key == "effective_to"


def test_loader_refuses_a_misnamed_file(tmp_path: Any) -> None:
    (tmp_path / "civic-latest.yaml").write_text(yaml.safe_dump(BASE, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ModelError):
        load_models(CATALOG, tmp_path)


def test_duplicate_keys_are_refused(tmp_path: Any) -> None:
    (tmp_path / "civic-2025.1.yaml").write_text("family: civic\nfamily: civic\n", encoding="utf-8")
    with pytest.raises(ModelError):
        load_models(CATALOG, tmp_path)


# -- the fairness guard --------------------------------------------------------------------------------

def test_an_item_whose_fields_are_forbidden_attributes_is_refused() -> None:
    """自然人基本身份信息 carries 性别, 出生日期, 户籍地: no model may score it, whatever the points."""
    data = edited("items.person_basic", {"dimension": "honours", "points": 1})
    with pytest.raises(FairnessViolation) as info:
        parse(data)
    assert info.value.key == "items.person_basic"
    assert "性别" in info.value.message_zh or "出生" in info.value.message_zh or "户籍" in info.value.message_zh


def test_a_citizen_id_field_is_refused_when_read() -> None:
    """Reading a field that holds a citizen ID (birth date, sex, region inside) is refused."""
    data = edited("items.admin_penalty", {"dimension": "law", "points": {"minor": -1, "general": -1, "serious": -1}})
    parse(data)  # scoring the item by severity is fine: it does not read the ID
    assert forbidden_match("legal_representative_ric", FORBIDDEN, field_type="ric") is not None


_ATTRIBUTE_NAMES = [
    "gender", "sex", "ethnicity", "religion", "health", "medical_history", "birth_date", "age", "birthplace",
    "household_region", "marital_status", "bank_account", "location_trace", "biometric_hash", "minor_flag",
    "性别", "民族", "宗教信仰", "健康状况", "出生日期", "籍贯", "婚姻状况", "户籍地", "银行账户", "行踪轨迹",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(_ATTRIBUTE_NAMES),
    prefix=st.sampled_from(["", "subject_", "applicant_", "x_"]),
    upper=st.booleans(),
    where=st.sampled_from(["dimension_code", "dimension_name", "per_unit_field"]),
)
def test_fairness_guard_refuses_any_forbidden_attribute(name: str, prefix: str, upper: bool, where: str) -> None:
    """Property: wherever a model names a forbidden attribute, in whatever spelling, the loader refuses it."""
    term = prefix + (name.upper() if upper and name.isascii() else name)
    data = copy.deepcopy(BASE)
    if where == "dimension_code":
        if not term.isascii():
            term = "d_" + str(abs(hash(term)) % 1000)  # a code is ASCII; the Chinese name carries the meaning
            data["dimensions"].append({"code": term, "name_zh": name, "name_en": "x", "min": 0, "max": 10})
        else:
            data["dimensions"].append({"code": term, "name_zh": "维度", "name_en": "x", "min": 0, "max": 10})
    elif where == "dimension_name":
        data["dimensions"].append({"code": "extra", "name_zh": f"按{name}调整", "name_en": "x", "min": 0, "max": 10})
    else:
        data["items"]["volunteer_service"] = {"dimension": "prosocial",
                                              "per_unit": {"field": term, "unit": 1, "points": 1}}
    with pytest.raises(FairnessViolation):
        parse(data)


@pytest.mark.parametrize("code", ["tax_arrears", "utility_arrears", "admin_penalty", "volunteer_service",
                                  "charity_donation", "commendation", "food_drug_violation"])
def test_ordinary_items_pass_the_guard(code: str) -> None:
    """No false alarm on items the shipped models score (e.g. 欠税发生日期 is not a birthday)."""
    item = CATALOG.item(code)
    for version in item.versions:
        for spec in version.fields:
            hit = forbidden_match(spec.code, FORBIDDEN, label_zh=spec.label_zh, field_type=spec.type.value,
                                  item_level=True)
            assert hit is None, (code, spec.code, hit)
