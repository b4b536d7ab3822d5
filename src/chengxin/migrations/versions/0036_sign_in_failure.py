"""sign_in_failure: failed sign-ins counted by client address, not only by account (issue #2, 登录失败处理)

Revision ID: 0036
Revises: 0035

An account locks after ``sign_in.max_failures`` failures in a row (0005, 0034), but one address could still try a
few passwords on each of many accounts (password spraying) without ever locking one. Every failed sign-in, staff
or person, is now a row here: the address, which door (``staff`` / ``person``) and when — never the username or
the citizen ID tried. Once ``sign_in.address_max_failures`` rows of one address fall within
``sign_in.address_window_minutes``, that address is refused (429 ``auth.address_limited``) before any password is
checked, until the oldest of them leaves the window.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("id", _ID, nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("realm", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index("ix_sign_in_failure_address_at", "sign_in_failure", ["address", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sign_in_failure_address_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
