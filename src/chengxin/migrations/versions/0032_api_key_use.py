"""api_key: when a key was last used, and the form that issued it (issue #2, 账号与密钥)

Revision ID: 0032
Revises: 0031

- ``last_used_at``: the administrator decides which keys to revoke by whether a system still uses them. It is
  written behind the requests, at most once a minute per key and process (``accounts.service.ApiKeyCache``),
  never in a request's own transaction.
- ``issue_token``: the one-time token of the form (or the API's ``Idempotency-Key``) a key was issued from.
  Sending the same form again — a browser refresh, a client's retry — does not issue a second key; the key is
  shown once, so the repeat is answered with the key's id only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("issue_token", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_api_key_issue_token", ["issue_token"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index("ix_api_key_issue_token")
        batch_op.drop_column("issue_token")
        batch_op.drop_column("last_used_at")
