"""repair: credit repair applications (信用修复申请)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "repair_application",
        sa.Column("id", _ID, nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_version", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("training_record", sa.String(length=100), nullable=True),
        sa.Column("commitment_version", sa.String(length=16), nullable=True),
        sa.Column("commitment_sha256", sa.String(length=64), nullable=True),
        sa.Column("commitment_signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusals", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("answer_due_on", sa.Date(), nullable=True),
        sa.Column("due_estimated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("extended_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("display_stopped_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_repair_application_record_id_record")),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_repair_application_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_application")),
    )
    op.create_index("ix_repair_application_record_id", "repair_application", ["record_id"], unique=False)
    op.create_index("ix_repair_application_department_state", "repair_application", ["department_code", "state"],
                    unique=False)
    op.create_index("ix_repair_application_subject_item", "repair_application", ["subject_id", "item_code"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_repair_application_subject_item", table_name="repair_application")
    op.drop_index("ix_repair_application_department_state", table_name="repair_application")
    op.drop_index("ix_repair_application_record_id", table_name="repair_application")
    op.drop_table("repair_application")
