"""The detection job on the real database: frames from the trade tables, findings stored by fingerprint, a
second run over the same data changes nothing, and the shop risk levels follow."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import func, select
from tests.api.test_ecommerce_risk_support import load_market, now_of

from chengxin.core.audit import SYSTEM
from chengxin.ecommerce.risk.extract import read_frames
from chengxin.ecommerce.risk.models import EcDetectionRun, EcFinding, EcFindingShop, EcShopRisk
from chengxin.ecommerce.risk.service import detect
from chengxin.platform import Platform


def test_frames_from_the_tables_match_what_the_platform_pushed(platform: Platform) -> None:
    db = load_market(platform)
    m, now = db.market, now_of(db.market)
    with platform.db.read() as s:
        frames = read_frames(s, since=m.spec.end - dt.timedelta(days=400), until=now)
    assert frames.orders.height == m.orders.height
    assert frames.ratings.height == m.ratings.height and frames.shipments.height == m.shipments.height
    got = frames.orders.sort("order_id")
    want = m.orders.sort("order_id")
    assert got["placed_at"].to_list() == want["placed_at"].to_list()
    assert got["device_hash"].to_list() == want["device_hash"].to_list()
    ships = frames.shipments.sort("order_id").join(m.shipments.select("order_id", "expected_weight_g"), on="order_id")
    assert ships.filter(pl.col("expected_weight_g") != pl.col("expected_weight_g_right")).height == 0
    r = frames.ratings.sort(["order_id", "direction"])
    assert r["value"].to_list() == m.ratings.sort(["order_id", "direction"])["value"].to_list()
    assert r["delivered_at"].null_count() == m.ratings["delivered_at"].null_count()


def test_detect_twice_gives_the_same_findings(platform: Platform) -> None:
    db = load_market(platform)
    now = now_of(db.market)
    first = detect(platform.db, now=now, actor=SYSTEM)
    assert first.orders == db.market.orders.height and first.detections > 0
    assert first.new == first.detections and first.updated == first.unchanged == 0
    with platform.db.read() as s:
        before = {f.fingerprint: (f.id, f.confidence, f.kind, f.status) for f in s.scalars(select(EcFinding))}
        links = s.scalar(select(func.count()).select_from(EcFindingShop))
        levels = dict(s.execute(select(EcShopRisk.shop_id, EcShopRisk.level)).all())
    assert len({k for _, _, k, _ in before.values()}) >= 2  # what the generator's fraud makes the detectors find
    assert len(levels) == db.market.shops.height and any(v != "low" for v in levels.values())
    second = detect(platform.db, now=now, actor=SYSTEM)
    assert (second.new, second.updated, second.resolved) == (0, 0, 0)
    assert second.unchanged == first.detections
    with platform.db.read() as s:
        after = {f.fingerprint: (f.id, f.confidence, f.kind, f.status) for f in s.scalars(select(EcFinding))}
        assert s.scalar(select(func.count()).select_from(EcFindingShop)) == links
        runs = list(s.scalars(select(EcDetectionRun).order_by(EcDetectionRun.id)))
    assert after == before
    assert [r.status for r in runs] == ["finished", "finished"] and runs[1].findings_unchanged == len(before)
    assert runs[0].timings["read_frames"] >= 0 and "run_detectors" in runs[0].timings
