"""The ingest's reader process imports only what reading needs: no SQLAlchemy, no ORM models, no service, no web
app, no CLI. Each of those adds to the start of every file ingest that runs on two cores — the reader's first chunk
is what the writer waits for — and stays in the reader's memory (bench/RESULTS.md, ingest, session 23: a spawned
reader re-ran the parent's main module, for ``chengxin ingest`` the whole CLI: 0.59 s to its first line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("sqlalchemy", "fastapi", "typer", "chengxin.records.service", "chengxin.records.models",
         "chengxin.subjects.service", "chengxin.core.db", "chengxin.core.audit", "chengxin.cli.main",
         "chengxin.records.pipeline")

# What the reader process runs (records.pipeline._start_reader), on a pipe this probe drains, then what it loaded.
PROBE = """
import json, os, sys, threading
from multiprocessing.connection import Connection
read_end, write_end = os.pipe()
spec = json.loads(sys.argv[1]); spec["fd"] = write_end
messages = []
drain = Connection(read_end, writable=False)
def receive():
    while True:
        try:
            messages.append(drain.recv()[0])
        except EOFError:
            return
thread = threading.Thread(target=receive); thread.start()
sys.argv[1] = json.dumps(spec)
from chengxin.records.reader import main
main()
thread.join()
print(json.dumps({"messages": messages, "modules": sorted(sys.modules)}))
"""


def test_a_reader_run_loads_no_database_or_app_modules(tmp_path: Path) -> None:
    from chengxin.catalog.loader import load_catalog
    from chengxin.catalog.rules import template_columns
    from chengxin.core.crypto import KeyRing

    columns = template_columns(load_catalog().item("admin_penalty").latest)
    path = tmp_path / "p.csv"
    path.write_text(",".join(c.label_zh for c in columns) + "\nA-1\n", encoding="utf-8")
    KeyRing.open(tmp_path / "keys")
    spec = {"path": str(path), "key_dir": str(tmp_path / "keys"), "item_code": "admin_penalty",
            "department": "samr", "today": "2026-11-25", "chunk_rows": 100, "max_bytes": None, "filename": None}
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(spec)], check=True, capture_output=True, text=True)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["messages"] == ["start", "chunk", "done"], result["messages"]
    loaded = set(result["modules"])
    assert {"chengxin.records.reader", "chengxin.records.columnar", "polars"} <= loaded
    assert not [m for m in HEAVY if m in loaded]


def test_the_pipeline_starts_that_entry_in_a_fresh_interpreter(tmp_path: Path, monkeypatch: object) -> None:
    """Not multiprocessing's spawn (which runs the parent's main module first): ``python -c`` with the entry."""
    import datetime as dt
    from multiprocessing import Pipe

    from chengxin.records import pipeline

    started: list[list[str]] = []

    class Recorded:
        def __init__(self, args: list[str], **kwargs: object) -> None:
            started.append(args)
            assert kwargs["pass_fds"] == (out.fileno(),)

    monkeypatch.setattr(pipeline.subprocess, "Popen", Recorded)  # type: ignore[attr-defined]
    _, out = Pipe(duplex=False)
    pipeline._start_reader(out, tmp_path / "f.csv", tmp_path, "admin_penalty", "samr", dt.date(2026, 11, 25), 100,
                           None, None)
    (args,) = started
    assert args[:3] == [sys.executable, "-c", "from chengxin.records.reader import main; main()"]
    assert json.loads(args[3])["fd"] == out.fileno()
