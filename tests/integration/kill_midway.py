"""Run by test_atomic_batch in a child process: ingest a file and SIGKILL ourselves half way through.

Not a test module (no ``test_`` prefix): a real process dying from a real signal, at a known point.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

import psutil

from chengxin.catalog.rules import template_columns
from chengxin.core.audit import Actor
from chengxin.platform import open_platform
from chengxin.records.fileio import open_rows
from chengxin.records.pipeline import ingest_file
from chengxin.records.service import ingest


def main(path: Path, kill_after_chunks: int, mode: str) -> None:
    platform = open_platform()
    columns = template_columns(platform.catalog.item("admin_penalty").latest)
    done = 0

    def progress(*_: int) -> None:
        nonlocal done
        done += 1
        if done == kill_after_chunks:
            # The test checks that the reader process (parallel mode) does not outlive us.
            print(" ".join(str(child.pid) for child in psutil.Process().children()), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    actor, today = Actor(kind="cli", name="test"), dt.date(2026, 11, 25)
    if mode == "parallel":  # the writer dies while its reader process is still feeding it
        ingest_file(platform.db, path, catalog=platform.catalog, keyring=platform.keyring, department="samr",
                    item_code="admin_penalty", actor=actor, channel="cli", today=today, chunk_rows=platform.settings.ingest_chunk_rows,
                    parallel=True, progress=progress)
    else:
        with open_rows(path, columns) as source:
            ingest(platform.db, source, catalog=platform.catalog, keyring=platform.keyring, department="samr",
                   item_code="admin_penalty", actor=actor, channel="cli", today=today, chunk_rows=platform.settings.ingest_chunk_rows,
                   progress=progress)
    sys.exit(3)  # never reached: the kill comes first


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
