"""The information catalog: the shipped data, and every refusal of the loader."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from chengxin.catalog.loader import DATA_DIR, REPORT_SECTIONS, CatalogError, clear_catalog_cache, load_catalog
from chengxin.catalog.model import Catalog, Category, Severity, Sharing, SubjectKind, UnknownItem

# --- the shipped catalog ------------------------------------------------------------------------

REQUIRED_ITEMS = {
    "org_registration",
    "person_basic",
    "qualification",
    "admin_license",
    "admin_penalty",
    "commendation",
    "volunteer_service",
    "charity_donation",
    "utility_arrears",
    "tax_arrears",
    "tax_credit_rating",
    "social_insurance_arrears",
    "court_judgement",
    "dishonest_debtor",
    "exam_cheating",
    "academic_fraud",
    "student_loan_default",
    "business_abnormal",
    "credit_commitment",
    "credit_evaluation",
    "ec_malicious_review",
    "ec_order_brushing",
    "ec_fake_traffic",
    "ec_not_as_described",
    "ec_counterfeit",
    "ec_price_fraud",
    "logistics_dishonesty",
    "food_drug_violation",
    "work_safety_violation",
    "malicious_wage_arrears",
    "housing_fund_arrears",
}
KEY_OCCUPATIONS = {
    "civil_servant",
    "public_institution",
    "teacher",
    "lawyer",
    "physician",
    "pharmacist",
    "tour_guide",
    "accountant",
    "appraiser",
    "fire_engineer",
    "real_estate_agent",
    "ecommerce_staff",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_shipped_catalog_loads_with_the_required_items(catalog: Catalog) -> None:
    assert len(catalog.items) >= 30
    assert REQUIRED_ITEMS <= set(catalog.items)
    key_groups = {item.key_group for item in catalog.items.values()}
    assert KEY_OCCUPATIONS <= key_groups
    assert {"food_drug", "work_safety", "tax", "ecommerce", "logistics"} <= key_groups


def test_every_item_version_allows_existing_departments(catalog: Catalog) -> None:
    for item in catalog.items.values():
        for version in item.versions:
            assert version.departments, item.code
            assert version.departments <= set(catalog.departments), item.code


def test_every_item_is_consistent(catalog: Catalog) -> None:
    for code, item in catalog.items.items():
        assert item.code == code
        assert item.report_section in REPORT_SECTIONS
        assert item.versions == tuple(sorted(item.versions, key=lambda v: v.effective_from))
        for version in item.versions:
            assert version.basis
            if version.category is Category.NEGATIVE:
                assert version.severities
                assert set(version.display_periods) == set(version.severities)
            else:
                assert version.severities == ()
                assert set(version.display_periods) == {None}
            if version.public_for_persons:
                assert version.sharing is Sharing.PUBLIC


def test_departments_have_names(catalog: Catalog) -> None:
    for code in ("samr", "tax", "court", "edu", "hrss", "police", "post", "credit_office", "charity", "fund"):
        department = catalog.departments[code]
        assert department.name_zh and department.name_en and department.short_zh


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 6, 30), None),
        (date(2019, 7, 1), "2019.1"),
        (date(2023, 4, 30), "2019.1"),
        (date(2023, 5, 1), "2023.1"),
        (date(2025, 6, 21), "2023.1"),
        (date(2025, 6, 22), "2025.1"),
        (date(2030, 1, 1), "2025.1"),
    ],
)
def test_penalty_version_on_boundary_days(catalog: Catalog, day: date, expected: str | None) -> None:
    version = catalog.version_on("admin_penalty", day)
    assert (version.version if version else None) == expected
    assert catalog.item("admin_penalty").current(day) == version


def test_penalty_regimes(catalog: Catalog) -> None:
    item = catalog.item("admin_penalty")
    old, order58, current = item.versions
    assert item.latest is current
    assert old.display_periods[Severity.SERIOUS].min.text == "P6M"  # type: ignore[union-attr]
    assert order58.display_periods[Severity.GENERAL].max.text == "P1Y"  # type: ignore[union-attr]
    assert order58.display_periods[Severity.SERIOUS].min.text == "P1Y"  # type: ignore[union-attr]
    assert order58.display_periods[Severity.SERIOUS].max.text == "P3Y"  # type: ignore[union-attr]
    assert current.severities == (Severity.MINOR, Severity.GENERAL, Severity.SERIOUS)
    minor = current.display_periods[Severity.MINOR]
    assert minor.min is None and minor.max is not None and minor.max.text == "P3M"
    assert "第58号" in order58.basis and "〔2025〕22号" in current.basis
    # later versions inherit what they do not restate
    assert current.fields == order58.fields == old.fields
    assert current.departments == old.departments
    assert not current.public_for_persons
    assert old.extra["period_starts_on"] == "decision_date"


def test_dishonest_debtor_is_serious_and_not_repairable(catalog: Catalog) -> None:
    version = catalog.version_on("dishonest_debtor", date(2024, 1, 1))
    assert version is not None
    assert version.severities == (Severity.SERIOUS,)
    assert version.report_section == "严重失信"
    assert not version.repairable
    assert version.departments == {"court"}
    assert "终结执行" in " ".join(version.extra["removal_conditions"])


def test_person_basic_is_government_only(catalog: Catalog) -> None:
    version = catalog.item("person_basic").latest
    assert version.sharing is Sharing.GOVERNMENT
    assert version.subject_kinds == {SubjectKind.PERSON}
    assert version.departments == {"police"}


def test_configurable_defaults_are_marked_in_the_data() -> None:
    text = (DATA_DIR / "items" / "admin_penalty.yaml").read_text(encoding="utf-8")
    assert "# configurable default" in text


def test_unknown_item(catalog: Catalog) -> None:
    with pytest.raises(UnknownItem) as excinfo:
        catalog.item("no_such_item")
    assert isinstance(excinfo.value, KeyError)
    assert "no_such_item" in str(excinfo.value)


def test_items_for_department(catalog: Catalog) -> None:
    codes = [v.item_code for v in catalog.items_for_department("court", date(2024, 1, 1))]
    assert codes == ["court_judgement", "dishonest_debtor"]
    post = {v.item_code for v in catalog.items_for_department("post", date(2024, 1, 1))}
    assert "logistics_dishonesty" in post and "admin_penalty" in post
    before_2019 = {v.item_code for v in catalog.items_for_department("samr", date(2018, 1, 1))}
    assert "admin_penalty" not in before_2019 and "org_registration" in before_2019


def test_search(catalog: Catalog) -> None:
    assert catalog.search("行政处罚")[0].code == "admin_penalty"
    assert "volunteer_service" in [i.code for i in catalog.search("志愿")]
    assert "admin_penalty" in [i.code for i in catalog.search("PENALT")]  # English, case-insensitive
    assert "admin_penalty" in [i.code for i in catalog.search("罚没")]  # a field label
    assert catalog.search("没有这种信息") == []


# --- loader refusals, on small catalogs written to tmp_path --------------------------------------

DEPARTMENTS = [
    {"code": "samr", "name_zh": "市场监管局", "name_en": "Market regulation", "short_zh": "市场监管局"},
    {"code": "tax", "name_zh": "税务局", "name_en": "Tax", "short_zh": "税务局"},
]


def penalty_item() -> dict[str, Any]:
    return {
        "code": "penalty",
        "name_zh": "行政处罚信息",
        "name_en": "Penalties",
        "subject_kinds": ["organization"],
        "category": "negative",
        "report_section": "行政管理",
        "versions": [
            {
                "version": "2019.1",
                "effective_from": date(2019, 7, 1),
                "effective_to": date(2023, 4, 30),
                "basis": "发改办财金〔2019〕527号",
                "severities": ["general", "serious"],
                "sharing": "public",
                "public_for_persons": False,
                "display_periods": {
                    "general": {"min": "P3M", "max": "P1Y"},
                    "serious": {"min": "P6M", "max": "P3Y"},
                },
                "repairable": True,
                "departments": ["samr"],
                "fields": [
                    {
                        "code": "decision_no",
                        "label_zh": "决定书文号",
                        "label_en": "No.",
                        "type": "string",
                        "required": True,
                        "max_length": 64,
                    },
                    {
                        "code": "penalty_type",
                        "label_zh": "处罚类别",
                        "label_en": "Type",
                        "type": "enum",
                        "options": [{"value": "fine", "label_zh": "罚款", "label_en": "Fine"}],
                    },
                ],
            },
            {
                "version": "2023.1",
                "effective_from": date(2023, 5, 1),
                "basis": "国家发展改革委令第58号",
                "display_periods": {
                    "general": {"min": "P3M", "max": "P1Y"},
                    "serious": {"min": "P1Y", "max": "P3Y"},
                },
            },
        ],
    }


def write_catalog(root: Path, item: dict[str, Any], *, file_name: str | None = None) -> Path:
    (root / "items").mkdir(parents=True, exist_ok=True)
    (root / "departments.yaml").write_text(yaml.safe_dump(DEPARTMENTS, allow_unicode=True), encoding="utf-8")
    name = file_name or f"{item['code']}.yaml"
    (root / "items" / name).write_text(yaml.safe_dump(item, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def test_small_catalog_loads_and_inherits(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, penalty_item()))
    first, second = catalog.item("penalty").versions
    assert second.fields == first.fields
    assert second.departments == {"samr"}
    assert second.display_periods[Severity.SERIOUS].min.text == "P1Y"  # type: ignore[union-attr]
    assert second.effective_to is None


Mutation = Callable[[dict[str, Any]], None]


def set_in(path: str, value: Any) -> Mutation:
    def mutate(item: dict[str, Any]) -> None:
        target: Any = item
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if value is DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return mutate


DELETE = object()
V0 = "versions.0"
V1 = "versions.1"

# (id, mutation, version named in the message, key named in the message, words in the message)
REFUSALS: list[tuple[str, Mutation, str | None, str, str]] = [
    ("unknown item key", set_in("colour", "red"), None, "colour", "unknown key"),
    ("unknown version key", set_in(f"{V1}.severity", "serious"), "2023.1", "severity", "unknown key"),
    (
        "unknown field key",
        set_in(f"{V0}.fields.0.length", 10),
        "2019.1",
        "fields.decision_no.length",
        "unknown key",
    ),
    ("unknown category", set_in("category", "bad"), None, "category", "unknown value 'bad'"),
    (
        "unknown subject kind",
        set_in("subject_kinds", ["robot"]),
        None,
        "subject_kinds",
        "unknown value 'robot'",
    ),
    ("unknown report section", set_in("report_section", "杂项"), None, "report_section", "unknown value"),
    ("unknown sharing", set_in(f"{V0}.sharing", "everyone"), "2019.1", "sharing", "unknown value 'everyone'"),
    (
        "unknown severity",
        set_in(f"{V0}.severities", ["awful"]),
        "2019.1",
        "severities",
        "unknown value 'awful'",
    ),
    (
        "unknown field type",
        set_in(f"{V0}.fields.0.type", "money"),
        "2019.1",
        "fields.decision_no.type",
        "money",
    ),
    ("unknown department", set_in(f"{V1}.departments", ["samr", "nasa"]), "2023.1", "departments", "'nasa'"),
    ("no department", set_in(f"{V0}.departments", []), "2019.1", "departments", "at least one"),
    (
        "overlapping versions",
        set_in(f"{V1}.effective_from", date(2023, 4, 30)),
        "2023.1",
        "effective_from",
        "overlaps",
    ),
    (
        "open-ended earlier version",
        set_in(f"{V0}.effective_to", None),
        "2023.1",
        "effective_from",
        "overlaps",
    ),
    (
        "unordered versions",
        set_in(f"{V1}.effective_from", date(2019, 1, 1)),
        "2023.1",
        "effective_from",
        "out of order",
    ),
    (
        "effective_to before effective_from",
        set_in(f"{V0}.effective_to", date(2019, 6, 30)),
        "2019.1",
        "effective_to",
        "before",
    ),
    (
        "negative item without severities",
        set_in(f"{V0}.severities", DELETE),
        "2019.1",
        "severities",
        "must list its severities",
    ),
    (
        "severities on a basic item",
        set_in("category", "basic"),
        "2019.1",
        "severities",
        "only negative items",
    ),
    (
        "display period missing for a listed severity",
        set_in(f"{V1}.display_periods.serious", DELETE),
        "2023.1",
        "display_periods.serious",
        "missing",
    ),
    (
        "display period for an unlisted severity",
        set_in(f"{V0}.display_periods.minor", {"max": "P3M"}),
        "2019.1",
        "display_periods.minor",
        "not one of this version's severities",
    ),
    (
        "duration not ISO 8601",
        set_in(f"{V0}.display_periods.general.max", "1 year"),
        "2019.1",
        "display_periods.general.max",
        "not an ISO 8601 duration",
    ),
    (
        "duration with weeks",
        set_in(f"{V0}.display_periods.general.min", "P2W"),
        "2019.1",
        "display_periods.general.min",
        "not an ISO 8601 duration",
    ),
    (
        "min longer than max",
        set_in(f"{V0}.display_periods.general.min", "P2Y"),
        "2019.1",
        "display_periods.general",
        "longer than max",
    ),
    (
        "enum without options",
        set_in(f"{V0}.fields.1.options", DELETE),
        "2019.1",
        "fields.penalty_type.options",
        "needs options",
    ),
    (
        "duplicate field codes",
        set_in(f"{V0}.fields.1.code", "decision_no"),
        "2019.1",
        "fields.decision_no.code",
        "duplicate field code",
    ),
    (
        "field code clashing with a common column",
        set_in(f"{V0}.fields.0.code", "uscc"),
        "2019.1",
        "fields.uscc.code",
        "common column",
    ),
    (
        "string without max_length",
        set_in(f"{V0}.fields.0.max_length", DELETE),
        "2019.1",
        "fields.decision_no.max_length",
        "max_length",
    ),
    (
        "bad pattern",
        set_in(f"{V0}.fields.0.pattern", "[0-9"),
        "2019.1",
        "fields.decision_no.pattern",
        "regular expression",
    ),
    (
        "first version missing a key",
        set_in(f"{V0}.repairable", DELETE),
        "2019.1",
        "repairable",
        "required in the first version",
    ),
    ("version label not text", set_in(f"{V1}.version", 2023.1), "#2", "version", "quote it"),
    (
        "public for persons but not public",
        set_in(f"{V0}.sharing", "authorized"),
        "2019.1",
        "public_for_persons",
        "cannot be true",
    ),
    (
        "repair conditions on an item that cannot be repaired",
        lambda item: (set_in(f"{V0}.repairable", False)(item), set_in(f"{V0}.repair", {"training": True})(item)),
        "2019.1",
        "repair",
        "only a repairable item",
    ),
    ("unknown repair condition", set_in(f"{V0}.repair", {"prayer": True}), "2019.1", "repair", "unknown keys"),
    ("repair condition not a flag", set_in(f"{V0}.repair", {"training": "yes"}), "2019.1", "repair.training",
     "true or false"),
    ("notice_required not a flag", set_in(f"{V0}.notice_required", "yes"), "2019.1", "notice_required",
     "true or false"),
]


@pytest.mark.parametrize(
    ("mutation", "version", "key", "words"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_loader_refuses(tmp_path: Path, mutation: Mutation, version: str | None, key: str, words: str) -> None:
    item = copy.deepcopy(penalty_item())
    if key == "public_for_persons":
        item["versions"][0]["public_for_persons"] = True
    mutation(item)
    with pytest.raises(CatalogError) as excinfo:
        load_catalog(write_catalog(tmp_path, item))
    error = excinfo.value
    message = str(error)
    assert message.startswith("items/penalty.yaml, item 'penalty'")
    assert f"key '{key}'" in message
    assert words in message
    assert error.file == "items/penalty.yaml" and error.item == "penalty" and error.key == key
    if version is not None:
        assert f"version '{version}'" in message and error.version == version


def test_loader_refuses_a_code_that_is_not_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"items/other\.yaml, item 'penalty', key 'code': must equal"):
        load_catalog(write_catalog(tmp_path, penalty_item(), file_name="other.yaml"))


def test_loader_refuses_a_duplicate_yaml_key(tmp_path: Path) -> None:
    root = write_catalog(tmp_path, penalty_item())
    path = root / "items" / "penalty.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "category: basic\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"(?s)items/penalty\.yaml: not valid YAML.*duplicate key 'category'"):
        load_catalog(root)


def test_loader_refuses_an_unknown_department_key(tmp_path: Path) -> None:
    root = write_catalog(tmp_path, penalty_item())
    bad = [*DEPARTMENTS, {"code": "post", "name_zh": "邮政", "name_en": "Post", "phone": "12305"}]
    (root / "departments.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"departments\.yaml, key '\[2\]\.phone': unknown key"):
        load_catalog(root)


def test_loader_refuses_a_duplicate_department(tmp_path: Path) -> None:
    root = write_catalog(tmp_path, penalty_item())
    (root / "departments.yaml").write_text(yaml.safe_dump(DEPARTMENTS * 2, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"departments\.yaml, key '\[2\]\.code': duplicate department code"):
        load_catalog(root)


def test_loader_refuses_a_missing_required_item_key(tmp_path: Path) -> None:
    item = penalty_item()
    del item["report_section"]
    with pytest.raises(CatalogError, match=r"item 'penalty', key 'report_section': is required"):
        load_catalog(write_catalog(tmp_path, item))


def test_load_catalog_is_cached_per_directory(tmp_path: Path) -> None:
    assert load_catalog() is load_catalog(DATA_DIR)
    root = write_catalog(tmp_path, penalty_item())
    first = load_catalog(root)
    assert load_catalog(root / "items" / "..") is first  # the same directory, however it is spelled
    assert load_catalog(DATA_DIR) is not first
    clear_catalog_cache()
    assert load_catalog(root) is not first


def test_the_shipped_catalog_says_which_items_need_a_notice_and_what_repair_needs() -> None:
    catalog = load_catalog()
    assert catalog.item("tax_arrears").latest.notice_required
    assert not catalog.item("admin_penalty").latest.notice_required
    food = catalog.item("food_drug_violation").latest.repair
    assert food is not None and food.training and food.rectification
    penalty = catalog.item("admin_penalty")
    assert all(v.repair is not None and not v.repair.training for v in penalty.versions)  # inherited, defaults
    assert catalog.item("occ_physician").latest.repair is None  # not repairable: no conditions
