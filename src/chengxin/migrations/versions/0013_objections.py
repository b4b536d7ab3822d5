"""objections: objection cases, the notices telling the subject, statement versions

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "objection",
        sa.Column("id", _ID, nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("grounds", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("filed_by", sa.String(length=128), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("check_due", sa.Date(), nullable=False),
        sa.Column("forward_due", sa.Date(), nullable=False),
        sa.Column("cap_due", sa.Date(), nullable=False),
        sa.Column("forwarded_on", sa.Date(), nullable=True),
        sa.Column("extended_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("contest_due", sa.Date(), nullable=True),
        sa.Column("contested_on", sa.Date(), nullable=True),
        sa.Column("contest_reason", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("due_estimated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_note", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.Column("outcome_by", sa.String(length=128), nullable=True),
        sa.Column("review_outcome", sa.String(length=16), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("review_by", sa.String(length=128), nullable=True),
        sa.Column("corrected_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_objection_record_id_record")),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_objection_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection")),
    )
    op.create_index("ix_objection_record", "objection", ["record_id"], unique=False)
    op.create_index("ix_objection_subject", "objection", ["subject_id"], unique=False)
    op.create_index("ix_objection_queue", "objection", ["department_code", "state", "due_on"], unique=False)
    op.create_index("ix_objection_state_due", "objection", ["state", "due_on"], unique=False)
    op.create_table(
        "objection_notice",
        sa.Column("id", _ID, nullable=False),
        sa.Column("objection_id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["objection_id"], ["objection.id"],
                                name=op.f("fk_objection_notice_objection_id_objection")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_notice")),
    )
    op.create_index("ix_objection_notice_subject", "objection_notice", ["subject_id", "id"], unique=False)
    op.create_index("ix_objection_notice_objection", "objection_notice", ["objection_id"], unique=False)
    op.create_table(
        "record_statement",
        sa.Column("id", _ID, nullable=False),
        sa.Column("record_id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_statement_record_id_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_statement")),
    )
    op.create_index("ix_record_statement_record", "record_statement", ["record_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_record_statement_record", table_name="record_statement")
    op.drop_table("record_statement")
    op.drop_index("ix_objection_notice_objection", table_name="objection_notice")
    op.drop_index("ix_objection_notice_subject", table_name="objection_notice")
    op.drop_table("objection_notice")
    op.drop_index("ix_objection_state_due", table_name="objection")
    op.drop_index("ix_objection_queue", table_name="objection")
    op.drop_index("ix_objection_subject", table_name="objection")
    op.drop_index("ix_objection_record", table_name="objection")
    op.drop_table("objection")
