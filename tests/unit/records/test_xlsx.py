"""Opening xlsx workbooks (``records.xlsx``): the shared-strings table read without openpyxl's objects is openpyxl's
own table (``read_string_table``) for any table — plain strings, rich-text runs, phonetic runs, empty entries,
escapes, entities —; a workbook opened this way reads as ``openpyxl.load_workbook`` reads it; a sheet's declared
size is looked for at its head only."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.reader.strings import read_string_table

from chengxin.records.xlsx import StringTable, open_workbook, shared_strings

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Characters XML 1.0 allows (no C0 controls but tab and line breaks, no surrogates, no U+FFFE/U+FFFF).
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=[
    *map(chr, range(0x00, 0x09)), "\x0b", "\x0c", *map(chr, range(0x0E, 0x20)), "\ufffe", "\uffff", "\r"]),
    max_size=12).map(lambda t: t.replace("]]>", ""))
TEXTS = st.one_of(XML_TEXT, st.sampled_from(["", "常州市市场监督管理局", "_x005F_x000D_", "a & b < c > d", "  space  "]))


def _t(text: str) -> str:
    return f'<t xml:space="preserve">{escape(text)}</t>' if text else "<t/>"


ENTRIES = st.one_of(
    TEXTS.map(lambda text: f"<si>{_t(text)}</si>"),
    st.lists(TEXTS, min_size=1, max_size=3).map(
        lambda runs: "<si>" + "".join(f'<r><rPr><b/><sz val="11"/></rPr>{_t(text)}</r>' for text in runs) + "</si>"),
    st.tuples(TEXTS, TEXTS).map(lambda pair: f'<si>{_t(pair[0])}<rPh sb="0" eb="1">{_t(pair[1])}</rPh>'
                                             f'<phoneticPr fontId="1"/></si>'),
    st.just("<si/>"),
    st.just("<si><t>&#x5E38;&#24030;&amp;&quot;&apos;</t></si>"),
)


def _table(entries: list[str]) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{NS}" count="{len(entries)}" '
            f'uniqueCount="{len(entries)}">' + "".join(entries) + "</sst>").encode()


@given(st.lists(ENTRIES, max_size=30))
def test_the_table_is_openpyxls(entries: list[str]) -> None:
    data = _table(entries)
    assert list(shared_strings(io.BytesIO(data))) == read_string_table(io.BytesIO(data))


def test_a_table_longer_than_a_batch_of_strings_is_whole() -> None:
    """The table takes strings in batches of 4,096: one more, and one less, are all there in order."""
    for count in (4095, 4097, 10_000):
        data = _table([f"<si><t>第{n}号</t></si>" for n in range(count)])
        assert list(shared_strings(io.BytesIO(data))) == read_string_table(io.BytesIO(data))


def test_a_text_split_across_read_blocks_is_whole(monkeypatch: object) -> None:
    long = "常州" * 40_000  # 240 KB of UTF-8: expat hands it over in pieces
    data = _table([f"<si><t>{long}</t></si>", "<si><t>b</t></si>"])
    assert list(shared_strings(io.BytesIO(data))) == [long, "b"]


def _with_shared_strings(path: Path) -> None:
    """Rewrite openpyxl's inline strings as Excel and WPS write them: indexes into ``xl/sharedStrings.xml``."""
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    strings: list[str] = []

    def shared(match: re.Match[str]) -> str:
        strings.append(match.group(2))
        return f'<c r="{match.group(1)}" t="s"><v>{len(strings) - 1}</v></c>'

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>(.*?)</t></is></c>', shared,
                          parts[sheet].decode()).encode()
    parts["xl/sharedStrings.xml"] = _table([f"<si><t>{text}</t></si>" for text in strings])
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>'))
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_workbook_with_shared_strings_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["来源编号", "金额", "日期"])
    ws.append(["CZ-1", 12.5, "2025-01-01"])
    ws.append(["a & b", None, "=1+1"])
    wb.save(path)
    _with_shared_strings(path)
    ours = open_workbook(path.open("rb"))
    theirs = load_workbook(path, read_only=True, data_only=False, keep_links=False, rich_text=False)
    rows = [[c.value for c in row] for row in ours.worksheets[0].iter_rows()]
    assert rows == [[c.value for c in row] for row in theirs.worksheets[0].iter_rows()]
    assert rows[0] == ["来源编号", "金额", "日期"] and rows[2][0] == "a & b" and rows[2][2] == "=1+1"


def test_a_sheet_without_a_declared_size_is_not_read_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """openpyxl's streaming writer declares no ``<dimension>``; the size is then unknown (the rows read the same),
    and openpyxl's own look-up, which parses the whole sheet for it, is never run."""
    from openpyxl.worksheet._reader import WorkSheetParser

    monkeypatch.setattr(WorkSheetParser, "parse_dimensions", lambda self: pytest.fail("the whole sheet was parsed"))
    path = tmp_path / "stream.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    for n in range(50):
        ws.append([f"CZ-{n}", n])
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        assert b"<dimension" not in z.read("xl/worksheets/sheet1.xml")
    sheet = open_workbook(path.open("rb")).worksheets[0]
    assert sheet.max_row is None
    sheet.reset_dimensions()
    assert [row[0].value for row in sheet.iter_rows()][-1] == "CZ-49"


def test_a_declared_size_is_read_from_the_head(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    wb = Workbook()
    for n in range(30):
        wb.active.append([f"CZ-{n}", n, "x"])
    wb.save(path)
    sheet = open_workbook(path.open("rb")).worksheets[0]
    assert (sheet.min_row, sheet.max_row, sheet.min_column, sheet.max_column) == (1, 30, 1, 3)


@given(st.lists(TEXTS, max_size=20), st.integers(-25, 25))
def test_the_string_table_indexes_as_a_list_does(texts: list[str], index: int) -> None:
    """openpyxl reads a cell's text as ``strings[int(v)]``: a negative index counts from the end, one past it fails
    (a faulty file is refused the same way)."""
    table = StringTable(texts)
    assert len(table) == len(texts) and list(table) == texts and table[index:] == texts[index:]
    if -len(texts) <= index < len(texts):
        assert table[index] == texts[index]
    else:
        with pytest.raises(IndexError):
            table[index]


def test_the_string_table_holds_its_texts_in_less_than_half_a_lists_memory() -> None:
    """A 1,000,000-row workbook holds ~4.6 million distinct texts: as ``str`` objects in a list, ~470 MB in the
    reader process alone (over the issue's 500 MB with the rest); as UTF-8 with offsets, without the ~80 bytes of
    object and pointer each."""
    texts = [f"常州市第{n}号行政处罚决定书" for n in range(20_000)]

    def held(make: Any) -> tuple[int, Any]:
        tracemalloc.start()
        try:
            kept = make()
            return tracemalloc.get_traced_memory()[0], kept
        finally:
            tracemalloc.stop()

    as_list, _ = held(lambda: [text.encode().decode() for text in texts])
    as_table, table = held(lambda: StringTable(texts))
    assert list(table) == texts
    assert as_table < as_list / 2, (as_table, as_list)


def _template_workbook(tmp_path: Path, rows: int = 3) -> Path:
    path = tmp_path / "w.xlsx"
    wb = Workbook()
    wb.active.append(["来源编号", "金额"])
    for n in range(rows):
        wb.active.append([f"CZ-{n}", n])
    wb.save(path)
    _with_shared_strings(path)
    return path


@pytest.mark.parametrize(("part", "limit"), [
    ("[Content_Types].xml", "PART_MAX_BYTES"),
    ("xl/styles.xml", "PART_MAX_BYTES"),
    ("xl/workbook.xml", "PART_MAX_BYTES"),
    ("xl/_rels/workbook.xml.rels", "PART_MAX_BYTES"),
    ("xl/sharedStrings.xml", "SHARED_STRINGS_MAX_BYTES"),
    ("xl/worksheets/sheet1.xml", "SHEET_MAX_BYTES"),
])
def test_a_part_that_unpacks_past_its_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: str, limit: str,
) -> None:
    """A ZIP of repeated bytes unpacks a hundred times over: each part openpyxl reads whole (and the sheet it
    streams) is checked against its limit by the size the archive declares — which is all zipfile will unpack —
    and the upload is refused as too large, naming the part, before it is read (the strings table included)."""
    from chengxin.catalog.model import Column, FieldType
    from chengxin.records import xlsx
    from chengxin.records.fileio import FileRejected, open_rows

    path = _template_workbook(tmp_path)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    parts[part] += b"<!--" + b"x" * 300_000 + b"-->"  # still the same XML, and the only part this large
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(xlsx, limit, 200_000)
    if part != "xl/worksheets/sheet1.xml":  # the sheet is checked once the table is read, when it is opened
        monkeypatch.setattr(xlsx, "shared_strings", lambda src: pytest.fail("the strings were read"))
    columns = [Column("source_id", "来源编号", "Source id", True, FieldType.STRING)]
    with pytest.raises(FileRejected) as refused:
        open_rows(path, columns)
    assert (refused.value.code, refused.value.status) == ("file.too_large", 413)
    assert f"“{part}”有 0.3 MB（上限 0.2 MB）" in refused.value.message, refused.value.message
    monkeypatch.undo()
    with open_rows(path, columns) as source:
        assert [row.values["source_id"] for row in source] == ["CZ-0", "CZ-1", "CZ-2"]


def test_the_row_path_prepares_chunks_of_at_most_5000_rows(tmp_path: Path) -> None:
    """A workbook's rows are dicts until prepared: its chunks are smaller than a CSV file's (memory of the reader
    process), every row in one of them, in order."""
    import datetime as dt

    from chengxin.catalog.loader import load_catalog
    from chengxin.catalog.rules import template_columns
    from chengxin.core.crypto import KeyRing
    from chengxin.records.columnar import ROW_PATH_CHUNK_ROWS, prepared_chunks
    from chengxin.records.fileio import open_rows

    item = load_catalog().item("admin_penalty")
    columns = template_columns(item.latest)
    path = tmp_path / "many.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append([c.label_zh for c in columns])
    for n in range(ROW_PATH_CHUNK_ROWS * 2 + 7):
        ws.append([f"CZ-{n}"])
    wb.save(path)
    with open_rows(path, columns) as source:
        chunks = list(prepared_chunks(source, path, item, "samr", today=dt.date(2026, 11, 25),
                                      keyring=KeyRing.open(tmp_path / "keys"), chunk_rows=20_000))
    assert [chunk.received for chunk in chunks] == [ROW_PATH_CHUNK_ROWS, ROW_PATH_CHUNK_ROWS, 7]
