"""people: person accounts bound to a verified identity

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "person_account",
        sa.Column("id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("login_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("totp_key_version", sa.Integer(), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", _ID, nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_person_account_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_account")),
        sa.UniqueConstraint("login_index", name=op.f("uq_person_account_login_index")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_person_account_subject_id")),
    )
    op.create_table(
        "person_session",
        sa.Column("id", _ID, nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["person_account.id"],
                                name=op.f("fk_person_session_account_id_person_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_person_session_token_hash")),
    )
    with op.batch_alter_table("person_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_session_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_session_account_id"))
    op.drop_table("person_session")
    op.drop_table("person_account")
