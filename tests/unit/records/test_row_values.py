"""What a row's values may be (the row path, ``records.rules.prepare_row``): values from JSON (the API, JSONL) may be
arrays or objects, which are no value a clerk typed — refused for their column (``field.not_scalar``), never read
as text, said once; a row that could not be read at all carries only what was wrong with it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.catalog.model import Catalog
from chengxin.core.errors import Problem
from chengxin.records.rules import PreparedRow, prepare_row
from factories import valid_row

TODAY = dt.date(2026, 11, 25)
ITEM, DEPARTMENT = "admin_penalty", "samr"

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
NESTED = st.one_of(st.lists(_SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), _SCALARS, max_size=3))


def _columns(catalog: Catalog, person: bool) -> list[str]:
    version = catalog.item(ITEM).version_on(dt.date(2025, 9, 1))
    assert version is not None
    return list(valid_row(version, 1, person=person))


@given(data=st.data(), person=st.booleans(), nested=NESTED)
def test_an_array_or_object_in_any_column_is_refused_for_that_column_alone(
    catalog: Catalog, data: st.DataObject, person: bool, nested: Any
) -> None:
    version = catalog.item(ITEM).version_on(dt.date(2025, 9, 1))
    assert version is not None
    row = valid_row(version, 1, person=person)
    column = data.draw(st.sampled_from(list(row)))
    row[column] = nested
    result = prepare_row(catalog.item(ITEM), DEPARTMENT, row, row_no=2, today=TODAY)
    assert not isinstance(result, PreparedRow)
    assert [(p.field, p.code) for p in result] == [(column, "field.not_scalar")]
    assert "不能是 JSON 数组或对象" in result[0].message and "not a JSON array or object" in result[0].message_en


@pytest.mark.parametrize("person", [False, True])
def test_the_same_row_with_plain_values_is_accepted(catalog: Catalog, person: bool) -> None:
    version = catalog.item(ITEM).version_on(dt.date(2025, 9, 1))
    assert version is not None
    assert isinstance(prepare_row(catalog.item(ITEM), DEPARTMENT, valid_row(version, 1, person=person), row_no=2,
                                  today=TODAY), PreparedRow)


def test_a_row_that_could_not_be_read_carries_only_why() -> None:
    from chengxin.catalog.loader import load_catalog

    unreadable = Problem("row.not_object", "第 2 行不是 JSON 对象", "Line 2 is a JSON list, not an object.")
    assert prepare_row(load_catalog().item(ITEM), DEPARTMENT, {}, row_no=2, today=TODAY,
                       read_problems=[unreadable]) == [unreadable]
