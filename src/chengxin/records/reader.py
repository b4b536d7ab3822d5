"""The read side of an ingest (归集): submitted rows → prepared chunks, without a database.

Validating, hashing and encrypting rows (:func:`prepare_chunk`) needs the catalog and the keys but never the
database, so for a large file it runs in a second process (:func:`read_file`, started by
``records.pipeline``). This module imports what reading needs only — no SQLAlchemy, no ORM models, no
service: 0.2 s of imports instead of 0.55 s for the reader process, which ``records.pipeline`` starts with
:func:`main` alone (bench/RESULTS.md, ingest, sessions 11 and 23). ``tests/unit/records/test_reader_imports.py``
keeps it that way.
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import itertools
import json
import os
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import CatalogItem, FieldType, ItemVersion, SubjectKind
from chengxin.catalog.rules import template_columns
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, Problem
from chengxin.core.masking import mask_ric
from chengxin.core.memory import rare_collections
from chengxin.records.fileio import open_rows
from chengxin.records.rules import MEMBER_VALUE, PreparedRow, canonical_fields, prepare_row
from chengxin.subjects.rules import lookup_index


class IncomingRow(Protocol):
    """One row as a reader or the API hands it over (``records.fileio.SourceRow`` fits)."""

    row_no: int
    values: dict[str, object]
    problems: list[Problem]


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row refused, with every problem found in it (the receipt lists them by row number)."""

    row_no: int
    source_id: str | None
    problems: tuple[Problem, ...]


def chunked(rows: Iterable[IncomingRow], size: int) -> Iterator[list[IncomingRow]]:
    """``rows`` in lists of ``size`` (the last one shorter): a file is read, prepared and written chunk by chunk."""
    it = iter(rows)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


@dataclass
class PreparedChunk:
    """Rows ready to write, column by column: everything about them that needs no database.

    Made by :func:`prepare_chunk`, in this process or in the reader process of ``records.pipeline``
    — hence columns of plain values, which cross a process boundary cheaply.
    """

    received: int
    rejected: list[RejectedRow] = field(default_factory=list)
    row_no: list[int] = field(default_factory=list)
    source_id: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    identifier: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    lookup_index: list[bytes] = field(default_factory=list)
    name_index: list[bytes | None] = field(default_factory=list)  # persons: checked against the registered name
    item_version: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    decision_day: list[str] = field(default_factory=list)  # ISO: what the chain hashes and SQLite stores
    severity: list[str | None] = field(default_factory=list)
    fields_json: list[bytes] = field(default_factory=list)  # canonical JSON, citizen IDs inside protected
    content_hash: list[bytes] = field(default_factory=list)  # keyed: equal for equal submissions
    bytes_read: int = 0

    def __len__(self) -> int:
        return len(self.source_id)


@dataclass
class BatchMemo:
    """What one batch has already worked out about the subjects it names: a file names each subject several
    times (a fifth of a row's preparation is checking the identifier and computing its blind indexes).

    Lives as long as its batch — clear identifiers are not kept in a long-lived process — and starts over
    past ``MEMO_ENTRIES`` so memory stays flat.
    """

    identifiers: dict[tuple[str, str], str] = field(default_factory=dict)  # (column, raw) → normalised
    lookup: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (kind, identifier) → lookup index
    names: dict[str, bytes] = field(default_factory=dict)  # person's name → name index

    def lookup_index(self, keyring: KeyRing, kind: str, identifier: str) -> bytes:
        """``subjects.rules.lookup_index``, computed once per batch for each subject."""
        index = self.lookup.get((kind, identifier))
        if index is None:
            index = self.lookup[kind, identifier] = lookup_index(keyring, kind, identifier)
        return index

    def name_index(self, keyring: KeyRing, name: str) -> bytes:
        """A person's name blind index, computed once per batch for each name."""
        index = self.names.get(name)
        if index is None:
            index = self.names[name] = keyring.blind_index(name)
        return index

    def bound(self) -> None:
        if len(self.identifiers) + len(self.lookup) + len(self.names) > MEMO_ENTRIES:
            self.identifiers.clear()
            self.lookup.clear()
            self.names.clear()


MEMO_ENTRIES = 300_000


def prepare_chunk(
    item: CatalogItem,
    department: str,
    rows: Sequence[IncomingRow],
    *,
    today: dt.date,
    keyring: KeyRing,
    memo: BatchMemo | None = None,
) -> PreparedChunk:
    """Validate a chunk of rows and compute everything that needs no database (hashes, encryption, JSON).

    Pass the same ``memo`` for every chunk of one batch.
    """
    memo = memo if memo is not None else BatchMemo()
    memo.bound()
    chunk = PreparedChunk(received=len(rows))
    for row in rows:
        add_row(chunk, item, department, row, today, keyring, memo)
    return chunk


def add_row(chunk: PreparedChunk, item: CatalogItem, department: str, row: IncomingRow, today: dt.date,
            keyring: KeyRing, memo: BatchMemo) -> None:
    """Validate one row and append it to ``chunk``, prepared or rejected (the row path, which judges every row the
    columnar path of ``records.columnar`` does not vouch for)."""
    result = prepare_row(item, department, row.values, row_no=row.row_no, today=today, read_problems=row.problems,
                         known_identifiers=memo.identifiers)
    if isinstance(result, PreparedRow):
        subject, version = result.subject, result.version
        kind = MEMBER_VALUE[subject.kind]
        chunk.row_no.append(result.row_no)
        chunk.source_id.append(result.source_id)
        chunk.kind.append(kind)
        chunk.identifier.append(subject.identifier)
        chunk.name.append(subject.name)
        chunk.lookup_index.append(memo.lookup_index(keyring, kind, subject.identifier))
        chunk.name_index.append(memo.name_index(keyring, subject.name) if subject.kind is SubjectKind.PERSON
                                else None)
        chunk.item_version.append(version.version)
        chunk.category.append(MEMBER_VALUE[version.category])
        chunk.decision_day.append(result.decision_date.isoformat())
        chunk.severity.append(MEMBER_VALUE[result.severity] if result.severity else None)
        fields = protect_identifiers(keyring, version, result.fields, department, result.source_id, memo)
        chunk.fields_json.append(result.fields_json if fields is result.fields else canonical_fields(fields))
        chunk.content_hash.append(keyring.keyed_digest(result.content))
    else:
        raw_id = row.values.get("source_id")  # as read: a JSON array or object is no source id
        source_id = str(raw_id).strip() or None if raw_id is not None and not isinstance(raw_id, (list, dict)) else None
        chunk.rejected.append(RejectedRow(row.row_no, source_id[:64] if source_id else None, tuple(result)))


def protect_identifiers(
    keyring: KeyRing, version: ItemVersion, fields: dict[str, Any], department: str, source_id: str,
    memo: BatchMemo | None = None,
) -> dict[str, Any]:
    """Citizen IDs inside a record's fields (e.g. a legal representative's) are stored like subjects' IDs:
    masked for display, AES-GCM ciphertext bound to this record and field, and the person blind index
    (so "records naming this person" can be found without decrypting). ``memo``: the batch's, if any."""
    codes = [code for code in ric_fields(version) if isinstance(fields.get(code), str)]
    if not codes:
        return fields  # the same dict: nothing in it to protect
    out = dict(fields)
    person = SubjectKind.PERSON.value
    for code in codes:
        value = out[code]
        index = memo.lookup_index(keyring, person, value) if memo is not None else lookup_index(keyring, person, value)
        out[code] = {
            "masked": mask_ric(value),
            "index": index.hex(),
            "key_version": keyring.data_version,
            "cipher": base64.b64encode(
                keyring.encrypt(value, f"record:{department}:{source_id}:{code}".encode())
            ).decode(),
        }
    return out


_RIC_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {}


def ric_fields(version: ItemVersion) -> tuple[str, ...]:
    """The codes of ``version``'s citizen-ID fields (remembered per item version)."""
    key = (version.item_code, version.version)
    codes = _RIC_FIELDS.get(key)
    if codes is None:
        codes = _RIC_FIELDS[key] = tuple(f.code for f in version.fields if f.type is FieldType.RIC)
    return codes


def read_file(path: str, catalog_dir: str | None, key_dir: str, item_code: str, department: str, today: dt.date,
              chunk_rows: int, max_bytes: int | None, filename: str | None, out: Connection) -> None:
    """The reader process: parse and prepare every chunk, send each on ``out`` (the write end of a pipe whose
    read end only the writer holds); stop if the writer is gone.

    Messages: ``("start", format, bytes)``, ``("chunk", PreparedChunk)`` …, then ``("done", format, warnings)``
    — or ``("refused", …)`` for a file-level problem, ``("crash", traceback)`` for anything else.

    Sent from this thread, not a ``multiprocessing.Queue``: a queue's feeder thread pickles and writes a chunk
    while this thread prepares the next, and winning the GIL back after each write into the pipe cost the
    reader a third more CPU (~10 µs a row; bench/RESULTS.md, ingest, session 12). A full pipe blocks the send,
    which bounds what is in flight: the pipe's buffer, one chunk being sent and one being prepared.
    """

    def put(message: tuple[Any, ...]) -> None:
        try:
            out.send(message)
        except OSError:  # BrokenPipeError: the writer is gone (killed) and nobody will read this
            os._exit(1)

    try:
        catalog = load_catalog(Path(catalog_dir) if catalog_dir else None)
        keyring = KeyRing(Path(key_dir))
        item = catalog.item(item_code)
        columns = template_columns(item.latest)
        # This process lives for one file: what it holds now (modules, the catalog) stays to the end, so the
        # collector need never walk it again (core.memory).
        gc.collect()
        gc.freeze()
        with rare_collections(), open_rows(Path(path), columns, max_bytes=max_bytes, filename=filename) as source:
            put(("start", source.format, source.bytes_total))
            from chengxin.records.columnar import prepared_chunks  # it builds on this module

            for chunk in prepared_chunks(source, Path(path), item, department, today=today, keyring=keyring,
                                         chunk_rows=chunk_rows):
                put(("chunk", chunk))
            put(("done", source.format, list(source.warnings)))
    except DomainError as exc:
        put(("refused", type(exc).__name__, exc.code, exc.message, exc.message_en, exc.problem.field, exc.status))
    except BaseException:  # report, don't hang the writer
        put(("crash", traceback.format_exc()))
    finally:
        out.close()


def main() -> None:
    """The reader process's entry (started by ``records.pipeline``): :func:`read_file` with the arguments the
    parent wrote as JSON in ``sys.argv[1]``, sending on the pipe end it passed as ``fd``."""
    spec = json.loads(sys.argv[1])
    out = Connection(spec["fd"], readable=False)
    read_file(spec["path"], None, spec["key_dir"], spec["item_code"], spec["department"],
              dt.date.fromisoformat(spec["today"]), spec["chunk_rows"], spec["max_bytes"], spec["filename"], out)
