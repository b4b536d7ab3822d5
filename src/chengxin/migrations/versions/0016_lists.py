"""lists: list entries, per-subject list status, the list change feed

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "list_entry",
        sa.Column("id", _ID, nullable=False),
        sa.Column("list_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("criterion_code", sa.String(length=64), nullable=True),
        sa.Column("criteria_version", sa.String(length=32), nullable=True),
        sa.Column("proposed_by", sa.String(length=128), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_ids", _JSON, nullable=False),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("basis_zh", sa.Text(), nullable=False),
        sa.Column("notice_sent_on", sa.Date(), nullable=True),
        sa.Column("defence_due_on", sa.Date(), nullable=True),
        sa.Column("defence", sa.Text(), nullable=True),
        sa.Column("publicity_from", sa.Date(), nullable=True),
        sa.Column("publicity_to", sa.Date(), nullable=True),
        sa.Column("decision_no", sa.String(length=64), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("term_from", sa.Date(), nullable=True),
        sa.Column("term_to", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_kind", sa.String(length=16), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("related_persons", _JSON, nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_list_entry_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entry")),
    )
    op.create_index("ix_list_entry_subject_kind", "list_entry", ["subject_id", "list_kind"], unique=False)
    op.create_index("ix_list_entry_kind_state", "list_entry", ["list_kind", "state"], unique=False)
    op.create_table(
        "subject_list_status",
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("memberships", _JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_subject_list_status_subject_id_subject")),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_list_status")),
    )
    op.create_table(
        "list_change",
        sa.Column("id", _ID, nullable=False),
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("list_kind", sa.String(length=16), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["list_entry.id"], name=op.f("fk_list_change_entry_id_list_entry")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_change")),
    )
    op.create_index("ix_list_change_subject", "list_change", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_list_change_subject", table_name="list_change")
    op.drop_table("list_change")
    op.drop_table("subject_list_status")
    op.drop_index("ix_list_entry_kind_state", table_name="list_entry")
    op.drop_index("ix_list_entry_subject_kind", table_name="list_entry")
    op.drop_table("list_entry")
