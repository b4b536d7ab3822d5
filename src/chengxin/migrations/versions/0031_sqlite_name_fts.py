"""SQLite: the name grams in an FTS5 table instead of a B-tree of (gram, subject id) (issue #2, ingest speed)

Revision ID: 0031
Revises: 0030

The grams stay what 0008 defined (``chengxin.search.rules.name_grams``: every two adjacent characters of the
folded name and its last character alone); SQLite now keeps them in ``subject_name_fts``, an FTS5 table whose
one column holds a name's grams and each character of its folded name as tokens — their UTF-8 bytes in hex
(``search.rules.gram_token``), so that FTS5's ``ascii`` tokenizer splits them exactly at the spaces between
them. The characters let a one-character query read one list (a prefix query merged the lists of every bigram
starting with it). ``detail=none`` and ``columnsize=0``: a token only says *which* names hold it, as the
B-tree did.

Why: 0008's row triggers cost ~110 µs of CPU per new organisation on SQLite — the recursive CTE that cuts the
name into grams (~45 µs) and ~16 inserts all over ``subject_name_gram`` and its counts — 12–14 s of a
1,000,000-row ingest (bench/RESULTS.md, ingest, session 16). FTS5 collects a transaction's tokens in memory and
writes them as sorted segments; with the grams made in Python by the ingest (``BulkNameIndex``) an organisation
costs ~20 µs. The search needs no counts any more: FTS5 intersects the bigrams' lists itself, seeking in the
long ones.

- ``subject_name_fts_upkeep (deferred)``: one row. A bulk ingest sets it to 1 inside its transaction and writes
  the grams of its new organisations itself, then sets it back to 0 before it commits — the SQLite form of
  PostgreSQL's ``SET LOCAL chengxin.grams_deferred`` (0027). Nobody else ever sees it at 1.
- Triggers in plain SQL (the database stays writable from ``sqlite3``): insert (unless deferred), delete, and
  update of id, kind or name. The table keeps its content (the token text), so a delete or rename removes
  exactly the tokens that were indexed, whoever computed them.

PostgreSQL: nothing changes (its grams are a B-tree with a ``"C"`` collation, written in bulk by COPY).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

ORG = "'organization'"
FTS = "subject_name_fts"
UPKEEP = "subject_name_fts_upkeep"


# 0008's fold and gram expressions, copied on purpose: a migration keeps its own text.
def _fold_char(c: str) -> str:
    """The folded form of the one-character (or empty) text ``c``."""
    return (f"CASE WHEN unicode({c}) BETWEEN 65 AND 90 THEN char(unicode({c}) + 32) "
            f"WHEN unicode({c}) BETWEEN 65313 AND 65338 THEN char(unicode({c}) - 65216) "
            f"WHEN unicode({c}) BETWEEN 65281 AND 65374 THEN char(unicode({c}) - 65248) "
            f"WHEN unicode({c}) = 12288 THEN ' ' ELSE {c} END")


_FOLDED_CHARS = "[A-Z\u3000\uff01-\uff5e]"  # a name with none of these is its own folded form


def _tokens(name: str) -> str:
    """A scalar subquery: the grams and the folded characters of the text expression ``name`` as FTS tokens,
    space-separated (NULL for an empty name). Equal, as a set, to ``search.rules.name_tokens``
    (tests/integration/test_name_fts.py)."""
    char = f"CASE WHEN folds THEN {_fold_char(f'substr({name}, n, 1)')} ELSE substr({name}, n, 1) END"
    gram = (f"CASE WHEN folds THEN {_fold_char(f'substr({name}, n, 1)')} || {_fold_char(f'substr({name}, n + 1, 1)')} "
            f"ELSE substr({name}, n, 2) END")
    return (f"(SELECT group_concat(hex({gram}) || ' ' || hex({char}), ' ') FROM ("
            f"WITH RECURSIVE pos(n, folds) AS (SELECT 1, {name} GLOB '*{_FOLDED_CHARS}*' "
            f"UNION ALL SELECT n + 1, folds FROM pos WHERE n < length({name})) "
            f"SELECT n, folds FROM pos WHERE n <= length({name})))")


SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(grams, tokenize = 'ascii', detail = 'none', columnsize = 0)",
    f"CREATE TABLE {UPKEEP} (deferred INTEGER NOT NULL)",
    f"INSERT INTO {UPKEEP} (deferred) VALUES (0)",
    f"""CREATE TRIGGER {FTS}_ai AFTER INSERT ON subject
        WHEN new.kind = {ORG} AND (SELECT deferred FROM {UPKEEP}) = 0 BEGIN
          INSERT INTO {FTS} (rowid, grams) VALUES (new.id, {_tokens('new.display_name')});
        END""",
    f"""CREATE TRIGGER {FTS}_ad AFTER DELETE ON subject WHEN old.kind = {ORG} BEGIN
          DELETE FROM {FTS} WHERE rowid = old.id;
        END""",
    f"""CREATE TRIGGER {FTS}_au AFTER UPDATE OF id, kind, display_name ON subject
        WHEN old.kind = {ORG} OR new.kind = {ORG} BEGIN
          DELETE FROM {FTS} WHERE rowid = old.id;
          INSERT INTO {FTS} (rowid, grams) SELECT new.id, {_tokens('new.display_name')} WHERE new.kind = {ORG};
        END""",
    f"INSERT INTO {FTS} (rowid, grams) SELECT id, {_tokens('display_name')} FROM subject WHERE kind = {ORG} ORDER BY id",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {FTS}_au",
    f"DROP TRIGGER IF EXISTS {FTS}_ad",
    f"DROP TRIGGER IF EXISTS {FTS}_ai",
    f"DROP TABLE IF EXISTS {UPKEEP}",
    f"DROP TABLE IF EXISTS {FTS}",
]


def _search_speed() -> object:
    """Migration 0008 (whose SQLite statements this one undoes and redoes; a past migration never changes)."""
    path = next(Path(__file__).parent.glob("0008_*.py"))
    spec = importlib.util.spec_from_file_location("chengxin_migration_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in _search_speed().SQLITE_DOWN:  # type: ignore[attr-defined]
        op.execute(statement)
    for statement in SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in SQLITE_DOWN:
        op.execute(statement)
    for statement in _search_speed().SQLITE_UP:  # type: ignore[attr-defined]
        op.execute(statement)
