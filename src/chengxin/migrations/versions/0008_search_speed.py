"""search speed: a bigram index of organisations' names, the same on both engines (issue #3, p99 < 50 ms)

Revision ID: 0008
Revises: 0007

``subject_name_gram (gram, subject_id)``, primary key ``(gram, subject_id)``: for every organisation,
each pair of adjacent characters of its folded name, and its folded last character alone (a name of n
characters has n grams, fewer when some repeat). Folding is ``chengxin.search.rules.fold``: full-width
ASCII forms (U+FF01–U+FF5E) to ASCII, the ideographic space to a space, ASCII upper case to lower
case; every other character is kept. A gram's posting list is a range of the primary key in
``subject_id`` order: the search reads it in order and stops when it has enough (no bitmap of every
match is built first, as a GIN or FTS index does).

``subject_name_gram_count (gram, n)``: in how many names each gram occurs — counted over a fixed
one-in-eight sample of organisations (by a hash of the id), which is all the search needs to pick the
rarest bigram of a query, at an eighth of the upkeep.

Both kept in sync by triggers in plain SQL (no application function: the database stays writable
from ``sqlite3`` or ``psql``). SQLite: row triggers on INSERT, DELETE and UPDATE OF id, kind,
display_name. PostgreSQL: SQL functions ``subject_name_fold`` / ``subject_name_grams``; a statement
trigger on INSERT with a transition table (an ingest's ``COPY`` of thousands of subjects costs one
set-based INSERT), row triggers on DELETE and UPDATE, and a TRUNCATE trigger enabled ALWAYS (it also
fires under ``session_replication_role = replica``, as ``TRUNCATE … CASCADE`` done that way would
otherwise leave the index of subjects that no longer exist).

The substring indexes of 0004 — SQLite's FTS5 trigram table ``subject_fts`` with its triggers, and
PostgreSQL's GIN trigram index ``ix_subject_name_trgm`` — are dropped: the bigram index answers
every query length; the downgrade rebuilds them.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ORG = "'organization'"
GRAM = "subject_name_gram"
COUNT = "subject_name_gram_count"


def _counted(subject_id: str) -> str:
    """Whether a subject is in the sample the gram counts are kept over (one in eight, by a hash of the
    id: ids are dense but organisations may hold every other one). Same as ``chengxin.search.rules.counted``."""
    return f"((({subject_id} * 40503) >> 8) & 7) = 0"


# -- SQLite --------------------------------------------------------------------------------------------


def _fold_char(c: str) -> str:
    """SQLite: the folded form of the one-character (or empty) text ``c``."""
    return (f"CASE WHEN unicode({c}) BETWEEN 65 AND 90 THEN char(unicode({c}) + 32) "
            f"WHEN unicode({c}) BETWEEN 65313 AND 65338 THEN char(unicode({c}) - 65216) "
            f"WHEN unicode({c}) BETWEEN 65281 AND 65374 THEN char(unicode({c}) - 65248) "
            f"WHEN unicode({c}) = 12288 THEN ' ' ELSE {c} END")


# A name with none of the characters folding changes (most names): its grams are plain substrings.
_FOLDED_CHARS = "[A-Z\u3000\uff01-\uff5e]"


def _gram_sqlite(name: str, n: str, folds: str) -> str:
    """SQLite: the gram of ``name`` at position ``n`` (``folds``: whether the name needs folding at all)."""
    return (f"CASE WHEN {folds} THEN {_fold_char(f'substr({name}, {n}, 1)')} || {_fold_char(f'substr({name}, {n} + 1, 1)')} "
            f"ELSE substr({name}, {n}, 2) END")


def _grams_sqlite(name: str) -> str:
    """SQLite: a SELECT of the grams of the text expression ``name`` (one column ``gram``); whether
    the name needs folding at all is decided once, in the anchor row."""
    return (f"WITH RECURSIVE pos(n, folds) AS (SELECT 1, {name} GLOB '*{_FOLDED_CHARS}*' "
            f"UNION ALL SELECT n + 1, folds FROM pos WHERE n < length({name})) "
            f"SELECT {_gram_sqlite(name, 'n', 'folds')} AS gram FROM pos WHERE n <= length({name})")


def _grams_of(name: str) -> str:
    return f"SELECT gram FROM ({_grams_sqlite(name)})"


def _add_grams(when: str = "") -> str:
    """SQLite trigger statement: index the grams of ``new`` (``when``: an extra condition)."""
    return (f"INSERT OR IGNORE INTO {GRAM} (gram, subject_id) SELECT gram, new.id "
            f"FROM ({_grams_sqlite('new.display_name')}) WHERE true{when};")


def _remove_grams(when: str = "") -> str:
    return f"DELETE FROM {GRAM} WHERE subject_id = old.id AND gram IN ({_grams_of('old.display_name')}){when};"


def _count_grams(when: str = "") -> str:
    return (f"INSERT INTO {COUNT} (gram, n) SELECT DISTINCT gram, 1 FROM ({_grams_sqlite('new.display_name')}) "
            f"WHERE true{when} ON CONFLICT (gram) DO UPDATE SET n = n + 1;")


def _uncount_grams(when: str = "") -> str:
    return f"UPDATE {COUNT} SET n = n - 1 WHERE gram IN ({_grams_of('old.display_name')}){when};"


_OLD_ORG, _NEW_ORG = f"old.kind = {ORG}", f"new.kind = {ORG}"
_OLD_COUNTED, _NEW_COUNTED = f"{_OLD_ORG} AND {_counted('old.id')}", f"{_NEW_ORG} AND {_counted('new.id')}"
_RENAME = "AFTER UPDATE OF id, kind, display_name ON subject"

SQLITE_UP = [
    f"CREATE TABLE {GRAM} (gram TEXT NOT NULL, subject_id INTEGER NOT NULL, "
    f"CONSTRAINT pk_{GRAM} PRIMARY KEY (gram, subject_id)) WITHOUT ROWID",
    f"CREATE TABLE {COUNT} (gram TEXT NOT NULL, n INTEGER NOT NULL, CONSTRAINT pk_{COUNT} PRIMARY KEY (gram)) "
    "WITHOUT ROWID",
    f"CREATE TRIGGER {GRAM}_ai AFTER INSERT ON subject WHEN {_NEW_ORG} BEGIN {_add_grams()} END",
    f"CREATE TRIGGER {GRAM}_ad AFTER DELETE ON subject WHEN {_OLD_ORG} BEGIN {_remove_grams()} END",
    f"""CREATE TRIGGER {GRAM}_au {_RENAME} WHEN {_OLD_ORG} OR {_NEW_ORG} BEGIN
          {_remove_grams(f" AND {_OLD_ORG}")}
          {_add_grams(f" AND {_NEW_ORG}")}
        END""",
    # The counts in triggers of their own: most inserted organisations are not in the sample.
    f"CREATE TRIGGER {COUNT}_ai AFTER INSERT ON subject WHEN {_NEW_COUNTED} BEGIN {_count_grams()} END",
    f"CREATE TRIGGER {COUNT}_ad AFTER DELETE ON subject WHEN {_OLD_COUNTED} BEGIN {_uncount_grams()} END",
    f"""CREATE TRIGGER {COUNT}_au {_RENAME} WHEN ({_OLD_COUNTED}) OR ({_NEW_COUNTED}) BEGIN
          {_uncount_grams(f" AND {_OLD_COUNTED}")}
          {_count_grams(f" AND {_NEW_COUNTED}")}
        END""",
    # Existing organisations, in key order (a sorted build of the B-tree), then their counts.
    f"""INSERT OR IGNORE INTO {GRAM} (gram, subject_id)
        WITH RECURSIVE pos(n) AS (
          SELECT 1 UNION ALL SELECT n + 1 FROM pos
          WHERE n < (SELECT max(length(display_name)) FROM subject WHERE kind = {ORG}))
        SELECT {_gram_sqlite('s.display_name', 'pos.n', f"s.display_name GLOB '*{_FOLDED_CHARS}*'")}, s.id
        FROM subject s JOIN pos ON pos.n <= length(s.display_name) WHERE s.kind = {ORG} ORDER BY 1, 2""",
    f"INSERT INTO {COUNT} (gram, n) SELECT gram, count(*) FROM {GRAM} WHERE {_counted('subject_id')} GROUP BY gram",
]
SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {COUNT}_au",
    f"DROP TRIGGER IF EXISTS {COUNT}_ad",
    f"DROP TRIGGER IF EXISTS {COUNT}_ai",
    f"DROP TRIGGER IF EXISTS {GRAM}_au",
    f"DROP TRIGGER IF EXISTS {GRAM}_ad",
    f"DROP TRIGGER IF EXISTS {GRAM}_ai",
    f"DROP TABLE IF EXISTS {COUNT}",
    f"DROP TABLE IF EXISTS {GRAM}",
]

# 0004's FTS5 trigram table, dropped here and rebuilt on downgrade (the same statements as 0004).
FTS_DROP = [
    "DROP TRIGGER IF EXISTS subject_fts_au",
    "DROP TRIGGER IF EXISTS subject_fts_ad",
    "DROP TRIGGER IF EXISTS subject_fts_ai",
    "DROP TABLE IF EXISTS subject_fts",
]
FTS_REBUILD = [
    "CREATE VIRTUAL TABLE subject_fts USING fts5(name, tokenize = 'trigram')",
    f"INSERT INTO subject_fts (rowid, name) SELECT id, display_name FROM subject WHERE kind = {ORG}",
    f"""CREATE TRIGGER subject_fts_ai AFTER INSERT ON subject WHEN new.kind = {ORG} BEGIN
          INSERT INTO subject_fts (rowid, name) VALUES (new.id, new.display_name);
        END""",
    f"""CREATE TRIGGER subject_fts_ad AFTER DELETE ON subject WHEN old.kind = {ORG} BEGIN
          DELETE FROM subject_fts WHERE rowid = old.id;
        END""",
    f"""CREATE TRIGGER subject_fts_au AFTER UPDATE OF id, kind, display_name ON subject
        WHEN old.kind = {ORG} OR new.kind = {ORG} BEGIN
          DELETE FROM subject_fts WHERE rowid = old.id;
          INSERT INTO subject_fts (rowid, name) SELECT new.id, new.display_name WHERE new.kind = {ORG};
        END""",
]


# -- PostgreSQL ----------------------------------------------------------------------------------------


def _u(chars: str) -> str:
    """A PostgreSQL U& literal of ``chars`` (no quote, colon or percent sign in the SQL text)."""
    return "U&'" + "".join(f"\\{ord(c):04X}" for c in chars) + "'"


_FROM = "".join(chr(c) for c in range(65, 91)) + "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_TO = (
    "".join(chr(c + 32) for c in range(65, 91))
    + "".join(chr(c - 0xFEE0).lower() for c in range(0xFF01, 0xFF5F))
    + " "
)

_PG_GRAMS_OF_NEW = (f"SELECT g AS gram, s.id AS subject_id FROM new_subjects s "
                    f"CROSS JOIN LATERAL subject_name_grams(s.display_name) AS g WHERE s.kind = {ORG}")
POSTGRESQL_UP = [
    f"CREATE TABLE {GRAM} (gram text COLLATE \"C\" NOT NULL, subject_id bigint NOT NULL, "
    f"CONSTRAINT pk_{GRAM} PRIMARY KEY (gram, subject_id))",
    f"CREATE TABLE {COUNT} (gram text COLLATE \"C\" NOT NULL, n bigint NOT NULL, "
    f"CONSTRAINT pk_{COUNT} PRIMARY KEY (gram))",
    f"""CREATE FUNCTION subject_name_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT translate($1, {_u(_FROM)}, {_u(_TO)}) $$""",
    """CREATE FUNCTION subject_name_grams(text) RETURNS SETOF text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT DISTINCT substr(f, n, 2) FROM subject_name_fold($1) AS f, generate_series(1, length(f)) AS n $$""",
    # One set-based statement per INSERT statement on subject (an ingest's COPY of thousands of rows).
    f"""CREATE FUNCTION {GRAM}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          WITH grams AS MATERIALIZED ({_PG_GRAMS_OF_NEW}),
               added AS (INSERT INTO {GRAM} (gram, subject_id) SELECT gram, subject_id FROM grams
                         ORDER BY gram, subject_id ON CONFLICT DO NOTHING)
          INSERT INTO {COUNT} (gram, n) SELECT gram, count(*) FROM grams WHERE {_counted('subject_id')}
            GROUP BY gram ORDER BY gram
            ON CONFLICT (gram) DO UPDATE SET n = {COUNT}.n + excluded.n;
          RETURN NULL;
        END $$""",
    f"""CREATE FUNCTION {GRAM}_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.kind = {ORG} THEN
            DELETE FROM {GRAM} WHERE subject_id = OLD.id AND gram IN (SELECT subject_name_grams(OLD.display_name));
            UPDATE {COUNT} SET n = n - 1 WHERE gram IN (SELECT subject_name_grams(OLD.display_name))
              AND {_counted('OLD.id')};
          END IF;
          IF TG_OP = 'UPDATE' AND NEW.kind = {ORG} THEN
            INSERT INTO {GRAM} (gram, subject_id) SELECT g, NEW.id FROM subject_name_grams(NEW.display_name) AS g
              ON CONFLICT DO NOTHING;
            INSERT INTO {COUNT} (gram, n) SELECT g, 1 FROM subject_name_grams(NEW.display_name) AS g
              WHERE {_counted('NEW.id')} ORDER BY g
              ON CONFLICT (gram) DO UPDATE SET n = {COUNT}.n + 1;
          END IF;
          RETURN NULL;
        END $$""",
    f"""CREATE FUNCTION {GRAM}_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          TRUNCATE {GRAM}, {COUNT};
          RETURN NULL;
        END $$""",
    f"""CREATE TRIGGER {GRAM}_insert AFTER INSERT ON subject REFERENCING NEW TABLE AS new_subjects
        FOR EACH STATEMENT EXECUTE FUNCTION {GRAM}_insert()""",
    f"""CREATE TRIGGER {GRAM}_delete AFTER DELETE ON subject FOR EACH ROW WHEN (OLD.kind = {ORG})
        EXECUTE FUNCTION {GRAM}_change()""",
    f"""CREATE TRIGGER {GRAM}_update AFTER UPDATE OF id, kind, display_name ON subject FOR EACH ROW
        WHEN ((OLD.kind = {ORG} OR NEW.kind = {ORG})
              AND (OLD.id, OLD.kind, OLD.display_name) IS DISTINCT FROM (NEW.id, NEW.kind, NEW.display_name))
        EXECUTE FUNCTION {GRAM}_change()""",
    f"""CREATE TRIGGER {GRAM}_truncate AFTER TRUNCATE ON subject FOR EACH STATEMENT
        EXECUTE FUNCTION {GRAM}_truncate()""",
    # Fires under session_replication_role = replica too (a TRUNCATE … CASCADE done that way would
    # otherwise leave the grams of subjects that no longer exist).
    f"ALTER TABLE subject ENABLE ALWAYS TRIGGER {GRAM}_truncate",
    f"""INSERT INTO {GRAM} (gram, subject_id)
        SELECT g, s.id FROM subject s CROSS JOIN LATERAL subject_name_grams(s.display_name) AS g
        WHERE s.kind = {ORG} ORDER BY 1, 2""",
    f"INSERT INTO {COUNT} (gram, n) SELECT gram, count(*) FROM {GRAM} WHERE {_counted('subject_id')} GROUP BY gram",
    "DROP INDEX IF EXISTS ix_subject_name_trgm",
]
POSTGRESQL_DOWN = [
    f"DROP TRIGGER IF EXISTS {GRAM}_truncate ON subject",
    f"DROP TRIGGER IF EXISTS {GRAM}_update ON subject",
    f"DROP TRIGGER IF EXISTS {GRAM}_delete ON subject",
    f"DROP TRIGGER IF EXISTS {GRAM}_insert ON subject",
    f"DROP FUNCTION IF EXISTS {GRAM}_truncate()",
    f"DROP FUNCTION IF EXISTS {GRAM}_change()",
    f"DROP FUNCTION IF EXISTS {GRAM}_insert()",
    "DROP FUNCTION IF EXISTS subject_name_grams(text)",
    "DROP FUNCTION IF EXISTS subject_name_fold(text)",
    f"DROP TABLE IF EXISTS {COUNT}",
    f"DROP TABLE IF EXISTS {GRAM}",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX ix_subject_name_trgm ON subject USING gin (display_name gin_trgm_ops) WHERE kind = {ORG}",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in [*SQLITE_UP, *FTS_DROP]:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in [*SQLITE_DOWN, *FTS_REBUILD]:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
