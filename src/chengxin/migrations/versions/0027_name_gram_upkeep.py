"""name-gram upkeep on PostgreSQL at a third of the cost: new organisations' grams without ON CONFLICT,
names folded only when they have something to fold (issue #2, ingest speed)

Revision ID: 0027
Revises: 0026

The statement trigger of 0008 (``subject_name_gram_insert``) cost ~55 µs of server CPU per inserted subject
in a bulk ingest — a third of the server's work for a file of new organisations (bench/RESULTS.md, session 9):

- ``INSERT … ON CONFLICT DO NOTHING`` into ``subject_name_gram`` is a speculative insertion (three WAL
  records a row instead of two, a conflict check before and a confirmation after); a plain INSERT of the
  same 436,000 grams took a quarter of the time. No conflict can arise: the grams of one name are
  distinct (``subject_name_grams`` is a ``SELECT DISTINCT``), the rows of one statement have distinct ids,
  and a subject id is never reused — the delete and update triggers remove an old id's grams, TRUNCATE
  empties the table. Should stale grams ever be left by hand-made changes under
  ``session_replication_role = replica``, the insert fails loudly (unique violation) instead of
  silently keeping a wrong index.
- ``subject_name_fold`` ran ``translate`` over a 121-character map for every name (~8 µs); most names have
  none of those characters (ASCII capitals, full-width forms, the ideographic space), so a regular-expression
  test (code-point ranges) comes first and such names are returned as they are.

- A bulk ingest defers the index to the end of its batch: with ``SET LOCAL chengxin.grams_deferred = on`` the
  statement trigger does nothing, and before committing the ingest calls ``subject_name_grams_add(first,
  last)`` for the subject ids the batch took (ids come contiguously from the ledger lock) — one sorted insert
  into the gram index instead of one per chunk, each of which touched pages all over an index that outgrows
  the server's buffers (2,000,000 grams for 140,000 organisations). Same transaction: nobody ever sees the
  subjects without their grams.

SQLite is unchanged (its ``INSERT OR IGNORE`` has no such cost).
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

GRAM = "subject_name_gram"
COUNT = "subject_name_gram_count"
ORG = "'organization'"


def _u(chars: str) -> str:
    """A PostgreSQL U& literal of ``chars`` (no quote, colon or percent sign in the SQL text)."""
    return "U&'" + "".join(f"\\{ord(c):04X}" for c in chars) + "'"


# The fold of 0008 (``chengxin.search.rules.fold``): ASCII capitals, full-width forms U+FF01–U+FF5E and the
# ideographic space U+3000 — the same literals as 0008, copied on purpose: a migration keeps its own text so
# that it never changes when another one does.
_FROM = "".join(chr(c) for c in range(65, 91)) + "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_TO = (
    "".join(chr(c + 32) for c in range(65, 91))
    + "".join(chr(c - 0xFEE0).lower() for c in range(0xFF01, 0xFF5F))
    + " "
)
_TRANSLATE = f"translate($1, {_u(_FROM)}, {_u(_TO)})"
_FOLDABLE = "U&'[\\0041-\\005A\\FF01-\\FF5E\\3000]'"


def _fold_function(body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION subject_name_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT
        PARALLEL SAFE AS $$ {body} $$"""


def _add_grams(subjects: str, on_conflict: str, condition: str = "") -> str:
    """The statement that indexes the organisations among ``subjects`` (a table aliased ``s``; ``condition``:
    more of the WHERE clause)."""
    return f"""WITH grams AS MATERIALIZED (SELECT g AS gram, s.id AS subject_id FROM {subjects}
                                      CROSS JOIN LATERAL subject_name_grams(s.display_name) AS g
                                      WHERE s.kind = {ORG}{condition}),
               added AS (INSERT INTO {GRAM} (gram, subject_id) SELECT gram, subject_id FROM grams
                         ORDER BY gram, subject_id {on_conflict})
          INSERT INTO {COUNT} (gram, n) SELECT gram, count(*) FROM grams
            WHERE (((subject_id * 40503) >> 8) & 7) = 0
            GROUP BY gram ORDER BY gram
            ON CONFLICT (gram) DO UPDATE SET n = {COUNT}.n + excluded.n"""


def _insert_function(body: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {GRAM}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {body}
          RETURN NULL;
        END $$"""


_DEFERRED = "IF current_setting('chengxin.grams_deferred', true) = 'on' THEN RETURN NULL; END IF;"
_RANGE_FUNCTION = f"""CREATE FUNCTION subject_name_grams_add(first_id bigint, last_id bigint) RETURNS void
    LANGUAGE sql AS $$ {_add_grams("subject s", "", " AND s.id BETWEEN first_id AND last_id")} $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_fold_function(f"SELECT CASE WHEN $1 ~ {_FOLDABLE} THEN {_TRANSLATE} ELSE $1 END"))
    op.execute(_insert_function(f"{_DEFERRED}\n          {_add_grams('new_subjects s', '')};"))
    op.execute(_RANGE_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS subject_name_grams_add(bigint, bigint)")
    op.execute(_fold_function(f"SELECT {_TRANSLATE}"))
    op.execute(_insert_function(f"{_add_grams('new_subjects s', 'ON CONFLICT DO NOTHING')};"))
