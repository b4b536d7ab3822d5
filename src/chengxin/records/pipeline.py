"""File ingest on two cores: a reader process parses and validates, this process writes.

Reading, validating, hashing and encrypting a row costs about as much CPU as writing it, so
for a large file a second process does the first half (:func:`prepare_chunk` per chunk) and
hands finished chunks over a bounded queue (memory stays flat: at most ``QUEUE_CHUNKS``
chunks in flight). The write side is the same :func:`ingest_prepared` as for any batch, so
a batch stays one transaction: if either process dies, nothing of it is committed.

Small files are not worth a process start: they are read in this process.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing as mp
import os
import queue
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Catalog
from chengxin.catalog.rules import template_columns
from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database
from chengxin.core.errors import DomainError, Problem
from chengxin.core.memory import rare_collections
from chengxin.records.fileio import FileRejected, open_rows
from chengxin.records.service import (
    BatchMemo,
    PreparedChunk,
    Receipt,
    check_submission,
    chunked,
    ingest_prepared,
    prepare_chunk,
)

PARALLEL_FROM_BYTES = 4 * 1024 * 1024  # below this a second process costs more than it saves
QUEUE_CHUNKS = 4


@dataclass
class _FileFacts:
    """What the reader learns about the file as it goes (known fully only at the end)."""

    format: str | None = None
    bytes_total: int = 0
    warnings: list[Problem] = field(default_factory=list)


def _reader(path: str, catalog_dir: str | None, key_dir: str, item_code: str, department: str, today: dt.date,
            chunk_rows: int, max_bytes: int | None, filename: str | None, out: Any, parent: int) -> None:
    """The reader process: parse and prepare every chunk, put each on ``out``; stop if the parent dies."""

    def put(message: tuple[Any, ...]) -> None:
        while True:
            try:
                out.put(message, timeout=1.0)
                return
            except queue.Full:
                if os.getppid() != parent:  # the writer is gone (killed): nobody will read this
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
            memo = BatchMemo()
            for rows in chunked(source, chunk_rows):
                chunk = prepare_chunk(item, department, rows, today=today, keyring=keyring, memo=memo)
                chunk.bytes_read = source.bytes_read
                put(("chunk", chunk))
            put(("done", source.format, list(source.warnings)))
    except DomainError as exc:
        put(("refused", type(exc).__name__, exc.code, exc.message, exc.message_en, exc.problem.field, exc.status))
    except BaseException:  # report, don't hang the writer
        put(("crash", traceback.format_exc()))


def _chunks_from_reader(out: Any, process: Any, facts: _FileFacts) -> Iterator[PreparedChunk]:
    while True:
        try:
            message = out.get(timeout=5.0)
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError("the reader process died without a word") from None
            continue
        kind = message[0]
        if kind == "start":
            facts.format, facts.bytes_total = message[1], message[2]
        elif kind == "chunk":
            yield message[1]
        elif kind == "done":
            facts.format, facts.warnings = message[1], message[2]
            return
        elif kind == "refused":
            cls = FileRejected if message[1] == "FileRejected" else DomainError
            raise cls(message[2], message[3], message[4], field=message[5], status=message[6])
        else:
            raise RuntimeError(f"the reader process failed:\n{message[1]}")


def ingest_file(
    db: Database,
    path: Path,
    *,
    catalog: Catalog,
    keyring: KeyRing,
    department: str,
    item_code: str,
    actor: audit.Actor,
    channel: str,
    today: dt.date,
    filename: str | None = None,
    max_bytes: int | None = None,
    chunk_rows: int = 5000,
    parallel: bool | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> Receipt:
    """归集 one file (.xlsx/.csv/.jsonl) as one batch; ``progress(rows, bytes_read, bytes_total)`` per chunk.

    ``parallel=None`` decides by size (a reader process for files from ``PARALLEL_FROM_BYTES``).
    File-level problems raise :class:`FileRejected` before anything is written.
    """
    item = check_submission(catalog, department, item_code, actor)
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise FileRejected("file.too_large", f"文件超过上限 {max_bytes // (1 << 20)} MB",
                           f"File exceeds the {max_bytes // (1 << 20)} MB limit", status=413)
    if parallel is None:
        parallel = size >= PARALLEL_FROM_BYTES
    facts = _FileFacts(bytes_total=size)

    def report(chunk: PreparedChunk) -> None:
        if progress:
            progress(chunk.received, chunk.bytes_read, facts.bytes_total)

    if not parallel:
        with open_rows(path, template_columns(item.latest), max_bytes=max_bytes, filename=filename) as source:
            def chunks() -> Iterator[PreparedChunk]:
                memo = BatchMemo()
                for rows in chunked(source, chunk_rows):
                    chunk = prepare_chunk(item, department, rows, today=today, keyring=keyring, memo=memo)
                    chunk.bytes_read = source.bytes_read
                    yield chunk

            return ingest_prepared(
                db, chunks(), catalog=catalog, keyring=keyring, department=department, item_code=item_code,
                actor=actor, channel=channel, filename=filename, file_format=source.format,
                warnings=lambda: source.warnings, progress=report,
            )

    context = mp.get_context("spawn")  # never fork a process that may hold threads and connections
    out = context.Queue(maxsize=QUEUE_CHUNKS)
    process = context.Process(
        target=_reader,
        args=(str(path), None, str(keyring.key_dir), item_code, department, today, chunk_rows, max_bytes, filename,
              out, os.getpid()),
        daemon=True,
        name="chengxin-reader",
    )
    process.start()
    try:
        return ingest_prepared(
            db, _chunks_from_reader(out, process, facts), catalog=catalog, keyring=keyring, department=department,
            item_code=item_code, actor=actor, channel=channel, filename=filename,
            file_format=lambda: facts.format, warnings=lambda: facts.warnings, progress=report,
        )
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)
        out.close()
