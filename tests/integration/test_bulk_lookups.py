"""The ingest's batch look-ups (``BulkWriter.select_in``): exactly the rows asked for, and on PostgreSQL an
index probe per key however stale the statistics — a table grown inside the batch's own transaction is never
analysed, and a plan that filtered the whole department per chunk made a 1,000,000-row ingest quadratic."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from chengxin.core.db import BulkWriter, pg_select_in
from chengxin.platform import Platform

ROWS = 20_000


def _fill(session: Session) -> BulkWriter:
    """A fresh table shaped like ``record``'s look-up (department, source id unique), one department's rows."""
    blob = "BYTEA" if session.get_bind().dialect.name == "postgresql" else "BLOB"
    session.execute(text(f"CREATE TEMPORARY TABLE probe (id INTEGER NOT NULL, department_code VARCHAR(64) NOT NULL, "
                         f"source_id VARCHAR(64) NOT NULL, digest {blob} NOT NULL, "
                         "CONSTRAINT uq_probe UNIQUE (department_code, source_id))"))
    writer = BulkWriter(session)
    writer.insert("probe", ("id", "department_code", "source_id", "digest"),
                  [(n, "samr", f"CF-{n:08d}", n.to_bytes(8, "big")) for n in range(ROWS)])
    writer.insert("probe", ("id", "department_code", "source_id", "digest"), [(ROWS, "tax", "CF-00000001", b"t")])
    return writer


def test_select_in_returns_exactly_the_rows_whose_key_is_asked_for(platform: Platform) -> None:
    with platform.db.write() as session:
        writer = _fill(session)
        wanted = ["CF-00000001", "CF-00019999", "nope", "CF-00000001", "CF-00005000"]
        found = {tuple(r) for r in writer.select_in("probe", ("source_id", "id"), "source_id", wanted,
                                                    department_code="samr")}
        assert found == {("CF-00000001", 1), ("CF-00019999", 19999), ("CF-00005000", 5000)}
        # The other department's row of the same source id is not returned; bytes keys work the same way.
        assert [tuple(r) for r in writer.select_in("probe", ("id", "source_id"), "source_id", ["CF-00000001"],
                                                   department_code="tax")] == [(ROWS, "CF-00000001")]
        by_digest = writer.select_in("probe", ("id",), "digest", [(7).to_bytes(8, "big"), b"none", b"t"])
        assert sorted(r[0] for r in by_digest) == [7, ROWS]
        many = [f"CF-{n:08d}" for n in range(0, ROWS, 3)]  # more keys than SQLite's slice of 900
        assert sorted(r[0] for r in writer.select_in("probe", ("id",), "source_id", many, department_code="samr")) \
            == list(range(0, ROWS, 3))
        assert list(writer.select_in("probe", ("id",), "source_id", [], department_code="samr")) == []
        session.rollback()


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", ()) for node in _nodes(child))]


@pytest.mark.postgresql_only
def test_postgresql_probes_the_unique_index_once_per_key_on_an_unanalysed_table(platform: Platform) -> None:
    with platform.db.write() as session:
        _fill(session)
        raw = session.connection().connection.driver_connection
        assert raw is not None
        keys = [f"CF-{n:08d}" for n in range(ROWS, ROWS + 5000)]  # a new chunk: none of them there yet
        with raw.cursor() as cur:
            cur.execute("EXPLAIN (FORMAT JSON) " + pg_select_in("probe", ("source_id", "id"), "source_id", str,
                                                                ("department_code",)), (keys, "samr"))
            plan = cur.fetchone()[0]
        plan = plan if isinstance(plan, list) else json.loads(plan)
        nodes = _nodes(plan[0]["Plan"])
        scans = [n for n in nodes if n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan",
                                                         "Seq Scan", "Bitmap Heap Scan")]
        assert [n["Node Type"] for n in scans] == ["Index Scan"], nodes
        assert "source_id" in scans[0]["Index Cond"] and "department_code" in scans[0]["Index Cond"], scans[0]
        assert "Filter" not in scans[0], scans[0]
        session.rollback()
