"""api_key.expires_at: a key's validity period (有效期, issue #2, 账号与密钥)

Revision ID: 0033
Revises: 0032

A key handed to a department's or a platform's system is given a period (the portal suggests one year); once it
has passed the key is refused (401 ``auth.expired_api_key``) and the office issues a new one. NULL: no end (keys
issued before this migration, and those issued without a period).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
