"""consent: a person's grants to named requesters, their codes and uses

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("id", _ID, nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("requester_uscc", sa.String(length=18), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("categories", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                  nullable=False),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.Column("consumed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_consent_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_consent_code_hash")),
        sa.UniqueConstraint("reference", name=op.f("uq_consent_reference")),
    )
    op.create_index(op.f("ix_consent_subject_id"), "consent", ["subject_id"], unique=False)
    op.create_table(
        "consent_use",
        sa.Column("id", _ID, nullable=False),
        sa.Column("consent_id", _ID, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("requester_uscc", sa.String(length=18), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["consent_id"], ["consent.id"], name=op.f("fk_consent_use_consent_id_consent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_use")),
    )
    op.create_index(op.f("ix_consent_use_consent_id"), "consent_use", ["consent_id"], unique=False)
    op.create_table(
        "consent_attempt",
        sa.Column("id", _ID, nullable=False),
        sa.Column("requester", sa.String(length=32), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_attempt")),
    )
    op.create_index("ix_consent_attempt_requester_at", "consent_attempt", ["requester", "at"], unique=False)
    op.create_index("ix_consent_attempt_ip_at", "consent_attempt", ["ip", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_consent_attempt_ip_at", table_name="consent_attempt")
    op.drop_index("ix_consent_attempt_requester_at", table_name="consent_attempt")
    op.drop_table("consent_attempt")
    op.drop_index(op.f("ix_consent_use_consent_id"), table_name="consent_use")
    op.drop_table("consent_use")
    op.drop_index(op.f("ix_consent_subject_id"), table_name="consent")
    op.drop_table("consent")
