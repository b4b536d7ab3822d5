"""File ingest on two cores: a reader process parses and validates, this process writes.

Reading, validating, hashing and encrypting a row costs about as much CPU as writing it, so
for a large file a second process (``records.reader.read_file``) does the first half and
hands finished chunks over a pipe (memory stays flat: a full pipe holds the reader back, so
at most ``PIPE_BYTES`` and two chunks are in flight). The write side is the same
:func:`ingest_prepared` as for any batch, so a batch stays one transaction: if either process
dies, nothing of it is committed.

Small files are not worth a process start: they are read in this process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from chengxin.catalog.model import Catalog
from chengxin.catalog.rules import template_columns
from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database
from chengxin.core.errors import DomainError, Problem
from chengxin.core.settings import INGEST_CHUNK_ROWS
from chengxin.records.columnar import prepared_chunks
from chengxin.records.fileio import FileRejected, open_rows
from chengxin.records.reader import PreparedChunk
from chengxin.records.service import Receipt, check_submission, ingest_prepared

# Below this a second process costs more than it saves: starting one costs ~0.4 s (a fresh interpreter that imports
# the reader's modules, polars among them); in-process and two-process ingests break even at ~17–20 MiB on SQLite,
# later on PostgreSQL (bench/ingest_threshold.py, bench/RESULTS.md sessions 11 and 23): a 2 MiB file took 0.61 s
# instead of 0.23, an 8 MiB one 1.03 s instead of 0.77.
PARALLEL_FROM_BYTES = 20 * 1024 * 1024
# The pipe's buffer, asked for (Linux lets an unprivileged process have up to /proc/sys/fs/pipe-max-size, 1 MiB
# by default; elsewhere it stays at its default): a chunk of 5,000 rows is ~4 MB pickled, and every time the
# buffer fills, the reader waits for the writer to drain it.
PIPE_BYTES = 1 << 20


@dataclass
class _FileFacts:
    """What the reader learns about the file as it goes (known fully only at the end)."""

    format: str | None = None
    bytes_total: int = 0
    warnings: list[Problem] = field(default_factory=list)


def _bytes_to_parse(path: Path, size: int) -> int:
    """What reading ``path`` parses: an xlsx workbook's XML unpacked (ten times its size and more: a 10 MB
    workbook of 100,000 rows holds 94 MB of XML and took 15.4 s in one process, 13.4 with a reader process),
    else the file's size."""
    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return size
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):  # the reader says what is wrong with it
        return size


def _widen(end: Connection) -> None:
    """Ask for a ``PIPE_BYTES`` buffer; not Linux, or over the system's limit: the default stays."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _start_reader(out: Connection, path: Path, key_dir: Path, item_code: str, department: str, today: dt.date,
                  chunk_rows: int, max_bytes: int | None, filename: str | None) -> subprocess.Popen[bytes]:
    """The reader process (``records.reader.main``) writing to ``out``: a fresh interpreter that imports the reader's
    modules and nothing else.

    Not ``multiprocessing``'s spawn: a spawned child first runs the parent's main module again — for ``chengxin
    ingest`` the whole CLI with SQLAlchemy and the web app, 0.59 s from start to the reader's first line against
    ~0.25 (bench/RESULTS.md, ingest, session 23) — and holds it in memory to the end. Never a fork either: the
    writer may hold threads and database connections. The child sees the parent's ``sys.path``, as a spawned one
    does; it keeps no other descriptor of ours."""
    spec = {"path": str(path), "key_dir": str(key_dir), "item_code": item_code, "department": department,
            "today": today.isoformat(), "chunk_rows": chunk_rows, "max_bytes": max_bytes, "filename": filename,
            "fd": out.fileno()}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen(
        [sys.executable, "-c", "from chengxin.records.reader import main; main()", json.dumps(spec)],
        pass_fds=(out.fileno(),), env=env, stdin=subprocess.DEVNULL,
    )


def _chunks_from_reader(messages: Connection, process: subprocess.Popen[bytes], facts: _FileFacts,
                        ) -> Iterator[PreparedChunk]:
    while True:
        if not messages.poll(5.0):
            if process.poll() is not None:
                raise RuntimeError("the reader process died without a word")
            continue
        try:
            message = messages.recv()
        except EOFError:  # its end of the pipe closed before "done": the reader died
            raise RuntimeError("the reader process died without a word") from None
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
    chunk_rows: int = INGEST_CHUNK_ROWS,
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
        parallel = _bytes_to_parse(path, size) >= PARALLEL_FROM_BYTES
    facts = _FileFacts(bytes_total=size)

    def report(chunk: PreparedChunk) -> None:
        if progress:
            progress(chunk.received, chunk.bytes_read, facts.bytes_total)

    if not parallel:
        with open_rows(path, template_columns(item.latest), max_bytes=max_bytes, filename=filename) as source:
            chunks = prepared_chunks(source, path, item, department, today=today, keyring=keyring,
                                     chunk_rows=chunk_rows)
            return ingest_prepared(
                db, chunks, catalog=catalog, keyring=keyring, department=department, item_code=item_code,
                actor=actor, channel=channel, filename=filename, file_format=source.format,
                warnings=lambda: source.warnings, progress=report,
            )

    messages, out = mp.Pipe(duplex=False)
    _widen(out)
    try:
        process = _start_reader(out, path, keyring.key_dir, item_code, department, today, chunk_rows, max_bytes,
                                filename)
    finally:
        out.close()  # the reader holds the write end alone: when it dies, reading gives EOFError at once
    try:
        return ingest_prepared(
            db, _chunks_from_reader(messages, process, facts), catalog=catalog, keyring=keyring,
            department=department, item_code=item_code, actor=actor, channel=channel, filename=filename,
            file_format=lambda: facts.format, warnings=lambda: facts.warnings, progress=report,
        )
    finally:
        messages.close()  # a reader still sending gets a broken pipe and exits
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
