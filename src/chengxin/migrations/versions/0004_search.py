"""search: full-text search of subjects (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)

Revision ID: 0004
Revises: 0003

Both engines: B-tree indexes (kind, display_name) and (kind, display_id) for exact and prefix
matches of organisations' names and USCCs (declared on the model).
SQLite (≥ 3.34): ``subject_fts``, an FTS5 table with the trigram tokenizer holding the names of
organisations only (rowid = subject.id), filled from ``subject`` and kept in sync by triggers.
PostgreSQL: ``pg_trgm`` and a GIN trigram index on ``display_name`` restricted to organisations.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ORG = "'organization'"

SQLITE_UP = [
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
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS subject_fts_au",
    "DROP TRIGGER IF EXISTS subject_fts_ad",
    "DROP TRIGGER IF EXISTS subject_fts_ai",
    "DROP TABLE IF EXISTS subject_fts",
]
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX ix_subject_name_trgm ON subject USING gin (display_name gin_trgm_ops) WHERE kind = {ORG}",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_subject_name_trgm"]  # the extension may serve others: kept


def upgrade() -> None:
    op.create_index("ix_subject_kind_display_name", "subject", ["kind", "display_name"])
    op.create_index("ix_subject_kind_display_id", "subject", ["kind", "display_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        import sqlite3

        if sqlite3.sqlite_version_info < (3, 34):
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} has no FTS5 trigram tokenizer (needs ≥ 3.34)")
        for statement in SQLITE_UP:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRESQL_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    op.drop_index("ix_subject_kind_display_id", table_name="subject")
    op.drop_index("ix_subject_kind_display_name", table_name="subject")
