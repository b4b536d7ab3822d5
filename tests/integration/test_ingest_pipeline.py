"""The two-process file ingest (``records.pipeline``): when the reader process dies, the writer says so and keeps
nothing; when the reader finds the file bad, the writer raises the reader's refusal."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from chengxin.catalog.rules import template_columns
from chengxin.core.audit import SYSTEM
from chengxin.platform import Platform
from chengxin.records.fileio import FileRejected
from chengxin.records.models import IngestBatch, Record
from chengxin.records.pipeline import ingest_file
from factories import valid_row

TODAY = dt.date(2026, 11, 25)


def _write_csv(platform: Platform, path: Path, rows: int) -> None:
    item = platform.catalog.item("admin_penalty")
    version = item.version_on(dt.date(2025, 9, 1))
    assert version is not None
    columns = template_columns(item.latest)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.label_zh for c in columns])
        for n in range(1, rows + 1):
            row = valid_row(version, n)
            writer.writerow(["" if row.get(c.code) is None else row.get(c.code) for c in columns])


def _ingest(platform: Platform, path: Path, **kwargs: object) -> object:
    return ingest_file(platform.db, path, catalog=platform.catalog, keyring=platform.keyring, department="samr",
                       item_code="admin_penalty", actor=SYSTEM, channel="cli", today=TODAY, parallel=True,
                       **kwargs)  # type: ignore[arg-type]


def _nothing_kept(platform: Platform) -> bool:
    with platform.db.read() as s:
        return s.execute(select(Record.id).limit(1)).first() is None and \
            s.execute(select(IngestBatch.id).limit(1)).first() is None


def test_a_reader_killed_half_way_fails_the_batch_and_keeps_nothing(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "penalties.csv"
    _write_csv(platform, path, 6_000)  # 30 chunks of 200: the reader is far from done after the first
    killed: list[int] = []

    def kill_the_reader(*_: int) -> None:
        if not killed:
            (reader,) = psutil.Process().children()
            os.kill(reader.pid, signal.SIGKILL)
            killed.append(reader.pid)

    with pytest.raises(RuntimeError, match="reader process died"):
        _ingest(platform, path, chunk_rows=200, progress=kill_the_reader)
    assert killed and _nothing_kept(platform)


def test_a_file_the_reader_refuses_is_refused_with_its_reason(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "penalties.csv"
    path.write_text("来源编号,无关的列\nA-1,x\n", encoding="utf-8")  # the item's required columns are missing
    with pytest.raises(FileRejected) as refused:
        _ingest(platform, path)
    assert refused.value.code == "file.missing_columns", refused.value.code
    assert _nothing_kept(platform)
