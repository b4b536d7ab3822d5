"""checks: credit checks, their feedback, batch checks

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "credit_check",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=128), nullable=False),
        sa.Column("scenario", sa.String(length=48), nullable=False),
        sa.Column("subject_id", _ID, nullable=True),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("display_id", sa.String(length=32), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("hit", sa.Boolean(), nullable=False),
        sa.Column("lists", _JSON, nullable=False),
        sa.Column("measures", _JSON, nullable=False),
        sa.Column("batch_id", _ID, nullable=True),
        sa.Column("row_no", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_check")),
    )
    op.create_index("ix_credit_check_department_at", "credit_check", ["department_code", "at"], unique=False)
    op.create_index("ix_credit_check_batch", "credit_check", ["batch_id"], unique=False)
    op.create_table(
        "check_feedback",
        sa.Column("id", _ID, nullable=False),
        sa.Column("check_id", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=128), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("measures_applied", _JSON, nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["check_id"], ["credit_check.id"], name=op.f("fk_check_feedback_check_id_credit_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_feedback")),
        sa.UniqueConstraint("check_id", name=op.f("uq_check_feedback_check_id")),
    )
    op.create_table(
        "check_batch",
        sa.Column("id", _ID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=128), nullable=False),
        sa.Column("scenario", sa.String(length=48), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("result_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("key_version", sa.SmallInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_batch")),
    )
    op.create_index("ix_check_batch_department", "check_batch", ["department_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_check_batch_department", table_name="check_batch")
    op.drop_table("check_batch")
    op.drop_table("check_feedback")
    op.drop_index("ix_credit_check_batch", table_name="credit_check")
    op.drop_index("ix_credit_check_department_at", table_name="credit_check")
    op.drop_table("credit_check")
