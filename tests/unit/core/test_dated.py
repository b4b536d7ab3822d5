"""The one reader of dated parameter files: refusals table-driven, the choice of version by day
table-driven, and a property: for any non-overlapping spans, the version chosen for a day is the one
whose span holds it, or none."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field

from chengxin.core.dated import Dated, DatedError, DatedFormat, DatedVersion, Span, index_on
from chengxin.core.errors import DomainError

D = dt.date


class SampleError(DatedError):
    """A feature's own error name, as every caller of the reader has."""


class Sample(DatedVersion):
    limit: int = Field(gt=0)


CLOSED = DatedFormat(Sample, SampleError, chained=False, oldest_before=False)
CHAINED = DatedFormat(Sample, SampleError, chained=True, oldest_before=True)
BARE = DatedFormat(Sample, SampleError, chained=False, oldest_before=True, key=None)
FORMATS = {"closed": CLOSED, "chained": CHAINED, "bare": BARE}


def v(name: str, start: D, end: D | None = None, **extra: Any) -> dict[str, Any]:
    """One version as a file states it."""
    return {"version": name, "effective_from": start, "effective_to": end, "basis": "测试依据", "limit": 1, **extra}


def text(fmt: DatedFormat[Sample], versions: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(versions if fmt.key is None else {"versions": versions}, allow_unicode=True)


# -- refusals ------------------------------------------------------------------------------------------------

REFUSED = [
    # (id, format, versions or raw text, code, field, words the English message must hold)
    ("overlap by a day", "closed", [v("a", D(2026, 1, 1), D(2026, 6, 30)), v("b", D(2026, 6, 30))],
     "dated.overlap", "versions[0].effective_to", ["overlaps", "must end"]),
    ("open version followed (closed file)", "closed", [v("a", D(2026, 1, 1)), v("b", D(2027, 1, 1))],
     "dated.overlap", "versions[0].effective_to", ["no effective_to", "must end"]),
    ("open version followed (bare list)", "bare", [v("a", D(2026, 1, 1)), v("b", D(2027, 1, 1))],
     "dated.overlap", "[0].effective_to", ["overlaps"]),
    ("explicit end past the next start (chained)", "chained", [v("a", D(2026, 1, 1), D(2026, 7, 1)),
                                                               v("b", D(2026, 7, 1))],
     "dated.overlap", "versions[0].effective_to", ["overlaps"]),
    ("reversed dates", "closed", [v("a", D(2026, 3, 1), D(2026, 2, 28))],
     "dated.reversed", "versions[0].effective_to", ["effective_to 2026-02-28 is before effective_from 2026-03-01"]),
    ("reversed dates (chained)", "chained", [v("a", D(2026, 3, 1), D(2026, 2, 28))],
     "dated.reversed", "versions[0].effective_to", ["before effective_from"]),
    ("newer listed first", "chained", [v("b", D(2027, 1, 1)), v("a", D(2026, 1, 1))],
     "dated.order", "versions[1].effective_from", ["oldest first"]),
    ("same start twice", "chained", [v("a", D(2026, 1, 1)), v("b", D(2026, 1, 1))],
     "dated.order", "versions[1].effective_from", ["oldest first"]),
    ("duplicate name", "closed", [v("a", D(2026, 1, 1), D(2026, 1, 31)), v("a", D(2026, 2, 1))],
     "dated.duplicate", "versions[1].version", ["duplicate version 'a'"]),
    ("unknown field", "closed", [v("a", D(2026, 1, 1), colour="red")],
     "dated.invalid", "versions[0]", ["version 'a' is invalid", "colour"]),
    ("unknown field (bare list)", "bare", [v("a", D(2026, 1, 1), colour="red")],
     "dated.invalid", "[0]", ["colour"]),
    ("a field breaks its model", "chained", [v("a", D(2026, 1, 1), limit=0)],
     "dated.invalid", "versions[0]", ["limit"]),
    ("no basis", "chained", [{k: x for k, x in v("a", D(2026, 1, 1)).items() if k != "basis"}],
     "dated.invalid", "versions[0]", ["basis"]),
    ("unnamed entry", "chained", ["just text"], "dated.invalid", "versions[0]", ["version #1"]),
    ("no versions", "chained", [], "dated.shape", None, ["non-empty list 'versions'"]),
    ("bare list expected", "bare", "versions: []", "dated.shape", None, ["non-empty list of versions"]),
    ("unknown top-level key", "chained", "versions: [{version: a}]\ncomment: x", "dated.unknown_key", "comment",
     ["unknown key(s) comment"]),
    ("not YAML", "closed", "versions: [", "dated.yaml", None, ["not valid YAML"]),
]


@pytest.mark.parametrize(("fmt", "versions", "code", "field", "words"),
                         [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_bad_file_is_refused_with_code_field_and_both_languages(
        fmt: str, versions: list[dict[str, Any]] | str, code: str, field: str | None, words: list[str]) -> None:
    f = FORMATS[fmt]
    with pytest.raises(SampleError) as err:
        f.parse(versions if isinstance(versions, str) else text(f, versions), "sample.yaml")
    e, p = err.value, err.value.problem
    assert (p.code, p.field) == (code, field)
    for word in words:
        assert word in p.message_en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in p.message)  # a Chinese message for the clerk
    assert str(e).startswith("sample.yaml: ") and p.message_en.split(":")[0] in str(e)
    # A broken rule file is the installation's fault, not the user's: never answered as a 400 DomainError.
    assert isinstance(e, ValueError) and not isinstance(e, DomainError)


@pytest.mark.parametrize(("fmt", "versions"), [
    ("closed", [v("a", D(2026, 1, 1), D(2026, 1, 1)), v("b", D(2026, 1, 2))]),  # a one-day version
    ("closed", [v("a", D(2026, 1, 1), D(2026, 1, 31)), v("b", D(2026, 3, 1))]),  # a gap is allowed
    ("chained", [v("a", D(2026, 1, 1)), v("b", D(2027, 1, 1)), v("c", D(2028, 1, 1))]),
    ("bare", [v("a", D(2026, 1, 1), D(2026, 12, 31)), v("b", D(2027, 1, 1))]),
])
def test_good_files_load(fmt: str, versions: list[dict[str, Any]]) -> None:
    f = FORMATS[fmt]
    loaded = f.parse(text(f, versions))
    assert [x.version for x in loaded.versions] == [x["version"] for x in versions]


# -- the version in force on a day ---------------------------------------------------------------------------

GAP = [v("a", D(2026, 1, 1), D(2026, 3, 31)), v("b", D(2026, 4, 2))]
ENDED = [v("a", D(2026, 1, 1), D(2026, 6, 30))]
CHAIN = [v("a", D(2026, 1, 1)), v("b", D(2026, 4, 1))]
CHAIN_WITH_END = [v("a", D(2026, 1, 1), D(2026, 2, 28)), v("b", D(2026, 4, 1))]

CHOSEN = [
    # (id, format, versions, day, expected version or None)
    ("last day of the first", "closed", GAP, D(2026, 3, 31), "a"),
    ("gap day", "closed", GAP, D(2026, 4, 1), None),
    ("first day after the gap", "closed", GAP, D(2026, 4, 2), "b"),
    ("open-ended, far later", "closed", GAP, D(2099, 12, 31), "b"),
    ("before the first (closed: none)", "closed", GAP, D(2025, 12, 31), None),
    ("before the first (bare: the first)", "bare", GAP, D(2020, 1, 1), "a"),
    ("gap day (bare)", "bare", GAP, D(2026, 4, 1), None),
    ("after the last one ended", "closed", ENDED, D(2026, 7, 1), None),
    ("on the last one's end", "closed", ENDED, D(2026, 6, 30), "a"),
    ("chained: the day before the next", "chained", CHAIN, D(2026, 3, 31), "a"),
    ("chained: the next's first day", "chained", CHAIN, D(2026, 4, 1), "b"),
    ("chained: open-ended last", "chained", CHAIN, D(2099, 1, 1), "b"),
    ("chained: before the first, the first", "chained", CHAIN, D(2000, 1, 1), "a"),
    ("chained: a stated end is kept", "chained", CHAIN_WITH_END, D(2026, 3, 1), None),
    ("chained: up to the stated end", "chained", CHAIN_WITH_END, D(2026, 2, 28), "a"),
]


@pytest.mark.parametrize(("fmt", "versions", "day", "expected"),
                         [r[1:] for r in CHOSEN], ids=[r[0] for r in CHOSEN])
def test_the_version_in_force_on_a_day(fmt: str, versions: list[dict[str, Any]], day: D,
                                       expected: str | None) -> None:
    f = FORMATS[fmt]
    loaded = f.parse(text(f, versions), "sample.yaml")
    found = loaded.in_force(day)
    assert (found.version if found else None) == expected
    if expected is not None:
        assert loaded.on(day).version == expected
        return
    with pytest.raises(SampleError) as err:
        loaded.on(day)
    p = err.value.problem
    assert p.code == "dated.none_in_force" and p.field is None
    assert p.message == f"{day.isoformat()} 没有现行有效的版本"
    assert p.message_en == f"no version in force on {day.isoformat()}"


def test_a_file_is_read_once_per_path(tmp_path: Any) -> None:
    path = tmp_path / "sample.yaml"
    path.write_text(text(CHAINED, CHAIN), encoding="utf-8")
    first = CHAINED.load(path)
    path.write_text(text(CHAINED, [v("z", D(2026, 1, 1))]), encoding="utf-8")
    assert CHAINED.load(path) is first  # the files ship with the code: read once per process
    other = tmp_path / "other.yaml"
    other.write_text(text(CHAINED, [v("z", D(2026, 1, 1))]), encoding="utf-8")
    assert CHAINED.load(other).on(D(2026, 5, 1)).version == "z"


# -- property: the chosen version is the one whose span holds the day ----------------------------------------

BASE = D(2020, 1, 1)


@st.composite
def spans(draw: st.DrawFn) -> list[Span]:
    """Any non-overlapping spans, oldest first, gaps allowed, the last possibly open-ended."""
    out: list[Span] = []
    start = BASE + dt.timedelta(days=draw(st.integers(0, 30)))
    for i in range(draw(st.integers(1, 6))):
        length = draw(st.integers(0, 40))
        last = i == 5 or draw(st.booleans())
        end = None if last and draw(st.booleans()) else start + dt.timedelta(days=length)
        out.append(Span(start, end))
        if last or end is None:
            break
        start = end + dt.timedelta(days=1 + draw(st.integers(0, 10)))
    return out


def _holding(found: list[Span], day: D) -> int | None:
    holding = [i for i, s in enumerate(found) if s.holds(day)]
    assert len(holding) <= 1  # the generator's promise: no overlap
    return holding[0] if holding else None


@settings(max_examples=300, deadline=None)
@given(spans(), st.integers(-5, 400))
def test_the_chosen_span_holds_the_day_or_none_does(found: list[Span], offset: int) -> None:
    day = BASE + dt.timedelta(days=offset)
    assert index_on(found, day, oldest_before=False) == _holding(found, day)
    before_first = day < found[0].start
    assert index_on(found, day, oldest_before=True) == (0 if before_first else _holding(found, day))


@settings(max_examples=100, deadline=None)
@given(spans(), st.integers(-5, 400))
def test_a_loaded_file_chooses_the_version_whose_span_holds_the_day(found: list[Span], offset: int) -> None:
    day = BASE + dt.timedelta(days=offset)
    versions = [v(f"v{i}", s.start, s.end) for i, s in enumerate(found)]
    loaded: Dated[Sample] = CLOSED.parse(text(CLOSED, versions))
    chosen = loaded.in_force(day)
    i = _holding(found, day)
    assert chosen == (None if i is None else loaded.versions[i])
