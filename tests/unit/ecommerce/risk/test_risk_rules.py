"""The risk rules, read as the policy reads: the shop risk warning and the platform assessment as tables of
cases under the shipped parameters (data/warning.yaml, data/assessment.yaml), the period parser, the loader's
refusals, and the small readers of a finding."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chengxin.ecommerce.risk import rules
from chengxin.ecommerce.risk.config import (
    DATA,
    AssessmentParams,
    ConfigError,
    FindingParams,
    WarningParams,
    assessment_params,
    finding_params,
    load,
    warning_params,
)
from chengxin.ecommerce.risk.rules import ActionFact, FindingFact, PlatformFacts, RatingTrend, RecordFact, ShopFacts

TODAY = dt.date(2026, 11, 26)
W = warning_params(TODAY)
A = assessment_params(TODAY)


def _open(confidence: float, kind: str = "order_brushing") -> FindingFact:
    return FindingFact(kind, "open", confidence)


def _confirmed(days_ago: int) -> FindingFact:
    return FindingFact("order_brushing", "confirmed", 0.9, TODAY - dt.timedelta(days=days_ago))


def _record(severity: str, years_ago: float) -> RecordFact:
    return RecordFact("admin_penalty", severity, TODAY - dt.timedelta(days=int(365.25 * years_ago)))


# name, facts, expected level, expected score, reason codes that gave points
SHOP_CASES: list[tuple[str, ShopFacts, str, float, set[str]]] = [
    ("nothing known: low, and the missing complaint data is said, not read as zero",
     ShopFacts(), "low", 0, set()),
    ("one open finding counts its confidence: 0.8 × 25 = 20 reaches medium",
     ShopFacts(findings=(_open(0.8),)), "medium", 20, {"findings_open"}),
    ("open findings are capped at 40: still medium",
     ShopFacts(findings=(_open(1.0), _open(1.0), _open(1.0, "fake_traffic"))), "medium", 40, {"findings_open"}),
    ("a finding confirmed within a year counts in full",
     ShopFacts(findings=(_confirmed(30),)), "medium", 40, {"findings_confirmed"}),
    ("a finding confirmed more than a year ago no longer counts",
     ShopFacts(findings=(_confirmed(400),)), "low", 0, set()),
    ("confirmed brushing and the general record it became: high (a notice may be published)",
     ShopFacts(findings=(_confirmed(10),), records=(_record("general", 0.05),)), "high", 46,
     {"findings_confirmed", "records"}),
    ("records older than the three-year lookback do not count",
     ShopFacts(records=(_record("serious", 3.5),)), "low", 0, set()),
    ("one general record alone stays low", ShopFacts(records=(_record("general", 1),)), "low", 6, {"records"}),
    ("records are capped at 30",
     ShopFacts(records=(_record("serious", 1), _record("serious", 2), _record("general", 2))), "medium", 30,
     {"records"}),
    ("on the black list: high at least", ShopFacts(lists=frozenset({"black"})), "high", 50, {"list_black"}),
    ("on the watch list: medium", ShopFacts(lists=frozenset({"watch"})), "medium", 20, {"list_watch"}),
    ("on the red list: a bonus, never below zero", ShopFacts(lists=frozenset({"red"})), "low", 0, {"list_red"}),
    ("the red list offsets part of an open finding",
     ShopFacts(findings=(_open(1.0),), lists=frozenset({"red"})), "low", 15, {"findings_open", "list_red"}),
    ("good-rating rate down from 85% to 50%: (35 − 3) × 2, capped at 20",
     ShopFacts(ratings=RatingTrend(good_30d=15, rated_30d=30, good_180d=170, rated_180d=200)), "medium", 20,
     {"rating_trend"}),
    ("a small drop is noise (within 3 points)",
     ShopFacts(ratings=RatingTrend(good_30d=41, rated_30d=50, good_180d=168, rated_180d=200)), "low", 0, set()),
    ("too few recent ratings to judge a trend",
     ShopFacts(ratings=RatingTrend(good_30d=2, rated_30d=10, good_180d=170, rated_180d=200)), "low", 0, set()),
    ("complaints, when a source is connected: 2 points each", ShopFacts(complaints=5), "low", 10, {"complaints"}),
    ("complaints are capped at 20", ShopFacts(complaints=40), "medium", 20, {"complaints"}),
    ("everything at once: severe",
     ShopFacts(findings=(_confirmed(5), _open(0.9)), records=(_record("serious", 0.1),), lists=frozenset({"black"})),
     "severe", 127.5, {"findings_confirmed", "findings_open", "records", "list_black"}),
]


@pytest.mark.parametrize(("name", "facts", "level", "score", "codes"), SHOP_CASES, ids=[c[0] for c in SHOP_CASES])
def test_shop_risk(name: str, facts: ShopFacts, level: str, score: float, codes: set[str]) -> None:
    risk = rules.shop_risk(facts, W, TODAY)
    assert (risk.level, risk.score) == (level, pytest.approx(score, abs=0.1)), name
    assert {r.code for r in risk.reasons if r.points} == codes
    assert risk.level_zh == rules.LEVEL_ZH[level] and risk.parameter_version == W.version
    assert all(r.text_zh and r.text_en for r in risk.reasons)
    if facts.complaints is None:
        assert any(r.code == "complaints_unavailable" for r in risk.reasons)
    points = [abs(r.points) for r in risk.reasons]
    assert points == sorted(points, reverse=True)  # the strongest reason first


def test_a_list_floor_holds_whatever_the_points() -> None:
    lists = dict(W.lists)
    lists["black"] = lists["black"].model_copy(update={"points": 0.0})
    params = W.model_copy(update={"lists": lists})
    risk = rules.shop_risk(ShopFacts(lists=frozenset({"black"})), params, TODAY)
    assert risk.level == "high" and risk.score == 0 and any(r.code == "level_floor" for r in risk.reasons)


def _facts(**kw: Any) -> PlatformFacts:
    base: dict[str, Any] = {"shops_total": 100, "shops_with_findings": 5, "open_shops": 90, "licensed_shops": 80,
                            "orders": 10_000, "complaints": None,
                            "actions": (ActionFact(2, True), ActionFact(20, True), ActionFact(None, True),
                                        ActionFact(None, False))}
    base.update(kw)
    return PlatformFacts(**base)


# name, facts, score, grade, components that applied
PLATFORM_CASES: list[tuple[str, PlatformFacts, float, str, set[str]]] = [
    ("a typical platform: 5% of shops with findings, 1 of 3 due findings acted on in time, 89% licence display",
     _facts(), 65.7, "C", {"findings", "action", "licence"}),
    ("nothing confirmed yet: the action component does not apply and gives its weight away",
     _facts(actions=()), 81.9, "B", {"findings", "licence"}),
    ("a finding not yet due and not acted on is left out, not counted late",
     _facts(actions=(ActionFact(None, False), ActionFact(1.5, True))), 88.0, "B", {"findings", "action", "licence"}),
    ("complaints when connected: 10 per 10,000 orders = 1 per 1,000 → 0.8",
     _facts(complaints=10, actions=()), 81.7, "B", {"findings", "licence", "complaints"}),
    ("a fifth of the shops with findings scores zero on that component",
     _facts(shops_with_findings=20, actions=(), licensed_shops=90), 50.0, "D", {"findings", "licence"}),
    ("a clean platform with full licence display", _facts(shops_with_findings=0, licensed_shops=90,
                                                          actions=(ActionFact(0.5, True),)), 100.0, "A",
     {"findings", "action", "licence"}),
    ("no shops at all: nothing applies", _facts(shops_total=0, open_shops=0, licensed_shops=0, actions=()), 0.0, "D",
     set()),
]


@pytest.mark.parametrize(("name", "facts", "score", "grade", "applied"), PLATFORM_CASES,
                         ids=[c[0] for c in PLATFORM_CASES])
def test_platform_assessment(name: str, facts: PlatformFacts, score: float, grade: str, applied: set[str]) -> None:
    result = rules.assess_platform(facts, A)
    assert (result.score, result.grade) == (pytest.approx(score, abs=0.1), grade), name
    assert {k for k, c in result.components.items() if c.value is not None} == applied
    assert all(0 <= (c.value or 0) <= 1 and c.text_zh for c in result.components.values())


def test_timeliness_and_median() -> None:
    result = rules.assess_platform(_facts(), A)
    assert (result.acted_timely, result.counted_actions, result.median_action_days) == (1, 3, 11.0)


@pytest.mark.parametrize(("text", "start", "end", "label"), [
    ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026年第3季度"),
    ("2026-q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31), "2026年第1季度"),
    ("2024-H1", dt.date(2024, 1, 1), dt.date(2024, 6, 30), "2024年上半年"),
    ("2026-H2", dt.date(2026, 7, 1), dt.date(2026, 12, 31), "2026年下半年"),
    ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024年2月"),
    ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026年"),
])
def test_periods(text: str, start: dt.date, end: dt.date, label: str) -> None:
    p = rules.parse_period(text)
    assert (p.start, p.end, p.label_zh) == (start, end, label)


@pytest.mark.parametrize("text", ["", "2026-Q5", "2026-Q0", "2026-13", "26-Q1", "2026Q3", "1999-Q1", "2026-H3",
                                  "2026-Q3 "[:-1] + "x"])
def test_bad_periods(text: str) -> None:
    with pytest.raises(ValueError):
        rules.parse_period(text)


@given(st.integers(2000, 2998), st.sampled_from(["Q1", "Q2", "Q3", "Q4", "H1", "H2", *[f"{m:02d}" for m in range(1, 13)]]))
def test_periods_tile_the_year(year: int, part: str) -> None:
    p = rules.parse_period(f"{year}-{part}")
    assert p.start <= p.end and p.start.year == p.end.year == year and p.code == f"{year}-{part}"
    nxt = p.end + dt.timedelta(days=1)
    assert nxt.day == 1 and (nxt.year == year + 1 or nxt.month > p.start.month)


@given(st.text(max_size=12))
def test_the_period_parser_never_crashes(text: str) -> None:
    try:
        p = rules.parse_period(text)
    except ValueError:
        return
    assert p.start <= p.end


# -- the dated parameters ----------------------------------------------------------------------------------


def test_the_shipped_parameters_load() -> None:
    fp = finding_params(TODAY)
    assert set(fp.kinds) == {"order_brushing", "fake_traffic", "malicious_review", "empty_parcel"}
    assert fp.kinds["empty_parcel"].item == "ec_order_brushing" and fp.kinds["malicious_review"].against == "buyers"
    assert fp.kinds["order_brushing"].counts_against_shop and not fp.kinds["malicious_review"].counts_against_shop
    assert "samr" in fp.regulators and W.notice_min_level == "high" and A.action_days > 0
    for params in (fp, W, A):
        assert params.basis and params.effective_from <= TODAY


def test_the_items_exist_and_the_regulators_are_their_sources() -> None:
    from chengxin.catalog.loader import load_catalog

    catalog = load_catalog()
    fp = finding_params(TODAY)
    for kind in fp.kinds.values():
        version = catalog.version_on(kind.item, TODAY)
        assert version is not None and set(version.departments) & set(fp.regulators)
        codes = {f.code for f in version.fields}
        assert set(kind.fields) <= codes and set(kind.buyer_fields or {}) <= codes


def _raw(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return raw


@pytest.mark.parametrize(("name", "model", "change", "message"), [
    ("warning.yaml", WarningParams, {"levels": [{"code": "high", "name_zh": "高", "min_score": 0},
                                                {"code": "low", "name_zh": "低", "min_score": 10}]}, "ordered"),
    ("warning.yaml", WarningParams, {"notice_min_level": "extreme"}, "notice_min_level"),
    ("warning.yaml", WarningParams, {"records": {"lookback": "three years", "points": {}, "cap": 1}}, "lookback"),
    ("findings.yaml", FindingParams, {"kinds": {}}, "kinds missing"),
    ("findings.yaml", FindingParams, {"surprise": 1}, "surprise"),
    ("assessment.yaml", AssessmentParams, {"weights": {"findings": -1}}, "non-negative"),
    ("assessment.yaml", AssessmentParams, {"grades": [{"code": "A", "name_zh": "优", "min_score": 50}]}, "start at 0"),
])
def test_bad_parameters_are_refused(name: str, model: type[Any], change: dict[str, Any], message: str) -> None:
    raw = _raw(name)
    raw["versions"][0].update(change)
    with pytest.raises(ConfigError, match=message):
        load(model, yaml.safe_dump(raw, allow_unicode=True), name)


def test_versions_must_not_overlap_and_a_day_needs_one() -> None:
    raw = _raw("warning.yaml")
    later = {**raw["versions"][0], "version": "2027.1", "effective_from": dt.date(2027, 1, 1)}
    raw["versions"].append(later)
    with pytest.raises(ConfigError, match="must end"):
        load(WarningParams, yaml.safe_dump(raw, allow_unicode=True), "warning.yaml")
    raw["versions"][0]["effective_to"] = dt.date(2026, 12, 31)
    file = load(WarningParams, yaml.safe_dump(raw, allow_unicode=True), "warning.yaml")
    assert file.on(dt.date(2026, 12, 31)).version == "2026.1" and file.on(dt.date(2027, 1, 1)).version == "2027.1"
    with pytest.raises(ConfigError, match="no version"):
        file.on(dt.date(2025, 1, 1))


# -- reading a finding ---------------------------------------------------------------------------------------


def test_shared_attributes_are_counts_only() -> None:
    rows = [(1, "h-a", "h-d1", "h-p1"), (2, "h-a", "h-d1", "h-p2"), (3, "h-b", "h-d1", None), (4, "h-c", None, "h-p4")]
    out = rules.shared_attributes(rows)
    assert out["address"] == {"accounts": 4, "distinct": 3, "shared_values": 1, "accounts_sharing": 2}
    assert out["device"] == {"accounts": 4, "distinct": 1, "shared_values": 1, "accounts_sharing": 3}
    assert out["payment"]["shared_values"] == 0
    assert "h-" not in str(out)


def test_density_and_time_bins() -> None:
    assert rules.bipartite_density([(1, 10), (2, 10), (1, 10)]) == (2, 1, 2, 1.0)
    assert rules.bipartite_density([(1, 10), (2, 11)]) == (2, 2, 2, 0.5)
    assert rules.bipartite_density([]) == (0, 0, 0, 0.0)
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    times = [t0 + dt.timedelta(minutes=m) for m in (0, 1, 2, 3, 600)]
    bins = rules.time_bins(times, bins=10)
    assert len(bins) == 10 and sum(b.count for b in bins) == 5 and bins[0].count == 4 and bins[-1].count == 1
    assert rules.time_bins([]) == [] and rules.time_bins([t0, t0])[0].count == 2
    svg = rules.timeline_svg(bins)
    assert svg.startswith("<svg") and svg.count("<rect") == 10 and "<script" not in svg and "峰值 4 笔/格" in svg


def test_record_values_fit_the_item() -> None:
    fp = finding_params(TODAY)
    values = rules.record_values(
        fp.kinds["order_brushing"], finding_id=7, subject_id=42, subject_kind="organization",
        identifier="91320400MA1XXXXX0X", subject_name="常州某某商贸有限公司", buyer=False, platform_name="测试商城",
        shop_name="龙城店", shop_url="https://x", order_count=30, amount_cents=297_050, period=None,
        summary_zh="涉及账户 8 个。", note="核实属实", severity="general", decided_on=TODAY, decision_no=None,
        authority_name="常州市市场监督管理局")
    assert values["source_id"] == "ECF-7-42" and values["uscc"] and "ric" not in values
    assert (values["role"], values["source"], values["fake_orders"], values["fake_amount"]) == (
        "merchant", "monitoring", 30, "2970.50")
    assert values["facts"].startswith("经网络交易监测发现") and values["facts"].endswith("研判意见：核实属实")
    buyer = rules.record_values(
        fp.kinds["order_brushing"], finding_id=7, subject_id=43, subject_kind="person", identifier="x",
        subject_name="张三", buyer=True, platform_name="测试商城", shop_name="龙城店", shop_url=None, order_count=3,
        amount_cents=0, period=None, summary_zh="", note=None, severity="general", decided_on=TODAY,
        decision_no="文书1", authority_name="局")
    assert buyer["role"] == "brusher" and "shop_name" not in buyer and buyer["decision_no"] == "文书1"


def test_staff_roles() -> None:
    regs = ("samr", "commerce", "cac")
    assert rules.staff_role("staff", "clerk", "samr", regs) == "department"
    assert rules.staff_role("api_key", None, "commerce", regs) == "department"
    assert rules.staff_role("staff", "credit_office", None, regs) == "office"
    assert rules.staff_role("staff", "clerk", "tax", regs) is None
    assert rules.staff_role("api_key", None, "platform:91320400MA1XXXXX0X", regs) is None
    assert rules.pseudonym("ab" * 32) == "账户 abababab…"
    assert rules.notice_number(2026, 12) == "FX-2026-000012"
    assert rules.fingerprint_key("k" * 200).startswith("sha256:") and rules.fingerprint_key("abc") == "abc"
