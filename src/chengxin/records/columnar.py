"""The columnar path of the reader: a CSV file (UTF-8 or GB18030) prepared a block of lines at a time.

Reading a row at a time (``csv`` then :func:`records.rules.prepare_row`) costs ~28 µs a row, and on two cores the
reader process then capped a large ingest near 30,000 rows/s (bench/RESULTS.md, ingest, session 14). Here polars
splits a block of lines into columns and the checks run once per column or once per *distinct* value (a file
repeats its dates, severities, deciding authorities, subjects …), with the very validators of the row path; only
what is per row by nature — the content HMAC, encrypting citizen IDs — stays per row; even the fields' canonical
JSON is put together in columns, and the chunk's columns are built as lists, not row by row.

The row path stays the judge. This path only *vouches* for a row when every check it makes proves the row path
would accept it and produce the same values; any other row — a value with control characters, an apostrophe,
a bad identifier, a second item version in the block, … — is handed to :func:`records.reader.add_row` in its
place, so rejections carry the same problems. A block whose *shape* it cannot vouch for (a quote, a lone
``\\r``, a NUL, a line with more cells than the header, bytes not in the file's encoding) ends the columnar path: the
rest of the file is read row by row from that block on (``records.fileio.csv_rows_from``). Tests:
``tests/unit/records/test_columnar.py`` (the two paths agree, row for row, on generated and hostile files).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import orjson
import polars as pl

from chengxin.catalog.model import CatalogItem, Category, FieldSpec, FieldType, ItemVersion, Severity, SubjectKind
from chengxin.catalog.rules import (
    CONTROL_CHARS,
    InvalidValue,
    compile_validators,
    parse_date_value,
    parse_severity,
    plain_decimal_pattern,
)
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import InvalidIdentifier
from chengxin.core.identifiers import normalize_ric, normalize_uscc
from chengxin.records.fileio import (
    UNKNOWN_COLUMN,
    CsvLayout,
    RowSource,
    SourceRow,
    csv_rows_from,
    no_rows_warning,
    plain_csv_layout,
)
from chengxin.records.reader import (
    BatchMemo,
    PreparedChunk,
    add_row,
    chunked,
    prepare_chunk,
    protect_identifiers,
    ric_fields,
)
from chengxin.records.rules import MAX_NAME, MAX_SOURCE_ID, MEMBER_VALUE, canonical_fields, content_frame

BLOCK_BYTES: Final = 2 << 20  # lines parsed at once (~5,000 rows of the benchmark file): memory stays low
LONGEST_LINE: Final = 8 << 20  # a line longer than this is not read in columns (memory stays flat)
CONTROL: Final = CONTROL_CHARS.pattern  # the same class, as polars' (Rust) regex reads it
_PLAIN_TEXT: Final = frozenset({FieldType.STRING, FieldType.TEXT})
_PERSON, _ORGANIZATION = SubjectKind.PERSON, SubjectKind.ORGANIZATION
# helper columns: no column code holds a NUL
_POSITION, _FLAGGED, _FIELDS, _PROTECT = "\x00position", "\x00flagged", "\x00fields", "\x00protect"
_ROW_COLUMNS: Final = tuple(f.name for f in dataclasses.fields(PreparedChunk) if f.name not in ("received", "rejected",
                                                                                               "bytes_read"))
# What JSON escapes in a text the columns vouch for (no quote, no other control character; orjson's escapes).
_JSON_ESCAPES: Final = (("\\", "\\\\"), ('"', '\\"'), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))


def csv_chunks(
    source: RowSource, path: Path, layout: CsvLayout, item: CatalogItem, department: str, *, today: dt.date,
    keyring: KeyRing, memo: BatchMemo, chunk_rows: int,
) -> Iterator[PreparedChunk]:
    """Every chunk of the file behind ``source`` (opened by ``open_rows``, its header read), prepared as
    :func:`records.reader.prepare_chunk` would prepare them, ``bytes_read`` set."""
    with path.open("rb") as fh:
        offset = _data_offset(fh.read(1 << 16), layout.header_row)
        if offset is None:  # a header this path does not vouch for: all rows as the row path reads them
            yield from _row_chunks(source, item, department, today, keyring, memo, chunk_rows)
            return
        fh.seek(offset)
        records = layout.header_row
        received = 0
        carry = b""
        while True:
            data = fh.read(BLOCK_BYTES)
            frame: pl.DataFrame | None = None
            if data:
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry += data  # a line longer than a block: read on, up to a point
                    if len(carry) <= LONGEST_LINE:
                        continue
                    block = b""  # no record is that long: the row path says what is wrong with it
                else:
                    block, carry = carry + data[: cut + 1], data[cut + 1 :]
                    frame = _parse(block, layout)
            else:
                block, carry = carry, b""
                if not block:
                    break
                frame = _parse(block, layout)
            if frame is None:
                # A record is a line here (no quotes): the records so far are the lines so far.
                with csv_rows_from(source, path, offset, records_before=records, lines_before=records,
                                   rows_seen=received > 0) as rest:
                    yield from _row_chunks(rest, item, department, today, keyring, memo, chunk_rows)
                return
            height = frame.height
            for start in range(0, height, chunk_rows):
                chunk = prepare_frame(frame.slice(start, chunk_rows), records + start + 1, item, department,
                                      today=today, keyring=keyring, memo=memo)
                chunk.bytes_read = offset + len(block) * min(start + chunk_rows, height) // height
                received += chunk.received
                yield chunk
            records += height
            offset += len(block)
    if not received:
        source.warnings.append(no_rows_warning())


# The row path's chunks are smaller than the columnar path's: its rows are dicts of Python values until prepared, and
# 20,000 of them held a reader process at 481 MB for a 1,000,000-row workbook against 351 MB with 5,000, in the
# same CPU time. The whole ingest of a 100,000-row workbook: 13.5–14.4 s against 13.3–13.6, peak RSS 306 / 220 MB
# (writer / reader) against 384 / 322 (bench/RESULTS.md, "Xlsx workbooks", session 23): the reader, at ~100 µs a
# row, is what it waits for, not the writer's round trips per chunk.
ROW_PATH_CHUNK_ROWS = 5_000


def _row_chunks(source: RowSource, item: CatalogItem, department: str, today: dt.date, keyring: KeyRing,
                memo: BatchMemo, chunk_rows: int) -> Iterator[PreparedChunk]:
    """The rows of ``source`` prepared one by one (the row path), chunk by chunk (of at most
    ``ROW_PATH_CHUNK_ROWS``)."""
    for rows in chunked(source, min(chunk_rows, ROW_PATH_CHUNK_ROWS)):
        chunk = prepare_chunk(item, department, rows, today=today, keyring=keyring, memo=memo)
        chunk.bytes_read = source.bytes_read
        yield chunk


def _data_offset(head: bytes, header_row: int) -> int | None:
    """Where the data starts: after the header's line (and the title row's). ``None`` when those lines are not
    plain lines (a quote may hide a line break, a lone ``\\r`` ends a record for ``csv``)."""
    offset = 0
    for _ in range(header_row):
        end = head.find(b"\n", offset)
        if end < 0:
            return None
        offset = end + 1
    lines = head[:offset]
    if b'"' in lines or lines.count(b"\r") != lines.count(b"\r\n"):
        return None
    return offset


def _parse(block: bytes, layout: CsvLayout) -> pl.DataFrame | None:
    """The block's lines as columns of raw text, one row per line — or ``None`` when a line may not be one record
    of ``len(layout.codes)`` cells or more to the ``csv`` module (quotes, lone ``\\r``, NUL, extra cells, not
    UTF-8). Fewer cells are padded with empty ones, as the row path pads them."""
    if b'"' in block or b"\x00" in block:
        return None
    returns = block.count(b"\r")
    if returns and returns != block.count(b"\r\n"):
        return None
    if layout.encoding == "gb18030":  # polars reads UTF-8 only. No GB18030 character holds a \n, " or delimiter byte.
        try:
            block = block.decode("gb18030").encode()
        except UnicodeDecodeError:
            return None
    # polars takes the number of columns from the first line: a line of empty cells, one per column, goes first
    # (and is dropped), so that a short first line is padded like the others.
    width = len(layout.codes)
    try:
        frame = pl.read_csv(layout.delimiter.encode() * (width - 1) + b"\n" + block, has_header=False,
                            new_columns=list(layout.codes), infer_schema=False, quote_char=None,
                            separator=layout.delimiter, empty_string_is_null=False, raise_if_empty=False,
                            encoding="utf8").slice(1)
    except pl.exceptions.PolarsError:  # more cells than columns, bytes that are not UTF-8
        return None
    lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    if frame.height != lines or frame.width != width:
        return None
    return frame


def prepare_frame(
    frame: pl.DataFrame, first_row_no: int, item: CatalogItem, department: str, *, today: dt.date,
    keyring: KeyRing, memo: BatchMemo,
) -> PreparedChunk:
    """One slice of a block (raw cells, a column per header code) → the chunk ``prepare_chunk`` makes of the same
    rows (row ``i`` of the slice is the file's row ``first_row_no + i``)."""
    memo.bound()
    cells = frame.columns  # every cell of a line
    codes = [code for code in cells if not code.startswith(UNKNOWN_COLUMN)]  # those the template knows
    # polars strips what Python strips but \x1c-\x1f (control characters: such a row is flagged, and re-stripped)
    frame = frame.with_columns(pl.all().str.strip_chars()).with_row_index(_POSITION)
    frame = frame.filter(pl.any_horizontal([pl.col(cell) != "" for cell in cells]))  # blank rows: counted, skipped
    chunk = PreparedChunk(received=frame.height)
    if not frame.height:
        return chunk
    present = set(codes)

    def column(code: str) -> pl.Expr:
        return pl.col(code) if code in present else pl.lit("")

    def distinct(code: str) -> list[str]:
        return frame.get_column(code).unique().to_list() if code in present else [""]

    # The decision date decides the item version: each distinct date checked once, by the row path's rules.
    in_force: dict[str, tuple[dt.date, ItemVersion]] = {}
    rows_of: Counter[int] = Counter()  # rows per version (by id): the version most rows are under is vouched for
    versions: dict[int, ItemVersion] = {}
    for text, count in (frame.get_column("decision_date").value_counts().iter_rows() if "decision_date" in present
                        else ()):
        if not text:
            continue
        try:
            day = parse_date_value(text)
        except InvalidValue:
            continue
        version = item.version_on(day)
        if day <= today and version is not None and department in version.departments:
            in_force[text] = (day, version)
            rows_of[id(version)] += count
            versions[id(version)] = version
    version = versions[rows_of.most_common(1)[0][0]] if rows_of else None
    if version is None:  # no row of the slice is in force: all to the row path, which says why
        _judge(chunk, frame, cells, range(frame.height), first_row_no, item, department, today, keyring, memo)
        return chunk
    dates = [text for text, (_, v) in in_force.items() if v is version]  # another version's rows: the row path
    flags: list[pl.Expr] = [
        pl.any_horizontal([pl.col(code).str.contains(CONTROL) for code in codes]),
        pl.any_horizontal([pl.col(code).str.starts_with("'") for code in codes]),  # the row path drops it, then strips
        column("source_id").str.len_chars().is_between(1, MAX_SOURCE_ID).not_(),
        column("subject_name").str.len_chars().is_between(1, MAX_NAME).not_(),
        (column("ric") != "") == (column("uscc") != ""),  # exactly one identifier
        column("decision_date").is_in(dates).not_(),
    ]
    if _PERSON not in version.subject_kinds:
        flags.append(column("ric") != "")
    if _ORGANIZATION not in version.subject_kinds:
        flags.append(column("uscc") != "")
    negative = version.category is Category.NEGATIVE
    severities: dict[str, Severity | None] = {}
    if negative:
        for text in distinct("severity"):
            with contextlib.suppress(InvalidValue):  # not an option: the row's flagged below
                severities[text] = parse_severity(text, version)
        flags.append(column("severity").is_in(list(severities)).not_())
    identifiers = {"ric": _identifiers(frame, "ric", normalize_ric, memo, present),
                   "uscc": _identifiers(frame, "uscc", normalize_uscc, memo, present)}
    for code, known in identifiers.items():
        flags.append((column(code) != "") & column(code).is_in(list(known)).not_())
    fragments: dict[str, pl.Expr] = {}  # each field as its canonical JSON's ``"code":value``; None: left out
    validators = compile_validators(version)  # the row path's own
    for spec in version.fields:
        if spec.code not in present:
            if validators[spec.code](None)[1] is not None:  # a required column the header lacks
                flags.append(pl.lit(True))
            continue
        cell = pl.col(spec.code)
        key = orjson.dumps(spec.code).decode() + ":"
        if spec.type in _PLAIN_TEXT and not spec.pattern:
            flags.extend(_text_flags(spec))
            fragments[spec.code] = pl.when(cell == "").then(None).otherwise(pl.lit(key + '"') + _json_escaped(cell)
                                                                            + pl.lit('"'))
        else:
            # Decimals in their canonical form are what the validator would return: checked as a column, and only
            # the other texts validated one distinct value at a time (amounts are nearly all distinct: ~1.9 µs a
            # value against 0.1; bench/RESULTS.md, ingest, session 20).
            pattern = plain_decimal_pattern(spec) if spec.type is FieldType.DECIMAL else None
            plain = cell.str.contains(pattern) if pattern else pl.lit(False)
            valid = _valid_values(frame.filter(plain.not_()) if pattern else frame, spec, validators[spec.code])
            flags.append(plain.not_() & cell.is_in(list(valid)).not_())
            # A flagged row's value may be missing from ``valid``: the row path prepares that row.
            others = cell.replace_strict(
                list(valid), [None if value is None else key + canonical_fields(value).decode()
                              for value in valid.values()], default=None, return_dtype=pl.String)
            fragments[spec.code] = pl.when(plain).then(pl.lit(key + '"') + cell + pl.lit('"')).otherwise(others) \
                if pattern else others
    # The fields' JSON made in columns, as ``canonical_fields`` makes it of the row's dict (keys sorted, the left
    # out ones and their commas skipped): a fifth of the reader's CPU when it was a dict and a dump per row.
    fields_json = (pl.lit("{") + pl.concat_str([fragments[code] for code in sorted(fragments)], separator=",",
                                               ignore_nulls=True) + pl.lit("}")) if fragments else pl.lit("{}")
    protected = [fragments[code].is_not_null() for code in ric_fields(version) if code in fragments]
    common = [code for code in ("source_id", "subject_name", "ric", "uscc", "decision_date", "severity")
              if code in present]
    raw_frame = frame
    frame = frame.select(pl.col(_POSITION), *[pl.col(code) for code in common],
                         pl.any_horizontal(flags).fill_null(True).alias(_FLAGGED),  # unsure: the row path's
                         fields_json.cast(pl.Binary).alias(_FIELDS),
                         (pl.any_horizontal(protected) if protected else pl.lit(False)).alias(_PROTECT))
    judged = frame.get_column(_FLAGGED).arg_true().to_list()  # to the row path
    vouched = _vouched_rows(frame.filter(pl.col(_FLAGGED).not_()) if judged else frame, common, first_row_no,
                            version, department, keyring, memo, in_force, severities, identifiers)
    if not judged:
        vouched.received = chunk.received
        return vouched
    _judge(chunk, raw_frame, cells, judged, first_row_no, item, department, today, keyring, memo)
    return _in_file_order(chunk, vouched)


def _vouched_rows(frame: pl.DataFrame, common: Sequence[str], first_row_no: int, version: ItemVersion, department: str,
                  keyring: KeyRing, memo: BatchMemo, in_force: dict[str, tuple[dt.date, ItemVersion]],
                  severities: dict[str, Severity | None], known: dict[str, dict[str, str]]) -> PreparedChunk:
    """The rows every check vouched for, prepared column by column (``received`` left at 0): what is per row by
    nature — the content HMAC, a citizen ID field's encryption — in one loop, the rest per column or per distinct
    value (the per-row appends of a row at a time were ~4 µs of the reader's ~25 a row; bench/RESULTS.md)."""
    height = frame.height
    empty = [""] * height
    got = {code: frame.get_column(code).to_list() for code in common}
    source_ids, names = got.get("source_id", empty), got.get("subject_name", empty)
    rics, usccs, days = got.get("ric", empty), got.get("uscc", empty), got.get("decision_date", empty)
    negative = version.category is Category.NEGATIVE
    severity_texts = got.get("severity", empty) if negative else empty
    ric_known, uscc_known = known["ric"], known["uscc"]  # raw → normalised
    person, organization = MEMBER_VALUE[_PERSON], MEMBER_VALUE[_ORGANIZATION]
    kinds = [person if ric else organization for ric in rics]
    identifiers = [ric_known[ric] if ric else uscc_known[uscc] for ric, uscc in zip(rics, usccs)]
    # The content's bytes around the identifier, the severity and the day as stored: per kind, day and severity.
    frames: dict[tuple[str, str, str], tuple[bytes, bytes, str | None, str]] = {}
    for key in set(zip(kinds, days, severity_texts)):
        kind, day_text, severity_text = key
        day = in_force[day_text][0]
        severity = severities[severity_text] if negative else None
        before, after = content_frame(_PERSON if kind == person else _ORGANIZATION, version, day, severity)
        frames[key] = (before, after, MEMBER_VALUE[severity] if severity else None, day.isoformat())
    arounds = [frames[key] for key in zip(kinds, days, severity_texts)]
    jsons: list[bytes] = frame.get_column(_FIELDS).to_list()
    digest, dumps = keyring.keyed_digest, orjson.dumps
    hashes = [digest(before + dumps(identifier) + after + fields_json + b"]")
              for (before, after, _, _), identifier, fields_json in zip(arounds, identifiers, jsons)]
    for n in frame.get_column(_PROTECT).arg_true().to_list():  # citizen IDs inside: stored protected
        jsons[n] = canonical_fields(protect_identifiers(keyring, version, orjson.loads(jsons[n]), department,
                                                        source_ids[n], memo))
    lookup_index, name_index = memo.lookup_index, memo.name_index
    return PreparedChunk(
        received=0,
        row_no=(frame.get_column(_POSITION).cast(pl.Int64) + first_row_no).to_list(),
        source_id=source_ids,
        kind=kinds,
        identifier=identifiers,
        name=names,
        lookup_index=[lookup_index(keyring, kind, identifier) for kind, identifier in zip(kinds, identifiers)],
        name_index=[name_index(keyring, name) if ric else None for ric, name in zip(rics, names)],
        item_version=[version.version] * height,
        category=[MEMBER_VALUE[version.category]] * height,
        decision_day=[around[3] for around in arounds],
        severity=[around[2] for around in arounds],
        fields_json=jsons,
        content_hash=hashes,
    )


def _in_file_order(judged: PreparedChunk, vouched: PreparedChunk) -> PreparedChunk:
    """The rows the row path prepared (with the slice's count and rejections) and the vouched ones, merged in the
    file's order (each is in it already)."""
    row_no = judged.row_no + vouched.row_no
    order = sorted(range(len(row_no)), key=row_no.__getitem__)
    merged = PreparedChunk(received=judged.received, rejected=judged.rejected)
    for name in _ROW_COLUMNS:
        both = getattr(judged, name) + getattr(vouched, name)
        setattr(merged, name, [both[n] for n in order])
    return merged


def _judge(chunk: PreparedChunk, frame: pl.DataFrame, cells: list[str], rows: Iterable[int], first_row_no: int,
           item: CatalogItem, department: str, today: dt.date, keyring: KeyRing, memo: BatchMemo) -> None:
    """These rows of the slice (indexes into ``frame``, whose ``cells`` are a line's cells) through the row path,
    with their cells as ``records.fileio`` reads them: stripped as Python strips (\x1c-\x1f too), a blank row
    skipped, Excel's apostrophe dropped, unknown columns left out."""
    lines = frame.select(_POSITION, *cells)
    for n in rows:
        position, *values = lines.row(n)
        stripped = [value.strip() for value in values]
        if not any(stripped):
            chunk.received -= 1  # blank once \x1c-\x1f are stripped: the row path never sees it
            continue
        known: dict[str, object] = {
            cell: _as_read(value) for cell, value in zip(cells, stripped) if not cell.startswith(UNKNOWN_COLUMN)}
        add_row(chunk, item, department, SourceRow(first_row_no + position, known, []), today, keyring, memo)


def _as_read(value: str) -> str:
    """A stripped cell as ``records.fileio`` hands it to the row path: Excel's keep-as-text apostrophe dropped."""
    return value[1:] if value[:1] == "'" else value


def _identifiers(frame: pl.DataFrame, code: str, normalize: Callable[[str], str], memo: BatchMemo,
                 present: set[str]) -> dict[str, str]:
    """The column's valid identifiers, raw → normalised: each distinct one checked once a batch (``BatchMemo``,
    shared with the row path); the others are left out, so their rows go to the row path."""
    if code not in present:
        return {}
    known = memo.identifiers
    valid: dict[str, str] = {}
    for text in frame.get_column(code).unique().to_list():
        if not text:
            continue
        value = known.get((code, text))
        if value is None:
            try:
                value = known[code, text] = normalize(text)
            except InvalidIdentifier:
                continue
        valid[text] = value
    return valid


def _json_escaped(text: pl.Expr) -> pl.Expr:
    """A text column as the inside of JSON strings, as orjson writes them (``\\`` first)."""
    for plain, escaped in _JSON_ESCAPES:
        text = text.str.replace_all(plain, escaped, literal=True)
    return text


def _text_flags(spec: FieldSpec) -> list[pl.Expr]:
    """A text field without a pattern, checked as a column as ``catalog.rules``' string validator checks a value
    (control characters are flagged for every column already)."""
    value = pl.col(spec.code)
    flags = []
    if spec.required:
        flags.append(value == "")
    if spec.max_length:
        flags.append(value.str.len_chars() > spec.max_length)
    return flags


def _valid_values(frame: pl.DataFrame, spec: FieldSpec, validate: Callable[[Any], tuple[Any, Any]]) -> dict[str, Any]:
    """The column's distinct values the row path's validator accepts, raw → normalised (``None``: empty and
    optional)."""
    valid: dict[str, Any] = {}
    for text in frame.get_column(spec.code).unique().to_list():
        try:
            value, problem = validate(text)
        except Exception:  # noqa: BLE001 - as validate_fields: the row path will refuse it
            continue
        if problem is None:
            valid[text] = value
    return valid


def prepared_chunks(
    source: RowSource, path: Path, item: CatalogItem, department: str, *, today: dt.date, keyring: KeyRing,
    chunk_rows: int,
) -> Iterator[PreparedChunk]:
    """Every chunk of an opened file, prepared — columnar when it is a plain UTF-8 CSV file, else row by row —
    with ``bytes_read`` set. One batch: one call."""
    memo = BatchMemo()
    layout = plain_csv_layout(source)
    if layout is None:
        yield from _row_chunks(source, item, department, today, keyring, memo, chunk_rows)
    else:
        yield from csv_chunks(source, path, layout, item, department, today=today, keyring=keyring, memo=memo,
                              chunk_rows=chunk_rows)
