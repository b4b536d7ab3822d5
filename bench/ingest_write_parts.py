"""Where the SQLite write time of an ingest goes: the baseline's rows (bench/ingest_run.py TABLES, read back from
the database a `bench/ingest.py` run left in bench/out/ingest_sqlite.db) written again with BulkWriter under
variants, CPU seconds of this process per table (CPU, not wall: comparable on a loaded machine).

    .venv/bin/python bench/ingest.py --rows 200000 --engines sqlite      # leaves bench/out/ingest_sqlite.db
    .venv/bin/python bench/ingest_write_parts.py base notrig big syncoff

Variants that replace the gram index by a simplified one (one row trigger, no fold, no counts), to compare
key types: textgram (two-character text grams, as now), intgram (the two code points packed in one integer),
stopgram (text grams without the four of 有限公司, in almost every organisation's name); pygram (no trigger:
the same text grams made in Python per chunk of subjects, sorted, one executemany).

Variants: base (as the app runs), notrig (the search index's name triggers on subject dropped),
big (cache_size 512 MB), syncoff (synchronous=OFF). (Session 12's ``sorted`` variant wrote into
``subject_name_gram``, which SQLite no longer has since migration 0031.)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, fresh_database  # noqa: E402
from ingest_run import TABLES  # noqa: E402

from chengxin.core.db import BulkWriter, Database, make_engine  # noqa: E402

PRAGMAS = {"base": [], "notrig": [], "textgram": [], "intgram": [], "stopgram": [], "pygram": [], "big": ["PRAGMA cache_size=-524288"], "syncoff": ["PRAGMA synchronous=OFF"]}


_POS = "WITH RECURSIVE pos(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM pos WHERE n < length(new.display_name))"
_SIMPLE_GRAMS = {
    "textgram": ("TEXT", "substr(new.display_name, n, 2)", ""),
    "intgram": ("INTEGER", "unicode(substr(new.display_name, n, 1)) * 2097152 + "
                "coalesce(unicode(substr(new.display_name, n + 1, 1)), 0)", ""),
    "stopgram": ("TEXT", "substr(new.display_name, n, 2)",
                 " WHERE substr(new.display_name, n, 2) NOT IN ('有限', '限公', '公司', '司')"),
}


def _simple_gram_index(conn: Any, variant: str) -> None:
    key_type, gram, where = _SIMPLE_GRAMS[variant]
    conn.execute(text(f"CREATE TABLE bench_gram (gram {key_type} NOT NULL, subject_id INTEGER NOT NULL, "
                      "PRIMARY KEY (gram, subject_id)) WITHOUT ROWID"))
    conn.execute(text(f"CREATE TRIGGER bench_gram_ai AFTER INSERT ON subject WHEN new.kind = 'organization' BEGIN "
                      f"INSERT OR IGNORE INTO bench_gram (gram, subject_id) {_POS} SELECT {gram}, new.id FROM pos{where}; "
                      "END"))


def _insert_grams(session: Any, rows: list[tuple[Any, ...]], cols: tuple[str, ...]) -> None:
    kind, name, sid = cols.index("kind"), cols.index("display_name"), cols.index("id")
    grams = sorted({(row[name][n : n + 2], row[sid]) for row in rows if row[kind] == "organization"
                    for n in range(len(row[name]))})
    raw = session.connection().connection.driver_connection
    raw.executemany("INSERT OR IGNORE INTO bench_gram (gram, subject_id) VALUES (?, ?)", grams)


def main() -> None:
    source = Database(make_engine(f"sqlite:///{ROOT / 'bench' / 'out' / 'ingest_sqlite.db'}"))
    prepared: dict[str, list[tuple[Any, ...]]] = {}
    with source.engine.connect() as conn:
        for table, cols in TABLES.items():
            prepared[table] = [tuple(r) for r in conn.execute(text(f"SELECT {', '.join(cols)} FROM {table} ORDER BY id"))]
    print({t: len(rows) for t, rows in prepared.items()})
    for variant in sys.argv[1:] or ["base", "notrig"]:
        engine = make_engine(fresh_database("sqlite", "write_parts"))

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, _record: Any, pragmas: list[str] = PRAGMAS[variant]) -> None:
            for pragma in pragmas:
                dbapi.execute(pragma)

        if variant in ("notrig", "pygram", *_SIMPLE_GRAMS):
            with engine.begin() as conn:
                names = [r[0] for r in conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'subject'"))]
                for name in names:
                    conn.execute(text(f"DROP TRIGGER {name}"))
                if variant in _SIMPLE_GRAMS:
                    _simple_gram_index(conn, variant)
                if variant == "pygram":
                    conn.execute(text("CREATE TABLE bench_gram (gram TEXT NOT NULL, subject_id INTEGER NOT NULL, "
                                      "PRIMARY KEY (gram, subject_id)) WITHOUT ROWID"))
        db = Database(engine)
        cpu, wall, per_table = time.process_time(), time.perf_counter(), {}
        with db.write() as session:
            writer = BulkWriter(session)
            for table, cols in TABLES.items():
                t0 = time.process_time()
                for i in range(0, len(prepared[table]), 5000):
                    writer.insert(table, cols, prepared[table][i : i + 5000])
                    if variant == "pygram" and table == "subject":
                        _insert_grams(session, prepared[table][i : i + 5000], cols)
                per_table[table] = round(time.process_time() - t0, 2)
            if variant in (*_SIMPLE_GRAMS, "pygram"):
                per_table["grams_kept"] = session.execute(text("SELECT count(*) FROM bench_gram")).scalar_one()
        print(f"{variant:<8} CPU {time.process_time() - cpu:6.2f} s  wall {time.perf_counter() - wall:6.2f} s  {per_table}",
              flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
