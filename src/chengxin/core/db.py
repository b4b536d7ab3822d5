"""Database engine, sessions and the declarative base — one code path for SQLite and PostgreSQL.

SQLite pitfalls handled here (research/python-ecosystem.md §4.1–4.2):
- WAL, busy_timeout, synchronous=NORMAL and foreign_keys=ON on every connection;
- pysqlite's own BEGIN handling is switched off and we emit BEGIN ourselves, so SAVEPOINTs
  work and write transactions can take the write lock up front (``BEGIN IMMEDIATE``): a
  deferred transaction that upgrades to a writer fails with SQLITE_BUSY without waiting.
Reads and writes have separate session factories (read replicas later, DESIGN.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from psycopg.adapt import Dumper
from psycopg.postgres import types as pg_types
from psycopg.pq import Format
from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Engine, Integer, MetaData, Table, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from chengxin.core.settings import get_settings

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit keys on PostgreSQL (a city has millions of records); SQLite's INTEGER PRIMARY KEY is the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")
# A document written once and always read whole (a record version's fields): PostgreSQL's ``json`` keeps the
# text as written — checked, not converted; ``jsonb``'s conversion was a tenth of the server's work per
# ingested row (bench/RESULTS.md, ingest, session 11) — and so holds the very bytes the ledger chains.
JsonText = JSON()


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both engines (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


SQLITE_CACHE_KIB = 65_536  # every SQLite connection's page cache (KiB)
# A bulk batch's connection while it writes (BulkWriter.begin_bulk_write): a long write transaction spills its
# dirty pages into the WAL, and every page it then misses in its cache is looked for in the WAL's index, whose
# cost grows with the WAL (sqlite3WalFindFrame: 18% of the insert thread's SQLite time in a 1,000,000-row
# ingest). Twice the cache keeps the indexes' random pages (subject, record → subject) in memory: the insert
# thread 44.4 → 39.1–39.7 s of CPU, peak RSS 321 → 389–391 MB (bench/RESULTS.md, ingest, session 21).
SQLITE_BULK_CACHE_KIB = 131_072
# SQLite's own auto-checkpoint threshold (pages of WAL), which a bulk batch's commit skips (begin_bulk_write).
SQLITE_AUTOCHECKPOINT_PAGES = 1000
_BULK_WAL = "chengxin_bulk_wal"  # a pooled connection's info flag: its auto-checkpoint is off until checked in


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        # A bulk batch's connection (BulkWriter.begin_bulk_write) committed without checkpointing; back in the
        # pool it checkpoints as every connection does.
        if record is not None and record.info.pop(_BULK_WAL, False) and dbapi_connection is not None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


PING_AFTER_IDLE_SECONDS = 10.0


def _install_idle_ping(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled PostgreSQL connection at checkout only if it sat idle ``idle_seconds`` or more.

    ``pool_pre_ping`` pings at every checkout: a round trip per request, and under load each round trip also
    waits for the GIL and for the server process to be scheduled (bench/RESULTS.md, "Subject file over HTTP",
    session 6). A connection that was in use a moment ago is alive; the ones a server restart or an idle
    timeout killed are the ones that sat in the pool. A failed ping makes the pool discard the connection and
    hand out another (SQLAlchemy's ``DisconnectionError`` protocol); a connection that dies in the window is
    caught by SQLAlchemy's disconnect handling on its first statement (that request fails, the pool is reset).
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # new, or in use moments ago
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()  # leave it outside any transaction, as the pool handed it in
        except Exception as exc:
            raise sa_exc.DisconnectionError("idle connection is gone") from exc


def make_engine(url: str | None = None, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: settings), with the per-engine fixes applied. PostgreSQL: pooled
    connections idle ``ping_after_idle`` seconds or more are pinged at checkout (unless ``pool_pre_ping``
    is given: then SQLAlchemy's own ping, every checkout, or none)."""
    url = url or get_settings().database_url
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 60, "check_same_thread": False})
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, **kwargs)
        _install_sqlite_hooks(engine)
        return engine
    # uvicorn runs sync endpoints in a pool of 40 threads: size the pool to match.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    own_ping = "pool_pre_ping" not in kwargs
    engine = create_engine(url, **kwargs)
    if own_ping:
        _install_idle_ping(engine, ping_after_idle)
    return engine


def write_engine(engine: Engine) -> Engine:
    """The same pool, but transactions take SQLite's write lock at BEGIN (no-op on PostgreSQL)."""
    return engine.execution_options(sqlite_begin="IMMEDIATE")


class Database:
    """An engine plus its read and write session factories."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writer = write_engine(engine)
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        # PostgreSQL reads outside a transaction: no BEGIN and ROLLBACK round trips (see read()).
        self._read_statements = (
            sessionmaker(bind=engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
            if engine.dialect.name == "postgresql" else self._read
        )
        self._write = sessionmaker(bind=self.writer, expire_on_commit=False)
        from chengxin.core.group_commit import GroupCommitter  # it needs Database's type only

        self._grouped = GroupCommitter(self)
        self._checkpointer: WalCheckpointer | None = None
        self._appends: dict[str, _Append] = {}
        self._append_lock = threading.Lock()
        self._append_connection: Any = None  # SQLite: the connection append_async commits on (made on first use)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self, *, snapshot: bool = True) -> Iterator[Session]:
        """A session for reads; closed (its transaction ended) at the end, objects stay readable.

        ``snapshot=False``: no transaction around the statements on PostgreSQL (autocommit) — each statement
        sees what is committed when it runs, and the BEGIN and ROLLBACK round trips are saved. For hot reads
        whose statements need no common snapshot (a credit file: the subject, then its records). SQLite keeps
        its transaction (in process, it costs no round trip)."""
        with (self._read() if snapshot else self._read_statements()) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One use case, one transaction: committed on success, rolled back on any error."""
        with self._write() as session, session.begin():
            yield session

    def checkpoint(self) -> None:
        """SQLite: copy what the write-ahead log holds into the database file now (passive: waits for no reader or
        writer), e.g. after a bulk batch whose commit skipped it (``BulkWriter.begin_bulk_write``); PostgreSQL:
        nothing."""
        if self.dialect != "sqlite":
            return
        raw = self.engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.fetchall()
            cursor.close()
        finally:
            raw.close()

    def checkpoint_in_background(self, interval: float) -> None:
        """SQLite: checkpoint the write-ahead log every ``interval`` seconds from a daemon thread (see
        :class:`WalCheckpointer`); nothing on PostgreSQL or with ``interval`` 0."""
        if self.dialect != "sqlite" or not interval:
            return
        if self._checkpointer is None:
            self._checkpointer = WalCheckpointer(self.engine, interval)
            self._checkpointer.start()

    def write_grouped(self, unit: Callable[[Session], T]) -> T:
        """Run a small write ``unit`` in a transaction and return once it is committed — for per-request log
        rows on hot paths. SQLite: through the group commit (``core.group_commit``): one writer at a time, so
        concurrent units share one transaction. PostgreSQL: in the caller's own transaction and thread — the
        server already lets concurrent commits share a WAL flush, and the hand-off to a writer thread cost more
        than it saved (100 government reads/s in one process: p99 16–18 → 8–10 ms; bench/RESULTS.md, session 6)."""
        if self.dialect == "postgresql":
            with self.write() as session:
                return unit(session)
        return self._grouped.run(unit)

    async def append_async(self, table: Table, values: dict[str, Any]) -> None:
        """Append one row to an append-only log ``table`` (every column but the key given) and return once it
        is committed — the government read's query-log row, on the event loop (bench/RESULTS.md, session 7).

        Through SQLAlchemy's Session a one-row transaction cost ~0.3 ms of Python on SQLite (~0.5 ms and
        three round trips on PostgreSQL) and, on SQLite, two thread hand-offs to the group commit: a fifth of a
        core at 200 reads/s and ~10 ms of the read's p99. Here the row is adapted by the columns' own types
        and written on the driver connection. SQLite: in a transaction of its own on a connection kept for
        this (``BEGIN IMMEDIATE``, insert, ``COMMIT``: ~30 µs) when the write lock is free at once — that
        connection never waits for the lock and never checkpoints; when another writer holds the lock (an
        ingest, the other worker's commit) the row goes to the group commit and the loop awaits it, free for
        other requests. PostgreSQL: one autocommit ``INSERT``, one round trip.
        """
        append = self._appends.get(table.name)
        if append is None:
            append = self._appends[table.name] = _Append(table, self.engine.dialect)
        row = append.row(values)
        if self.dialect == "postgresql":
            raw = self.engine.raw_connection()
            try:
                driver = raw.driver_connection
                assert driver is not None
                driver.autocommit = True  # one statement: committed when it returns
                try:
                    driver.execute(append.sql, row)
                finally:
                    driver.autocommit = False
            finally:
                raw.close()
            return
        if self._append_now(append, row):
            return
        await asyncio.wrap_future(self._grouped.submit(
            lambda session: session.connection().exec_driver_sql(append.sql, row)))

    def _append_now(self, append: _Append, row: tuple[Any, ...]) -> bool:
        """SQLite: the row committed on this thread if the write lock was free; False (nothing done) if not."""
        if not self._append_lock.acquire(blocking=False):
            return False
        try:
            if self._append_connection is None:
                raw = self.engine.raw_connection()  # opened with the engine's pragmas (WAL, synchronous)
                driver = raw.driver_connection
                assert driver is not None
                raw.detach()  # kept for appends, never handed to a session
                driver.execute("PRAGMA busy_timeout=0")  # busy: fall back to the group commit, never wait here
                driver.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints belong to the WalCheckpointer
                self._append_connection = driver
            driver = self._append_connection
            try:
                driver.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # the write lock is taken ("database is locked")
                return False
            try:
                driver.execute(append.sql, row)
                driver.execute("COMMIT")
            except BaseException:
                driver.execute("ROLLBACK")
                raise
            return True
        finally:
            self._append_lock.release()


class _Append:
    """The INSERT of one append-only table for one dialect, and its columns' bind processors (the types' own
    conversions: UTC datetimes, JSON), so a row goes to the driver exactly as SQLAlchemy would send it."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        columns = [c for c in table.columns if not c.primary_key]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.names = [c.name for c in columns]
        self.sql = f"INSERT INTO {table.name} ({', '.join(self.names)}) VALUES ({', '.join([mark] * len(columns))})"
        self.processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        missing = set(self.names) - values.keys()
        if missing:
            raise ValueError(f"append needs every column: missing {sorted(missing)}")
        return tuple(values[name] if process is None else process(values[name])
                     for name, process in zip(self.names, self.processors, strict=True))


_log = logging.getLogger(__name__)


class WalCheckpointer:
    """SQLite in WAL mode: a daemon thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval`` seconds.

    Why: SQLite checkpoints on its own once the log passes 1,000 pages, inside whichever commit crossed the
    line. Served, that commit is a request's — a government read's query-log row — and every read waiting on
    that group commit waits for the pages to be copied into the database file and synced: clusters of slow
    reads every few seconds at 200 reads/s (bench/RESULTS.md, "Subject file over HTTP", session 6). A passive
    checkpoint blocks neither readers nor writers and runs without the GIL; checkpointed this often the log
    never reaches the auto-checkpoint threshold, which stays as the backstop if this thread falls behind.
    """

    def __init__(self, engine: Engine, interval: float) -> None:
        self._engine = engine
        self._interval = interval
        self.checkpoints = 0  # completed, for tests and diagnostics

    def start(self) -> None:
        threading.Thread(target=self._run, name="chengxin-wal-checkpoint", daemon=True).start()

    def _run(self) -> None:
        connection = self._engine.raw_connection()  # its own, outside the pool's accounting for requests
        try:
            while True:
                time.sleep(self._interval)
                try:
                    cursor = connection.cursor()
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    cursor.fetchall()
                    cursor.close()
                    self.checkpoints += 1
                except Exception:  # a failed checkpoint is retried next time; SQLite's own stays the backstop
                    _log.exception("WAL checkpoint failed")
        finally:
            connection.close()


@lru_cache(maxsize=4)
def get_database(url: str | None = None) -> Database:
    return Database(make_engine(url))


# -- bulk paths ---------------------------------------------------------------------------------
# The ingest writes hundreds of thousands of rows a minute: it bypasses the ORM and SQLAlchemy's
# per-row parameter processing, and hands the driver rows already in the form the column stores
# (SQLite: executemany of text/blob values; PostgreSQL: COPY).


def one_of_ids(dialect: str, column: str, ids: Iterable[int]) -> tuple[str, dict[str, str]]:
    """SQL for "``column`` is one of ``ids``" and its one bound parameter ``:ids`` — a PostgreSQL array literal
    or a JSON array read by SQLite's ``json_each``: one statement and one parameter for any number of ids. A
    bound parameter per id (``IN (…)`` in slices of 900) cost ~8 µs an id in SQLAlchemy's and psycopg's
    statement rendering — a tenth of a large ingest's writing CPU on PostgreSQL (bench/RESULTS.md, session 8)."""
    joined = ",".join(str(int(i)) for i in ids)
    if dialect == "postgresql":
        return f"{column} = ANY(CAST(:ids AS BIGINT[]))", {"ids": "{" + joined + "}"}
    return f"{column} IN (SELECT value FROM json_each(:ids))", {"ids": "[" + joined + "]"}


_PG_ARRAY_OF: dict[type, str] = {str: "text[]", bytes: "bytea[]", int: "bigint[]"}


def pg_select_in(table: str, columns: tuple[str, ...], key: str, key_type: type, equals: tuple[str, ...]) -> str:
    """PostgreSQL text of :meth:`BulkWriter.select_in` (parameters: the array of keys, then ``equals``' values).

    The array goes in binary (``%b``): psycopg renders a list as a text array literal in Python, element by
    element, and escapes bytea as hex — 2.7 µs per 32-byte blind index against 0.2 in binary (session 11)."""
    where = " AND ".join([f"{k} = %s" for k in equals] + [f"{key} = wanted.value"])
    return (f"SELECT found.* FROM unnest(CAST(%b AS {_PG_ARRAY_OF[key_type]})) AS wanted(value) CROSS JOIN LATERAL "
            f"(SELECT {', '.join(columns)} FROM {table} WHERE {where} LIMIT 1) AS found")


class _JsonTextDumper(Dumper):
    """JSON already serialised (``str`` or UTF-8 ``bytes``), as a ``json`` value of a binary COPY: its text as it is.
    Registered by type oid only (what ``Copy.set_types`` looks up), so psycopg's own JSON dumpers, which would
    serialise a ``str`` once more as a JSON string, never see it."""

    oid = pg_types["json"].oid
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return obj.encode() if isinstance(obj, str) else bytes(obj)


class _JsonbTextDumper(_JsonTextDumper):
    """The same for ``jsonb``, whose binary form is a version byte (1) and the text."""

    oid = pg_types["jsonb"].oid

    def dump(self, obj: Any) -> bytes:
        return b"\x01" + super().dump(obj)


class BulkWriter:
    """Writes pre-adapted rows into one table, in the current transaction of ``session``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self._widened: Any = None  # SQLite: the driver connection whose page cache begin_bulk_write widened
        if self.dialect == "postgresql":
            # The batch's own look-ups (subjects, prior versions: thousands of keys at a time) run
            # while the tables grow inside this transaction, unanalysed; the planner would then
            # prefer a sequential scan per chunk and the ingest would turn quadratic.
            session.execute(text("SET LOCAL enable_seqscan = off"))

    def begin_bulk_write(self) -> None:
        """SQLite: set this connection up for one large write transaction, until :meth:`end_bulk_write`; PostgreSQL:
        nothing (the server's buffers and checkpoints are its own).

        - The bulk page cache (``SQLITE_BULK_CACHE_KIB``): fewer of the indexes' pages missed and looked for in a
          WAL as long as the batch (see the constant).
        - No auto-checkpoint at the commit: copying a 1,000,000-row batch's WAL (~1.3 GB) into the database file
          took 9 of the commit's 11 s (bench/RESULTS.md, ingest, session 21), and the receipt waited for it. The
          commit is whole without it — a checkpoint only moves committed pages — so it is left to the server's
          background checkpointer (``WalCheckpointer``), the CLI (:meth:`Database.checkpoint`, after the receipt)
          or the next commit on another connection. The connection checkpoints again once it is back in the pool
          (the ``checkin`` hook)."""
        if self.dialect == "sqlite":
            pooled = self.session.connection().connection
            self._widened = pooled.driver_connection
            self._widened.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
            self._widened.execute("PRAGMA wal_autocheckpoint=0")
            pooled.info[_BULK_WAL] = True

    def end_bulk_write(self) -> None:
        """SQLite: the connection's cache back to every connection's size (pages over it are freed as the transaction
        lets them go); its auto-checkpoint stays off through the commit. On the driver's connection itself: it
        works after a failed statement too, where the session refuses every statement until it is rolled back."""
        widened, self._widened = self._widened, None
        if widened is not None:
            widened.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    def date(self, value: dt.date | None) -> Any:
        return value.isoformat() if value is not None and self.dialect == "sqlite" else value

    def datetime(self, value: dt.datetime | None) -> Any:
        """``value`` in the form :meth:`insert` hands to the database: SQLAlchemy's SQLite storage format (naive UTC
        text, see UtcDateTime) or, on PostgreSQL, the aware ``datetime`` itself (binary COPY writes its 8 bytes in
        C; parsing ISO text was part of the server's input cost, session 20). A batch repeats one time on every row:
        convert it once."""
        if value is None:
            return None
        if self.dialect == "sqlite":
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value.astimezone(dt.UTC)

    def select_in(
        self, table: str, columns: tuple[str, ...], key: str, values: list[Any], **equals: Any
    ) -> Iterator[Any]:
        """Rows of ``table`` whose ``key`` is one of ``values`` (and whose ``equals`` columns match); ``key`` and
        ``equals`` together must name at most one row (a unique index on them).

        PostgreSQL: one query over the array of values, each looked up by itself (``LATERAL … LIMIT 1``: an
        index probe per value whatever the statistics say — with ``key = ANY(array)`` a table grown inside
        this transaction, unanalysed, got a plan that scanned every row of the department per chunk, so a
        1,000,000-row ingest turned quadratic); SQLite: ``IN (?, …)`` in slices under its bound-parameter limit.
        """
        if not values:
            return
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            with raw.cursor() as cur:
                cur.execute(pg_select_in(table, columns, key, type(values[0]), tuple(equals)),
                            (values, *equals.values()), prepare=False)
                yield from cur.fetchall()
            return
        for start in range(0, len(values), 900):
            part = values[start : start + 900]
            where = " AND ".join([f"{k} = ?" for k in equals] + [f"{key} IN ({', '.join('?' * len(part))})"])
            cur = raw.cursor()
            try:
                cur.execute(f"SELECT {names} FROM {table} WHERE {where}", (*equals.values(), *part))
                yield from cur.fetchall()
            finally:
                cur.close()

    def _column_types(self, table: str, columns: tuple[str, ...]) -> list[int]:
        """PostgreSQL: the type oids of ``columns`` of ``table`` (a binary COPY must send each value in its column's
        exact type), read from the catalog once per pooled connection — the check log makes a writer per flush,
        and a query per table each time would add round trips to its writer thread. Only a migration changes a
        column's type, and a value sent in the old type then fails the COPY loudly."""
        pooled = self.session.connection().connection
        known: dict[tuple[str, tuple[str, ...]], list[int]] = pooled.info.setdefault("chengxin_column_types", {})
        types = known.get((table, columns))
        if types is None:
            raw = pooled.driver_connection
            assert raw is not None
            with raw.cursor() as cur:
                cur.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = CAST(%s AS regclass) "
                            "AND attnum > 0 AND NOT attisdropped", (table,))
                oids = dict(cur.fetchall())
            types = known[table, columns] = [int(oids[column]) for column in columns]
        return types

    def copy_csv(self, table: str, columns: tuple[str, ...], data: bytes, chunk: int = 1 << 20) -> None:
        """PostgreSQL only: ``COPY … FROM STDIN (FORMAT csv)`` of text already rendered in bulk (e.g. by
        polars' ``write_csv``): no Python object per value, where :meth:`insert` adapts every row."""
        if self.dialect != "postgresql":
            raise ValueError("copy_csv is for PostgreSQL; use insert")
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
            for start in range(0, len(data), chunk):
                copy.write(data[start : start + chunk])

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], *,
               utf8: tuple[str, ...] = ()) -> None:
        """Append ``rows`` (values in ``columns`` order) to ``table``.

        Values are in the column's own Python type (``int``, ``str``, ``bytes``, ``date``, :meth:`date` and
        :meth:`datetime` for the dialect), except that JSON columns take their text already serialised, as
        ``str`` or UTF-8 ``bytes``. Columns named in ``utf8`` hold such bytes on SQLite, which stores them as
        text itself (``CAST(? AS TEXT)``): decoding them to ``str`` in Python only for the driver to encode them
        again cost ~1.7 µs a row (bench/RESULTS.md, session 10).

        PostgreSQL: ``COPY … (FORMAT binary)`` with the columns' types from the catalog. The server reads
        lengths and fixed-size values instead of scanning text for delimiters and escapes and parsing numbers,
        dates and times: for a 1,000,000-row ingest's versions ~3 s less server CPU and ~2 s less client CPU
        than text COPY (bench/RESULTS.md, session 20)."""
        if not rows:
            return
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            types = self._column_types(table, columns)
            with raw.cursor() as cur:
                cur.adapters.register_dumper(None, _JsonTextDumper)
                cur.adapters.register_dumper(None, _JsonbTextDumper)
                with cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT binary)") as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("CAST(? AS TEXT)" if column in utf8 else "?" for column in columns)
            cur = raw.cursor()
            try:
                cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            finally:
                cur.close()
