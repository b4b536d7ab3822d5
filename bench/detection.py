"""Benchmark of the e-commerce fraud detectors (issue #7, Evaluation): quality against ground truth, then speed.

1. Quality: a synthetic marketplace (``chengxin.ecommerce.marketgen``, camouflage on) with injected brushing
   rings, malicious reviewers, fake-traffic bursts and empty parcels; for each fraud type and each entity
   (buyers, shops, orders) the ROC-AUC of the detector's score next to a simple baseline on the same data,
   and the precision / recall of the detector's findings next to the baseline flagging as many entities
   (its top-k, k = what the detector flagged). Ablations show what the published method alone does
   (FRAUDAR's node suspiciousness without behaviour; REV2's fairness alone).
2. Speed: ``run_detectors`` over the 1,000,000-order marketplace, in a fresh process reading the frames
   from Parquet (so the generator's memory is not counted): seconds per detector, total, peak RSS.

    .venv/bin/python bench/detection.py                  # quality and speed at 1M orders, stress at 300k (seed 7)
    .venv/bin/python bench/detection.py --orders 300000 --seed 11 --skip-speed
    .venv/bin/python bench/detection.py --quick          # smoke run: 30k orders for every part
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import rankdata  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Mann–Whitney ROC-AUC (ties count half)."""
    label = label.astype(bool)
    pos, neg = int(label.sum()), int((~label).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[label].sum() - pos * (pos + 1) / 2) / (pos * neg))


def precision_recall(flagged: np.ndarray, label: np.ndarray) -> tuple[float, float, int]:
    hit = int((flagged & label).sum())
    k = int(flagged.sum())
    return (hit / k if k else float("nan")), (hit / int(label.sum()) if label.any() else float("nan")), k


def top_k(score: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(len(score), dtype=bool)
    if k > 0:
        out[np.argsort(-score, kind="stable")[:k]] = True
    return out


def aligned(ids: np.ndarray, frame: pl.DataFrame, key: str, column: str) -> np.ndarray:
    """``frame[column]`` for each of ``ids`` (False where the id is not in the frame)."""
    keys = frame.get_column(key).to_numpy()
    values = frame.get_column(column).to_numpy().astype(bool)
    order = np.argsort(keys)
    pos = np.searchsorted(keys[order], ids)
    pos = np.minimum(pos, len(keys) - 1)
    found = keys[order][pos] == ids
    return np.where(found, values[order][pos], False)


def baselines(orders: pl.DataFrame, ratings: pl.DataFrame, shipments: pl.DataFrame, buyer_ids: np.ndarray,
              shop_ids: np.ndarray) -> dict[str, Any]:
    """The simple baselines of the issue: counts anyone could compute from the platform's reports."""
    rt = ratings.filter(pl.col("direction") == "buyer_to_shop")
    good = rt.filter(pl.col("value") == 1)
    five = rt.filter(pl.col("stars") == 5)
    bad = rt.filter(pl.col("value") == -1)

    def per(frame: pl.DataFrame, key: str, ids: np.ndarray) -> np.ndarray:
        counts = frame.group_by(key).len()
        return aligned_counts(ids, counts, key)

    ship = shipments.with_columns(light=(pl.col("declared_weight_g") < 100).fill_null(False))
    light_share = ship.group_by("shop_id").agg(pl.col("light").mean().alias("v"))
    light_orders = ship.select("order_id", (-pl.col("declared_weight_g").fill_null(10**9)).alias("v"))
    good_by_buyer = per(good, "buyer_id", buyer_ids)
    return {
        "good_by_buyer": good_by_buyer,
        "five_by_buyer": per(five, "buyer_id", buyer_ids),
        "five_by_shop": per(five, "shop_id", shop_ids),
        "bad_by_buyer": per(bad, "buyer_id", buyer_ids),
        "bad_by_shop": per(bad, "shop_id", shop_ids),
        "light_share_by_shop": aligned_counts(shop_ids, light_share, "shop_id"),
        "light_orders": light_orders,
        "orders_buyer": orders.select("order_id", "buyer_id"),
        "ratings_bt": rt,
    }


def aligned_counts(ids: np.ndarray, frame: pl.DataFrame, key: str) -> np.ndarray:
    value_col = [c for c in frame.columns if c != key][0]
    keys = frame.get_column(key).to_numpy()
    values = frame.get_column(value_col).to_numpy().astype(np.float64)
    order = np.argsort(keys)
    pos = np.minimum(np.searchsorted(keys[order], ids), max(0, len(keys) - 1))
    found = (keys[order][pos] == ids) if len(keys) else np.zeros(len(ids), bool)
    return np.where(found, values[order][pos], 0.0)


def by_order(order_ids: np.ndarray, frame: pl.DataFrame, column: str) -> np.ndarray:
    return aligned_counts(order_ids, frame.select("order_id", column), "order_id")


def evaluate(market: Any, result: Any, ablations: dict[str, Any]) -> list[dict[str, Any]]:
    labels = market.labels
    b_ids, s_ids = result.buyer_ids, result.shop_ids
    base = baselines(market.orders, market.ratings, market.shipments, b_ids, s_ids)
    rows: list[dict[str, Any]] = []

    def flagged_ids(kind: str, attr: str) -> set[int]:
        return {i for d in result.of_kind(kind) for i in getattr(d, attr)}

    def add(kind: str, entity: str, ids: np.ndarray, score: np.ndarray, label: np.ndarray, baseline_name: str,
            baseline: np.ndarray, attr: str | None, extra: dict[str, np.ndarray] | None = None) -> None:
        row: dict[str, Any] = {"kind": kind, "entity": entity, "n": len(ids), "positives": int(label.sum()),
                               "auc": roc_auc(score, label), "baseline": baseline_name,
                               "baseline_auc": roc_auc(baseline, label)}
        if attr is not None:
            flagged = np.isin(ids, np.fromiter(flagged_ids(kind, attr), dtype=np.int64))
            row["precision"], row["recall"], row["flagged"] = precision_recall(flagged, label)
            bp, br, _ = precision_recall(top_k(baseline, int(flagged.sum())), label)
            row["baseline_precision"], row["baseline_recall"] = bp, br
        for name, values in (extra or {}).items():
            row[f"auc_{name}"] = roc_auc(values, label)
        rows.append(row)

    lb, ls, lo = labels.buyers, labels.shops, labels.orders
    # order brushing
    k = "order_brushing"
    add(k, "buyers", b_ids, result.buyer_scores[k], aligned(b_ids, lb, "buyer_id", "brushing"),
        "good ratings given", base["good_by_buyer"], "buyer_ids",
        {name: a.buyer_scores[k] for name, a in ablations.items() if k in a.buyer_scores})
    add(k, "shops", s_ids, result.shop_scores[k], aligned(s_ids, ls, "shop_id", "brushing"),
        "5-star ratings received", base["five_by_shop"], "shop_ids",
        {name: a.shop_scores[k] for name, a in ablations.items() if k in a.shop_scores})
    o_ids, o_score = result.order_scores[k]
    o_buyer = aligned_counts(o_ids, base["orders_buyer"], "order_id").astype(np.int64)
    add(k, "orders", o_ids, o_score, aligned(o_ids, lo, "order_id", "brushing"), "buyer's good ratings",
        aligned_counts(o_buyer, pl.DataFrame({"buyer_id": b_ids, "v": base["good_by_buyer"]}), "buyer_id"),
        "order_ids")
    # fake traffic
    k = "fake_traffic"
    add(k, "buyers", b_ids, result.buyer_scores[k], aligned(b_ids, lb, "buyer_id", "fake_traffic"),
        "5-star ratings given", base["five_by_buyer"], "buyer_ids")
    add(k, "shops", s_ids, result.shop_scores[k], aligned(s_ids, ls, "shop_id", "fake_traffic"),
        "5-star ratings received", base["five_by_shop"], "shop_ids")
    o_ids, o_score = result.order_scores[k]
    five = base["ratings_bt"].select("order_id", (pl.col("stars") == 5).fill_null(False).cast(pl.Float64).alias("v"))
    add(k, "ratings", o_ids, o_score, aligned(o_ids, lo, "order_id", "fake_traffic"), "is 5-star",
        by_order(o_ids, five, "v"), "order_ids")
    # malicious reviews
    k = "malicious_review"
    add(k, "buyers", b_ids, result.buyer_scores[k], aligned(b_ids, lb, "buyer_id", "malicious"),
        "bad ratings given", base["bad_by_buyer"], "buyer_ids",
        {name: a.buyer_scores[k] for name, a in ablations.items() if k in a.buyer_scores})
    add(k, "target shops", s_ids, result.shop_scores[k], aligned(s_ids, ls, "shop_id", "malicious_target"),
        "bad ratings received", base["bad_by_shop"], "shop_ids")
    o_ids, o_score = result.order_scores[k]
    isbad = base["ratings_bt"].select("order_id", (pl.col("value") == -1).cast(pl.Float64).alias("v"))
    add(k, "ratings", o_ids, o_score, aligned(o_ids, lo, "order_id", "malicious"), "is bad",
        by_order(o_ids, isbad, "v"), "order_ids")
    # empty parcels
    k = "empty_parcel"
    add(k, "shops", s_ids, result.shop_scores[k], aligned(s_ids, ls, "shop_id", "empty_parcel"),
        "share of parcels < 100 g", base["light_share_by_shop"], "shop_ids")
    o_ids, o_score = result.order_scores[k]
    add(k, "shipments", o_ids, o_score, aligned(o_ids, lo, "order_id", "empty_parcel"), "lighter parcel",
        by_order(o_ids, base["light_orders"], "v"), "order_ids")
    return rows


def fmt(x: Any) -> str:
    if isinstance(x, float):
        return "—" if x != x else f"{x:.3f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def quality(orders: int, seed: int) -> list[dict[str, Any]]:
    from chengxin.ecommerce.detection.params import params_on
    from chengxin.ecommerce.detection.pipeline import run_detectors
    from chengxin.ecommerce.marketgen import MarketSpec, generate

    t0 = time.perf_counter()
    market = generate(MarketSpec(orders=orders, seed=seed, camouflage=True))
    gen_s = time.perf_counter() - t0
    now = market.spec.end
    params = params_on(now.date())
    result = run_detectors(market.orders, market.ratings, market.shipments, now=now, params=params)
    ob = params.order_brushing
    only_fraudar = params.model_copy(update={"order_brushing": ob.model_copy(update={
        "node": ob.node.model_copy(update={"weights": {"log_density_ratio": ob.node.weights["log_density_ratio"]}}),
        "report_confidence": 1.1})})
    mr = params.malicious_review
    only_rev2 = params.model_copy(update={"malicious_review": mr.model_copy(update={
        "confidence": mr.confidence.model_copy(update={"weights": {"unfairness": 1.0}, "intercept": 0.0})})})
    ablations = {
        "fraudar_only": run_detectors(market.orders, market.ratings, market.shipments, now=now, params=only_fraudar,
                                      kinds=["order_brushing"]),
        "rev2_fairness_only": run_detectors(market.orders, market.ratings, market.shipments, now=now,
                                            params=only_rev2, kinds=["malicious_review"]),
    }
    rows = evaluate(market, result, ablations)
    lb = market.labels
    print(f"\n## quality — {market.orders.height:,} orders, {market.ratings.height:,} ratings, "
          f"{market.shipments.height:,} shipments (seed {seed}, camouflage on; generated in {gen_s:.1f} s)")
    print(f"injected: {lb.buyers['ring'].n_unique() - 1} rings with {int(lb.buyers['brushing'].sum())} accounts "
          f"({int(lb.buyers.filter(pl.col('brushing') & pl.col('hijacked')).height)} hijacked) on "
          f"{int(lb.shops['brushing'].sum())} shops; {int(lb.buyers['malicious'].sum())} malicious reviewers; "
          f"{int(lb.shops['fake_traffic'].sum())} fake-traffic shops ({int(lb.buyers['fake_traffic'].sum())} "
          f"click-farm accounts); {int(lb.orders['empty_parcel'].sum())} empty parcels "
          f"({int(lb.shops['empty_parcel'].sum())} shops)")
    print("findings: " + ", ".join(f"{k} {len(result.of_kind(k))}" for k in
                                    ("order_brushing", "fake_traffic", "malicious_review", "empty_parcel")))
    print("\n| fraud type | entity | positives / n | ROC-AUC | baseline (ROC-AUC) | precision | recall | "
          "baseline P / R at same k |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        extra = "".join(f"; {k[4:]} {fmt(v)}" for k, v in r.items() if k.startswith("auc_"))
        print(f"| {r['kind']} | {r['entity']} | {fmt(r['positives'])} / {fmt(r['n'])} | **{fmt(r['auc'])}**{extra} | "
              f"{r['baseline']} ({fmt(r['baseline_auc'])}) | {fmt(r.get('precision', float('nan')))} | "
              f"{fmt(r.get('recall', float('nan')))} | {fmt(r.get('baseline_precision', float('nan')))} / "
              f"{fmt(r.get('baseline_recall', float('nan')))} |")
    return rows


def stress(orders: int, seed: int) -> None:
    """Order brushing only, on harder marketplaces: what the detector owes to shared attributes and how it
    holds under heavier camouflage."""
    from chengxin.ecommerce.detection.pipeline import run_detectors
    from chengxin.ecommerce.marketgen import MarketSpec, generate

    variants: list[tuple[str, dict[str, Any]]] = [("as above (camouflage 0.5–1.5× cover orders)", {}),
                ("no camouflage", {"camouflage": False}),
                ("heavy camouflage (2–4× cover orders)", {"camouflage_ratio": (2.0, 4.0)}),
                ("rings share no address / device / payment", {"ring_sharing": 0.0}),
                ("no sharing and heavy camouflage", {"ring_sharing": 0.0, "camouflage_ratio": (2.0, 4.0)})]
    print(f"\n### order brushing under stress ({orders:,} orders, seed {seed})\n")
    print("| marketplace | buyers ROC-AUC (FRAUDAR only) | baseline | precision / recall | shops ROC-AUC | "
          "baseline | precision / recall |")
    print("|---|---|---|---|---|---|---|")
    for name, change in variants:
        market = generate(MarketSpec(orders=orders, seed=seed, **change))
        res = run_detectors(market.orders, market.ratings, market.shipments, now=market.spec.end,
                            kinds=["order_brushing"])
        from chengxin.ecommerce.detection.params import params_on

        params = params_on(market.spec.end.date())
        ob = params.order_brushing
        alone = params.model_copy(update={"order_brushing": ob.model_copy(update={"node": ob.node.model_copy(
            update={"weights": {"log_density_ratio": ob.node.weights["log_density_ratio"]}})})})
        only = run_detectors(market.orders, market.ratings, market.shipments, now=market.spec.end, params=alone,
                             kinds=["order_brushing"])
        base = baselines(market.orders, market.ratings, market.shipments, res.buyer_ids, res.shop_ids)
        lb = aligned(res.buyer_ids, market.labels.buyers, "buyer_id", "brushing")
        ls = aligned(res.shop_ids, market.labels.shops, "shop_id", "brushing")
        fb = np.isin(res.buyer_ids, [b for d in res.detections for b in d.buyer_ids])
        fs = np.isin(res.shop_ids, [x for d in res.detections for x in d.shop_ids])
        pb, rb, _ = precision_recall(fb, lb)
        ps, rs, _ = precision_recall(fs, ls)
        print(f"| {name} | **{fmt(roc_auc(res.buyer_scores['order_brushing'], lb))}** "
              f"({fmt(roc_auc(only.buyer_scores['order_brushing'], lb))}) | {fmt(roc_auc(base['good_by_buyer'], lb))} "
              f"| {fmt(pb)} / {fmt(rb)} | **{fmt(roc_auc(res.shop_scores['order_brushing'], ls))}** | "
              f"{fmt(roc_auc(base['five_by_shop'], ls))} | {fmt(ps)} / {fmt(rs)} |")


def write_frames(orders: int, seed: int) -> Path:
    from chengxin.ecommerce.marketgen import MarketSpec, generate

    folder = OUT / f"detection_{orders}_{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    market = generate(MarketSpec(orders=orders, seed=seed))
    gen_s = time.perf_counter() - t0
    for name in ("orders", "ratings", "shipments"):
        getattr(market, name).write_parquet(folder / f"{name}.parquet")
    (folder / "now.txt").write_text(market.spec.end.isoformat())
    print(f"\n## speed — generated {market.orders.height:,} orders + {market.ratings.height:,} ratings + "
          f"{market.shipments.height:,} shipments in {gen_s:.1f} s (peak RSS of the generator "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB)")
    return folder


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM: reset by exec, unlike ru_maxrss which a child inherits)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def speed(folder: Path) -> dict[str, Any]:
    """Run in a fresh process: read the frames, run every detector, report timings and peak RSS."""
    from chengxin.ecommerce.detection.pipeline import run_detectors

    frames = {n: pl.read_parquet(folder / f"{n}.parquet") for n in ("orders", "ratings", "shipments")}
    now = dt.datetime.fromisoformat((folder / "now.txt").read_text())
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    result = run_detectors(frames["orders"], frames["ratings"], frames["shipments"], now=now)
    wall = time.perf_counter() - t0
    return {"orders": frames["orders"].height, "ratings": frames["ratings"].height,
            "shipments": frames["shipments"].height, "timings": result.timings, "wall": wall,
            "rss_frames_mb": rss_before, "peak_rss_mb": peak_rss_mb(),
            "findings": {k: len(result.of_kind(k)) for k in result.stats}, "stats": result.stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders of the quality marketplace")
    parser.add_argument("--stress-orders", type=int, default=300_000, help="orders of each stress marketplace")
    parser.add_argument("--speed-orders", type=int, default=1_000_000, help="orders of the speed marketplace")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smoke run: 30,000 orders for both parts")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-stress", action="store_true")
    parser.add_argument("--speed-only", type=Path, default=None, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.speed_only:
        print(json.dumps(speed(args.speed_only), default=str))
        return
    if args.quick:
        args.orders = args.speed_orders = args.stress_orders = 30_000
    print(f"machine: {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} (1/5/15 min) at start")
    if not args.skip_quality:
        quality(args.orders, args.seed)
    if not args.skip_stress:
        stress(args.stress_orders, args.seed)
    if not args.skip_speed:
        folder = write_frames(args.speed_orders, args.seed)
        child = subprocess.run([sys.executable, __file__, "--speed-only", str(folder)], check=True,
                               capture_output=True, text=True)
        report = json.loads(child.stdout.strip().splitlines()[-1])
        t = report["timings"]
        print(f"run_detectors over {report['orders']:,} orders + {report['ratings']:,} ratings + "
              f"{report['shipments']:,} shipments (fresh process, frames read from Parquet):\n")
        print("| phase | s |\n|---|---|")
        for name in ("validate", "order_brushing", "fake_traffic", "malicious_review", "empty_parcel"):
            print(f"| {name} | {t[name]:.2f} |")
        print(f"| **total** | **{t['total']:.2f}** |")
        print(f"\npeak RSS {report['peak_rss_mb']:,.0f} MB (of which {report['rss_frames_mb']:,.0f} MB after reading "
              f"the frames); findings {report['findings']}")
        print(f"brushing graph: {report['stats']['order_brushing']}")
    print(f"\nload at end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
