"""Reading uploaded record files (.xlsx / .csv / .jsonl) as a stream of rows, and writing templates.

Departments upload credit records as spreadsheets or text files, one record per row. This
module only turns a file into :class:`SourceRow` objects keyed by column code — checking the
*values* is the validator's job. It is built for large, messy files:

* **Streaming, flat memory.** CSV is decoded incrementally through :class:`io.TextIOWrapper`
  and parsed by :mod:`csv`; JSONL is read line by line; xlsx goes through openpyxl's
  read-only (streaming XML) mode. Only the current row is held in memory.
* **Format from content, not name.** ``PK\\x03\\x04`` is xlsx, ``{`` as the first non-blank
  character is JSONL, anything else is CSV text. The file name is a hint used for messages
  and a ``file.extension_mismatch`` warning only.
* **Whole-file failures** raise :class:`FileRejected` (a :class:`DomainError` with a Chinese
  message a clerk can act on). Header problems are raised by :func:`open_rows`; a problem
  found later in a streamed file (a chunk that is not in the detected encoding, an xlsx whose
  compressed data is corrupt) is raised from iteration, after the rows before it. Callers
  must treat a :class:`FileRejected` from either place as "the file was not read".
* **Row-level read problems** (a formula cell, a broken JSON line, surplus CSV cells, …) are
  attached to the row in :attr:`SourceRow.problems`; the row's other values still come
  through so the validator can report everything at once.

Header rules (CSV and xlsx):

* The header is the first row that names a known column, among the first ``HEADER_SEARCH_ROWS`` (10):
  government sheets often put a merged title, a line such as "填报单位：… 填报日期：…" and blank rows above
  it. An xlsx file is read from its sheet "数据" (the template's) or else its first visible sheet; when that
  sheet has no header there, the other visible sheets are tried in order, and a ``file.other_sheet`` warning
  says which one was read.
* A header cell names a column if, after normalisation (NFKC — which folds full-width
  parentheses, letters and ``＊`` —, removal of all whitespace, BOM and zero-width spaces,
  leading/trailing ``*`` and a trailing ``(必填)``/``(选填)``, case-folding), it equals the
  column's ``label_zh``, ``code`` or ``label_en`` normalised the same way.
* Unknown headers are ignored with a ``file.unknown_columns`` warning; blank cells after
  the last named one are ignored; a blank cell between named ones is ``file.empty_header_cell``
  (usually a merged cell); two cells naming the same column is ``file.duplicate_columns``;
  required columns that are absent are ``file.missing_columns``.

Row numbers (:attr:`SourceRow.row_no`) are what the clerk sees: the Excel row number for
xlsx and for CSV (a CSV record whose quoted cell contains a line break still counts as one
row, as in Excel), the line number for JSONL. Blank rows are skipped but still counted.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Final, Literal, TextIO

import orjson

from chengxin.catalog.model import Column, FieldType
from chengxin.core.csvout import excel_csv
from chengxin.core.errors import DomainError, Problem

__all__ = [
    "UNKNOWN_COLUMN",
    "CsvLayout",
    "FileFormat",
    "FileRejected",
    "RowSource",
    "SourceRow",
    "csv_rows_from",
    "no_rows_warning",
    "open_rows",
    "plain_csv_layout",
    "unknown_columns_warning",
    "write_csv_template",
    "write_template",
]

FileFormat = Literal["xlsx", "csv", "jsonl"]

#: How much of the file is sniffed for format, encoding and binary content.
HEAD_BYTES: Final = 64 * 1024
#: A JSONL line longer than this is reported as ``row.too_long`` instead of being parsed.
MAX_JSON_LINE_BYTES: Final = 4 * 1024 * 1024
#: The rows searched for the header (title, filler and blank rows may stand above it).
HEADER_SEARCH_ROWS: Final = 10
#: Name of the data sheet in the template; preferred over the first sheet when reading.
DATA_SHEET: Final = "数据"
HELP_SHEET: Final = "说明"
OPTIONS_SHEET: Final = "选项"

_MB: Final = 1024 * 1024
_MAX_LISTED: Final = 20  # names listed in one message
_MAX_UNKNOWN_KEYS: Final = 100  # distinct unknown JSONL keys remembered

# Column types whose cells are text: a number typed into them is turned back into digits.
_TEXT_LIKE: Final = frozenset(
    {FieldType.STRING, FieldType.TEXT, FieldType.RIC, FieldType.USCC, FieldType.GTIN, FieldType.ENUM}
)
# Excel keeps 15 significant digits: a float at or above this has lost digits of an ID.
_PRECISION_LIMIT: Final = 1e15

_TYPE_LABELS_ZH: Final[dict[FieldType, str]] = {
    FieldType.STRING: "文本",
    FieldType.TEXT: "长文本",
    FieldType.INTEGER: "整数",
    FieldType.DECIMAL: "数值",
    FieldType.DATE: "日期（yyyy-mm-dd）",
    FieldType.BOOLEAN: "是/否",
    FieldType.ENUM: "选项",
    FieldType.RIC: "公民身份号码（18 位）",
    FieldType.USCC: "统一社会信用代码（18 位）",
    FieldType.GTIN: "商品条码（GTIN）",
}

# Leading bytes of formats people upload by mistake → (Chinese, English) description.
_FOREIGN_MAGIC: Final[tuple[tuple[bytes, str, str], ...]] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "旧版 Excel（.xls）或设置了密码的 Excel 文件",
        "a legacy .xls or password-protected Excel file",
    ),
    (b"%PDF", "PDF 文件", "a PDF file"),
    (b"\x89PNG", "PNG 图片", "a PNG image"),
    (b"\xff\xd8\xff", "JPEG 图片", "a JPEG image"),
    (b"\x1f\x8b", "gzip 压缩包", "a gzip archive"),
    (b"Rar!", "RAR 压缩包", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包", "a 7z archive"),
)
_ZIP_MAGIC: Final = b"PK\x03\x04"

_TEXT_EXTENSIONS: Final = frozenset({".csv", ".txt", ".tsv"})
_JSON_EXTENSIONS: Final = frozenset({".jsonl", ".json", ".ndjson"})
_XLSX_EXTENSIONS: Final = frozenset({".xlsx", ".xlsm"})

_NON_ASCII: Final = re.compile(rb"[\x80-\xff]")
_QUOTED: Final = re.compile(r'"[^"]*"')
_SPACES: Final = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_REQUIRED_SUFFIXES: Final = ("(必填)", "(选填)", "(可选)", "(必选)")


class FileRejected(DomainError):
    """The file as a whole cannot be read; ``code`` says why (``file.*``)."""


def _reject(code: str, message: str, message_en: str, *, status: int | None = None) -> FileRejected:
    return FileRejected(code, message, message_en, status=status)


@dataclass(slots=True)
class SourceRow:
    """One non-blank row of an uploaded file, not yet validated.

    ``values`` maps column code to the raw value: ``str`` for CSV (stripped, possibly
    ``""``); for xlsx ``str``/``int``/``float``/``datetime``/``bool`` or ``None`` for an empty
    cell; JSON types for JSONL (only the keys present in the line). For CSV and xlsx every
    column found in the header has a key.
    """

    row_no: int
    values: dict[str, object]
    problems: list[Problem] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# header matching


def _normalise_header(text: str) -> str:
    """The form header cells and column names are compared in (see the module docstring)."""
    t = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    t = t.strip("*")
    for suffix in _REQUIRED_SUFFIXES:
        if t.endswith(suffix):
            t = t[: -len(suffix)].strip("*")
            break
    return t.casefold()


def _column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _listing(names: Sequence[str]) -> str:
    shown = "、".join(names[:_MAX_LISTED])
    return shown + (f" 等 {len(names)} 个" if len(names) > _MAX_LISTED else "")


def _listing_en(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


class _Matcher:
    """Looks up header cells (or JSONL keys) by normalised name."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self._by_key: dict[str, Column] = {}
        # Priority when two columns would claim the same key: Chinese label, code, English label.
        for attr in ("label_zh", "code", "label_en"):
            for col in self.columns:
                key = _normalise_header(getattr(col, attr))
                if key:
                    self._by_key.setdefault(key, col)

    def match(self, text: str) -> Column | None:
        return self._by_key.get(_normalise_header(text))

    def count(self, cells: Sequence[str]) -> int:
        return sum(1 for c in cells if c.strip() and self.match(c) is not None)


@dataclass(slots=True)
class _Header:
    row_no: int
    positions: list[tuple[int, Column]]  # cell index → column, in file order
    span: int  # cells up to and including the last non-blank header cell
    header_map: dict[str, str]
    unknown: list[str]


def _build_header(matcher: _Matcher, cells: Sequence[str], row_no: int) -> _Header:
    """Map a header row to columns or raise the first whole-file problem with it."""
    texts = [c.strip().strip("\ufeff").strip() for c in cells]
    span = 0
    for i, t in enumerate(texts):
        if t:
            span = i + 1
    blanks = [i for i in range(span) if not texts[i]]
    if blanks:
        where = "、".join(f"第 {_column_letter(i + 1)} 列（第 {i + 1} 列）" for i in blanks[:_MAX_LISTED])
        where_en = ", ".join(f"{_column_letter(i + 1)} (#{i + 1})" for i in blanks[:_MAX_LISTED])
        raise _reject(
            "file.empty_header_cell",
            f"第 {row_no} 行表头的{where}为空，但其后还有列名。可能是合并单元格，"
            "请取消合并并为每一列填写列名（或删除空列）后重新上传。",
            f"Header row {row_no}: cell(s) in column {where_en} are blank between named columns "
            "(possibly merged cells); unmerge them and give every column a name.",
        )
    positions: list[tuple[int, Column]] = []
    seen: dict[str, list[int]] = {}
    header_map: dict[str, str] = {}
    unknown: list[str] = []
    for i, text in enumerate(texts[:span]):
        col = matcher.match(text)
        if col is None:
            unknown.append(text)
            continue
        if col.code in seen:
            seen[col.code].append(i)
            continue
        seen[col.code] = [i]
        positions.append((i, col))
        header_map[text] = col.code
    dups = {code: idxs for code, idxs in seen.items() if len(idxs) > 1}
    if dups:
        labels = {c.code: c.label_zh for c in matcher.columns}
        parts = [
            f"“{labels[code]}”（第 {'、'.join(_column_letter(i + 1) for i in idxs)} 列）" for code, idxs in dups.items()
        ]
        parts_en = [f"{code} (columns {', '.join(_column_letter(i + 1) for i in idxs)})" for code, idxs in dups.items()]
        raise _reject(
            "file.duplicate_columns",
            f"表头中有重复的列：{'；'.join(parts)}。每一列只能出现一次，请删除多余的列。",
            f"Duplicate columns in the header: {'; '.join(parts_en)}.",
        )
    missing = [c for c in matcher.columns if c.required and c.code not in seen]
    if missing:
        raise _reject(
            "file.missing_columns",
            f"缺少必填列：{_listing([c.label_zh for c in missing])}。请使用最新模板，不要删除或改名带 * 的列。",
            f"Missing required columns: {_listing_en([c.code for c in missing])}.",
        )
    return _Header(row_no=row_no, positions=positions, span=span, header_map=header_map, unknown=unknown)


def unknown_columns_warning(names: Sequence[str]) -> Problem:
    return Problem(
        "file.unknown_columns",
        f"以下列不在模板中，已忽略：{_listing(list(names))}",
        f"Columns not in the template were ignored: {_listing_en(list(names))}",
    )


def _choose_header(
    matcher: _Matcher,
    rows: Sequence[Sequence[str]],
    *,
    more_content: Callable[[], bool],
    sheet: str | None = None,
) -> _Header:
    """The first of ``rows`` (the file's first :data:`HEADER_SEARCH_ROWS`) that names a known column is the header;
    the rows above it are titles. ``sheet``: the worksheet's name, for the message."""
    for i, cells in enumerate(rows):
        if matcher.count(cells) > 0:
            return _build_header(matcher, cells, i + 1)
    if not any(c.strip() for cells in rows for c in cells) and not more_content():
        raise _reject("file.empty", "文件没有内容。", "The file has no content.")
    names = "、".join(c.label_zh for c in matcher.columns[:3])
    where, where_en = (f"工作表“{sheet}”", f"sheet {sheet!r}: ") if sheet is not None else ("", "")
    raise _reject(
        "file.no_header",
        f"找不到表头：{where}前 {HEADER_SEARCH_ROWS} 行中没有一行的列名与模板相符（应为“{names}”等列名）。"
        "请使用模板；表头之上只可有标题行。",
        f"No header found: {where_en}none of the first {HEADER_SEARCH_ROWS} rows names a column of the template.",
    )


# --------------------------------------------------------------------------------------------
# format and encoding detection


def _extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""


def _detect_encoding(fh: BinaryIO, head: bytes, size: int) -> str:
    """Pick the codec of a text file: UTF-8 (with or without BOM) first, else GB18030.

    The decision is taken on the 64 KiB starting at the first non-ASCII byte — scanning ahead
    if the first 64 KiB are pure ASCII — so a GBK file whose Chinese text starts late is still
    recognised. The scan reads in 1 MiB chunks and restores nothing: callers reopen or seek.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    match = _NON_ASCII.search(head)
    if match is not None:
        pos = match.start()
    elif len(head) >= size:
        return "utf-8"  # pure ASCII
    else:
        offset = len(head)
        fh.seek(offset)
        while True:
            chunk = fh.read(_MB)
            if not chunk:
                return "utf-8"
            if not chunk.isascii():
                found = _NON_ASCII.search(chunk)
                assert found is not None
                pos = offset + found.start()
                break
            offset += len(chunk)
    fh.seek(pos)
    window = fh.read(HEAD_BYTES)
    final = pos + len(window) >= size
    for encoding in ("utf-8", "gb18030"):
        try:
            # Incremental with final=False: a character cut at the window's end is not an error.
            codecs.getincrementaldecoder(encoding)().decode(window, final)
        except UnicodeDecodeError:
            continue
        return encoding
    raise _reject(
        "file.encoding",
        f"无法识别文件编码（约第 {pos} 字节处）：既不是 UTF-8 也不是 GBK/GB18030。"
        "请在 Excel 中“另存为”CSV UTF-8 或 .xlsx 后重新上传。",
        f"Unrecognised text encoding near byte {pos}: neither UTF-8 nor GBK/GB18030.",
    )


def _sniff_delimiter(head_text: str) -> str:
    """Comma unless the header line has more tabs or semicolons (quoted parts ignored)."""
    lines = head_text.lstrip("\ufeff").splitlines()[:2]
    for line in lines:
        bare = _QUOTED.sub("", line)
        counts = {d: bare.count(d) for d in (",", "\t", ";")}
        best = max(counts.values())
        if best == 0:
            continue  # e.g. a title line without delimiters: try the next line
        if counts[","] == best:
            return ","
        return "\t" if counts["\t"] == best else ";"
    return ","


# --------------------------------------------------------------------------------------------
# the row source


class RowSource:
    """An open upload: iterate it for :class:`SourceRow` objects, then close it.

    Use as a context manager; iteration closes the file by itself when it reaches the end.
    Properties describe the file (:attr:`format`, :attr:`header_map`, …) and the progress
    (:attr:`bytes_read` of :attr:`bytes_total`).
    """

    def __init__(self, fmt: FileFormat, bytes_total: int) -> None:
        self._format: FileFormat = fmt
        self._bytes_total = bytes_total
        self._warnings: list[Problem] = []
        self._header_map: dict[str, str] = {}
        self._header_row = 0
        self._encoding: str | None = None
        self._delimiter: str | None = None
        self._sheet_name: str | None = None
        self._rows: Iterator[SourceRow] = iter(())
        self._closers: list[Callable[[], None]] = []
        self._progress: Callable[[], int] = lambda: 0
        self._finished = False
        self._closed = False
        self._last_read = 0
        self._csv_header: _Header | None = None

    # -- description ----------------------------------------------------------------------

    @property
    def format(self) -> FileFormat:
        """``'xlsx'``, ``'csv'`` or ``'jsonl'`` — detected from the content."""
        return self._format

    @property
    def bytes_total(self) -> int:
        return self._bytes_total

    @property
    def bytes_read(self) -> int:
        """How far reading has got, for a progress bar (approximate for xlsx)."""
        if self._finished:
            return self._bytes_total
        if self._closed:
            return self._last_read
        try:
            return max(0, min(self._bytes_total, self._progress()))
        except (OSError, ValueError):  # e.g. the handle was closed under us
            return self._last_read

    @property
    def warnings(self) -> list[Problem]:
        """File-level remarks that do not stop the import (e.g. ``file.unknown_columns``).

        For JSONL, unknown keys are only known once iteration has finished.
        """
        return self._warnings

    @property
    def header_map(self) -> dict[str, str]:
        """Header text as written in the file → column code (JSONL: keys seen so far)."""
        return self._header_map

    @property
    def header_row(self) -> int:
        """Row number of the header (1, or 2 after a title row); 0 for JSONL."""
        return self._header_row

    @property
    def encoding(self) -> str | None:
        """The codec a CSV/JSONL file is decoded with; ``None`` for xlsx."""
        return self._encoding

    @property
    def delimiter(self) -> str | None:
        """The CSV delimiter; ``None`` for other formats."""
        return self._delimiter

    @property
    def sheet_name(self) -> str | None:
        """The worksheet read from an xlsx file."""
        return self._sheet_name

    # -- iteration and lifetime -----------------------------------------------------------

    def __iter__(self) -> RowSource:
        return self

    def __next__(self) -> SourceRow:
        try:
            return next(self._rows)
        except StopIteration:
            self._finished = True
            self.close()
            raise
        except FileRejected:
            self.close()
            raise

    def close(self) -> None:
        """Release the file handle (and openpyxl's workbook). Safe to call twice."""
        if self._closed:
            return
        self._last_read = self.bytes_read
        self._closed = True
        close_rows = getattr(self._rows, "close", None)
        if close_rows is not None:
            close_rows()
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                closer()
        self._closers.clear()

    def __enter__(self) -> RowSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_rows(
    path: Path,
    columns: Sequence[Column],
    *,
    max_bytes: int | None = None,
    filename: str | None = None,
) -> RowSource:
    """Open an uploaded file and read its header; iterate the result for the rows.

    ``filename`` is the name the user uploaded (``path`` may be a temporary file); its
    extension is only a hint. Raises :class:`FileRejected` for a file that cannot be read.
    """
    path = Path(path)
    name = filename if filename is not None else path.name
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise _reject(
            "file.too_large",
            f"文件过大：{size / _MB:.1f} MB，上限为 {max_bytes / _MB:.1f} MB。请拆分成多个文件上传。",
            f"The file is {size} bytes; the limit is {max_bytes} bytes.",
            status=413,
        )
    if size == 0:
        raise _reject("file.empty", "文件是空的（0 字节）。", "The file is empty (0 bytes).")
    fh: BinaryIO = path.open("rb")
    try:
        head = fh.read(HEAD_BYTES)
        return _open(fh, head, size, columns, name)
    except BaseException:
        fh.close()
        raise


def _bomless_utf16(head: bytes, final: bool) -> tuple[str, str] | None:
    """``(codec, text)`` when ``head`` reads as UTF-16 text without its BOM (what some export tools and scripts
    write; Excel writes the BOM), else ``None``. Such a file's delimiters, line ends and digits are ASCII, each one
    NUL byte on one side of its pair — the odd bytes in little-endian order, the even in big-endian —, and the
    text decodes strictly with no control character but tab and line ends. A binary file (control characters or
    broken surrogates once decoded) stays binary."""
    sample = head[: len(head) - len(head) % 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    for codec, nul_side, other_side in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        # The other side has NUL bytes too where a character's low byte is 0 (一 is U+4E00, in 统一社会信用代码):
        # fewer than the ASCII side's. The decoded text, not the count, tells text from binary.
        if nul_side * 10 < pairs or other_side >= nul_side:
            continue
        try:
            text = codecs.getincrementaldecoder(codec)(errors="strict").decode(sample, final)
        except UnicodeDecodeError:
            continue
        if not any(ch < " " and ch not in "\t\r\n" for ch in text):
            return codec, text
    return None


def _open(fh: BinaryIO, head: bytes, size: int, columns: Sequence[Column], name: str) -> RowSource:
    """Dispatch on the content; owns ``fh`` from here on (closed on error by the caller)."""
    ext = _extension(name)
    if head.startswith(_ZIP_MAGIC):
        return _open_xlsx(fh, size, columns, ext)
    if head[:4] in (b"PK\x05\x06", b"PK\x07\x08"):
        raise _bad_xlsx("空的或分卷的 ZIP 文件", "an empty or spanned ZIP archive")
    for magic, what_zh, what_en in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise _reject(
                "file.unknown_format",
                f"无法读取（{what_zh}）。请在 Excel 中“另存为”.xlsx（不设密码）或 CSV 后上传。",
                f"Cannot read {what_en}; save it as .xlsx (without a password) or CSV.",
            )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode 文本" export: UTF-16 with BOM, tab-delimited. NUL bytes are expected.
        encoding = "utf-16"
        head_text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, len(head) >= size)
    elif bomless := _bomless_utf16(head, len(head) >= size):
        encoding, head_text = bomless
    else:
        if b"\x00" in head:
            raise _reject(
                "file.binary",
                "这不是文本文件（含有二进制数据），无法作为 CSV/JSONL 读取。请上传 .xlsx、CSV 或 JSONL 文件。",
                "This is not a text file (it contains binary data).",
            )
        encoding = ""
        head_text = head.removeprefix(codecs.BOM_UTF8).decode("latin-1")  # only ASCII is inspected
    lead = head_text.lstrip("\ufeff \t\r\n\x0b\x0c")
    if not lead and len(head) >= size:
        raise _reject("file.empty", "文件没有内容（只有空白）。", "The file contains only whitespace.")
    first = lead[:1]
    if first == "{":
        return _open_jsonl(fh, head, size, columns, ext)
    if first == "<":
        raise _reject(
            "file.unknown_format",
            "无法读取：这是网页（HTML）或 XML 文件，不是真正的 Excel 文件。请用 Excel 打开后“另存为”.xlsx 再上传。",
            "Cannot read an HTML/XML file disguised as a spreadsheet; save it as .xlsx.",
        )
    if first == "[" and lead[1:].lstrip()[:1] in ("{", "]"):
        raise _reject(
            "file.unknown_format",
            "不支持 JSON 数组：请改为 JSONL（每行一个 JSON 对象）。",
            "A JSON array is not supported; use JSON Lines (one object per line).",
        )
    if ext in _JSON_EXTENSIONS:
        raise _reject(
            "file.bad_json",
            f"文件扩展名为 {ext}，但第一行不是 JSON 对象。JSONL 文件每行应是一个 {{…}} 对象。",
            f"The file is named {ext} but its first line is not a JSON object.",
        )
    if not encoding:
        encoding = _detect_encoding(fh, head, size)
        head_text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, len(head) >= size)
    return _open_csv(fh, size, columns, ext, encoding, head_text)


# --------------------------------------------------------------------------------------------
# CSV


def _open_csv(fh: BinaryIO, size: int, columns: Sequence[Column], ext: str, encoding: str, head_text: str) -> RowSource:
    source = RowSource("csv", size)
    if ext and ext not in _TEXT_EXTENSIONS:
        source.warnings.append(_mismatch_warning(ext, "CSV"))
    delimiter = _sniff_delimiter(head_text)
    fh.seek(0)
    text = io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")
    source._closers.append(text.close)
    source._encoding = encoding
    source._delimiter = delimiter
    source._progress = fh.tell
    reader = csv.reader(text, delimiter=delimiter)
    matcher = _Matcher(columns)
    consumed: list[list[str] | csv.Error] = []

    def next_record() -> list[str] | csv.Error | None:
        try:
            return next(reader)
        except StopIteration:
            return None
        except UnicodeDecodeError as exc:
            raise _encoding_error(exc, reader.line_num, encoding) from None
        except csv.Error as exc:  # a record the csv module cannot parse: not a header
            return exc

    def more_content() -> bool:
        while (cells := next_record()) is not None:
            if isinstance(cells, csv.Error) or any(c.strip() for c in cells):
                return True
        return False

    try:
        for _ in range(HEADER_SEARCH_ROWS):
            rec = next_record()
            if rec is None:
                break
            consumed.append(rec)
        # a record the csv module cannot parse names no column: not a header
        header = _choose_header(matcher, [[] if isinstance(rec, csv.Error) else rec for rec in consumed],
                                more_content=more_content)
    except BaseException:
        source.close()
        raise
    pending = consumed[header.row_no :]
    source._header_row = header.row_no
    source._header_map = header.header_map
    source._csv_header = header
    if header.unknown:
        source.warnings.append(unknown_columns_warning(header.unknown))
    source._rows = _csv_rows(source, reader, header, pending, encoding)
    return source


def _csv_rows(
    source: RowSource,
    reader: Any,
    header: _Header,
    pending: list[list[str] | csv.Error],
    encoding: str,
    lines_before: int = 0,
) -> Iterator[SourceRow]:
    """``header.row_no``: the records before the first one ``reader`` gives; ``lines_before``: the lines before
    it (for messages), when ``reader`` starts past the header (:func:`csv_rows_from`)."""
    codes = [col.code for _, col in header.positions]
    idxs = [i for i, _ in header.positions]
    width = len(idxs)
    contiguous = idxs == list(range(width))  # columns 0..k-1 are all known ones
    fast = contiguous and width == header.span  # the usual shape: no unknown columns at all
    span = header.span
    rec = header.row_no
    yielded = False
    strip = str.strip

    def build(cells: list[str], row_no: int) -> SourceRow | None:
        n = len(cells)
        if contiguous and n >= width:
            vals = [c.strip() for c in cells[:width]]
        else:
            vals = [cells[i].strip() if i < n else "" for i in idxs]
        filled = False
        for j, v in enumerate(vals):
            if v:
                filled = True
                if v[0] == "'":  # Excel's "keep as text" apostrophe before long numbers
                    vals[j] = v[1:]
        problems: list[Problem] = []
        if n > span:
            extra = [(i, c) for i, c in enumerate(cells[span:], start=span) if c.strip()]
            if extra:
                filled = True
                problems.append(_extra_cells_problem(extra, span))
        if not filled and not any(c.strip() for c in cells):
            return None
        return SourceRow(row_no, dict(zip(codes, vals, strict=True)), problems)

    for record in pending:
        rec += 1
        row = _bad_csv_row(rec, record) if isinstance(record, csv.Error) else build(record, rec)
        if row is not None:
            yielded = True
            yield row
    while True:
        failure: csv.Error | None = None
        try:
            for cells in reader:
                rec += 1
                # Inlined fast path of build() for the common shape of row.
                if fast and len(cells) == span:
                    vals = list(map(strip, cells))
                    if any(vals):
                        if "'" in "".join(vals):  # rare: take the per-cell look only then
                            for j, v in enumerate(vals):
                                if v[:1] == "'":
                                    vals[j] = v[1:]
                        yielded = True
                        yield SourceRow(rec, dict(zip(codes, vals, strict=True)), [])
                    continue
                row = build(cells, rec)
                if row is not None:
                    yielded = True
                    yield row
            break
        except UnicodeDecodeError as exc:
            raise _encoding_error(exc, lines_before + reader.line_num, encoding) from None
        except csv.Error as exc:
            rec += 1
            failure = exc
        yielded = True
        yield _bad_csv_row(rec, failure)
    if not yielded:
        source.warnings.append(no_rows_warning())


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """A CSV file the columnar path of ``records.columnar`` can read: UTF-8 or GB18030, its header read — cell *i* of a line
    is column ``codes[i]``, or a column the template does not know (:data:`UNKNOWN_COLUMN` and its position:
    ignored, as the row path ignores it)."""

    encoding: str
    delimiter: str
    header_row: int  # the records before the data: the header, after a title row if there is one
    codes: tuple[str, ...]


UNKNOWN_COLUMN: Final = "\x00unknown:"  # no column code holds a NUL


def plain_csv_layout(source: RowSource) -> CsvLayout | None:
    """The layout of ``source`` if it is a CSV file in UTF-8 or GB18030 (GBK), else ``None`` (the rows are then
    read one by one)."""
    header = source._csv_header
    if header is None or source.encoding not in ("utf-8", "utf-8-sig", "gb18030") or source.delimiter is None:
        return None
    known = dict(header.positions)
    codes = tuple(known[i].code if i in known else f"{UNKNOWN_COLUMN}{i}" for i in range(header.span))
    return CsvLayout(source.encoding, source.delimiter, header.row_no, codes)


def csv_rows_from(source: RowSource, path: Path, offset: int, *, records_before: int, lines_before: int,
                  rows_seen: bool) -> RowSource:
    """The rest of ``source``'s CSV file, from byte ``offset`` (the start of a line), read one row at a time as
    :func:`open_rows` reads it — numbered on from ``records_before``; ``rows_seen``: rows came before it (so an
    empty rest is not "no data rows"). Iterate it, and close it (or use it as a context manager)."""
    header = source._csv_header
    assert header is not None and source.encoding is not None and source.delimiter is not None
    encoding = "utf-8" if source.encoding == "utf-8-sig" else source.encoding  # the BOM is behind us
    rest = RowSource("csv", source.bytes_total)
    fh = path.open("rb")
    try:
        fh.seek(offset)
        text = io.TextIOWrapper(fh, encoding=encoding, errors="strict", newline="")
    except BaseException:
        fh.close()
        raise
    rest._closers.append(text.close)
    rest._progress = fh.tell
    rest._encoding, rest._delimiter, rest._csv_header = source.encoding, source.delimiter, header
    reader = csv.reader(text, delimiter=source.delimiter)
    rest._rows = _csv_rows(rest if rows_seen else source, reader, replace(header, row_no=records_before), [],
                           encoding, lines_before)
    return rest


def _bad_csv_row(row_no: int, exc: csv.Error | None) -> SourceRow:
    return SourceRow(
        row_no,
        {},
        [Problem("row.bad_csv", f"第 {row_no} 行无法解析：{exc}", f"Row {row_no} cannot be parsed: {exc}")],
    )


def _extra_cells_problem(extra: list[tuple[int, str]], span: int) -> Problem:
    first_i, first_v = extra[0]
    sample = first_v.strip()[:30]
    return Problem(
        "row.extra_cells",
        f"本行有 {len(extra)} 个单元格超出表头的 {span} 列"
        f"（如第 {_column_letter(first_i + 1)} 列“{sample}”）。"
        "可能是某个值里含有未加引号的分隔符（逗号），导致后面的值错位。",
        f"{len(extra)} cell(s) beyond the {span} header columns (e.g. column "
        f"{_column_letter(first_i + 1)}: {sample!r}); an unquoted delimiter may have shifted the values.",
    )


def _encoding_error(exc: UnicodeDecodeError, lines_done: int, encoding: str) -> FileRejected:
    """A chunk after the sniffed part is not in the detected encoding."""
    line = lines_done + 1
    if isinstance(exc.object, (bytes, bytearray)):
        line += exc.object[: exc.start].count(b"\n")
    name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
    return _reject(
        "file.encoding",
        f"文件编码不一致：按 {name} 读取到第 {line} 行附近时出现无法解码的字节。"
        "文件可能是由不同编码的内容拼接而成；请用 Excel 打开后“另存为”CSV UTF-8 或 .xlsx 再上传。",
        f"Mixed encodings: bytes near line {line} are not valid {name}.",
    )


def no_rows_warning() -> Problem:
    """``file.no_rows``: a header and no data row."""
    return Problem("file.no_rows", "文件只有表头，没有数据行。", "The file has a header but no data rows.")


def _mismatch_warning(ext: str, actual: str) -> Problem:
    return Problem(
        "file.extension_mismatch",
        f"文件扩展名为 {ext}，但内容是 {actual}，已按 {actual} 读取。",
        f"The file is named {ext} but contains {actual}; read as {actual}.",
    )


# --------------------------------------------------------------------------------------------
# JSONL


def _open_jsonl(fh: BinaryIO, head: bytes, size: int, columns: Sequence[Column], ext: str) -> RowSource:
    if _NON_ASCII.search(head) is not None:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, len(head) >= size)
        except UnicodeDecodeError:
            raise _reject(
                "file.encoding",
                "JSONL 文件必须是 UTF-8 编码（检测到 GBK 或其他编码）。",
                "JSON Lines files must be UTF-8.",
            ) from None
    # The first non-blank line must be JSON, or this is not a JSONL file at all.
    fh.seek(0)
    line_no = 0
    while True:
        line = fh.readline(MAX_JSON_LINE_BYTES)
        line_no += 1
        if line_no == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if not line or line.strip():
            break
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        raise _reject(
            "file.bad_json",
            f"第 {line_no} 行不是合法的 JSON。JSONL 文件每行应是一个完整的 JSON 对象，不支持跨多行排版的 JSON。",
            f"Line {line_no} is not JSON; JSON Lines needs one complete object per line.",
        ) from None
    fh.seek(0)
    source = RowSource("jsonl", size)
    if ext and ext not in _JSON_EXTENSIONS:
        source.warnings.append(_mismatch_warning(ext, "JSONL"))
    source._encoding = "utf-8"
    source._closers.append(fh.close)
    source._progress = fh.tell
    source._rows = _jsonl_rows(source, fh, _Matcher(columns))
    return source


def _jsonl_rows(source: RowSource, fh: BinaryIO, matcher: _Matcher) -> Iterator[SourceRow]:
    # Exact keys first (fast path), then the normalised lookup, remembered per key.
    keymap: dict[str, str | None] = {}
    for col in matcher.columns:
        keymap[col.code] = col.code
        keymap.setdefault(col.label_zh, col.code)
    unknown: dict[str, None] = {}
    header_map = source.header_map
    line_no = 0
    yielded = False
    limit = MAX_JSON_LINE_BYTES
    while True:
        line = fh.readline(limit)
        if not line:
            break
        line_no += 1
        if len(line) >= limit and not line.endswith(b"\n"):
            rest = 0
            while more := fh.readline(limit):
                rest += len(more)
                if more.endswith(b"\n"):
                    break
            if rest:
                yielded = True
                yield SourceRow(
                    line_no,
                    {},
                    [
                        Problem(
                            "row.too_long",
                            f"第 {line_no} 行过长（超过 {limit // _MB} MB），已跳过。",
                            f"Line {line_no} is longer than {limit} bytes and was skipped.",
                        )
                    ],
                )
                continue
        if line_no == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        if not line.strip():
            continue
        yielded = True
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield SourceRow(line_no, {}, [_bad_json_problem(line, line_no, exc)])
            continue
        if not isinstance(obj, dict):
            yield SourceRow(
                line_no,
                {},
                [
                    Problem(
                        "row.not_object",
                        f'第 {line_no} 行不是 JSON 对象（应为 {{"字段代码": 值, …}}）。',
                        f"Line {line_no} is a JSON {type(obj).__name__}, not an object.",
                    )
                ],
            )
            continue
        values: dict[str, object] = {}
        problems: list[Problem] = []
        for key, value in obj.items():
            if key in keymap:
                code = keymap[key]
            else:
                found = matcher.match(key)
                code = found.code if found is not None else None
                if len(keymap) < 10_000:
                    keymap[key] = code
            if code is None:
                if len(unknown) < _MAX_UNKNOWN_KEYS:
                    unknown[key] = None
                continue
            if key not in header_map:
                header_map[key] = code
            if code in values:
                problems.append(
                    Problem(
                        "row.duplicate_field",
                        f"第 {line_no} 行的字段“{key}”与前面的字段是同一列（{code}），已取后者。",
                        f"Line {line_no}: key {key!r} repeats column {code}; the later value is used.",
                        field=code,
                    )
                )
            values[code] = value
        yield SourceRow(line_no, values, problems)
    if unknown:
        source.warnings.append(unknown_columns_warning(list(unknown)))
    if not yielded:
        source.warnings.append(no_rows_warning())


def _bad_json_problem(line: bytes, line_no: int, exc: orjson.JSONDecodeError) -> Problem:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return Problem(
            "row.bad_json",
            f"第 {line_no} 行不是 UTF-8 编码，无法读取。",
            f"Line {line_no} is not valid UTF-8.",
        )
    return Problem(
        "row.bad_json",
        f"第 {line_no} 行不是合法的 JSON：{exc}",
        f"Line {line_no} is not valid JSON: {exc}",
    )


# --------------------------------------------------------------------------------------------
# xlsx


def _bad_xlsx(detail_zh: str, detail_en: str) -> FileRejected:
    return _reject(
        "file.bad_xlsx",
        f"Excel 文件已损坏或不是有效的 .xlsx 文件（{detail_zh}）。请用 Excel 打开后重新保存为 .xlsx 再上传。",
        f"The Excel file is corrupt or not a valid .xlsx ({detail_en}).",
    )


def _mb(size: int) -> str:
    """Bytes in MiB as a clerk reads them: whole above 10, else to a tenth."""
    mib = size / (1 << 20)
    return f"{mib:,.0f}" if mib >= 10 else f"{mib:.1f}"


def _open_xlsx(fh: BinaryIO, size: int, columns: Sequence[Column], ext: str) -> RowSource:
    # deferred: openpyxl is a costly import, only needed for xlsx
    from chengxin.records.xlsx import WorkbookTooLarge, open_workbook

    try:
        wb = open_workbook(fh)
    except WorkbookTooLarge as exc:
        raise _reject(
            "file.too_large",
            f"工作簿解压后过大：其中“{exc.part}”有 {_mb(exc.size)} MB（上限 {_mb(exc.limit)} MB）。"
            "请把数据拆分为几个文件，或在 Excel 中“另存为”CSV 后上传。",
            f"The workbook unpacks to too much: {exc.part} holds {_mb(exc.size)} MB (limit {_mb(exc.limit)} MB). "
            "Split the data into several files or save it as CSV.",
            status=413,
        ) from None
    except Exception as exc:  # openpyxl/zipfile/XML raise many types for a damaged file
        raise _bad_xlsx("无法打开工作簿", f"{type(exc).__name__}: {exc}") from None
    source = RowSource("xlsx", size)
    source._closers.append(fh.close)
    source._closers.append(wb.close)
    if ext and ext not in _XLSX_EXTENSIONS:
        source.warnings.append(_mismatch_warning(ext, "Excel (.xlsx)"))
    sheets = list(wb.worksheets)
    if not sheets:
        source.close()
        raise _bad_xlsx("没有工作表", "no worksheet")
    visible = [s for s in sheets if getattr(s, "sheet_state", "visible") == "visible"] or sheets
    # The template's data sheet, else the visible ones in order: a workbook often starts with a cover or notes.
    candidates = [s for s in sheets if str(s.title).strip() == DATA_SHEET]
    candidates += [s for s in visible if s not in candidates]
    matcher = _Matcher(columns)
    refusals: list[FileRejected] = []
    try:
        for ws in candidates:
            try:
                header, next_row, consumed = _xlsx_header(source, fh, wb, ws, size, matcher)
            except FileRejected as exc:
                if exc.code not in ("file.no_header", "file.empty"):
                    raise  # a header with a fault: this is the sheet the clerk filled in
                refusals.append(exc)
                continue
            break
        else:
            if len(refusals) == 1 or all(exc.code == "file.empty" for exc in refusals):
                raise refusals[0]
            titles = [str(sheet.title) for sheet in candidates]
            raise _reject(
                "file.no_header",
                f"找不到表头：工作表“{'”“'.join(titles)}”的前 {HEADER_SEARCH_ROWS} 行中都没有与模板相符的列名。"
                "请使用模板，在工作表“数据”中填写。",
                f"No header found: none of the sheets {', '.join(map(repr, titles))} names a column of the template "
                f"in its first {HEADER_SEARCH_ROWS} rows.",
            )
    except BaseException:
        source.close()
        raise
    source._sheet_name = str(ws.title)
    if ws is not candidates[0]:
        skipped = "”“".join(str(other.title) for other in candidates[: candidates.index(ws)])
        source.warnings.append(Problem(
            "file.other_sheet",
            f"工作表“{skipped}”中没有表头，已读取工作表“{ws.title}”",
            f"No header in sheet(s) {skipped!r}; sheet {str(ws.title)!r} was read",
        ))
    source._header_row = header.row_no
    source._header_map = header.header_map
    source._csv_header = header
    if header.unknown:
        source.warnings.append(unknown_columns_warning(header.unknown))
    source._rows = _xlsx_rows(source, next_row, header, consumed)
    return source


def _xlsx_header(source: RowSource, fh: BinaryIO, wb: Any, ws: Any, size: int, matcher: _Matcher,
                 ) -> tuple[_Header, Callable[[], tuple[Any, ...] | None], list[tuple[Any, ...]]]:
    """Open ``ws``'s row stream (closed with ``source``) and find its header in the first rows: the header, the
    stream and the rows read after the header so far. ``FileRejected`` when the sheet has no header."""
    from chengxin.records.xlsx import sheet_rows

    declared_rows = getattr(ws, "max_row", None)
    # Every row there is, whatever size the sheet declares (often wrong in files from other tools).
    rows_iter = sheet_rows(ws)
    source._closers.insert(2, rows_iter.close)  # close the sheet stream before the workbook
    seen = [0]
    source._progress = _xlsx_progress(fh, wb, ws, size, seen, declared_rows)

    def next_row() -> tuple[Any, ...] | None:
        try:
            row: tuple[Any, ...] = next(rows_iter)
        except StopIteration:
            return None
        except Exception as exc:
            raise _bad_xlsx(
                f"读取工作表“{ws.title}”第 {seen[0] + 1} 行时出错", f"sheet {str(ws.title)!r}, row {seen[0] + 1}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        seen[0] += 1
        return row

    def more_content() -> bool:
        while (row := next_row()) is not None:
            if not _xlsx_blank(row):
                return True
        return False

    consumed: list[tuple[Any, ...]] = []
    for _ in range(HEADER_SEARCH_ROWS):
        row = next_row()
        if row is None:
            break
        consumed.append(row)
    texts = [[_header_text(value) for value, _ in row] for row in consumed]
    try:
        header = _choose_header(matcher, texts, more_content=more_content, sheet=str(ws.title))
    except FileRejected:
        rows_iter.close()
        source._closers.remove(rows_iter.close)
        raise
    return header, next_row, consumed[header.row_no :]


def _xlsx_progress(fh: BinaryIO, wb: Any, ws: Any, size: int, seen: list[int], declared_rows: Any) -> Callable[[], int]:
    """Progress from the position in the compressed sheet, else from rows vs declared rows."""
    try:
        info = wb._archive.getinfo(ws._worksheet_path)
        start, length = int(info.header_offset), max(1, int(info.compress_size))
    except Exception:
        start = length = 0

    def progress() -> int:
        if seen[0] == 0:
            return 0
        if length:
            with contextlib.suppress(Exception):
                return int(size * min(1.0, max(0.0, (fh.tell() - start) / length)))
        if isinstance(declared_rows, int) and declared_rows > 0:
            return int(size * min(1.0, seen[0] / declared_rows))
        return 0

    return progress


def _header_text(value: object) -> str:
    if value is None:
        return ""
    return str(getattr(value, "text", value))


def _xlsx_blank(row: tuple[Any, ...]) -> bool:
    for v, _ in row:
        if v is not None and not (type(v) is str and not v.strip()):
            return False
    return True


def _number_text(value: int | float) -> str:
    if type(value) is float and value.is_integer():
        return str(int(value))
    return str(value) if type(value) is int else repr(value)


def _xlsx_rows(
    source: RowSource,
    next_row: Callable[[], tuple[Any, ...] | None],
    header: _Header,
    pending: list[tuple[Any, ...]],
) -> Iterator[SourceRow]:
    specs = [(i, col.code, col, col.type in _TEXT_LIKE) for i, col in header.positions]
    row_no = header.row_no
    yielded = False
    queue = iter(pending)
    while True:
        row = next(queue, None)
        if row is None:
            row = next_row()
            if row is None:
                break
        row_no += 1
        n = len(row)
        values: dict[str, object] = {}
        problems: list[Problem] = []
        filled = False
        for idx, code, col, text_like in specs:
            if idx >= n:
                values[code] = None
                continue
            v, dt = row[idx]
            if v is None:
                values[code] = None
                continue
            if dt == "f":
                problems.append(_formula_problem(col, v))
                v = None
            elif dt == "e":
                problems.append(_error_cell_problem(col, v))
                v = None
            elif type(v) is str:
                v = v.strip()
                if not v:
                    v = None
                elif v[0] == "'":
                    v = v[1:]
            elif text_like and (type(v) is int or type(v) is float):
                text = _number_text(v)
                if type(v) is float and abs(v) >= _PRECISION_LIMIT:
                    problems.append(_precision_problem(col, text))
                v = text
            if v is not None:
                filled = True
            values[code] = v
        if not filled and not problems and _xlsx_blank(row):
            continue
        yielded = True
        yield SourceRow(row_no, values, problems)
    if not yielded:
        source.warnings.append(no_rows_warning())


def _formula_problem(col: Column, value: object) -> Problem:
    formula = str(getattr(value, "text", value))
    if len(formula) > 60:
        formula = formula[:57] + "…"
    return Problem(
        "file.formula_cell",
        f"“{col.label_zh}”列是公式（{formula}），请复制后“选择性粘贴为数值”再上传",
        f"Column {col.code!r} holds a formula ({formula}); paste it as values before uploading",
        field=col.code,
    )


def _error_cell_problem(col: Column, value: object) -> Problem:
    return Problem(
        "file.error_cell",
        f"“{col.label_zh}”列的值是 Excel 错误 {value}，请改正后再上传",
        f"Column {col.code!r} holds the Excel error {value}",
        field=col.code,
    )


def _precision_problem(col: Column, text: str) -> Problem:
    # A citizen ID number that Excel turned into a number keeps its first 15 digits: quoted whole, it would stay
    # in clear in the rejection (stored with the batch, shown to the office). Its region code (the first six
    # digits) is enough to show which value is meant; the rest is starred like a masked ID.
    if col.type is FieldType.RIC:
        text = text[:6] + "*" * (len(text) - 6)
    return Problem(
        "file.number_precision",
        f"{col.label_zh}被 Excel 存为数字，已丢失精度，请将该列设为文本格式后重新填写（读到的是 {text}）",
        f"Column {col.code!r} was stored by Excel as a number and lost digits ({text}); "
        "format the column as text and re-enter it",
        field=col.code,
    )


# --------------------------------------------------------------------------------------------
# templates


def _header_label(col: Column) -> str:
    return f"{col.label_zh}*" if col.required else col.label_zh


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _column_width(col: Column) -> float:
    width = _display_width(_header_label(col)) + 4
    base = {
        FieldType.RIC: 22,
        FieldType.USCC: 22,
        FieldType.GTIN: 18,
        FieldType.DATE: 13,
        FieldType.TEXT: 40,
    }.get(col.type, 14)
    if col.options:
        base = max(base, max(_display_width(o.label_zh) for o in col.options) + 4)
    return float(min(60, max(width, base)))


def _help_text(col: Column) -> str:
    lines = [f"{col.label_zh}（{col.code}）", "必填" if col.required else "选填", _TYPE_LABELS_ZH[col.type]]
    if col.options:
        lines.append("可选值：" + "、".join(o.label_zh for o in col.options))
    if col.help_zh:
        lines.append(col.help_zh)
    return "\n".join(lines)


_GENERAL_NOTES: Final = (
    "“数据”工作表的第 1 行是表头，请勿修改、删除、合并表头单元格或在其上方插入行；带 * 的列为必填。",
    "每行填写一条记录，从第 2 行开始；不要使用公式（如需计算，请复制后“选择性粘贴为数值”）。",
    "公民身份号码、统一社会信用代码等长数字列已设为文本格式，请勿改为数字格式，否则会丢失末尾数字。",
    "日期请按 yyyy-mm-dd 填写，例如 2024-03-15。",
)


def write_template(
    columns: Sequence[Column],
    out: BinaryIO | Path,
    *,
    title_zh: str,
    notes: Sequence[str] = (),
) -> None:
    """Write the Excel upload template for ``columns``.

    Sheet "数据": one bold, frozen header row (Chinese labels, ``*`` on required columns, a
    comment with the column's help); ID-like columns formatted as text, dates as
    ``yyyy-mm-dd``, enum columns with a drop-down list of the Chinese option labels (kept on
    a hidden sheet "选项" when they do not fit Excel's 255-character inline list). Sheet
    "说明": the column reference table and the notes. :func:`open_rows` reads it back.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    optional_fill = PatternFill("solid", fgColor="E7EEF7")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    options_ws: Any = None
    for index, col in enumerate(columns, start=1):
        letter = _column_letter(index)
        cell = ws.cell(row=1, column=index, value=_header_label(col))
        cell.font = bold
        cell.alignment = centre
        cell.fill = required_fill if col.required else optional_fill
        comment = Comment(_help_text(col), "模板")
        comment.width, comment.height = 260, 140
        cell.comment = comment
        dim = ws.column_dimensions[letter]
        dim.width = _column_width(col)
        if col.type in (FieldType.RIC, FieldType.USCC, FieldType.STRING, FieldType.GTIN):
            dim.number_format = "@"
        elif col.type == FieldType.DATE:
            dim.number_format = "yyyy-mm-dd"
        if col.type == FieldType.ENUM and col.options:
            labels = [o.label_zh for o in col.options]
            inline = '"' + ",".join(labels) + '"'
            if len(inline) <= 255 and not any("," in x or '"' in x for x in labels):
                formula = inline
            else:
                if options_ws is None:
                    options_ws = wb.create_sheet(OPTIONS_SHEET)
                    options_ws.sheet_state = "hidden"
                for r, label in enumerate(labels, start=1):
                    options_ws.cell(row=r, column=index, value=label)
                formula = f"'{OPTIONS_SHEET}'!${letter}$1:${letter}${len(labels)}"
            dv = DataValidation(
                type="list",
                formula1=formula,
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="无效的选项",
                error=f"“{col.label_zh}”请从下拉列表中选择。",
                showInputMessage=True,
                promptTitle=col.label_zh[:32],
                prompt="请从下拉列表中选择",
            )
            dv.add(f"{letter}2:{letter}1048576")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 30

    help_ws = wb.create_sheet(HELP_SHEET, 1)
    help_ws["A1"] = title_zh
    help_ws["A1"].font = Font(bold=True, size=14)
    heads = ("中文列名", "英文列名", "代码", "必填", "类型", "可选值", "说明")
    for c, text in enumerate(heads, start=1):
        head_cell = help_ws.cell(row=3, column=c, value=text)
        head_cell.font = bold
    for r, col in enumerate(columns, start=4):
        help_ws.cell(row=r, column=1, value=col.label_zh)
        help_ws.cell(row=r, column=2, value=col.label_en)
        help_ws.cell(row=r, column=3, value=col.code)
        help_ws.cell(row=r, column=4, value="是" if col.required else "否")
        help_ws.cell(row=r, column=5, value=_TYPE_LABELS_ZH[col.type])
        help_ws.cell(row=r, column=6, value="、".join(o.label_zh for o in col.options))
        help_ws.cell(row=r, column=7, value=col.help_zh)
    r = 4 + len(columns) + 1
    help_ws.cell(row=r, column=1, value="填写说明").font = bold
    for i, note in enumerate((*_GENERAL_NOTES, *notes), start=1):
        help_ws.cell(row=r + i, column=1, value=f"{i}. {note}")
    for letter, width in zip("ABCDEFG", (22, 22, 20, 6, 24, 30, 50), strict=True):
        help_ws.column_dimensions[letter].width = width
    wb.properties.title = title_zh
    wb.active = 0
    wb.save(str(out) if isinstance(out, Path) else out)


def write_csv_template(columns: Sequence[Column], out: TextIO) -> None:
    """Write the CSV template: one header line of Chinese labels (``*`` on required ones).

    Excel only opens a UTF-8 CSV correctly when it starts with a BOM. When ``out`` is a file
    encoded as plain UTF-8, a ``\ufeff`` is written first; with ``utf-8-sig`` the codec writes
    it itself, and for an in-memory buffer (``io.StringIO``, no ``encoding``) the caller adds
    it when encoding the text — so the BOM is never doubled. Reading accepts all three.
    """
    encoding = (getattr(out, "encoding", None) or "").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8"):
        out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerow([_header_label(c) for c in columns])


REJECTIONS_HEADER = ("行号 row", "来源编号 source_id", "字段 field", "字段名称 field name", "原因 reason", "代码 code",
                     "Reason (English)")


def rejections_csv(problems: Iterable[tuple[int, str | None, str | None, str, str, str]], labels: Mapping[str, str],
                   *, slice_rows: int = 2000) -> Iterator[bytes]:
    """A batch's rejected rows as CSV bytes, in slices of ``slice_rows`` problems (for a streamed answer or a
    file): UTF-8 with a BOM (Excel), one line a problem — (row, source id, field, code, message, message_en) as
    ``records.service.all_rejections`` gives them — the field also by its template label (``labels``)."""
    return excel_csv(REJECTIONS_HEADER, (
        (row_no, source_id or "", column or "", labels.get(column or "", ""), message, code, message_en)
        for row_no, source_id, column, code, message, message_en in problems), slice_rows=slice_rows)
