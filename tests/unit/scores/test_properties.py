"""Property tests of the rules: adding a positive record never lowers the score; a repaired, revoked or
expired record no longer counts (issue #6 tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Category
from chengxin.scores.model import get_models
from chengxin.scores.rules import Membership, RecordFact, score_record, score_subject

CATALOG = load_catalog()
MODELS = get_models(CATALOG)
DAY = dt.date(2026, 11, 25)

_NEGATIVE = sorted(c for c in MODELS.get("civic-2025.1").items if CATALOG.item(c).category is Category.NEGATIVE)
_POSITIVE = ["volunteer_service", "charity_donation", "commendation"]
_SEVERITIES = ["minor", "general", "serious"]

models = st.sampled_from(["civic-2025.1", "civic-2026.1", "grade-2025.1"]).map(MODELS.get)
days = st.dates(dt.date(2019, 7, 1), DAY)


@st.composite
def negative_facts(draw: st.DrawFn, n: int) -> RecordFact:
    return RecordFact(n, draw(st.sampled_from(_NEGATIVE)), draw(st.sampled_from(_SEVERITIES)), draw(days))


@st.composite
def positive_facts(draw: st.DrawFn, n: int) -> RecordFact:
    item = draw(st.sampled_from(_POSITIVE))
    quantity = None
    if item != "commendation":
        quantity = Decimal(draw(st.integers(1, 500_000))) / (10 if item == "volunteer_service" else 100)
    return RecordFact(n, item, None, draw(days), quantity=quantity)


@st.composite
def subjects(draw: st.DrawFn) -> tuple[list[RecordFact], list[Membership]]:
    count = draw(st.integers(0, 8))
    facts = [draw(st.one_of(negative_facts(i), positive_facts(i))) for i in range(count)]
    members = [Membership(k) for k in draw(st.lists(st.sampled_from(["red", "black", "watch"]), max_size=2,
                                                    unique=True))]
    return facts, members


@settings(max_examples=300, deadline=None)
@given(model=models, subject=subjects(), extra=positive_facts(99), day=st.dates(dt.date(2020, 1, 1), DAY))
def test_adding_a_positive_record_never_lowers_the_score(model, subject, extra, day) -> None:  # type: ignore[no-untyped-def]
    facts, members = subject
    before = score_subject(model, CATALOG, facts, members, day, explain=False)
    after = score_subject(model, CATALOG, [*facts, extra], members, day, explain=False)
    assert after.total >= before.total
    assert model.band_rank(after.band) <= model.band_rank(before.band)


@settings(max_examples=300, deadline=None)
@given(model=models, subject=subjects(), target=st.one_of(negative_facts(77), positive_facts(77)),
       how=st.sampled_from(["repaired", "revoked", "expired", "held"]), day=st.dates(dt.date(2020, 1, 1), DAY))
def test_a_repaired_revoked_or_expired_record_no_longer_counts(model, subject, target, how, day) -> None:  # type: ignore[no-untyped-def]
    facts, members = subject
    if how == "repaired":
        gone = RecordFact(target.record_id, target.item_code, target.severity, target.decision_date,
                          display_stopped_on=day - dt.timedelta(days=3), quantity=target.quantity)
        check_day = day
    elif how == "revoked":
        gone = RecordFact(target.record_id, target.item_code, target.severity, target.decision_date, status="revoked",
                          quantity=target.quantity)
        check_day = day
    elif how == "held":
        gone = RecordFact(target.record_id, target.item_code, target.severity, target.decision_date,
                          display_from=dt.date(9999, 12, 31), quantity=target.quantity)
        check_day = day
    else:  # expired: ten years later every display period and every count has ended
        gone = target
        check_day = target.decision_date + dt.timedelta(days=3653)
    assert score_record(model, CATALOG, gone, check_day) is None
    without = score_subject(model, CATALOG, facts, members, check_day, explain=False)
    with_gone = score_subject(model, CATALOG, [*facts, gone], members, check_day, explain=False)
    assert (with_gone.total, with_gone.band) == (without.total, without.band)
