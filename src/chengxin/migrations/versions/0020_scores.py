"""scores: civic credit points (persons), credit grades (organisations), model versions

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "score_current",
        sa.Column("subject_id", _ID, autoincrement=False, nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("dimensions", _JSON, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_score_current_subject_id_subject")),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_score_current")),
    )
    op.create_index("ix_score_current_model_band", "score_current", ["model_id", "band"], unique=False)
    op.create_table(
        "score_run",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("other_model_id", sa.String(length=40), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("summary", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_run")),
    )
    op.create_index(op.f("ix_score_run_model_id"), "score_run", ["model_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_score_run_model_id"), table_name="score_run")
    op.drop_table("score_run")
    op.drop_index("ix_score_current_model_band", table_name="score_current")
    op.drop_table("score_current")
