"""Helpers shared by fixtures and tests."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from chengxin.catalog.model import SubjectKind
from chengxin.core.db import BulkWriter, Database
from chengxin.core.identifiers import make_uscc
from chengxin.ledger.service import lock_head, seal
from chengxin.models import metadata
from chengxin.platform import Platform
from chengxin.search.rules import counted, match_all, name_grams, name_tokens
from chengxin.search.schema import GRAM_COUNT_TABLE, GRAM_TABLE, NAME_FTS_TABLE, NAME_FTS_UPKEEP
from chengxin.subjects.rules import SubjectKey, lookup_index
from chengxin.subjects.service import ensure_subjects

APPEND_ONLY = "'query_log'"  # tables whose triggers refuse UPDATE and DELETE


def empty_all_tables(db: Database) -> None:
    """Empty every table between tests, past the append-only triggers of ``query_log``.

    PostgreSQL: ``session_replication_role = replica`` (local to this transaction) keeps ordinary
    triggers from firing. SQLite: the triggers are dropped and recreated from their own stored SQL
    in the same transaction. Either way the real triggers are in place for the tests
    (tests/api/test_disclosure_api.py checks that they refuse UPDATE and DELETE).
    """
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE of ~50 tables creates ~100 new
            # relation files each time (0.25 s a test, minutes per run); DELETE takes ~3 ms. Sequences are
            # reset as RESTART IDENTITY would.
            # The search index's tables are outside the models (migration 0008) and its triggers are off here.
            conn.execute(text("; ".join(f'DELETE FROM "{t}"' for t in [GRAM_TABLE, GRAM_COUNT_TABLE, *tables])))
            sequences = conn.execute(text(
                "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) FROM information_schema.sequences"
                " WHERE sequence_schema = current_schema()")).scalars().all()
            if sequences:
                conn.execute(text("SELECT " + ", ".join(f"setval('{q}', 1, false)" for q in sequences)))
        else:
            triggers = conn.execute(
                text(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({APPEND_ONLY})")
            ).all()
            for name, _ in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            for _, sql in triggers:
                conn.execute(text(sql))


def add_subjects(platform: Platform, keys: list[SubjectKey]) -> None:
    """Subjects created in one transaction outside any bulk ingest (the name index's triggers index them)."""
    with platform.db.write() as session:
        lock = lock_head(session)
        wanted = {lookup_index(platform.keyring, k.kind.value, k.identifier): k for k in keys}
        ensure_subjects(platform.keyring, lock, wanted, {}, BulkWriter(session))
        seal(session, lock, platform.keyring)


def org(n: int, name: str) -> SubjectKey:
    """An organisation numbered ``n`` (its USCC made from it) named ``name``."""
    return SubjectKey(SubjectKind.ORGANIZATION, make_uscc("9", "1", "320400", f"{n:08d}"), name)


def index_in_sync(platform: Platform) -> None:
    """The name index is exactly what the organisations' names give.

    PostgreSQL: the bigram table and its (sampled) counts. SQLite: the FTS5 table holds one row per
    organisation with exactly its tokens (``search.rules.name_tokens``), its index agrees with those rows
    (FTS5's own integrity check), each organisation is found by all its grams together, and no bulk ingest
    is left deferring."""
    with platform.db.read() as session:
        orgs = session.execute(text("SELECT id, display_name FROM subject WHERE kind = 'organization'")).all()
        if platform.db.dialect == "sqlite":
            rows = {int(i): set((tokens or "").lower().split())
                    for i, tokens in session.execute(text(f"SELECT rowid, grams FROM {NAME_FTS_TABLE}"))}
            expected = {int(i): set(name_tokens(name).split()) for i, name in orgs}
            differ = sorted(k for k in rows.keys() | expected.keys() if rows.get(k) != expected.get(k))
            assert rows == expected, f"tokens differ for subjects {differ[:5]}"
            session.execute(text(f"INSERT INTO {NAME_FTS_TABLE} ({NAME_FTS_TABLE}, rank) VALUES ('integrity-check', 1)"))
            for i, name in orgs:
                grams = name_grams(name)
                if grams:
                    found = session.execute(text(f"SELECT rowid FROM {NAME_FTS_TABLE} WHERE {NAME_FTS_TABLE} MATCH :m "
                                                 "AND rowid = :id"), {"m": match_all(grams), "id": i}).all()
                    assert found, f"organisation {i} ({name!r}) is not found by its grams"
            assert session.execute(text(f"SELECT deferred FROM {NAME_FTS_UPKEEP}")).scalar_one() == 0
            return
        grams = {(g, int(i)) for g, i in session.execute(text(f"SELECT gram, subject_id FROM {GRAM_TABLE}"))}
        counts = {g: int(n) for g, n in session.execute(text(f"SELECT gram, n FROM {GRAM_COUNT_TABLE}")) if n}
    want = {(g, int(i)) for i, name in orgs for g in name_grams(name)}
    assert grams == want, f"missing {sorted(want - grams)[:5]}, stale {sorted(grams - want)[:5]}"
    assert counts == Counter(g for g, i in want if counted(i))


def platform_with(platform: Platform, **settings: object) -> Platform:
    """The same platform (database, keys, catalog) with some settings changed, e.g. a small upload limit."""
    return dataclasses.replace(platform, settings=platform.settings.model_copy(update=settings))


@contextmanager
def served(platform: Platform) -> Iterator[TestClient]:
    """A test client of an app on ``platform`` (for a platform made by :func:`platform_with`)."""
    from chengxin.api.app import create_app

    with TestClient(create_app(platform)) as client:
        yield client


@contextmanager
def uvicorn_server(app: FastAPI, **options: Any) -> Iterator[str]:
    """A real uvicorn server for ``app`` on a free port of 127.0.0.1, in a background thread; yields its base URL.
    ``options``: more of uvicorn's (``chengxin serve``'s proxy options, …)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    config = uvicorn.Config(app=app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
