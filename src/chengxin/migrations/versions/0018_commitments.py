"""commitments: credit commitments (信用承诺): templates signed, breaches

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "commitment",
        sa.Column("id", _ID, nullable=False),
        sa.Column("no", sa.String(length=32), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("template_code", sa.String(length=32), nullable=False),
        sa.Column("template_version", sa.String(length=16), nullable=False),
        sa.Column("matter", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("signed_by", sa.String(length=128), nullable=False),
        sa.Column("document_no", sa.String(length=64), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_on", sa.Date(), nullable=True),
        sa.Column("breach_facts", sa.Text(), nullable=True),
        sa.Column("breach_document_no", sa.String(length=64), nullable=True),
        sa.Column("breach_department", sa.String(length=64), nullable=True),
        sa.Column("breach_record_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_commitment_subject_id_subject")),
        sa.ForeignKeyConstraint(["breach_record_id"], ["record.id"],
                                name=op.f("fk_commitment_breach_record_id_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment")),
        sa.UniqueConstraint("no", name=op.f("uq_commitment_no")),
    )
    op.create_index("ix_commitment_subject", "commitment", ["subject_id", "id"], unique=False)
    op.create_index("ix_commitment_public_kind", "commitment", ["public", "template_code", "id"], unique=False)
    op.create_index("ix_commitment_department_state", "commitment", ["department_code", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_commitment_department_state", table_name="commitment")
    op.drop_index("ix_commitment_public_kind", table_name="commitment")
    op.drop_index("ix_commitment_subject", table_name="commitment")
    op.drop_table("commitment")
