"""The columnar path (``records.columnar``) prepares a CSV file exactly as the row path does.

Each test writes a file, prepares it both ways — the row path (``open_rows`` + ``prepare_chunk``, the judge) and
``prepared_chunks`` — and requires the same chunks row for row: the same rows accepted with the same subject,
blind indexes, version, day, severity, fields and content hash, the same rows rejected with the same problems,
the same warnings; or the same error for the file. Citizen IDs inside the fields are encrypted with a random
nonce, so those are compared decrypted. Hostile files (control characters, apostrophes, odd whitespace, quotes,
a lone CR, more cells than columns, broken UTF-8 half-way) and generated ones (hypothesis) included.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.factories import ric_for, uscc_for, valid_row

import chengxin.records.columnar as columnar
from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Catalog, CatalogItem
from chengxin.catalog.rules import template_columns
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError
from chengxin.records.fileio import open_rows
from chengxin.records.reader import BatchMemo, PreparedChunk, chunked, prepare_chunk

TODAY = dt.date(2026, 11, 25)
COLUMNS = ("row_no", "source_id", "kind", "identifier", "name", "lookup_index", "name_index", "item_version",
           "category", "decision_day", "severity", "content_hash")


def _dept(item: CatalogItem) -> str:
    return "samr" if "samr" in item.latest.departments else sorted(item.latest.departments)[0]


def _write(path: Path, item: CatalogItem, rows: list[dict[str, Any]], *, sep: str = ",", newline: str = "\n",
           title: bool = False, bom: bool = False, raw_lines: dict[int, str] | None = None,
           encoding: str = "utf-8", above: tuple[str, ...] = ()) -> Path:
    """A CSV file with the template's Chinese header; cells written as they are (no quoting), ``raw_lines``
    replacing whole data lines by index; ``above``: lines above the header (after the title, if any)."""
    labels = [c.label_zh for c in template_columns(item.latest)]
    codes = [c.code for c in template_columns(item.latest)]
    lines = ([f"{item.latest.name_zh}导入表"] if title else []) + list(above) + [sep.join(labels)]
    for n, row in enumerate(rows):
        if raw_lines and n in raw_lines:
            lines.append(raw_lines[n])
        else:
            lines.append(sep.join(str(row.get(code, "")) for code in codes))
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (newline.join(lines) + newline).encode(encoding))
    return path


def _row_path(path: Path, item: CatalogItem, keyring: KeyRing, chunk_rows: int) -> tuple[list[PreparedChunk], list[Any]]:
    memo = BatchMemo()
    with open_rows(path, template_columns(item.latest)) as source:
        chunks = [prepare_chunk(item, _dept(item), rows, today=TODAY, keyring=keyring, memo=memo)
                  for rows in chunked(source, chunk_rows)]
        return chunks, [w.as_dict() for w in source.warnings]


def _columnar(path: Path, item: CatalogItem, keyring: KeyRing, chunk_rows: int) -> tuple[list[PreparedChunk], list[Any]]:
    with open_rows(path, template_columns(item.latest)) as source:
        chunks = list(columnar.prepared_chunks(source, path, item, _dept(item), today=TODAY,
                                               keyring=keyring, chunk_rows=chunk_rows))
        return chunks, [w.as_dict() for w in source.warnings]


def _clear(keyring: KeyRing, fields_json: bytes, source_id: str, dept: str) -> Any:
    fields = orjson.loads(fields_json)
    for code, value in fields.items():
        if isinstance(value, dict) and "cipher" in value:
            aad = f"record:{dept}:{source_id}:{code}".encode()
            value["cipher"] = keyring.decrypt(base64.b64decode(value["cipher"]), value["key_version"], aad)
    return fields


def _flat(chunks: list[PreparedChunk], keyring: KeyRing, dept: str) -> dict[str, Any]:
    out: dict[str, Any] = {name: [v for c in chunks for v in getattr(c, name)] for name in COLUMNS}
    out["fields"] = [_clear(keyring, f, s, dept) for c in chunks for f, s in zip(c.fields_json, c.source_id, strict=True)]
    out["received"] = sum(c.received for c in chunks)
    out["rejected"] = [(r.row_no, r.source_id, [p.as_dict() for p in r.problems]) for c in chunks for r in c.rejected]
    return out


def _outcome(prepare: Any, path: Path, item: CatalogItem, keyring: KeyRing, chunk_rows: int) -> Any:
    try:
        chunks, warnings = prepare(path, item, keyring, chunk_rows)
    except DomainError as exc:
        return ("refused", exc.code, exc.message)
    return _flat(chunks, keyring, _dept(item)), warnings


def assert_same(path: Path, item: CatalogItem, keyring: KeyRing, chunk_rows: int = 7, *,
                judged: Callable[[int], bool] = lambda n: True) -> Any:
    """Both paths give the same; ``judged(n)``: what may be said of the number of rows the columnar path left to
    the row path (so a test cannot pass by the columnar path stepping aside)."""
    expected = _outcome(_row_path, path, item, keyring, chunk_rows)
    count = [0]
    add_row, prepare_chunk_ = columnar.add_row, columnar.prepare_chunk

    def counted_row(*args: Any) -> None:
        count[0] += 1
        add_row(*args)

    def counted_chunk(item: Any, department: str, rows: Any, **kw: Any) -> PreparedChunk:
        count[0] += len(rows)
        return prepare_chunk_(item, department, rows, **kw)

    columnar.add_row, columnar.prepare_chunk = counted_row, counted_chunk  # type: ignore[assignment]
    try:
        got = _outcome(_columnar, path, item, keyring, chunk_rows)
    finally:
        columnar.add_row, columnar.prepare_chunk = add_row, prepare_chunk_  # type: ignore[assignment]
    assert got == expected
    assert judged(count[0]), f"{count[0]} rows left to the row path"
    return got


def _rows(catalog: Catalog, item_code: str, count: int, **overrides: Any) -> list[dict[str, Any]]:
    item = catalog.item(item_code)
    version = item.latest
    kinds = {k.value for k in version.subject_kinds}
    return [valid_row(version, n, person="person" in kinds and (n % 3 == 0 or "organization" not in kinds),
                      decision_date="2025-09-01", **overrides) for n in range(1, count + 1)]


@pytest.mark.parametrize("item_code", sorted(load_catalog().items))
def test_valid_files_come_out_the_same(catalog: Catalog, keyring: KeyRing, tmp_path: Path, item_code: str) -> None:
    item = catalog.item(item_code)
    rows = _rows(catalog, item_code, 40)
    encoding = "gb18030" if len(item_code) % 2 else "utf-8"  # GBK files are common: about half the items in it
    flat, _ = assert_same(_write(tmp_path / "f.csv", item, rows, encoding=encoding), item, keyring,
                          judged=lambda n: n == 0)
    assert flat["received"] == 40 and len(flat["source_id"]) == 40


# Hostile cells, each in a file of valid rows: every one must come out as the row path makes it.
HOSTILE: dict[str, dict[str, str]] = {
    "apostrophe before a USCC": {"uscc": "'" + uscc_for(5)},
    "apostrophe before a name": {"subject_name": "' 常州某有限公司"},
    "ideographic spaces around the name": {"subject_name": "\u3000常州某有限公司\u3000"},
    "a separator control character": {"subject_name": "\x1c常州某有限公司\x1f"},
    "a control character inside": {"subject_name": "常州\x07某有限公司"},
    "a C1 control character": {"source_id": "SRC\x85X"},
    "non-breaking spaces": {"source_id": "\xa0SRC-X\xa0"},
    "a lower-case USCC": {"uscc": uscc_for(9).lower()},
    "a wrong check character": {"uscc": uscc_for(9)[:-1] + ("0" if uscc_for(9)[-1] != "0" else "1")},
    "both identifiers": {"ric": ric_for(4)},
    "no identifier": {"uscc": ""},
    "a future date": {"decision_date": "2027-01-01"},
    "a date in another version": {"decision_date": "2021-03-04"},
    "a date in Chinese": {"decision_date": "2025年9月1日"},
    "a date that is not one": {"decision_date": "2025-02-30"},
    "no date": {"decision_date": ""},
    "a severity label": {"severity": "严重失信"},
    "an unknown severity": {"severity": "很严重"},
    "no severity": {"severity": ""},
    "a long source id": {"source_id": "S" * 65},
    "a long name": {"subject_name": "名" * 201},
    "no name": {"subject_name": ""},
}
# Valid text that JSON escapes: the columnar path makes the fields' JSON in columns and must escape as orjson does.
ESCAPED: dict[str, dict[str, str]] = {
    "a backslash": {"case_name": "C:\\案件\\1号\\"},
    "a tab inside": {"case_name": "案件\t1号"},
    "escapes written out": {"facts": "{\\u0022a\\u0022:1}\\n\\"},
    "a backslash next to a citizen ID field": {"legal_representative": "\\"},
}


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_cell_comes_out_as_the_row_path_makes_it(catalog: Catalog, keyring: KeyRing, tmp_path: Path,
                                                           case: str, encoding: str) -> None:
    item = catalog.item("admin_penalty")
    rows = _rows(catalog, "admin_penalty", 12)
    rows[5] = {**rows[5], **HOSTILE[case]}
    rows[9] = {**rows[9], **HOSTILE[case], "source_id": rows[9]["source_id"]} if "source_id" in HOSTILE[case] \
        else {**rows[9], **HOSTILE[case]}
    assert_same(_write(tmp_path / "f.csv", item, rows, encoding=encoding), item, keyring, chunk_rows=4,
                judged=lambda n: n <= 2)


@pytest.mark.parametrize("case", sorted(ESCAPED))
def test_text_that_json_escapes_is_escaped_as_the_row_path_escapes_it(catalog: Catalog, keyring: KeyRing,
                                                                  tmp_path: Path, case: str) -> None:
    item = catalog.item("admin_penalty")
    rows = [{**row, **ESCAPED[case]} for row in _rows(catalog, "admin_penalty", 9)]
    flat, _ = assert_same(_write(tmp_path / "f.csv", item, rows), item, keyring, chunk_rows=4,
                          judged=lambda n: n == 0)
    assert len(flat["source_id"]) == 9


def test_field_values_are_normalised_as_the_validators_do(catalog: Catalog, keyring: KeyRing, tmp_path: Path) -> None:
    item = catalog.item("admin_penalty")
    version = item.latest
    rows = _rows(catalog, "admin_penalty", 30)
    specs = {spec.type.value: spec for spec in version.fields}
    for n, row in enumerate(rows):
        if "decimal" in specs:
            row[specs["decimal"].code] = ["1，000", "¥12.5", "007", "1e3", "-1", "12.345", "", " 3 "][n % 8]
        if "enum" in specs:
            spec = specs["enum"]
            row[spec.code] = [spec.options[0].label_zh, spec.options[0].value.upper(), "不存在", ""][n % 4]
        for spec in version.fields:
            if spec.type.value in ("string", "text") and n % 5 == 0:
                row[spec.code] = ""  # required ones refused, optional ones left out
    flat, _ = assert_same(_write(tmp_path / "f.csv", item, rows), item, keyring,
                          judged=lambda n: n < len(rows))
    assert flat["rejected"] and flat["source_id"]  # both kinds of row are in the file


@pytest.mark.parametrize("shape", ["crlf", "title row", "title, filler and blank rows", "bom", "tabs", "semicolons", "blank lines",
                                   "lines of separators", "fewer cells", "more cells", "a quoted cell",
                                   "a lone CR", "a NUL", "no data rows", "no final newline"])
def test_file_shapes(catalog: Catalog, keyring: KeyRing, tmp_path: Path, shape: str,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 2000)  # several blocks: a shape may turn up half-way
    item = catalog.item("admin_penalty")
    rows = _rows(catalog, "admin_penalty", 300 if shape == "a NUL" else 30)  # a NUL in the first 64 KiB: binary
    sep = {"tabs": "\t", "semicolons": ";"}.get(shape, ",")
    codes = [c.code for c in template_columns(item.latest)]
    line = sep.join(str(rows[20].get(code, "")) for code in codes)
    raw = {
        "blank lines": {3: "", 4: "", 17: ""},
        "lines of separators": {6: sep * (len(codes) - 1), 7: " " + sep + " "},
        "fewer cells": {8: line.rsplit(sep, 3)[0]},
        "more cells": {19: line + sep + "多余"},
        "a quoted cell": {22: line.replace(rows[20]["subject_name"], '"常州, 某有限公司"')},
        "a lone CR": {24: line + "\r" + line},
        "a NUL": {280: line + "\x00"},
    }.get(shape)
    path = _write(tmp_path / "f.csv", item, [] if shape == "no data rows" else rows, sep=sep,
                  newline="\r\n" if shape == "crlf" else "\n", title=shape.startswith("title"), bom=shape == "bom",
                  raw_lines=raw, above=("填报单位：某某局", "", sep * 3) if shape == "title, filler and blank rows" else ())
    if shape == "no final newline":
        path.write_bytes(path.read_bytes().rstrip(b"\n"))
    # A shape the columnar path cannot vouch for hands the rest of the file, from that block on, to the row path.
    unsure = shape in ("more cells", "a quoted cell", "a lone CR", "a NUL")
    wrong_rows = 1 if shape == "fewer cells" else 0  # its last required cells are missing
    assert_same(path, item, keyring, judged=(lambda n: 0 < n < len(rows)) if unsure else (lambda n: n == wrong_rows))


@pytest.mark.parametrize(("encoding", "foreign"), [("utf-8", "常州".encode("gbk")), ("gb18030", b"\xff\xfe")])
def test_bytes_not_in_the_files_encoding_half_way_are_refused_with_the_same_line(
        catalog: Catalog, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str,
        foreign: bytes) -> None:
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 2000)
    item = catalog.item("admin_penalty")
    path = _write(tmp_path / "f.csv", item, _rows(catalog, "admin_penalty", 40), encoding=encoding)
    data = path.read_bytes()
    at = data.index(b"\n", len(data) * 2 // 3) + 1
    path.write_bytes(data[:at] + foreign + data[at:])
    refused = assert_same(path, item, keyring)
    assert refused[:2] == ("refused", "file.encoding")


def test_large_blocks_cut_into_chunks_keep_row_numbers(catalog: Catalog, keyring: KeyRing, tmp_path: Path) -> None:
    item = catalog.item("admin_penalty")
    rows = _rows(catalog, "admin_penalty", 120)
    rows += rows[:10]  # the same source ids again, in later chunks
    flat, _ = assert_same(_write(tmp_path / "f.csv", item, rows, raw_lines={50: ""}), item, keyring, chunk_rows=16)
    assert flat["row_no"][-1] == len(rows) + 1 and flat["received"] == len(rows) - 1  # Excel numbers; blank skipped


def test_progress_reaches_the_end_of_the_file(catalog: Catalog, keyring: KeyRing, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 3000)
    item = catalog.item("admin_penalty")
    path = _write(tmp_path / "f.csv", item, _rows(catalog, "admin_penalty", 60))
    with open_rows(path, template_columns(item.latest)) as source:
        read = [c.bytes_read for c in columnar.prepared_chunks(source, path, item, "samr", today=TODAY,
                                                               keyring=keyring, chunk_rows=8)]
    assert read == sorted(read) and read[-1] == path.stat().st_size


CELL = st.one_of(
    st.sampled_from(["", " ", "'", "\u3000", "\x1c", "\x07", "\x85", "是", "严重失信", "general", "2025-09-01",
                     "2025/9/1", "20250901", "1,000", "12.50", uscc_for(3), uscc_for(3).lower(), ric_for(3),
                     ric_for(3)[:-1] + "x", "常州某有限公司"]),
    st.text(alphabet=st.characters(blacklist_characters='",;\t\r\n', blacklist_categories=("Cs",)), max_size=8),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_files_come_out_the_same(catalog: Catalog, keyring: KeyRing, tmp_path: Path,
                                           data: st.DataObject) -> None:
    item = catalog.item("admin_penalty")
    rows = _rows(catalog, "admin_penalty", 10)
    codes = [c.code for c in template_columns(item.latest)]
    for row in rows:
        for code in data.draw(st.lists(st.sampled_from(codes), max_size=3)):
            row[code] = data.draw(CELL)
    assert_same(_write(tmp_path / "g.csv", item, rows), item, keyring, chunk_rows=data.draw(st.integers(1, 6)))


def test_columns_the_template_does_not_know_are_ignored_as_the_row_path_ignores_them(
        catalog: Catalog, keyring: KeyRing, tmp_path: Path) -> None:
    item = catalog.item("admin_penalty")
    rows = _rows(catalog, "admin_penalty", 20)
    columns = template_columns(item.latest)
    labels = [c.label_zh for c in columns]
    codes = [c.code for c in columns]
    labels[3:3] = ["内部备注"]  # a department's own columns, one among the template's and one at the end
    labels.append("经办人")
    lines = [",".join(labels)]
    for n, row in enumerate(rows):
        cells = [str(row.get(code, "")) for code in codes]
        cells[3:3] = ["\x07备注" if n == 4 else f"备注{n}"]  # control characters where nobody reads them
        cells.append("" if n % 2 else "张经办")
        if n == 7:
            cells = [""] * len(cells)
            cells[3] = "只有备注"  # only an unknown cell filled: not a blank row, a row with nothing in it
        lines.append(",".join(cells))
    path = tmp_path / "extra.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    flat, warnings = assert_same(path, item, keyring, judged=lambda n: n == 1)
    assert [w["code"] for w in warnings] == ["file.unknown_columns"]
    assert flat["received"] == 20 and len(flat["source_id"]) == 19


def test_a_line_longer_than_the_columnar_path_holds_goes_to_the_row_path(catalog: Catalog, keyring: KeyRing,
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays flat: a line with no end in sight is not gathered in memory but left to the row path."""
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 2000)
    monkeypatch.setattr(columnar, "LONGEST_LINE", 6000)
    item = catalog.item("admin_penalty")
    rows = _rows(catalog, "admin_penalty", 20)
    path = _write(tmp_path / "f.csv", item, rows, raw_lines={12: "垃圾" * 5000})
    # The row path reads on from the block the long line starts in: that line and every one after it.
    flat, _ = assert_same(path, item, keyring, judged=lambda n: len(rows) - 12 <= n < len(rows))
    assert [r[0] for r in flat["rejected"]] == [14]
