"""staff_user.must_change_password: a password someone else set is changed at the first sign-in (issue #2)

Revision ID: 0034
Revises: 0033

An administrator who opens an account or resets a password (portal or API) hands the password over; until its
owner has chosen their own, every staff page leads to 修改密码 and the API answers only the password change
(``auth.password_change_required``). Accounts made at the console or by the demo loader are not marked.
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


def downgrade() -> None:
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
