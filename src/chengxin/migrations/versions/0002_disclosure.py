"""disclosure: display state of records, the query log

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# 查询使用登记 is append-only (RULES §6: kept at least 5 years, editable by nobody, admins included).
_MESSAGE = "query_log is append-only: 查询使用登记不可修改或删除"

_PG_UP = (
    f"""
    CREATE FUNCTION query_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    "CREATE TRIGGER query_log_no_change BEFORE UPDATE OR DELETE ON query_log "
    "FOR EACH ROW EXECUTE FUNCTION query_log_append_only()",
    "CREATE TRIGGER query_log_no_truncate BEFORE TRUNCATE ON query_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION query_log_append_only()",
)
_PG_DOWN = (
    "DROP TRIGGER IF EXISTS query_log_no_truncate ON query_log",
    "DROP TRIGGER IF EXISTS query_log_no_change ON query_log",
    "DROP FUNCTION IF EXISTS query_log_append_only()",
)
_SQLITE_UP = (
    f"CREATE TRIGGER query_log_no_update BEFORE UPDATE ON query_log BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
    f"CREATE TRIGGER query_log_no_delete BEFORE DELETE ON query_log BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS query_log_no_update",
    "DROP TRIGGER IF EXISTS query_log_no_delete",
)


def upgrade() -> None:
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_stopped_on", sa.Date(), nullable=True))

    op.create_table(
        "query_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reader_kind", sa.String(length=16), nullable=False),
        sa.Column("reader_name", sa.String(length=200), nullable=False),
        sa.Column("reader_department", sa.String(length=64), nullable=True),
        sa.Column("requester_uscc", sa.String(length=18), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_log")),
    )
    with op.batch_alter_table("query_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_query_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_query_log_subject_id"), ["subject_id"], unique=False)

    statements = _PG_UP if op.get_bind().dialect.name == "postgresql" else _SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = _PG_DOWN if op.get_bind().dialect.name == "postgresql" else _SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
    with op.batch_alter_table("query_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_query_log_subject_id"))
        batch_op.drop_index(batch_op.f("ix_query_log_at"))
    op.drop_table("query_log")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_column("display_stopped_on")
