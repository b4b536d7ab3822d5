"""Tables of e-commerce trade: platforms, shops, buyer accounts, orders, items, shipments, ratings.

The shared contract of issue #7 (helpers "trade", "detection", "risk"): ``ecommerce.risk`` builds the
detection frames from these tables. Personal data never arrives in clear: buyer accounts, addresses,
devices, payments and tracking numbers are 64-hex hashes computed by the platform with its own key;
a shop's real-name owner is a ``subject`` (encrypted identifiers, blind index, masked display).

Two denormalised columns on ``ec_rating`` (``shop_id``, ``buyer_account_id``) and the order's Beijing
month (``period``) let the public aggregates and the points rule run as SQL aggregates over one
indexed table instead of a join per rating.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chengxin.core.db import Base, BigId, UtcDateTime, utcnow


class EcPlatform(Base):
    """A network trading platform (网络交易平台) registered by the credit office."""

    __tablename__ = "ec_platform"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"), index=True)  # operator, by USCC
    code: Mapped[str] = mapped_column(String(32), unique=True)  # short public code used in URLs
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class EcShop(Base):
    """A shop (网店) on a platform, bound to its real-name owner (经营者)."""

    __tablename__ = "ec_shop"
    __table_args__ = (
        UniqueConstraint("platform_id", "shop_code", name="uq_ec_shop_platform_id"),
        Index("ix_ec_shop_owner_subject_id", "owner_subject_id"),
        Index("ix_ec_shop_name", "name"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    shop_code: Mapped[str] = mapped_column(String(64))  # the platform's own shop id
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    owner_subject_id: Mapped[int] = mapped_column(BigId, ForeignKey("subject.id"))
    licence_no: Mapped[str | None] = mapped_column(String(64))  # 营业执照/许可证号 displayed (亮照)
    category: Mapped[str] = mapped_column(String(64))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # open | suspended | closed
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class EcAccount(Base):
    """A buyer account, known only by the platform's keyed hash of it."""

    __tablename__ = "ec_account"
    __table_args__ = (UniqueConstraint("platform_id", "account_hash", name="uq_ec_account_platform_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    account_hash: Mapped[str] = mapped_column(String(64))
    # Bound only when the platform supplies the real-name identity on a lawful request.
    subject_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("subject.id"))


class EcOrder(Base):
    """An order pushed by a platform; idempotent by (platform, source order id)."""

    __tablename__ = "ec_order"
    __table_args__ = (
        UniqueConstraint("platform_id", "source_order_id", name="uq_ec_order_platform_id"),
        Index("ix_ec_order_shop_placed", "shop_id", "placed_at"),
        Index("ix_ec_order_buyer_account_id", "buyer_account_id", "amount_cents"),
        # The points rule leaves out orders of ¥1 or less: one short range per shop (service._points_sql).
        Index("ix_ec_order_shop_amount", "shop_id", "amount_cents"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    source_order_id: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_shop.id"))
    buyer_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_account.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    placed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    address_hash: Mapped[str | None] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64))
    payment_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # placed | paid | shipped | delivered | cancelled | refunded
    content_hash: Mapped[str] = mapped_column(String(64))  # of the normalised row: unchanged vs corrected
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class EcOrderItem(Base):
    """One line of an order."""

    __tablename__ = "ec_order_item"
    __table_args__ = (UniqueConstraint("order_id", "line_no", name="uq_ec_order_item_order_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_order.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    gtin: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    unit_weight_g: Mapped[int | None] = mapped_column(Integer)


class EcShipment(Base):
    """The shipment of an order (at most one)."""

    __tablename__ = "ec_shipment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_order.id"), unique=True)
    logistics_uscc: Mapped[str | None] = mapped_column(String(18))
    tracking_hash: Mapped[str] = mapped_column(String(64))
    declared_weight_g: Mapped[int | None] = mapped_column(Integer)
    shipped_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    scan_count: Mapped[int] = mapped_column(Integer)
    distance_km: Mapped[float | None] = mapped_column(Float)


class EcRating(Base):
    """A rating (评价) of one side of an order by the other, with its one follow-up review (追加评价)."""

    __tablename__ = "ec_rating"
    __table_args__ = (
        UniqueConstraint("platform_id", "source_rating_id", name="uq_ec_rating_platform_id"),
        UniqueConstraint("order_id", "direction", name="uq_ec_rating_order_id"),
        # Public aggregates per shop (good-rating rate, 30 days / 6 months / all time, follow-ups): one range of a
        # covering index, no table rows read.
        Index("ix_ec_rating_shop_direction_rated", "shop_id", "direction", "rated_at", "value", "follow_up_at"),
        # Points (per counterparty and period): the groups come in index order, only the order's amount is looked
        # up (by primary key) — a shop with 100,000 ratings in ~0.5 s on SQLite (bench figure in the report).
        Index("ix_ec_rating_shop_pairs", "shop_id", "direction", "buyer_account_id", "period", "value", "order_id"),
        Index("ix_ec_rating_buyer_pairs", "buyer_account_id", "direction", "shop_id", "period", "value", "order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_platform.id"))
    source_rating_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_order.id"))
    shop_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_shop.id"))  # = the order's (denormalised)
    buyer_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ec_account.id"))  # = the order's
    period: Mapped[str] = mapped_column(String(7))  # Beijing month of the order (YYYY-MM): the points period
    direction: Mapped[str] = mapped_column(String(16))  # buyer_to_shop | shop_to_buyer
    value: Mapped[str] = mapped_column(String(8))  # good | neutral | bad
    stars: Mapped[int | None] = mapped_column(SmallInteger)  # 1..5
    text: Mapped[str | None] = mapped_column(Text)
    text_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the normalised text
    rated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    follow_up_text: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))  # unchanged vs corrected on resubmission
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
