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
# ideographic space U+3000.
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


def _insert_function(on_conflict: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION {GRAM}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          WITH grams AS MATERIALIZED (SELECT g AS gram, s.id AS subject_id FROM new_subjects s
                                      CROSS JOIN LATERAL subject_name_grams(s.display_name) AS g
                                      WHERE s.kind = {ORG}),
               added AS (INSERT INTO {GRAM} (gram, subject_id) SELECT gram, subject_id FROM grams
                         ORDER BY gram, subject_id {on_conflict})
          INSERT INTO {COUNT} (gram, n) SELECT gram, count(*) FROM grams
            WHERE (((subject_id * 40503) >> 8) & 7) = 0
            GROUP BY gram ORDER BY gram
            ON CONFLICT (gram) DO UPDATE SET n = {COUNT}.n + excluded.n;
          RETURN NULL;
        END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_fold_function(f"SELECT CASE WHEN $1 ~ {_FOLDABLE} THEN {_TRANSLATE} ELSE $1 END"))
    op.execute(_insert_function(""))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_fold_function(f"SELECT {_TRANSLATE}"))
    op.execute(_insert_function("ON CONFLICT DO NOTHING"))
