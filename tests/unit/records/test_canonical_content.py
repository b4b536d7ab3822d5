"""The content a record's keyed hash covers keeps its one format: hashes stored by earlier versions of the
platform are compared with new ones, so a resubmission is "unchanged" only if the bytes are identical.

``canonical_content`` puts the bytes together around the fields' JSON, serialised once per row; these tests
hold it to the plain definition — ``orjson.dumps([kind, identifier, item, item version, decision date,
severity, fields], OPT_SORT_KEYS)`` — for any fields, and check that a stored row's fields JSON is the same
serialisation whether or not a citizen ID inside had to be protected.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st
from tests.factories import ric_for, valid_row

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import FieldType, Severity, SubjectKind
from chengxin.core.crypto import KeyRing
from chengxin.records.reader import prepare_chunk
from chengxin.records.rules import MEMBER_VALUE, canonical_content, canonical_fields
from chengxin.records.service import ApiRow
from chengxin.subjects.rules import SubjectKey

CATALOG = load_catalog()
VERSION = CATALOG.item("admin_penalty").version_on(dt.date(2025, 9, 1))
assert VERSION is not None

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=30))
_values = st.recursive(_scalars, lambda inner: st.dictionaries(st.text(max_size=8), inner, max_size=4)
                       | st.lists(inner, max_size=4), max_leaves=12)


@given(
    fields=st.dictionaries(st.text(max_size=12), _values, max_size=8),
    kind=st.sampled_from(list(SubjectKind)),
    identifier=st.text(max_size=20),
    day=st.dates(),
    severity=st.one_of(st.none(), st.sampled_from(list(Severity))),
)
def test_the_content_is_the_plain_canonical_json(fields: dict[str, Any], kind: SubjectKind, identifier: str,
                                                 day: dt.date, severity: Severity | None) -> None:
    assert VERSION is not None
    subject = SubjectKey(kind, identifier, "名称")
    plain = orjson.dumps([kind.value, identifier, VERSION.item_code, VERSION.version, day.isoformat(),
                          severity.value if severity else None, fields], option=orjson.OPT_SORT_KEYS)
    assert canonical_content(subject, VERSION, day, severity, canonical_fields(fields)) == plain


def test_member_values_are_the_enum_values() -> None:
    for enum in (SubjectKind, Severity):
        for member in enum:
            assert MEMBER_VALUE[member] == member.value


def test_stored_fields_json_is_the_canonical_json_of_what_is_stored(tmp_path: Path) -> None:
    """Rows without a citizen ID inside store the bytes the content was made from; rows with one store the
    protected fields — never the clear ID."""
    assert VERSION is not None
    ric_codes = [f.code for f in VERSION.fields if f.type is FieldType.RIC]
    assert ric_codes, "admin_penalty names a legal representative by citizen ID"
    keyring = KeyRing.open(tmp_path / "keys")
    plain_row = valid_row(VERSION, 1, source_id="A1")
    for code in ric_codes:
        plain_row.pop(code, None)
    with_id = valid_row(VERSION, 2, source_id="A2", **{code: ric_for(40 + n) for n, code in enumerate(ric_codes)})
    chunk = prepare_chunk(CATALOG.item("admin_penalty"), "samr", [ApiRow(2, plain_row), ApiRow(3, with_id)],
                          today=dt.date(2026, 11, 25), keyring=keyring)
    assert not chunk.rejected, chunk.rejected
    plain_json, protected_json = chunk.fields_json
    assert plain_json == canonical_fields(orjson.loads(plain_json))
    protected = orjson.loads(protected_json)
    assert protected_json == canonical_fields(protected)
    for n, code in enumerate(ric_codes):
        assert protected[code]["masked"].endswith(ric_for(40 + n)[-4:]) and ric_for(40 + n) not in protected_json.decode()
