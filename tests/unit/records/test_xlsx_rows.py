"""A sheet's rows read by ``records.xlsx.sheet_rows`` are openpyxl's: on generated sheets — every cell type, dates by
number format (1900 and 1904 epochs, out-of-range serials, durations), formulas (plain, shared, array, data table),
inline and rich strings, cells and rows without references, gaps, duplicates and rows out of order, whitespace,
entities and CDATA, a prefixed namespace, faulty values — the same ``(value, data_type)`` rows as openpyxl's read-only
``iter_rows()`` after ``reset_dimensions()``, and where openpyxl fails, the same error after the same rows."""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from chengxin.catalog.model import Column, FieldType
from chengxin.records.fileio import FileRejected, open_rows
from chengxin.records.xlsx import EMPTY_CELL, open_workbook, sheet_rows

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRINGS = ["来源编号", "常州市市场监督管理局", "a & b < c", "  space  ", "", "_x005F_x000D_"]
STYLES = range(6)  # the base workbook's cell formats: general, date, time, duration, "0.00", date-time

_XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters=[
    *map(chr, range(0x00, 0x09)), "\x0b", "\x0c", *map(chr, range(0x0E, 0x20)), "\ufffe", "\uffff", "\r"])
TEXTS = st.one_of(st.text(_XML_CHARS, max_size=8), st.sampled_from(["常州", "a & b", "<x>", "'0012", " "]))


def _base_workbook(epoch_1904: bool) -> dict[str, bytes]:
    """The parts of a workbook whose cell formats 1–5 are: a date, a time, a duration, a number, a date-time; with a
    shared-strings table of :data:`STRINGS` (as Excel writes texts)."""
    wb = Workbook()
    if epoch_1904:
        wb.epoch = dt.datetime(1904, 1, 1)
    ws = wb.active
    for column, number_format in enumerate(("yyyy-mm-dd", "h:mm:ss", "[h]:mm:ss", "0.00", "yyyy-mm-dd h:mm"), 1):
        ws.cell(row=1, column=column, value=1).number_format = number_format
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{NS}">' + "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in STRINGS)
        + "</sst>").encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>'))
    return parts


BASES = {epoch: _base_workbook(epoch) for epoch in (False, True)}


def _workbook(sheet: str, epoch_1904: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in BASES[epoch_1904].items():
            z.writestr(name, sheet.encode() if name == "xl/worksheets/sheet1.xml" else data)
    return buffer.getvalue()


def _norm(value: Any) -> Any:
    """Formula objects (array, data table) compare by their content; openpyxl gives them no equality."""
    if type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
        return type(value).__name__, sorted((k, str(v)) for k, v in vars(value).items())
    return value


def _collect(rows: Iterable[tuple[Any, ...]], cell: Any) -> tuple[list[list[Any]], str | None]:
    out: list[list[Any]] = []
    try:
        for row in rows:
            out.append([tuple(map(_norm, cell(c))) for c in row])
    except Exception as exc:  # noqa: BLE001 - the same failure is the point
        return out, type(exc).__name__
    return out, None


def openpyxls(data: bytes) -> tuple[list[list[Any]], str | None]:
    ws = load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False,
                       rich_text=False).worksheets[0]
    ws.reset_dimensions()
    return _collect(ws.iter_rows(), lambda c: (c.value, c.data_type))


def ours(data: bytes) -> tuple[list[list[Any]], str | None]:
    return _collect(sheet_rows(open_workbook(io.BytesIO(data)).worksheets[0]), lambda c: c)


def _same(sheet: str, epoch_1904: bool = False) -> tuple[list[list[Any]], str | None]:
    data = _workbook(sheet, epoch_1904)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns of out-of-range dates, in both
        theirs, mine = openpyxls(data), ours(data)
    assert mine == theirs
    return mine


# -- generated sheets -------------------------------------------------------------------------------------------

VALUES = {
    "s": st.one_of(st.integers(0, len(STRINGS) - 1).map(str), st.sampled_from(["99", "x", " 1"])),
    "n": st.one_of(st.integers(-10**6, 10**7).map(str), st.floats(-1e6, 3e6, allow_nan=False).map(repr),
                   st.sampled_from(["0.5", "59", "60", "61", "1e3", "2.5E-1", "45000.75", "3000000", "-1", "1.5e",
                                    "NaN", "1e400", " 7"])),
    "b": st.sampled_from(["0", "1", "2", "x"]),
    "str": TEXTS,
    "e": st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!"]),
    "d": st.sampled_from(["2024-01-02T03:04:05", "2024-01-02", "12:30:00", "2024-13-01", "nope"]),
    "inlineStr": TEXTS,
    "x": TEXTS,
}


@st.composite
def cells(draw: st.DrawFn, row: int, column: int, ns: str) -> str:
    kind = draw(st.sampled_from([None, "n", "s", "s", "str", "b", "e", "d", "inlineStr", "x"]))
    attrs = []
    reference = draw(st.sampled_from(["own", "own", "own", "none", "lower", "dollar", "other row"]))
    letters = get_column_letter(column)
    if reference == "own":
        attrs.append(f'r="{letters}{row}"')
    elif reference == "lower":
        attrs.append(f'r="{letters.lower()}{row}"')
    elif reference == "dollar":
        attrs.append(f'r="${letters}${row}"')
    elif reference == "other row":
        attrs.append(f'r="{letters}{row + 7}"')
    if draw(st.booleans()):
        attrs.append(f's="{draw(st.sampled_from(STYLES))}"')
    if kind is not None:
        attrs.append(f't="{kind}"')
    attrs = draw(st.permutations(attrs))
    children = []
    if draw(st.integers(0, 5)) == 0:  # a formula: plain, shared (the anchor, or a follower), array, data table
        children.append(draw(st.sampled_from([
            f"<{ns}f>SUM(A1:B{row})</{ns}f>", f'<{ns}f t="shared" ref="A1:C9" si="0">A1+1</{ns}f>',
            f'<{ns}f t="shared" si="0"/>', f'<{ns}f t="array" ref="{letters}{row}">{{1,2}}</{ns}f>',
            f'<{ns}f t="dataTable" ref="A1:B2" dt2D="1" dtr="1" r1="A1" r2="B1"/>', f"<{ns}f/>"])))
    value_kind = draw(st.sampled_from(["v", "v", "v", "none", "empty", "cdata"]))
    text = draw(VALUES[kind or "n"])
    if value_kind == "v":
        children.append(f"<{ns}v>{escape(text)}</{ns}v>")
    elif value_kind == "empty":
        children.append(draw(st.sampled_from([f"<{ns}v/>", f"<{ns}v></{ns}v>"])))
    elif value_kind == "cdata" and "]]>" not in text:
        children.append(f"<{ns}v><![CDATA[{text}]]></{ns}v>")
    if kind == "inlineStr" and draw(st.booleans()):
        children.append(draw(st.sampled_from([
            f"<{ns}is><{ns}t>{escape(text)}</{ns}t></{ns}is>",
            f"<{ns}is><{ns}r><{ns}t>富</{ns}t></{ns}r><{ns}r><{ns}rPr><{ns}b/></{ns}rPr><{ns}t>{escape(text)}</{ns}t>"
            f"</{ns}r></{ns}is>",
            f'<{ns}is><{ns}t>常州</{ns}t><{ns}rPh sb="0" eb="1"><{ns}t>changzhou</{ns}t></{ns}rPh></{ns}is>'])))
    if draw(st.integers(0, 9)) == 0:
        children.append(f'<{ns}extLst><{ns}ext uri="x"/></{ns}extLst>')
    children = draw(st.permutations(children)) if draw(st.integers(0, 4)) == 0 else children
    gap = draw(st.sampled_from(["", "", "", " ", "\n  "]))
    inside = gap.join(children)
    if not inside and draw(st.booleans()):
        return f"<{ns}c {' '.join(attrs)}/>"
    return f"<{ns}c {' '.join(attrs)}>{inside}</{ns}c>"


@st.composite
def sheets(draw: st.DrawFn) -> str:
    ns = draw(st.sampled_from(["", "", "", "x:"]))
    rows = []
    number = 0
    for _ in range(draw(st.integers(0, 8))):
        step = draw(st.sampled_from([1, 1, 1, 2, 5, 0, -1]))
        number = max(1, number + step)
        label = draw(st.sampled_from(["int", "int", "int", "none", "float"]))
        attrs = {"int": f' r="{number}"', "none": "", "float": f' r="{number}.0"'}[label]
        if draw(st.booleans()):
            attrs += ' spans="1:4" x14ac:dyDescent="0.25"'
        columns = draw(st.lists(st.integers(1, 30), max_size=6))
        if draw(st.booleans()):
            columns = sorted(set(columns))
        gap = draw(st.sampled_from(["", "", " ", "\n"]))
        body = gap.join(draw(cells(number, column, ns)) for column in columns)
        rows.append(f"<{ns}row{attrs}/>" if not body and draw(st.booleans()) else f"<{ns}row{attrs}>{body}</{ns}row>")
    declare = f'xmlns:x="{NS}"' if ns else f'xmlns="{NS}"'
    dimension = draw(st.sampled_from(["", f'<{ns}dimension ref="A1:C3"/>', f'<{ns}dimension ref="B2"/>']))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{ns}worksheet {declare} '
            f'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">{dimension}'
            f'<{ns}sheetData>' + "".join(rows) + f"</{ns}sheetData></{ns}worksheet>")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets(), st.booleans())
def test_generated_sheets_read_as_openpyxl_reads_them(sheet: str, epoch_1904: bool) -> None:
    _same(sheet, epoch_1904)


# -- cases named one by one ------------------------------------------------------------------------------------

def _sheet(rows: str) -> str:
    return f'<worksheet xmlns="{NS}"><sheetData>{rows}</sheetData></worksheet>'


def test_the_usual_cells() -> None:
    rows, error = _same(_sheet(
        '<row r="1"><c r="A1" t="s"><v>1</v></c><c r="B1"><v>12.50</v></c><c r="C1" s="1"><v>45658</v></c>'
        '<c r="D1" t="b"><v>1</v></c><c r="E1" t="str"><v>a &amp; b</v></c><c r="F1" t="e"><v>#N/A</v></c>'
        '<c r="G1"><f>A1+1</f><v>2</v></c></row>'))
    assert error is None
    assert rows == [[("常州市市场监督管理局", "s"), (12.5, "n"), (dt.datetime(2025, 1, 1), "d"), (True, "b"),
                     ("a & b", "s"), ("#N/A", "e"), ("=A1+1", "f")]]


def test_gaps_missing_rows_and_rows_out_of_order() -> None:
    rows, error = _same(_sheet('<row r="2"><c r="C2"><v>1</v></c></row><row r="5"><c r="B5"><v>2</v></c>'
                               '<c r="A5"><v>3</v></c></row><row r="4"><c r="A4"><v>4</v></c></row><row><c><v>5</v>'
                               '</c></row>'))
    # openpyxl's way: a row as wide as its last cell's column (B5 is cut off by A5 after it); a row numbered
    # before the rows already read (4, then 5 again by counting on) is dropped.
    assert error is None
    assert rows == [[], [EMPTY_CELL, EMPTY_CELL, (1, "n")], [], [], [(3, "n")]]


def test_shared_formulas_are_translated_across_rows() -> None:
    rows, _ = _same(_sheet('<row r="1"><c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>2</v></c></row>'
                           '<row r="2"><c r="B2"><f t="shared" si="0"/><v>4</v></c></row>'
                           '<row r="3"><c r="B3"><f t="shared" si="0"/></c></row>'))
    assert [row[1] for row in rows] == [("=A1*2", "f"), ("=A2*2", "f"), ("=A3*2", "f")]


def test_a_faulty_cell_fails_after_the_rows_before_it() -> None:
    rows, error = _same(_sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2"><v>2</v></c>'
                               '</row><row r="3"><c r="A3" t="s"><v>99</v></c></row><row r="4"/>'))
    assert (rows, error) == ([[("来源编号", "s")], [(2, "n")]], "IndexError")


def test_a_long_sheet_reads_across_parser_blocks() -> None:
    """Texts and rows split across the 64 KiB blocks the sheet is fed in."""
    long = "常州" * 30_000
    body = "".join(f'<row r="{n}"><c r="A{n}" t="str"><v>{long if n % 7 == 0 else n}</v></c><c r="B{n}" s="1">'
                   f'<v>{40000 + n}</v></c></row>' for n in range(1, 400))
    rows, error = _same(_sheet(body))
    assert error is None and len(rows) == 399 and rows[6][0] == (long, "s")


def test_a_1904_workbook_dates_from_1904() -> None:
    rows, _ = _same(_sheet('<row r="1"><c r="A1" s="1"><v>1</v></c><c r="B1" s="3"><v>1.5</v></c></row>'),
                    epoch_1904=True)
    assert rows == [[(dt.datetime(1904, 1, 2), "d"), (dt.timedelta(days=1, hours=12), "d")]]


def test_the_ingest_reads_rows_through_it(tmp_path: Path) -> None:
    """``fileio``'s xlsx rows come from :func:`sheet_rows`: a formula and a faulty cell are reported at their rows
    (the fault past the rows the header is looked for in)."""
    columns = [Column("source_id", "来源编号", "Source id", True, FieldType.STRING),
               Column("amount", "金额", "Amount", False, FieldType.DECIMAL)]
    path = tmp_path / "w.xlsx"
    path.write_bytes(_workbook(_sheet(
        '<row r="1"><c r="A1" t="str"><v>来源编号</v></c><c r="B1" t="str"><v>金额</v></c></row>'
        '<row r="2"><c r="A2" t="str"><v>CZ-1</v></c><c r="B2"><f>1+1</f><v>2</v></c></row>'
        '<row r="3"><c r="A3" t="str"><v>CZ-2</v></c><c r="B3"><v>7.5</v></c></row>'
        + "".join(f'<row r="{n}"><c r="A{n}" t="str"><v>CZ-{n}</v></c></row>' for n in range(4, 14))
        + '<row r="14"><c r="A14" t="s"><v>99</v></c></row>')))
    with open_rows(path, columns) as source:
        rows = []
        with pytest.raises(FileRejected) as refused:
            for row in source:
                rows.append(row)
    assert [(r.row_no, r.values, [p.code for p in r.problems]) for r in rows[:2]] == [
        (2, {"source_id": "CZ-1", "amount": None}, ["file.formula_cell"]),
        (3, {"source_id": "CZ-2", "amount": 7.5}, [])]
    assert [r.row_no for r in rows] == list(range(2, 14))
    assert refused.value.code == "file.bad_xlsx" and "第 14 行" in refused.value.message


def test_odd_cells_read_as_openpyxl_reads_them() -> None:
    """Two ``<v>`` (the first counts), a ``<v>`` with a child, an inline string with a stray ``<v>``, a cell named
    otherwise (any child of a row is a cell), a prefixed attribute."""
    rows, error = _same(_sheet(
        '<row r="1"><c r="A1"><v>1</v><v>2</v></c><c r="B1"><v>3<x/>4</v></c><c r="C1" t="inlineStr"><v>5</v></c>'
        '<d r="D1"><v>6</v></d><c r="E1" xmlns:q="urn:q" q:t="s"><v>7</v></c></row>'))
    assert error is None
    assert rows == [[(1, "n"), (3, "n"), (None, "inlineStr"), (6, "n"), (7, "n")]]
