"""score_current without its foreign key to subject (issue #6 speed)

``score_current`` is derived data, rewritten in bulk by every recompute from subject ids read out of
``subject`` itself, and subjects are never deleted. On PostgreSQL the foreign key's check locks every
referenced subject row (``FOR KEY SHARE``), writing to a million subject tuples per recompute: 20 of the
25 seconds of the batch write (bench/RESULTS.md, civic credit points recompute).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("score_current", schema=None) as batch_op:
        batch_op.drop_constraint("fk_score_current_subject_id_subject", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("score_current", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_score_current_subject_id_subject", "subject", ["subject_id"], ["id"])
