"""reports: issued credit reports and their signatures

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("report_no", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("verification_code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_report")),
        sa.UniqueConstraint("report_no", name=op.f("uq_credit_report_report_no")),
    )
    with op.batch_alter_table("credit_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_report_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credit_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_report_subject_id"))
    op.drop_table("credit_report")
