"""staff_user: the password changed at the first sign-in, and sign-in locked after failures (issue #2)

Revision ID: 0034
Revises: 0033

- ``must_change_password``: an administrator who opens an account or resets a password (portal or API) hands the
  password over; until its owner has chosen their own, every staff page leads to 修改密码 and the API answers only
  the password change (``auth.password_change_required``). Accounts made at the console are not marked unless
  asked (``--temporary``).
- ``failed_attempts`` / ``locked_until``: 登录失败处理 (GB/T 22239-2019), as person accounts have had since 0005:
  after ``sign_in.max_failures`` failures in a row the account cannot sign in for ``sign_in.lock_minutes``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_attempts")
        batch_op.drop_column("must_change_password")
