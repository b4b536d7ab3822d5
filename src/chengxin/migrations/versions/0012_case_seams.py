"""case seams: record display hold / objection mark / statement; organisation representatives

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("under_objection", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("statement", sa.Text(), nullable=True))
    op.create_table(
        "person_org_link",
        sa.Column("id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("org_subject_id", _ID, nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("granted_by", sa.String(length=128), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["person_account.id"],
                                name=op.f("fk_person_org_link_account_id_person_account")),
        sa.ForeignKeyConstraint(["org_subject_id"], ["subject.id"],
                                name=op.f("fk_person_org_link_org_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_org_link")),
    )
    op.create_index("ix_person_org_link_account", "person_org_link", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_person_org_link_account", table_name="person_org_link")
    op.drop_table("person_org_link")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_column("statement")
        batch_op.drop_column("under_objection")
        batch_op.drop_column("display_from")
