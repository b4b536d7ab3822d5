"""Opening an uploaded xlsx workbook for streaming: openpyxl's read-only reader with a faster shared-strings table,
and the sheet's rows read by an expat handler of our own.

A workbook from Excel or WPS keeps each distinct text once, in ``xl/sharedStrings.xml``, and a reader must load
that table before the first row. openpyxl builds it through its descriptor classes (``Text.from_tree``): ~12 µs a
string, and a department's 100,000-row penalty sheet holds ~540,000 distinct texts (the case numbers, names and
facts are all different) — 5–8 s before any row, half the file's reading time. Here the table is read with the
same XML parser and the same rule — a string is its ``<t>`` plus the ``<t>`` of each rich-text run ``<r>``, the
phonetic runs ``<rPh>`` left out, ``_x005F_`` escapes dropped as openpyxl drops them — without building objects
(0.64 s against 3.9–5.9 for that table; bench/RESULTS.md, "Xlsx workbooks"). Test: ``tests/unit/records/test_xlsx.py``
(the same table as openpyxl's on generated ones).

The rows (:func:`sheet_rows`): openpyxl's read-only reader builds an element tree per row and a ``ReadOnlyCell``
per cell, ~4 µs a cell (~85 µs a row of the penalty template). Here expat's callbacks convert the usual cell — a
value and nothing else — by openpyxl's own rules (``WorkSheetParser.parse_cell``: shared-string index, number,
boolean, error, date by the cell's number format) and hand every other cell (formulas, inline strings, anything
unusual) to openpyxl's ``parse_cell`` itself, as an element built for that cell alone. Rows are padded as
openpyxl's read-only sheet pads them: ~54 µs a row against openpyxl's ~82 (bench/RESULTS.md, session 23). Test:
``tests/unit/records/test_xlsx_rows.py`` (the same values and types as openpyxl on generated sheets).

The table is held as UTF-8 (:class:`StringTable`), and each part is checked against what it may unpack to before it
is read (:class:`WorkbookTooLarge`).
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Generator, Iterable, Sequence
from itertools import accumulate, islice
from typing import IO, Any, Final, overload
from xml.etree.ElementTree import Element, SubElement, TreeBuilder, XMLParser
from xml.parsers import expat

from openpyxl.packaging.relationship import get_rels_path
from openpyxl.reader.excel import ExcelReader, _find_workbook_part
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser, _cast_number
from openpyxl.xml.constants import (
    ARC_CONTENT_TYPES,
    ARC_CORE,
    ARC_CUSTOM,
    ARC_STYLE,
    ARC_THEME,
    SHARED_STRINGS,
    SHEET_MAIN_NS,
)

_SI: Final = f"{{{SHEET_MAIN_NS}}}si"
_T: Final = f"{{{SHEET_MAIN_NS}}}t"
_PHONETIC: Final = f"{{{SHEET_MAIN_NS}}}rPh"
_BLOCK: Final = 1 << 16
_DIMENSION: Final = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


class StringTable(Sequence[str]):
    """A workbook's shared-strings table, held as UTF-8 in one buffer with each string's end.

    A list of ``str`` held ~100 bytes a string (47 MB for a 100,000-row penalty sheet's 457,000 texts, so ~470 MB
    at the 1,000,000 rows an upload may have); this holds the UTF-8 and 4 bytes of offset (~38 bytes a string
    there: 18 MB). Indexed as a list is (negative indexes too, ``IndexError`` past the end: openpyxl reads a
    cell's text as ``strings[int(v)]``); each look-up decodes its string, ~0.3 µs."""

    __slots__ = ("_data", "_ends")

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._data = bytearray()
        self._ends = array("I")  # 4 bytes: the table is far below 4 GiB (SHARED_STRINGS_MAX_BYTES of XML)
        self.extend(texts)

    def extend(self, texts: Iterable[str]) -> None:
        """Append ``texts`` (in bulk: a string at a time costs twice as much)."""
        encoded = [text.encode() for text in texts]
        self._ends.extend(islice(accumulate(map(len, encoded), initial=len(self._data)), 1, None))
        self._data += b"".join(encoded)

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        ends = self._ends
        end = ends[index]
        if index < 0:
            index += len(ends)
        return self._data[ends[index - 1] if index else 0 : end].decode()


class _StringTableTarget:
    """Parser target (expat calls it back: no element objects): each ``<si>``'s text, the ``<t>`` it holds
    directly and those of its runs, not those of its phonetic runs."""

    def __init__(self) -> None:
        self.strings = StringTable()
        self._done: list[str] = []  # strings read, not yet in the table
        self._parts: list[str] = []  # the current string's texts
        self._text: list[str] | None = None  # the current <t>'s pieces (expat may split a text)
        self._phonetic = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag == _T:
            self._text = []
        elif tag == _PHONETIC:
            self._phonetic += 1

    def end(self, tag: str) -> None:
        if tag == _T:
            if not self._phonetic and self._text:
                self._parts.extend(self._text)
            self._text = None
        elif tag == _PHONETIC:
            self._phonetic -= 1
        elif tag == _SI:
            self._done.append("".join(self._parts).replace("x005F_", ""))
            self._parts = []
            if len(self._done) == 4096:
                self.flush()

    def flush(self) -> None:
        self.strings.extend(self._done)
        self._done.clear()

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)


def shared_strings(source: IO[bytes]) -> StringTable:
    """The shared-strings table of ``source`` (``xl/sharedStrings.xml``) as plain texts, in order — what
    openpyxl's ``read_string_table`` returns. Python's expat refuses entity expansion bombs and never fetches
    external entities."""
    table = _StringTableTarget()
    parser = XMLParser(target=table)
    while block := source.read(_BLOCK):
        parser.feed(block)
    parser.close()
    table.flush()
    return table.strings


class _Sheet(ReadOnlyWorksheet):  # type: ignore[misc]  # openpyxl has no type hints
    """A worksheet read as a stream, whose declared size is looked for at its head only: openpyxl parses the whole
    sheet for a ``<dimension>`` element when there is none (files from openpyxl's own streaming writer and other
    tools), a second full read before the first row. The size only guides the progress bar."""

    def _get_size(self) -> None:
        with self._get_source() as src:
            found = _DIMENSION.search(src.read(_BLOCK))
        if found is not None:
            try:
                bounds = range_boundaries(found.group(1).decode())
            except (TypeError, ValueError):
                return
            if None not in bounds:
                self._min_column, self._min_row, self._max_column, self._max_row = bounds


# What a workbook's parts may unpack to (the sizes its ZIP directory declares: Python's zipfile reads no more than
# that, and a part that holds more fails its check). A sheet is streamed; the parts openpyxl reads whole are held in
# memory, the shared-strings table at ~0.8 of its XML (146 MB for the 183 MB of a 1,000,000-row penalty sheet).
# Without these a 10 MB upload of repeated bytes could unpack to gigabytes in the reader process.
SHEET_MAX_BYTES = 4 << 30
SHARED_STRINGS_MAX_BYTES = 256 << 20
PART_MAX_BYTES = 64 << 20
# The parts openpyxl reads whole by their fixed names (the manifest, properties, theme, styles).
_FIXED_PARTS: Final = (ARC_CONTENT_TYPES, ARC_CORE, ARC_CUSTOM, ARC_THEME, ARC_STYLE)


class WorkbookTooLarge(Exception):  # noqa: N818 - a refusal, not a bug; not a ValueError, which openpyxl rewraps
    """A part of the workbook unpacks to more than its limit."""

    def __init__(self, part: str, size: int, limit: int) -> None:
        super().__init__(f"{part} unpacks to {size:,} bytes (limit {limit:,})")
        self.part, self.size, self.limit = part, size, limit


def _check_size(archive: zipfile.ZipFile, part: str, limit: int) -> None:
    try:
        size = archive.getinfo(part).file_size
    except KeyError:
        return  # openpyxl says what is missing
    if size > limit:
        raise WorkbookTooLarge(part, size, limit)


class _Reader(ExcelReader):  # type: ignore[misc]  # openpyxl has no type hints
    """openpyxl's reader with our strings table and sheets, and each part's size checked before it is read."""

    def read(self) -> None:
        for part in _FIXED_PARTS:
            _check_size(self.archive, part, PART_MAX_BYTES)
        super().read()

    def read_manifest(self) -> None:
        """The manifest, then the sizes of the parts it names that are read whole: the workbook, its relations, the
        strings table."""
        super().read_manifest()
        workbook = _find_workbook_part(self.package).PartName[1:]
        _check_size(self.archive, workbook, PART_MAX_BYTES)
        _check_size(self.archive, get_rels_path(workbook), PART_MAX_BYTES)
        strings = self.package.find(SHARED_STRINGS)
        if strings is not None:
            _check_size(self.archive, strings.PartName[1:], SHARED_STRINGS_MAX_BYTES)

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as src:
                self.shared_strings = shared_strings(src)

    def read_worksheets(self) -> None:
        """The workbook's worksheets as :class:`_Sheet` streams (openpyxl's read-only loop; chart sheets hold no
        rows and are left out)."""
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            _check_size(self.archive, rel.target, SHEET_MAX_BYTES)
            ws = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state
            self.wb._sheets.append(ws)


def open_workbook(fh: IO[bytes]) -> Any:
    """The workbook in ``fh``, read-only (rows streamed), formulas as written (never their cached values),
    no external links, rich text as plain text — openpyxl's ``load_workbook`` with the faster strings table.
    :class:`WorkbookTooLarge` when a part would unpack past its limit (before anything is read)."""
    reader = _Reader(fh, read_only=True, keep_vba=False, data_only=False, keep_links=False, rich_text=False)
    reader.read()
    return reader.wb


Cell = tuple[Any, str]
"""A cell as :func:`sheet_rows` gives it: openpyxl's ``(value, data_type)`` (``n`` number, ``s`` text, ``b`` boolean,
``d`` date or time, ``e`` error, ``f`` formula — its text, never a cached result). A plain tuple: a named one costs
a Python call per cell."""

EMPTY_CELL: Final[Cell] = (None, "n")

# Names as expat gives them with a space separating namespace and local name.
_ROW: Final = f"{SHEET_MAIN_NS} row"
_V: Final = f"{SHEET_MAIN_NS} v"
_V_TAG: Final = f"{{{SHEET_MAIN_NS}}}v"
_C_TAG: Final = f"{{{SHEET_MAIN_NS}}}c"


def _tag(name: str) -> str:
    """An expat name (``"uri local"``) in ElementTree's form (``"{uri}local"``)."""
    uri, sep, local = name.rpartition(" ")
    return f"{{{uri}}}{local}" if sep else local


_COLUMNS: dict[str, int] = {}  # column letters → number, as coordinate_to_tuple found them
_DIGITS: Final = "0123456789"


def _column(coordinate: str) -> int:
    """The column of a cell reference (``"C12"`` → 3) by ``coordinate_to_tuple``, its letters kept in
    :data:`_COLUMNS` when they are plain letters."""
    column: int = coordinate_to_tuple(coordinate)[1]
    letters = coordinate.rstrip(_DIGITS)
    if letters.isascii() and letters.isalpha():
        _COLUMNS[letters] = column
    return column


def _row_number(text: str) -> int:
    """A ``<row r>`` as openpyxl reads it (``WorkSheetParser.parse_row``): an integer, or a float that is one."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if number.is_integer():
            return int(number)
        raise ValueError(f"{text} is not a valid row number") from None


def _attributes(attrs: dict[str, str]) -> dict[str, str]:
    return {_tag(name): value for name, value in attrs.items()}


def sheet_rows(ws: Any) -> Generator[tuple[Cell, ...], None, None]:
    """Every row of the read-only sheet ``ws`` (from :func:`open_workbook`), from row 1, whatever size it declares:
    what ``ws.iter_rows()`` gives after ``ws.reset_dimensions()`` — a missing row as ``()``, each row as long as its
    last cell's column, gaps as :data:`EMPTY_CELL` — with :class:`Cell` tuples for openpyxl's cells.

    Expat's callbacks below keep their state in this function's variables (a handler object's attributes cost a
    third more: five callbacks a cell). A child of a ``<row>`` is a cell whatever its name, as openpyxl reads it. A
    cell whose only child is one ``<v>`` is converted here; any other child (``<f>``, ``<is>``, extensions) turns
    the cell into an element, built as the rest of it arrives and read by openpyxl's ``parse_cell`` — one parser
    instance for the sheet, which keeps the shared formulas it has seen. Dates are read there too (their limits
    and warnings are openpyxl's)."""
    wb = ws.parent
    openpyxl_cells = WorkSheetParser(None, ws._shared_strings, data_only=False, epoch=wb.epoch,
                                     date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
    strings: Sequence[str] = ws._shared_strings
    date_styles = wb._date_formats
    rows: list[tuple[int, list[Cell], list[int]]] = []
    in_row = in_cell = False
    inner = 0  # depth inside the open cell
    row_no = col_no = 0
    cells: list[Cell] = []
    columns: list[int] = []  # each cell's column
    attrs: dict[str, str] = {}  # the open cell's attributes
    text: str | None = None  # the open <v>'s text so far; None outside a <v>
    value: str | None = None  # the cell's <v> text once closed
    has_value = False
    builder: TreeBuilder | None = None  # the open cell as an element (the rare cells)

    def delegate(element: Element) -> None:
        nonlocal col_no
        openpyxl_cells.row_counter, openpyxl_cells.col_counter = row_no, col_no
        cell = openpyxl_cells.parse_cell(element)
        col_no = openpyxl_cells.col_counter
        cells.append((cell["value"], cell["data_type"]))
        columns.append(cell["column"])

    def start(name: str, a: dict[str, str]) -> None:
        nonlocal in_row, in_cell, inner, row_no, col_no, cells, columns, attrs, text, value, has_value, builder
        if in_cell:
            inner += 1
            if builder is None:
                if inner == 1 and name == _V and not has_value:
                    text = ""
                    return
                builder = TreeBuilder()
                builder.start(_C_TAG, _attributes(attrs))
                if has_value:
                    builder.start(_V_TAG, {})
                    builder.data(value or "")
                    builder.end(_V_TAG)
                if text is not None:  # inside the <v>: it stays open in the builder
                    builder.start(_V_TAG, {})
                    builder.data(text)
                    text = None
            builder.start(_tag(name), _attributes(a))
        elif in_row:
            in_cell = True
            inner = 0
            attrs = a
            text = value = None
            has_value = False
        elif name == _ROW:
            in_row = True
            r = a.get("r")
            row_no = _row_number(r) if r is not None else row_no + 1
            col_no = 0
            cells = []
            columns = []

    def data(piece: str) -> None:
        nonlocal text
        if builder is not None:
            builder.data(piece)
        elif text is not None:
            text += piece

    def end(name: str) -> None:
        nonlocal in_row, in_cell, inner, col_no, text, value, has_value, builder
        if not in_cell:
            if in_row:
                rows.append((row_no, cells, columns))
                in_row = False
            return
        if inner:
            inner -= 1
            if builder is not None:
                builder.end(_tag(name))
            elif text is not None:
                value, text, has_value = text, None, True
            return
        in_cell = False
        if builder is not None:
            builder.end(_C_TAG)
            element = builder.close()
            builder = None
            element.tag = _tag(name)
            delegate(element)
            return
        # parse_cell's rules, in its order (style, coordinate, value): a faulty cell fails as it would there.
        data_type = attrs.get("t", "n")
        style: Any = attrs.get("s", 0)
        if style:
            style = int(style)
        found: Any = value or None
        if found is not None and (data_type == "d" or (data_type == "n" and style in date_styles)):
            element = Element(_tag(name), _attributes(attrs))
            SubElement(element, _V_TAG).text = value
            delegate(element)
            return
        r = attrs.get("r")
        if r:
            # coordinate_to_tuple's column, ~1 µs a cell (a regular expression): kept for the letters it read, and
            # used again where the rest is a row its expression would read the same (ASCII digits, not 0)
            letters = r.rstrip(_DIGITS)
            column = _COLUMNS.get(letters)
            if column is None or not r[len(letters):].lstrip("0"):
                column = _column(r)
            col_no = column
        else:
            col_no = column = col_no + 1
        if data_type == "inlineStr":  # without its <is>: openpyxl reads no value
            found = None
        elif found is not None:
            if data_type == "s":
                found = strings[int(found)]
            elif data_type == "n":
                found = _cast_number(found)
            elif data_type == "b":
                found = bool(int(found))
            elif data_type == "str":
                data_type = "s"
        cells.append((found, data_type))
        columns.append(column)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.buffer_size = _BLOCK
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    counter = 1
    with ws._get_source() as src:
        while True:
            block = src.read(_BLOCK)
            failure: Exception | None = None
            try:
                parser.Parse(block, not block)
            except Exception as exc:  # noqa: BLE001 - raised below, after the rows read before it (openpyxl's order)
                failure = exc
            for number, row, at in rows:
                while counter < number:  # rows the sheet leaves out
                    counter += 1
                    yield ()
                if counter <= number:
                    counter += 1
                    yield _padded(row, at)
            rows.clear()
            if failure is not None:
                raise failure
            if not block:
                return


def _padded(cells: list[Cell], columns: list[int]) -> tuple[Cell, ...]:
    """openpyxl's ``ReadOnlyWorksheet._get_row`` with no bounds: as wide as the last cell's column, a gap where no
    cell names a column, the later cell where two name the same one."""
    if not cells:
        return ()
    width = columns[-1]
    if width == len(cells) and columns[0] == 1 and columns == list(range(1, width + 1)):
        return tuple(cells)
    row = [EMPTY_CELL] * width
    for column, cell in zip(columns, cells, strict=True):
        if 1 <= column <= width:
            row[column - 1] = cell
    return tuple(row)
