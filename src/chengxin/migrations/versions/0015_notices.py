"""notices: credit notices, integrity interviews, complaints; display-end markers

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "credit_notice",
        sa.Column("id", _ID, nullable=False),
        sa.Column("notice_no", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("obligation", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("response_due", sa.Date(), nullable=False),
        sa.Column("due_estimated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("decide_due", sa.Date(), nullable=True),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("record_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_credit_notice_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_notice")),
        sa.UniqueConstraint("notice_no", name=op.f("uq_credit_notice_notice_no")),
        sa.UniqueConstraint("record_id", name="uq_credit_notice_record_id"),
    )
    op.create_index("ix_credit_notice_match", "credit_notice", ["department_code", "item_code", "subject_id"])
    op.create_index("ix_credit_notice_subject", "credit_notice", ["subject_id"])
    op.create_index("ix_credit_notice_state", "credit_notice", ["state", "department_code"])

    op.create_table(
        "interview",
        sa.Column("id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("record_ids", _JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("scheduled_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_interview_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview")),
    )
    op.create_index("ix_interview_subject", "interview", ["subject_id"])
    op.create_index("ix_interview_state", "interview", ["state"])

    op.create_table(
        "complaint",
        sa.Column("id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("case_type", sa.String(length=32), nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("due_estimated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("filed_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_complaint_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
    )
    op.create_index("ix_complaint_subject", "complaint", ["subject_id"])
    op.create_index("ix_complaint_state", "complaint", ["state"])

    op.create_table(
        "record_display_end",
        sa.Column("record_id", _ID, autoincrement=False, nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["record.id"], name=op.f("fk_record_display_end_record_id_record")),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_record_display_end")),
    )
    op.create_index("ix_record_display_end_ended_on", "record_display_end", ["ended_on"])


def downgrade() -> None:
    op.drop_index("ix_record_display_end_ended_on", table_name="record_display_end")
    op.drop_table("record_display_end")
    op.drop_index("ix_complaint_state", table_name="complaint")
    op.drop_index("ix_complaint_subject", table_name="complaint")
    op.drop_table("complaint")
    op.drop_index("ix_interview_state", table_name="interview")
    op.drop_index("ix_interview_subject", table_name="interview")
    op.drop_table("interview")
    op.drop_index("ix_credit_notice_state", table_name="credit_notice")
    op.drop_index("ix_credit_notice_subject", table_name="credit_notice")
    op.drop_index("ix_credit_notice_match", table_name="credit_notice")
    op.drop_table("credit_notice")
