"""How fast could a columnar reader prepare the benchmark file? A probe for issue #2's ingest rates, not a reader.

The reader process (``records.reader``) parses, validates and prepares ~30 µs a row on this machine, and on two
cores that caps the whole ingest near 30,000 rows/s whatever the writer does (bench/RESULTS.md, ingest, session
14). This probe prepares the benchmark file (``admin_penalty``, CSV) the other way: polars parses it into
columns and checks whole columns (empty, length, control characters, the date's and the amount's canonical
form, options, which identifier column is filled); Python is left only the work that must be done per row or
per distinct value — identifier checks, blind indexes, the canonical JSON, the content HMAC, AES-GCM for the
citizen IDs inside the fields. A row any column check flags would go to the row path (``prepare_chunk``), which
stays the judge; the benchmark file has none, and the probe says how many it found.

It then prepares the same rows with ``prepare_chunk`` and checks, row for row, that both give the same subject,
blind indexes, version, day, severity, content hash and fields (the citizen-ID ciphertexts inside the fields
differ by their random nonces, so those are compared decrypted).

    .venv/bin/python bench/columnar_probe.py [--rows 1000000] [--check-rows 200000]

Covers the field types of ``admin_penalty`` only (string, text, enum, decimal, RIC, USCC); the whole file is read
at once (a reader would take it in slices of the same size).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import key_dir, penalty_file  # noqa: E402

from chengxin.catalog.loader import load_catalog  # noqa: E402
from chengxin.catalog.model import FieldType, SubjectKind  # noqa: E402
from chengxin.catalog.rules import template_columns  # noqa: E402
from chengxin.core.crypto import KeyRing  # noqa: E402
from chengxin.core.identifiers import normalize_ric, normalize_uscc  # noqa: E402
from chengxin.core.memory import rare_collections  # noqa: E402
from chengxin.records.fileio import open_rows  # noqa: E402
from chengxin.records.reader import BatchMemo, PreparedChunk, prepare_chunk, protect_identifiers  # noqa: E402
from chengxin.records.rules import MAX_NAME, MAX_SOURCE_ID, MEMBER_VALUE, canonical_fields  # noqa: E402

TODAY = dt.date(2026, 11, 25)
DEPARTMENT = "samr"
CHUNK = 5000
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"  # records.rules' CONTROL_CHARS; also where Python's strip
# and polars' differ (Python strips \x1c-\x1f)
COVERED = {FieldType.STRING, FieldType.TEXT, FieldType.ENUM, FieldType.DECIMAL, FieldType.RIC, FieldType.USCC}


def prepare_columnar(frame: pl.DataFrame, item: Any, keyring: KeyRing, memo: BatchMemo) -> tuple[PreparedChunk, int]:
    """One chunk of the file as columns → the chunk ``prepare_chunk`` would make, and how many rows a column
    check flagged (left out here; a reader would prepare them row by row)."""
    frame = frame.with_columns(pl.all().fill_null("").str.strip_chars())
    dates = frame.get_column("decision_date").unique().to_list()
    versions: dict[str, Any] = {}
    for text in dates:  # few distinct days a chunk: the row rules, once each
        try:
            day = dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            day = None
        version = item.version_on(day) if day is not None and day <= TODAY else None
        versions[text] = version if version is not None and DEPARTMENT in version.departments else None
    version = next((v for v in versions.values() if v is not None), None)
    if version is None or any(v is not None and v is not version for v in versions.values()):
        raise SystemExit("probe: one version per chunk only")
    specs = list(version.fields)
    if any(spec.type not in COVERED for spec in specs):
        raise SystemExit("probe: a field type this probe does not cover")
    checks = [
        pl.any_horizontal(pl.all().str.contains(CONTROL)),
        pl.any_horizontal(pl.all().str.starts_with("'")),  # Excel's keep-as-text apostrophe: the CSV reader drops it
        pl.col("source_id").str.len_chars().is_between(1, MAX_SOURCE_ID).not_(),
        pl.col("subject_name").str.len_chars().is_between(1, MAX_NAME).not_(),
        (pl.col("ric") != "") == (pl.col("uscc") != ""),  # exactly one identifier
        pl.col("decision_date").is_in([d for d, v in versions.items() if v is not None]).not_(),
        pl.col("severity").is_in([s.value for s in version.severities]).not_(),
    ]
    renames: dict[str, dict[str, str]] = {}
    for spec in specs:
        column = pl.col(spec.code)
        if spec.required:
            checks.append(column == "")
        if spec.type in (FieldType.STRING, FieldType.TEXT):
            if spec.max_length:
                checks.append(column.str.len_chars() > spec.max_length)
            if spec.pattern:
                checks.append((column != "") & column.str.contains(f"^(?:{spec.pattern})$").not_())
        elif spec.type is FieldType.ENUM:
            lookup = {o.value: o.value for o in spec.options} | {o.label_zh: o.value for o in spec.options}
            renames[spec.code] = lookup
            checks.append((column != "") & column.is_in(list(lookup)).not_())
        elif spec.type is FieldType.DECIMAL:
            scale = spec.scale if spec.scale is not None else 2
            if spec.maximum is not None or (spec.minimum is not None and spec.minimum > 0):
                raise SystemExit("probe: a bounded decimal")
            fraction = rf"\.[0-9]{{{scale}}}" if scale else ""
            checks.append((column != "") & column.str.contains(rf"^(?:0|[1-9][0-9]{{0,17}}){fraction}$").not_())
    flagged = frame.select(pl.any_horizontal(checks).alias("bad")).get_column("bad")
    bad = int(flagged.sum())
    if bad:
        frame = frame.filter(flagged.not_())
    for code, lookup in renames.items():
        frame = frame.with_columns(pl.col(code).replace_strict(lookup, default=""))
    chunk = PreparedChunk(received=frame.height + bad)
    n = frame.height
    source_ids = frame.get_column("source_id").to_list()
    rics, usccs = frame.get_column("ric").to_list(), frame.get_column("uscc").to_list()
    names = frame.get_column("subject_name").to_list()
    days = frame.get_column("decision_date").to_list()
    severities = frame.get_column("severity").to_list()
    codes = [spec.code for spec in specs]
    columns = [frame.get_column(code).to_list() for code in codes]
    identifier_fields = {spec.code: (normalize_ric if spec.type is FieldType.RIC else normalize_uscc)
                         for spec in specs if spec.type in (FieldType.RIC, FieldType.USCC)}
    known = memo.identifiers
    for position, code in enumerate(codes):  # identifiers inside the fields: checked once per distinct value
        normalize = identifier_fields.get(code)
        if normalize is not None:
            out = []
            for raw in columns[position]:
                if raw:
                    value = known.get((code, raw))
                    if value is None:
                        value = known[code, raw] = normalize(raw)  # a bad one would be a flagged row
                    out.append(value)
                else:
                    out.append(None)
            columns[position] = out
    item_version, category = version.version, MEMBER_VALUE[version.category]
    person, organization = SubjectKind.PERSON, SubjectKind.ORGANIZATION
    head_item = orjson.dumps(version.item_code)[1:-1], orjson.dumps(version.version)[1:-1]
    for index in range(n):
        ric, name = rics[index], names[index]
        if ric:
            kind, column, raw = person, "ric", ric
        else:
            kind, column, raw = organization, "uscc", usccs[index]
        identifier = known.get((column, raw))
        if identifier is None:
            identifier = known[column, raw] = (normalize_ric if kind is person else normalize_uscc)(raw)
        kind_value = MEMBER_VALUE[kind]
        fields = {code: value for code, value in zip(codes, (c[index] for c in columns)) if value}
        fields_json = canonical_fields(fields)
        severity = severities[index] or None
        source_id = source_ids[index]
        content = (b'["' + kind_value.encode() + b'",' + orjson.dumps(identifier) + b',"' + head_item[0] + b'","'
                   + head_item[1] + b'","' + days[index].encode() + b'",'
                   + (b'"' + severity.encode() + b'"' if severity else b"null") + b"," + fields_json + b"]")
        protected = protect_identifiers(keyring, version, fields, DEPARTMENT, source_id, memo)
        chunk.row_no.append(index)
        chunk.source_id.append(source_id)
        chunk.kind.append(kind_value)
        chunk.identifier.append(identifier)
        chunk.name.append(name)
        chunk.lookup_index.append(memo.lookup_index(keyring, kind_value, identifier))
        chunk.name_index.append(memo.name_index(keyring, name) if kind is person else None)
        chunk.item_version.append(item_version)
        chunk.category.append(category)
        chunk.decision_day.append(days[index])
        chunk.severity.append(severity)
        chunk.fields_json.append(fields_json if protected is fields else canonical_fields(protected))
        chunk.content_hash.append(keyring.keyed_digest(content))
    return chunk, bad


def _clear(keyring: KeyRing, fields_json: bytes, source_id: str) -> Any:
    """A prepared row's fields with the citizen-ID ciphertexts decrypted (their nonces differ run to run)."""
    fields = orjson.loads(fields_json)
    for code, value in fields.items():
        if isinstance(value, dict) and "cipher" in value:
            aad = f"record:{DEPARTMENT}:{source_id}:{code}".encode()
            value["cipher"] = keyring.decrypt(base64.b64decode(value["cipher"]), value["key_version"], aad)
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--check-rows", type=int, default=200_000)
    args = parser.parse_args()
    path = penalty_file(args.rows)
    catalog, keyring = load_catalog(), KeyRing.open(key_dir())
    item = catalog.item("admin_penalty")
    by_label = {column.label_zh: column.code for column in template_columns(item.latest)}
    gc.collect()
    gc.freeze()
    memo = BatchMemo()
    chunks: list[PreparedChunk] = []
    flagged = 0
    with rare_collections():
        cpu = time.process_time()
        frame = pl.read_csv(path, infer_schema=False).rename(by_label)
        parsed = time.process_time()
        for start in range(0, frame.height, CHUNK):
            chunk, bad = prepare_columnar(frame.slice(start, CHUNK), item, keyring, memo)
            flagged += bad
            if start < args.check_rows:
                chunks.append(chunk)
        done = time.process_time()
    rows = frame.height
    result = {"rows": rows, "flagged": flagged, "parse_us": round((parsed - cpu) / rows * 1e6, 2),
              "prepare_us": round((done - parsed) / rows * 1e6, 2), "total_us": round((done - cpu) / rows * 1e6, 2)}
    # The same rows through the reader's own path, compared row for row.
    memo_rows = BatchMemo()
    compared = 0
    with open_rows(path, template_columns(item.latest)) as source:
        rows_iter = iter(source)
        for columnar in chunks:
            batch = [next(rows_iter) for _ in range(columnar.received)]
            reference = prepare_chunk(item, DEPARTMENT, batch, today=TODAY, keyring=keyring, memo=memo_rows)
            assert len(reference) == len(columnar), "a row the probe flagged or the row path refused"
            for name in ("source_id", "kind", "identifier", "name", "lookup_index", "name_index", "item_version",
                         "category", "decision_day", "severity", "content_hash"):
                assert getattr(reference, name) == getattr(columnar, name), name
            for ref, col, source_id in zip(reference.fields_json, columnar.fields_json, reference.source_id,
                                           strict=True):
                assert ref == col or _clear(keyring, ref, source_id) == _clear(keyring, col, source_id), source_id
            compared += len(reference)
    result["checked_equal_rows"] = compared
    print(json.dumps(result))


if __name__ == "__main__":
    main()
