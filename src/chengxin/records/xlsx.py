"""Opening an uploaded xlsx workbook for streaming: openpyxl's read-only reader with a faster shared-strings table.

A workbook from Excel or WPS keeps each distinct text once, in ``xl/sharedStrings.xml``, and a reader must load
that table before the first row. openpyxl builds it through its descriptor classes (``Text.from_tree``): ~12 µs a
string, and a department's 100,000-row penalty sheet holds ~540,000 distinct texts (the case numbers, names and
facts are all different) — 5–8 s before any row, half the file's reading time. Here the table is read with the
same XML parser and the same rule — a string is its ``<t>`` plus the ``<t>`` of each rich-text run ``<r>``, the
phonetic runs ``<rPh>`` left out, ``_x005F_`` escapes dropped as openpyxl drops them — without building objects
(0.64 s against 3.9–5.9 for that table; bench/RESULTS.md, "Xlsx workbooks"). Test: ``tests/unit/records/test_xlsx.py``
(the same table as openpyxl's on generated ones).
"""

from __future__ import annotations

import re
from typing import IO, Any, Final
from xml.etree.ElementTree import XMLParser

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

_SI: Final = f"{{{SHEET_MAIN_NS}}}si"
_T: Final = f"{{{SHEET_MAIN_NS}}}t"
_PHONETIC: Final = f"{{{SHEET_MAIN_NS}}}rPh"
_BLOCK: Final = 1 << 16
_DIMENSION: Final = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')


class _StringTable:
    """Parser target (expat calls it back: no element objects): each ``<si>``'s text, the ``<t>`` it holds
    directly and those of its runs, not those of its phonetic runs."""

    def __init__(self) -> None:
        self.strings: list[str] = []
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
            self.strings.append("".join(self._parts).replace("x005F_", ""))
            self._parts = []

    def data(self, text: str) -> None:
        if self._text is not None:
            self._text.append(text)



def shared_strings(source: IO[bytes]) -> list[str]:
    """The shared-strings table of ``source`` (``xl/sharedStrings.xml``) as plain texts, in order — what
    openpyxl's ``read_string_table`` returns. Python's expat refuses entity expansion bombs and never fetches
    external entities."""
    table = _StringTable()
    parser = XMLParser(target=table)
    while block := source.read(_BLOCK):
        parser.feed(block)
    parser.close()
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


class _Reader(ExcelReader):  # type: ignore[misc]  # openpyxl has no type hints
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
            ws = _Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state
            self.wb._sheets.append(ws)


def open_workbook(fh: IO[bytes]) -> Any:
    """The workbook in ``fh``, read-only (rows streamed), formulas as written (never their cached values),
    no external links, rich text as plain text — openpyxl's ``load_workbook`` with the faster strings table."""
    reader = _Reader(fh, read_only=True, keep_vba=False, data_only=False, keep_links=False, rich_text=False)
    reader.read()
    return reader.wb
