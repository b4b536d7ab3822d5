"""ec_complaint: consumer complaints about shops from the hotlines' departments (issue #7, capability 14)

The shop risk warning and the platform assessment count complaints (``ecommerce.risk.warning.ComplaintSource``);
this table holds them: one row per (department, the department's own complaint number), the shop resolved at
intake, the channel and category as codes of ``ecommerce/complaints/data/complaints.yaml``. No column for the
complainant exists (reporter protection).

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ec_complaint",
        sa.Column("id", _ID, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("source_complaint_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("source_order_id", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("summary", sa.String(length=2000), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"], name=op.f("fk_ec_complaint_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["shop_id"], ["ec_shop.id"], name=op.f("fk_ec_complaint_shop_id_ec_shop")),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest_batch.id"], name=op.f("fk_ec_complaint_batch_id_ingest_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_complaint")),
        sa.UniqueConstraint("department_code", "source_complaint_id", name="uq_ec_complaint_department_code"),
    )
    op.create_index("ix_ec_complaint_shop_received", "ec_complaint", ["shop_id", "received_at", "status"], unique=False)
    op.create_index("ix_ec_complaint_platform_received", "ec_complaint", ["platform_id", "received_at", "status"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_ec_complaint_platform_received", table_name="ec_complaint")
    op.drop_index("ix_ec_complaint_shop_received", table_name="ec_complaint")
    op.drop_table("ec_complaint")
