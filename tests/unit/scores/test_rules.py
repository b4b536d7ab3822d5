"""Table-driven tests of the points model on hand-computed cases (issue #6): each rule, decay and display
boundary days, caps per dimension and of the range, bands, list memberships, rounding, explanations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from chengxin.catalog.loader import load_catalog
from chengxin.scores.model import get_models
from chengxin.scores.rules import Membership, RecordFact, contribution, round_half_away, score_subject

CATALOG = load_catalog()
MODELS = get_models(CATALOG)
CIVIC = MODELS.get("civic-2025.1")
GRADE = MODELS.get("grade-2025.1")
DAY = dt.date(2026, 11, 25)
D = dt.date


def fact(n: int, item: str, severity: str | None, day: dt.date, **kw: object) -> RecordFact:
    return RecordFact(n, item, severity, day, **kw)  # type: ignore[arg-type]


HELD = D(9999, 12, 31)

# (case, facts, memberships, day, total, band) — hand-computed from civic-2025.1 (base 600, 300–900).
CASES = [
    ("nothing: the base, band 较好", [], [], DAY, 600, "fair"),
    ("general penalty within a year: -40", [fact(1, "admin_penalty", "general", D(2026, 6, 1))], [], DAY, 560,
     "average"),
    ("serious penalty after a year: -120 × 0.5", [fact(1, "admin_penalty", "serious", D(2025, 7, 1))], [], DAY, 540,
     "average"),
    ("decay boundary: the day before one year, full weight", [fact(1, "admin_penalty", "serious", D(2025, 11, 25))],
     [], D(2026, 11, 24), 480, "poor"),
    ("decay boundary: on the anniversary, half weight", [fact(1, "admin_penalty", "serious", D(2025, 11, 25))], [],
     D(2026, 11, 25), 540, "average"),
    ("display end: the last day displayed still counts (in full: the year's step is the end)",
     [fact(1, "admin_penalty", "general", D(2025, 11, 25))], [], D(2026, 11, 24), 560, "average"),
    ("display end: from the end day it no longer counts", [fact(1, "admin_penalty", "general", D(2025, 11, 25))], [],
     D(2026, 11, 25), 600, "fair"),
    ("minor penalty: displayed 3 months only", [fact(1, "admin_penalty", "minor", D(2026, 8, 25))], [], DAY, 600,
     "fair"),
    ("minor penalty within 3 months: -10", [fact(1, "admin_penalty", "minor", D(2026, 9, 1))], [], DAY, 590, "average"),
    ("cap of a dimension: three serious penalties, law floor -300",
     [fact(i, "admin_penalty", "serious", D(2026, 9, i)) for i in (1, 2, 3)], [], DAY, 300, "poor"),
    ("range floor: law -300 and economic -150 clip to 300",
     [*(fact(i, "admin_penalty", "serious", D(2026, 9, i)) for i in (1, 2, 3)),
      fact(9, "dishonest_debtor", "serious", D(2026, 1, 5))], [], DAY, 300, "poor"),
    ("volunteer 12.5 hours: ⌊12.5⌋ × 2 = 24", [fact(1, "volunteer_service", None, D(2026, 10, 1),
                                                    quantity=Decimal("12.5"))], [], DAY, 624, "fair"),
    ("volunteer after a year: 24 × 0.5", [fact(1, "volunteer_service", None, D(2025, 10, 1),
                                             quantity=Decimal("12.5"))], [], DAY, 612, "fair"),
    ("volunteer after three years: no longer counts", [fact(1, "volunteer_service", None, D(2023, 11, 25),
                                                          quantity=Decimal("40"))], [], DAY, 600, "fair"),
    ("volunteer rounding: 1.5 h → 2 points × 0.25 = 0.5 → 1 (half away from zero)",
     [fact(1, "volunteer_service", None, D(2024, 10, 1), quantity=Decimal("1.5"))], [], DAY, 601, "fair"),
    ("pro-social cap: 100 hours → 200, capped at 150 → 优秀",
     [fact(1, "volunteer_service", None, D(2026, 10, 1), quantity=Decimal("100"))], [], DAY, 750, "excellent"),
    ("donation ¥1,050.00 → 10 points", [fact(1, "charity_donation", None, D(2026, 10, 1),
                                           quantity=Decimal("1050.00"))], [], DAY, 610, "fair"),
    ("commendation 40 and the red list 30 → 良好", [fact(1, "commendation", None, D(2026, 3, 1))],
     [Membership("red", 1, D(2026, 1, 1), None)], DAY, 670, "good"),
    ("black list caps the band at 较差 whatever the points", [], [Membership("black", 1, D(2026, 1, 1), None)], DAY, 600,
     "poor"),
    ("a membership past its term no longer counts", [], [Membership("black", 1, D(2025, 1, 1), D(2026, 1, 1))], DAY,
     600, "fair"),
    ("revoked: never counts", [fact(1, "admin_penalty", "general", D(2026, 6, 1), status="revoked")], [], DAY, 600,
     "fair"),
    ("repaired (display stopped): no longer counts",
     [fact(1, "admin_penalty", "general", D(2026, 6, 1), display_stopped_on=D(2026, 11, 1))], [], DAY, 600, "fair"),
    ("display stopped later: still counts today",
     [fact(1, "admin_penalty", "general", D(2026, 6, 1), display_stopped_on=D(2026, 12, 1))], [], DAY, 560, "average"),
    ("held after a credit notice: not yet", [fact(1, "admin_penalty", "general", D(2026, 6, 1), display_from=HELD)],
     [], DAY, 600, "fair"),
    ("an item the model does not score", [fact(1, "occ_teacher", None, D(2026, 6, 1))], [], DAY, 600, "fair"),
    ("a decision in the future does not count yet", [fact(1, "admin_penalty", "general", D(2026, 12, 1))], [], DAY,
     600, "fair"),
    ("2019 regime: a serious penalty of 2022 displayed 3 years, after a year × 0.5 → -60",
     [fact(1, "admin_penalty", "serious", D(2023, 12, 1))], [], DAY, 540, "average"),
]


@pytest.mark.parametrize(("case", "facts", "members", "day", "total", "band"), CASES, ids=[c[0] for c in CASES])
def test_civic_cases(case: str, facts: list[RecordFact], members: list[Membership], day: dt.date, total: int,
                     band: str) -> None:
    score = score_subject(CIVIC, CATALOG, facts, members, day)
    assert (score.total, score.band) == (total, band), case
    assert score.model_id == "civic-2025.1"


GRADE_CASES = [
    ("nothing: 80, B", [], [], 80, "B"),
    ("serious penalty: -25 → 55, D", [fact(1, "admin_penalty", "serious", D(2026, 6, 1))], [], 55, "D"),
    ("business abnormal: -10 → 70, C", [fact(1, "business_abnormal", "general", D(2026, 6, 1))], [], 70, "C"),
    ("red list +10 → 90, A", [], [Membership("red")], 90, "A"),
    ("red list +10 and a commendation +5 → social capped at 20? no: 15 → 95, A",
     [fact(1, "commendation", None, D(2026, 6, 1))], [Membership("red")], 95, "A"),
    ("black list caps at D", [], [Membership("black")], 80, "D"),
    ("watch list caps at C", [fact(1, "commendation", None, D(2026, 6, 1))], [Membership("watch")], 85, "C"),
    ("watch list does not raise a D", [fact(1, "admin_penalty", "serious", D(2026, 6, 1))], [Membership("watch")], 55,
     "D"),
]


@pytest.mark.parametrize(("case", "facts", "members", "total", "band"), GRADE_CASES, ids=[c[0] for c in GRADE_CASES])
def test_grade_cases(case: str, facts: list[RecordFact], members: list[Membership], total: int, band: str) -> None:
    score = score_subject(GRADE, CATALOG, facts, members, DAY)
    assert (score.total, score.band) == (total, band), case


@pytest.mark.parametrize(("num", "den", "out"), [(5, 10, 1), (-5, 10, -1), (4, 10, 0), (-4, 10, 0), (15, 10, 2),
                                                 (-15, 10, -2), (0, 7, 0), (-60000, 1000, -60), (500, 1000, 1)])
def test_round_half_away(num: int, den: int, out: int) -> None:
    assert round_half_away(num, den) == out


def test_contribution_rounds_per_record() -> None:
    assert contribution(-10, 500) == -5
    assert contribution(3, 500) == 2  # 1.5 → 2
    assert contribution(-3, 500) == -2


def test_explanation_lists_records_dimensions_and_dates() -> None:
    facts = [fact(7, "admin_penalty", "serious", D(2026, 3, 1)), fact(8, "volunteer_service", None, D(2026, 10, 1),
                                                                       quantity=Decimal("3"))]
    score = score_subject(CIVIC, CATALOG, facts, [], DAY)
    assert score.total == 600 - 120 + 6
    by_id = {c.record_id: c for c in score.contributions}
    assert by_id[7].points == -120 and by_id[7].dimension == "law" and by_id[7].counts_until == D(2029, 3, 1)
    assert by_id[7].next_step_on == D(2027, 3, 1) and by_id[7].next_points == -60
    assert score.dimension_totals() == {"law": -120, "economic": 0, "professional": 0, "prosocial": 6, "honours": 0}
    kinds = [(c.kind, c.on, c.delta, c.record_id) for c in score.changes]
    assert ("steps_down", D(2027, 3, 1), 60, 7) in kinds
    assert ("stops", D(2029, 3, 1), 120, 7) in kinds
    assert ("steps_down", D(2027, 10, 1), -3, 8) in kinds
    more = [c for c in score.changes if c.kind == "more_units" and c.item_code == "volunteer_service"]
    assert more[0].units == Decimal("10") and more[0].delta == 20  # "10 more volunteer hours would add 20 points"
    assert "10 小时" in more[0].text_zh
    # 486 → 较差 (poor); next band 一般 from 500: 14 points = 7 hours
    assert any(c.units == Decimal(7) and c.delta == 14 for c in more)


def test_explanation_respects_caps() -> None:
    facts = [fact(1, "volunteer_service", None, D(2026, 10, 1), quantity=Decimal("80"))]  # 160 → capped 150
    score = score_subject(CIVIC, CATALOG, facts, [], DAY)
    assert score.total == 750
    assert score.dimensions[3].capped and score.dimensions[3].raw == 160
    assert not [c for c in score.changes if c.kind == "more_units" and c.item_code == "volunteer_service"]
    step = [c for c in score.changes if c.kind == "steps_down"][0]
    assert step.delta == -70  # 160 → 80: the cap hid 10 of the 80 lost


def test_band_cap_is_explained() -> None:
    score = score_subject(CIVIC, CATALOG, [], [Membership("black")], DAY)
    assert score.capped_by == ("black",) and score.points_band == "fair"
    assert any(c.kind == "band_cap" for c in score.changes)


def test_benefits_follow_the_band() -> None:
    facts = [fact(1, "volunteer_service", None, D(2026, 10, 1), quantity=Decimal("100"))]
    score = score_subject(CIVIC, CATALOG, facts, [], DAY)
    assert "deposit_free_rental" in score.benefits
    assert score_subject(CIVIC, CATALOG, [], [], DAY).benefits == ()


def test_two_versions_coexist() -> None:
    facts = [fact(1, "dishonest_debtor", "serious", D(2026, 6, 1))]
    old = score_subject(CIVIC, CATALOG, facts, [], DAY)
    new = score_subject(MODELS.get("civic-2026.1"), CATALOG, facts, [], DAY)
    assert (old.model_id, old.total) == ("civic-2025.1", 450)
    assert (new.model_id, new.total) == ("civic-2026.1", 420)
    assert MODELS.in_force("person", DAY).id == "civic-2025.1"
    assert MODELS.in_force("person", D(2027, 1, 1)).id == "civic-2026.1"
    assert MODELS.in_force("organization", DAY).id == "grade-2025.1"
