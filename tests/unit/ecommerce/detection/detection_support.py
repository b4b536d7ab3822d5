"""Hand-built marketplaces for the detector tests: a few honest buyers and shops around one planted fraud."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from chengxin.ecommerce.detection import frames as F

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


class Market:
    """Rows of orders, ratings and shipments, built one order at a time."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []
        self.ratings: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []

    def order(self, buyer: int, shop: int, at: dt.datetime, *, rating: str | None = "good", stars: int | None = None,
              rated_after: dt.timedelta = dt.timedelta(days=2), text: str | None = None, address: str | None = None,
              device: str | None = None, payment: str | None = None, declared: int | None = 900,
              expected: int | None = 800, transit: dt.timedelta = dt.timedelta(days=2), scans: int = 6,
              distance: float | None = 600.0) -> int:
        oid = len(self.orders) + 1
        self.orders.append({"order_id": oid, "shop_id": shop, "buyer_id": buyer, "placed_at": at,
                            "address_hash": address or f"addr-{buyer}", "device_hash": device or f"dev-{buyer}",
                            "payment_hash": payment or f"pay-{buyer}"})
        shipped = at + dt.timedelta(hours=12)
        signed = shipped + transit
        self.shipments.append({"order_id": oid, "shop_id": shop, "declared_weight_g": declared,
                               "expected_weight_g": expected, "shipped_at": shipped, "signed_at": signed,
                               "scan_count": scans, "distance_km": distance})
        if rating is not None:
            self.ratings.append({"order_id": oid, "shop_id": shop, "buyer_id": buyer, "value": rating, "stars": stars,
                                 "text_hash": text, "rated_at": signed + rated_after, "delivered_at": signed})
        return oid

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return F.orders_frame(self.orders), F.ratings_frame(self.ratings), F.shipments_frame(self.shipments)


def honest_background(m: Market, *, buyers: int = 150, shops: int = 40, orders: int = 600, seed: int = 3,
                      first_buyer: int = 1000, first_shop: int = 1) -> None:
    """Sparse honest trade over 150 days: buyers pick shops with a popularity skew, rate good mostly."""
    import random

    rng = random.Random(seed)
    weights = [1.0 / (k + 1) for k in range(shops)]
    for _ in range(orders):
        buyer = first_buyer + rng.randrange(buyers)
        shop = first_shop + rng.choices(range(shops), weights)[0]
        at = NOW - dt.timedelta(days=rng.uniform(10, 160))
        rating = rng.choices(["good", "neutral", "bad", None], [80, 4, 3, 13])[0]
        m.order(buyer, shop, at, rating=rating, stars=5 if rating == "good" else None,
                rated_after=dt.timedelta(hours=rng.uniform(2, 120)))
