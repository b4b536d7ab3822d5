"""ecommerce trade: platforms, shops, buyer accounts, orders, items, shipments, ratings (issue #7)

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ec_platform",
        sa.Column("id", _ID, nullable=False),
        sa.Column("subject_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_ec_platform_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_platform")),
        sa.UniqueConstraint("code", name=op.f("uq_ec_platform_code")),
    )
    op.create_index(op.f("ix_ec_platform_subject_id"), "ec_platform", ["subject_id"], unique=False)
    op.create_table(
        "ec_shop",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("shop_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("owner_subject_id", _ID, nullable=False),
        sa.Column("licence_no", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"], name=op.f("fk_ec_shop_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["owner_subject_id"], ["subject.id"], name=op.f("fk_ec_shop_owner_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_shop")),
        sa.UniqueConstraint("platform_id", "shop_code", name="uq_ec_shop_platform_id"),
    )
    op.create_index("ix_ec_shop_owner_subject_id", "ec_shop", ["owner_subject_id"], unique=False)
    op.create_index("ix_ec_shop_name", "ec_shop", ["name"], unique=False)
    op.create_table(
        "ec_account",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"], name=op.f("fk_ec_account_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["subject_id"], ["subject.id"], name=op.f("fk_ec_account_subject_id_subject")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_account")),
        sa.UniqueConstraint("platform_id", "account_hash", name="uq_ec_account_platform_id"),
    )
    op.create_table(
        "ec_order",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("source_order_id", sa.String(length=64), nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("buyer_account_id", _ID, nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("payment_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"], name=op.f("fk_ec_order_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["shop_id"], ["ec_shop.id"], name=op.f("fk_ec_order_shop_id_ec_shop")),
        sa.ForeignKeyConstraint(["buyer_account_id"], ["ec_account.id"],
                                name=op.f("fk_ec_order_buyer_account_id_ec_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_order")),
        sa.UniqueConstraint("platform_id", "source_order_id", name="uq_ec_order_platform_id"),
    )
    op.create_index("ix_ec_order_shop_placed", "ec_order", ["shop_id", "placed_at"], unique=False)
    op.create_index("ix_ec_order_buyer_account_id", "ec_order", ["buyer_account_id", "amount_cents"], unique=False)
    op.create_index("ix_ec_order_shop_amount", "ec_order", ["shop_id", "amount_cents"], unique=False)
    op.create_table(
        "ec_order_item",
        sa.Column("id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger(), nullable=False),
        sa.Column("unit_weight_g", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["ec_order.id"], name=op.f("fk_ec_order_item_order_id_ec_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_order_item")),
        sa.UniqueConstraint("order_id", "line_no", name="uq_ec_order_item_order_id"),
    )
    op.create_table(
        "ec_shipment",
        sa.Column("id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("logistics_uscc", sa.String(length=18), nullable=True),
        sa.Column("tracking_hash", sa.String(length=64), nullable=False),
        sa.Column("declared_weight_g", sa.Integer(), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scan_count", sa.Integer(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["ec_order.id"], name=op.f("fk_ec_shipment_order_id_ec_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_shipment")),
        sa.UniqueConstraint("order_id", name=op.f("uq_ec_shipment_order_id")),
    )
    op.create_table(
        "ec_rating",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform_id", _ID, nullable=False),
        sa.Column("source_rating_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("shop_id", _ID, nullable=False),
        sa.Column("buyer_account_id", _ID, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_hash", sa.String(length=64), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("follow_up_text", sa.Text(), nullable=True),
        sa.Column("follow_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["ec_platform.id"], name=op.f("fk_ec_rating_platform_id_ec_platform")),
        sa.ForeignKeyConstraint(["order_id"], ["ec_order.id"], name=op.f("fk_ec_rating_order_id_ec_order")),
        sa.ForeignKeyConstraint(["shop_id"], ["ec_shop.id"], name=op.f("fk_ec_rating_shop_id_ec_shop")),
        sa.ForeignKeyConstraint(["buyer_account_id"], ["ec_account.id"],
                                name=op.f("fk_ec_rating_buyer_account_id_ec_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ec_rating")),
        sa.UniqueConstraint("platform_id", "source_rating_id", name="uq_ec_rating_platform_id"),
        sa.UniqueConstraint("order_id", "direction", name="uq_ec_rating_order_id"),
    )
    op.create_index("ix_ec_rating_shop_direction_rated", "ec_rating",
                    ["shop_id", "direction", "rated_at", "value", "follow_up_at"], unique=False)
    op.create_index("ix_ec_rating_shop_pairs", "ec_rating",
                    ["shop_id", "direction", "buyer_account_id", "period", "value", "order_id"], unique=False)
    op.create_index("ix_ec_rating_buyer_pairs", "ec_rating",
                    ["buyer_account_id", "direction", "shop_id", "period", "value", "order_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ec_rating_buyer_pairs", table_name="ec_rating")
    op.drop_index("ix_ec_rating_shop_pairs", table_name="ec_rating")
    op.drop_index("ix_ec_rating_shop_direction_rated", table_name="ec_rating")
    op.drop_table("ec_rating")
    op.drop_table("ec_shipment")
    op.drop_table("ec_order_item")
    op.drop_index("ix_ec_order_shop_amount", table_name="ec_order")
    op.drop_index("ix_ec_order_buyer_account_id", table_name="ec_order")
    op.drop_index("ix_ec_order_shop_placed", table_name="ec_order")
    op.drop_table("ec_order")
    op.drop_table("ec_account")
    op.drop_index("ix_ec_shop_name", table_name="ec_shop")
    op.drop_index("ix_ec_shop_owner_subject_id", table_name="ec_shop")
    op.drop_table("ec_shop")
    op.drop_index(op.f("ix_ec_platform_subject_id"), table_name="ec_platform")
    op.drop_table("ec_platform")
