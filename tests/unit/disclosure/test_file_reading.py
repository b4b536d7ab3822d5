"""The pieces the credit file reader uses to stay cheap for subjects with hundreds of records: raw date
columns parsed in process, display ends remembered per (item version, severity, decision date)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

import pytest

from chengxin.catalog.loader import load_catalog
from chengxin.disclosure import rules, service


@pytest.mark.parametrize(("raw", "day"), [
    (None, None), ("2026-11-25", dt.date(2026, 11, 25)), (dt.date(2019, 1, 31), dt.date(2019, 1, 31)),
])
def test_a_date_column_is_read_as_sqlite_or_postgresql_stores_it(raw: object, day: dt.date | None) -> None:
    assert service._day(raw) == day  # type: ignore[arg-type]


def test_the_remembered_display_end_is_the_rules_display_end() -> None:
    catalog = load_catalog()
    days = [dt.date(2019, 3, 1), dt.date(2024, 2, 29), dt.date(2025, 12, 31)]
    checked = 0
    for item in catalog.items.values():
        for version, severity, day in itertools.product(item.versions, (None, "minor", "general", "serious"), days):
            try:
                expected = rules.display_window(version, severity, day)[1]
            except KeyError:
                expected = day  # no period for this severity: the reader treats it as never displayed
            for _ in range(2):  # computed, then remembered
                assert service._display_end(version, severity, day) == expected, (version.item_code, severity)
            checked += 1
    assert checked > 100
    # A version with other periods (e.g. from a reloaded catalog) gets its own answer, never a remembered one.
    penalty = catalog.version_on("admin_penalty", days[1])
    assert penalty is not None
    longer = replace(penalty, display_periods={s: replace(p, max=None) for s, p in penalty.display_periods.items()})
    assert service._display_end(penalty, "general", days[1]) is not None
    assert service._display_end(longer, "general", days[1]) is None
