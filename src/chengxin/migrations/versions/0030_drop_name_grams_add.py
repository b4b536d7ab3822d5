"""drop subject_name_grams_add: a bulk ingest writes its name grams itself (issue #2, ingest speed)

Revision ID: 0030
Revises: 0029

0027's ``subject_name_grams_add(first, last)`` indexed a batch's new organisations in one SQL statement at
the batch's end. The batch now makes the grams in Python and copies them in sorted
(``chengxin.search.service.BulkNameIndex``, bench/RESULTS.md, ingest, session 13), so nothing calls it.
PostgreSQL only; the downgrade puts 0027's function back.
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

GRAM = "subject_name_gram"
COUNT = "subject_name_gram_count"

# 0027's text, copied on purpose: a migration keeps its own text so that it never changes when another one does.
_RANGE_FUNCTION = f"""CREATE FUNCTION subject_name_grams_add(first_id bigint, last_id bigint) RETURNS void
    LANGUAGE sql AS $$ WITH grams AS MATERIALIZED (SELECT g AS gram, s.id AS subject_id FROM subject s
                                      CROSS JOIN LATERAL subject_name_grams(s.display_name) AS g
                                      WHERE s.kind = 'organization' AND s.id BETWEEN first_id AND last_id),
               added AS (INSERT INTO {GRAM} (gram, subject_id) SELECT gram, subject_id FROM grams
                         ORDER BY gram, subject_id )
          INSERT INTO {COUNT} (gram, n) SELECT gram, count(*) FROM grams
            WHERE (((subject_id * 40503) >> 8) & 7) = 0
            GROUP BY gram ORDER BY gram
            ON CONFLICT (gram) DO UPDATE SET n = {COUNT}.n + excluded.n $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS subject_name_grams_add(bigint, bigint)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_RANGE_FUNCTION)
