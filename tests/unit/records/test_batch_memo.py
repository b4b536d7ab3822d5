"""The per-batch memo of subject identifiers and blind indexes changes nothing but the cost.

A file names each subject several times, so ``prepare_chunk`` remembers, for one batch, the identifiers it
has checked and the indexes it has computed. These tests prepare the same rows with one memo across chunks
and with none, and require equal chunks — including rows whose identifier is wrong (a failure is never
remembered: every such row is refused with its own reason) and a memo that starts over mid-batch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories import ric_for, uscc_for, valid_row

import chengxin.records.reader as reader
from chengxin.catalog.model import Catalog, FieldType
from chengxin.core.crypto import KeyRing
from chengxin.records.reader import BatchMemo, PreparedChunk, prepare_chunk
from chengxin.records.service import ApiRow

ITEM, DEPT, TODAY = "admin_penalty", "samr", dt.date(2026, 11, 25)
BAD_USCC = uscc_for(7)[:-1] + ("0" if uscc_for(7)[-1] != "0" else "1")  # wrong check character
BAD_RIC = ric_for(7)[:-1] + ("0" if ric_for(7)[-1] != "0" else "1")


def _row(catalog: Catalog, n: int, subject: int, kind: str) -> dict[str, Any]:
    version = catalog.item(ITEM).version_on(dt.date(2025, 9, 1))
    assert version is not None
    row = valid_row(version, n, person=kind != "organization")
    row.pop("ric", None), row.pop("uscc", None)
    if kind == "organization":
        row.update(uscc=uscc_for(subject), subject_name=f"常州测试{subject}有限公司")
    elif kind == "person":
        row.update(ric=ric_for(subject), subject_name=f"张{subject}")
    elif kind == "person_lower_x":  # the same person spelt differently: one memo entry per spelling
        row.update(ric=ric_for(subject).lower(), subject_name=f"张{subject}")
    elif kind == "bad_uscc":
        row.update(uscc=BAD_USCC, subject_name="常州错码有限公司")
    else:
        row.update(ric=BAD_RIC, subject_name="李四")
    return row


def _comparable(chunk: PreparedChunk) -> dict[str, Any]:
    """Everything a chunk carries; the ciphertexts inside the fields are random per encryption, so those
    are compared by what they decrypt to."""
    out = {name: getattr(chunk, name) for name in (
        "received", "rejected", "row_no", "source_id", "kind", "identifier", "name", "lookup_index", "name_index",
        "item_version", "category", "decision_day", "severity", "content_hash")}
    out["fields"] = [{k: ({**v, "cipher": None} if isinstance(v, dict) else v) for k, v in orjson.loads(f).items()}
                     for f in chunk.fields_json]
    return out


def _prepare(catalog: Catalog, keyring: KeyRing, rows: list[dict[str, Any]], size: int,
             memo: BatchMemo | None) -> list[dict[str, Any]]:
    item = catalog.item(ITEM)
    api_rows = [ApiRow(i, r) for i, r in enumerate(rows, start=1)]
    return [_comparable(prepare_chunk(item, DEPT, api_rows[i:i + size], today=TODAY, keyring=keyring,
                                      memo=memo if memo is not None else BatchMemo()))
            for i in range(0, len(api_rows), size)]


KINDS = st.sampled_from(["organization", "person", "person_lower_x", "bad_uscc", "bad_ric"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.integers(1, 6), KINDS), min_size=1, max_size=30), size=st.integers(1, 7),
       bound=st.sampled_from([2, 5, 300_000]))
def test_one_memo_across_chunks_prepares_what_fresh_memos_do(
    catalog: Catalog, keyring: KeyRing, plan: list[tuple[int, str]], size: int, bound: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader, "MEMO_ENTRIES", bound)  # small bounds: the memo starts over mid-batch
    rows = [_row(catalog, n, subject, kind) for n, (subject, kind) in enumerate(plan, start=1)]
    assert _prepare(catalog, keyring, rows, size, BatchMemo()) == _prepare(catalog, keyring, rows, size, None)


def test_a_wrong_identifier_is_refused_every_time_it_comes(catalog: Catalog, keyring: KeyRing) -> None:
    rows = [_row(catalog, n, 1, kind) for n, kind in enumerate(["bad_uscc", "organization", "bad_uscc", "bad_ric",
                                                                 "bad_ric"], start=1)]
    memo = BatchMemo()
    chunk = prepare_chunk(catalog.item(ITEM), DEPT, [ApiRow(i, r) for i, r in enumerate(rows, start=1)],
                          today=TODAY, keyring=keyring, memo=memo)
    assert [(r.row_no, [(p.field, p.code) for p in r.problems]) for r in chunk.rejected] == [
        (1, [("uscc", "uscc.check_character")]), (3, [("uscc", "uscc.check_character")]),
        (4, [("ric", "ric.check_digit")]), (5, [("ric", "ric.check_digit")]),
    ]
    assert chunk.row_no == [2]
    assert set(memo.identifiers) == {("uscc", uscc_for(1))}  # only what passed is remembered


def test_record_fields_with_citizen_ids_still_get_their_own_ciphertext(catalog: Catalog, keyring: KeyRing) -> None:
    """The memo covers the subject's indexes, not the encryption of IDs inside a record's fields: each row's
    ciphertext is bound to its own record (associated data), so two rows naming one legal representative
    never share one."""
    version = catalog.item(ITEM).version_on(dt.date(2025, 9, 1))
    assert version is not None
    ric_fields = [f.code for f in version.fields if f.type is FieldType.RIC]
    assert ric_fields, "admin_penalty carries a citizen ID field (legal representative)"
    rows = [_row(catalog, n, 1, "organization") for n in (1, 2)]
    for row in rows:
        row[ric_fields[0]] = ric_for(42)
    chunk = prepare_chunk(catalog.item(ITEM), DEPT, [ApiRow(i, r) for i, r in enumerate(rows, start=1)],
                          today=TODAY, keyring=keyring, memo=BatchMemo())
    first, second = (orjson.loads(f)[ric_fields[0]] for f in chunk.fields_json)
    assert first["index"] == second["index"] and first["cipher"] != second["cipher"]
