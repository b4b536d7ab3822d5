"""ec_owner_risk: the shop risk levels of one owner, precomputed for the credit check (issue #7)

The credit check answers in one indexed read (issue #5); platforms are to get shop risk levels "through
the credit check" (issue #7, 4). This table carries, per owner subject, the shops at or above the first
warning level with their platform and any risk notice in force, so the check's read joins one more row by
primary key instead of making a second query.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ec_owner_risk",
        sa.Column("subject_id", _ID, autoincrement=False, nullable=False),
        sa.Column("shops", _JSON, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_ec_owner_risk_subject_id_subject")),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_ec_owner_risk")),
    )


def downgrade() -> None:
    op.drop_table("ec_owner_risk")
