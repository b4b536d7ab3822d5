"""FRAUDAR (Hooi, Song, Beutel, Shah, Shin, Faloutsos — KDD 2016) on the buyer × shop graph.

The graph: one edge per (buyer, shop) pair that traded in the window, valued ``1 + ln(orders)`` (a ring's
repeated orders count, but a regular's hundredth grocery order does not count a hundred times). FRAUDAR's
camouflage resistance comes from the **column weights** ``1 / ln(d_j + c)`` (d_j = distinct buyers of shop
j, c = 5 as in the paper): an edge to a popular shop is worth little, so a ring account's cover purchases
from popular shops neither hide it nor make honest buyers of those shops look dense.

The objective of a block S (buyers ∪ shops) is the average suspiciousness g(S) = f(S) / |S| with f(S) the
weighted edges inside S plus optional node priors. **Greedy peeling** removes, round after round, the
nodes whose *priority* (the drop in f when removing them: weighted degree in the remaining graph + prior)
is smallest, and keeps the best g seen. The priority structure is a bucketed min-queue: each round takes
every node within a factor (1 + ε) of the current minimum (ε = 0 is the paper's one-at-a-time order up to
ties); with the remaining nodes kept as an index array, each round costs O(remaining nodes + removed
edges) — vectorised, no Python loop over edges. The result is a 2(1 + ε)-approximation of the densest
block, as the paper's greedy is a 2-approximation.

Several rings: as in the paper's ``detectMultiple``, the edges of a found block are removed and the graph
is peeled again. Two departures, both measured (bench/RESULTS.md):

* **What "dense" means.** On a marketplace the densest region is not a ring but the graph's own core —
  heavy honest buyers × popular shops, thousands of nodes — so the first peel's best block is honest. A
  block is a ring only if it beats (1 + ``margin``) × that core's density (:func:`plateau`: the best density
  among peeled sets still holding ``core_share`` of the nodes, and at least ``core_min_nodes``).
* **Where to look.** Peeling everything again per ring would cost O(rings × graph). The first peel's **node
  suspiciousness** (the best density of any peeled set still containing the node) is kept as each node's
  score, and the repeated peels run only on the nodes whose suspiciousness reaches the threshold — the
  nodes the first peel saw inside a set that dense. (The provable bound, threshold / (2(1 + ε)), would
  readmit the whole honest core.) Each block found is split into its connected components: a peel may
  return two disjoint rings of similar density together.

:func:`detect_brushing` applies this to (shop, 3-day period) columns plus the address / device / payment
hashes two or more accounts share, scores every buyer and shop (FRAUDAR suspiciousness + association with
other suspicious accounts, a dated logistic), reports each ring with its evidence, and adds the rings too
small to beat the core: suspicious accounts tied together by columns that are mostly theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp  # type: ignore[import-untyped]
from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]
from scipy.stats import poisson  # type: ignore[import-untyped]

from chengxin.ecommerce.detection.findings import Detection, DetectorOutput, make_detection
from chengxin.ecommerce.detection.graph import (
    Index,
    beijing,
    codes,
    distinct,
    distinct_counts,
    edge_positions,
    iso,
    seconds,
    window_counts,
)
from chengxin.ecommerce.detection.params import OrderBrushing

__all__ = ["Block", "FraudarResult", "Peel", "bipartite", "detect_brushing", "fraudar", "node_suspiciousness", "peel",
           "plateau"]


@dataclass(frozen=True)
class Peel:
    """One greedy peel: the round each row / column was removed (``rounds + 1`` if never), the density
    g of the remaining set after each round (``density[0]`` = the whole graph) and the best round."""

    row_round: np.ndarray
    col_round: np.ndarray
    density: np.ndarray
    best_round: int
    row_core: np.ndarray  # priority of each row when it was removed (a weighted core number)
    col_core: np.ndarray

    @property
    def best_density(self) -> float:
        return float(self.density[self.best_round])

    def block(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of the densest set seen (alive after the best round)."""
        return (np.flatnonzero(self.row_round > self.best_round), np.flatnonzero(self.col_round > self.best_round))


@dataclass(frozen=True)
class Block:
    rows: np.ndarray  # positions of buyers
    cols: np.ndarray  # positions of shops
    density: float  # g of the block in the graph it was found in


@dataclass(frozen=True)
class FraudarResult:
    blocks: list[Block]
    row_score: np.ndarray  # node suspiciousness of each buyer (first peel)
    col_score: np.ndarray
    graph_density: float  # g of the whole graph
    core_density: float  # g of the graph's own dense core (see :func:`plateau`)
    candidates: tuple[int, int]  # rows, columns kept for the repeated peels
    rounds: int  # peeling rounds, all peels together


def bipartite(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], *, column_offset: float) -> sp.csr_matrix:
    """The column-weighted buyer × shop matrix of FRAUDAR from one (row, col) pair per order: edge value
    ``1 + ln(orders of the pair)`` times the column weight ``1 / ln(distinct buyers of the shop + c)``."""
    n_r, n_c = shape
    key = rows.astype(np.int64) * n_c + cols.astype(np.int64)
    pairs, counts = distinct_counts(key)
    r, c = pairs // n_c, pairs % n_c
    degree = np.bincount(c, minlength=n_c)
    weight = (1.0 + np.log(counts)) / np.log(degree[c] + column_offset)
    return sp.csr_matrix((weight, (r, c)), shape=shape)


def peel(matrix: sp.csr_matrix, row_prior: np.ndarray | None = None, col_prior: np.ndarray | None = None,
         *, epsilon: float = 0.0) -> Peel:
    """Greedy peeling of ``matrix`` (non-negative weights, non-negative priors) with a bucketed priority
    queue of width ε. Stops when one side is empty, like the reference implementation."""
    csr = matrix.tocsr()
    csr.sum_duplicates()
    by_col = csr.T.tocsr()
    n_r, n_c = csr.shape
    rp = np.zeros(n_r) if row_prior is None else np.asarray(row_prior, dtype=np.float64)
    cp = np.zeros(n_c) if col_prior is None else np.asarray(col_prior, dtype=np.float64)
    pri_r = np.asarray(csr.sum(axis=1)).ravel() + rp
    pri_c = np.asarray(csr.sum(axis=0)).ravel() + cp
    f = float(csr.data.sum() + rp.sum() + cp.sum())
    alive_r = np.ones(n_r, dtype=bool)
    alive_c = np.ones(n_c, dtype=bool)
    act_r = np.arange(n_r)
    act_c = np.arange(n_c)
    never = np.iinfo(np.int64).max
    row_round = np.full(n_r, never, dtype=np.int64)
    col_round = np.full(n_c, never, dtype=np.int64)
    row_core = np.zeros(n_r)
    col_core = np.zeros(n_c)
    density = [f / (n_r + n_c) if n_r + n_c else 0.0]
    t = 0
    while len(act_r) and len(act_c):
        t += 1
        pr, pc = pri_r[act_r], pri_c[act_c]
        low = min(float(pr.min()), float(pc.min()))
        threshold = low * (1.0 + epsilon) + 1e-12 * max(1.0, abs(low))
        mr, mc = pr <= threshold, pc <= threshold
        rem_r, rem_c = act_r[mr], act_c[mc]
        row_core[rem_r] = pr[mr]
        col_core[rem_c] = pc[mc]
        # rows first, then columns: an edge between two nodes removed in the same round counts once
        f -= _remove(rem_r, csr, rp, alive_r, alive_c, pri_c, row_round, t)
        f -= _remove(rem_c, by_col, cp, alive_c, alive_r, pri_r, col_round, t)
        act_r, act_c = act_r[~mr], act_c[~mc]
        remaining = len(act_r) + len(act_c)
        density.append(f / remaining if remaining else 0.0)
    row_core[act_r] = pri_r[act_r]
    col_core[act_c] = pri_c[act_c]
    row_round[row_round == never] = t + 1
    col_round[col_round == never] = t + 1
    dens = np.asarray(density)
    return Peel(row_round, col_round, dens, int(np.argmax(dens)), row_core, col_core)


def _remove(nodes: np.ndarray, adjacency: sp.csr_matrix, prior: np.ndarray, alive: np.ndarray,
            alive_other: np.ndarray, priority_other: np.ndarray, removed_round: np.ndarray, t: int) -> float:
    """Remove ``nodes`` of one side in round ``t``: lower the priorities of their living neighbours on the
    other side; return the weight (edges to living neighbours + priors) that leaves the set."""
    if not len(nodes):
        return 0.0
    pos = edge_positions(adjacency.indptr, nodes)
    other, w = adjacency.indices[pos], adjacency.data[pos]
    keep = alive_other[other]
    other, w = other[keep], w[keep]
    np.subtract.at(priority_other, other, w)
    alive[nodes] = False
    removed_round[nodes] = t
    return float(w.sum() + prior[nodes].sum())


def node_suspiciousness(p: Peel) -> tuple[np.ndarray, np.ndarray]:
    """Per node: the best density of any peeled set that still contained it (max of g over the rounds
    before its removal) — how dense the densest block around it is, by the greedy's account."""
    best = np.maximum.accumulate(p.density)
    return best[p.row_round - 1], best[p.col_round - 1]


def plateau(p: Peel, share: float, min_nodes: int = 0) -> float:
    """The best density among the peeled sets that still hold at least ``share`` of all nodes (and at least
    ``min_nodes``, so that in a small graph a ring cannot be its own "core"): the density of the graph's own
    large dense core (heavy honest buyers × popular shops), which a ring must beat."""
    n = len(p.row_round) + len(p.col_round)
    rounds = len(p.density)
    # nodes alive after round t = nodes removed after t: a reversed cumulative count of removal rounds
    removed = np.bincount(np.concatenate([p.row_round, p.col_round]), minlength=rounds + 1)
    alive = n - np.cumsum(removed)[:rounds]
    big = alive >= min(n, max(share * n, min_nodes))
    return float(p.density[big].max()) if big.any() else float(p.density[0])


def _components(rows: np.ndarray, cols: np.ndarray, r: np.ndarray,
                c: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Connected components of the block rows × cols (edges r, c inside it), as (rows, cols) pairs."""
    ri = np.searchsorted(rows, r)
    ci = np.searchsorted(cols, c)
    k = len(rows) + len(cols)
    adj = sp.coo_matrix((np.ones(len(r)), (ri, len(rows) + ci)), shape=(k, k))
    n, label = connected_components(adj, directed=False)
    out = []
    for comp in range(n):
        members = np.flatnonzero(label == comp)
        out.append((rows[members[members < len(rows)]], cols[members[members >= len(rows)] - len(rows)]))
    return out


def fraudar(matrix: sp.csr_matrix, *, epsilon: float, margin: float, core_share: float, max_blocks: int,
            core_min_nodes: int = 0, min_rows: int = 1, min_cols: int = 1, row_prior: np.ndarray | None = None,
            col_prior: np.ndarray | None = None) -> FraudarResult:
    """Up to ``max_blocks`` dense blocks, each denser than (1 + ``margin``) × the graph's own dense core
    (:func:`plateau` with ``core_share`` and ``core_min_nodes``), densest first.

    1. One greedy peel of the whole graph gives every node's suspiciousness and the core's density.
    2. The nodes whose suspiciousness beats the threshold are the candidates; as in the paper's
       ``detectMultiple``, the candidate graph is peeled, the block found is split into its connected
       components (a peel can return two disjoint rings of similar density together), each component
       dense enough and of at least ``min_rows`` × ``min_cols`` is a block, the block's edges (and priors)
       are removed, and the candidate graph is peeled again until nothing dense enough is left."""
    n_r, n_c = matrix.shape
    rp = np.zeros(n_r) if row_prior is None else np.asarray(row_prior, dtype=np.float64)
    cp = np.zeros(n_c) if col_prior is None else np.asarray(col_prior, dtype=np.float64)
    first = peel(matrix, rp, cp, epsilon=epsilon)
    row_score, col_score = node_suspiciousness(first)
    rounds = len(first.density) - 1
    core = plateau(first, core_share, core_min_nodes)
    threshold = (1.0 + margin) * core
    cand_r = np.flatnonzero(row_score >= threshold)
    cand_c = np.flatnonzero(col_score >= threshold)
    sub = matrix.tocsr()[cand_r][:, cand_c].tocoo()
    sr, sc, sw = sub.row.astype(np.int64), sub.col.astype(np.int64), sub.data.copy()
    srp, scp = rp[cand_r].copy(), cp[cand_c].copy()
    blocks: list[Block] = []
    for _ in range(4 * max_blocks):
        if len(blocks) >= max_blocks or not len(sr):
            break
        current = sp.csr_matrix((sw, (sr, sc)), shape=(len(cand_r), len(cand_c)))
        p = peel(current, srp, scp, epsilon=epsilon)
        rounds += len(p.density) - 1
        if p.best_density < threshold:
            break
        br, bc = p.block()
        in_r = np.zeros(len(cand_r), dtype=bool)
        in_c = np.zeros(len(cand_c), dtype=bool)
        in_r[br] = True
        in_c[bc] = True
        inside = in_r[sr] & in_c[sc]
        for rows, cols in _components(br, bc, sr[inside], sc[inside]):
            e = inside & np.isin(sr, rows) & np.isin(sc, cols)
            g = (sw[e].sum() + srp[rows].sum() + scp[cols].sum()) / max(1, len(rows) + len(cols))
            if g >= threshold and len(rows) >= min_rows and len(cols) >= min_cols and len(blocks) < max_blocks:
                blocks.append(Block(cand_r[rows], cand_c[cols], float(g)))
        srp[br] = 0.0
        scp[bc] = 0.0
        sr, sc, sw = sr[~inside], sc[~inside], sw[~inside]
    blocks.sort(key=lambda b: -b.density)
    return FraudarResult(blocks, row_score, col_score, float(first.density[0]), core, (len(cand_r), len(cand_c)),
                         rounds)


# -- order brushing: FRAUDAR on shop × time columns and shared-attribute columns, plus behaviour ----------

_ATTRIBUTES = (("address_hash", "addresses"), ("device_hash", "devices"), ("payment_hash", "payment_accounts"))


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)
    return out


def detect_brushing(orders: pl.DataFrame, ratings: pl.DataFrame, index: Index, p: OrderBrushing, *,
                    start: int) -> DetectorOutput:
    """刷单炒信: dense blocks of buyer accounts × shops, found by FRAUDAR, scored with behaviour.

    The graph's columns are (shop, ``bucket_days`` period) pairs — a ring's campaign falls in one or two
    periods of its client shops, while a regular's purchases spread over many (the time mode of the
    user × item × time tensors of D-Cube / M-Zoom, flattened) — and the address, device and payment-account
    hashes used by at least two accounts (side information as extra columns, weighted ``attribute_weight``
    / ln(accounts + c) like every column). ``orders`` and ``ratings`` (buyer → shop) are the windowed frames;
    ``start`` is the window's start (epoch seconds), so the periods do not move between re-runs."""
    n_b, n_s = index.n_buyers, index.n_shops
    order_ids = orders.get_column("order_id").to_numpy()
    r = index.buyers_of(orders)
    s = index.shops_of(orders)
    t = seconds(orders.get_column("placed_at"))
    n = len(t)
    if n == 0:
        return DetectorOutput("order_brushing", np.zeros(n_b), np.zeros(n_s), order_ids, np.zeros(0), [], {})
    bucket_s = max(1, int(p.bucket_days * 86_400))
    bucket = (t - start) // bucket_s
    n_bucket = int(bucket.max()) + 1
    ukey, col = np.unique(s * n_bucket + bucket, return_inverse=True)
    col_shop, col_bucket = ukey // n_bucket, ukey % n_bucket
    shop_cols = len(ukey)
    mats = [bipartite(r, col, (n_b, shop_cols), column_offset=p.column_offset)]
    kinds = [np.zeros(shop_cols, dtype=np.int8)]
    if p.attribute_weight > 0:
        for k, (column, _) in enumerate(_ATTRIBUTES, start=1):
            code, valid = codes(orders.get_column(column))
            rr, cc = r[valid], code[valid]
            m = int(cc.max()) + 1 if len(cc) else 1
            pairs = distinct(rr * m + cc)
            pr, pc = pairs // m, pairs % m
            deg = np.bincount(pc, minlength=m)
            keep = deg[pc] >= 2  # a value only one account uses cannot tie accounts together
            pr, pc = pr[keep], pc[keep]
            used, pc = np.unique(pc, return_inverse=True)
            d = deg[used][pc]
            mats.append(sp.csr_matrix((p.attribute_weight / np.log(d + p.column_offset), (pr, pc)),
                                      shape=(n_b, len(used))))
            kinds.append(np.full(len(used), k, dtype=np.int8))
    matrix = sp.hstack(mats, format="csr")
    col_kind = np.concatenate(kinds)
    res = fraudar(matrix, epsilon=p.epsilon, margin=p.margin, core_share=p.core_share, max_blocks=p.max_blocks,
                  core_min_nodes=p.core_min_nodes, min_rows=p.min_accounts)
    core = max(res.core_density, 1e-9)
    ratio = res.row_score / core
    # guilt by association: how many *other suspicious* accounts (at the dense core's level or above) share
    # an address, device or payment account with the buyer — a family sharing an address is common, a
    # dense-core account sharing with several others is a ring's logistics
    attrs = (matrix[:, shop_cols:] > 0).astype(np.float64).tocsr()
    suspicious = (ratio >= 1.0).astype(np.float64)
    shared = attrs @ (attrs.T @ suspicious) - np.asarray(attrs.sum(axis=1)).ravel() * suspicious

    # behaviour per order, buyer and shop
    shop_total = np.bincount(s, minlength=n_s)
    bucket_total = np.bincount(bucket, minlength=n_bucket)
    col_count = np.bincount(col, minlength=shop_cols)
    # a burst column: far more orders than the shop's usual share of that period's traffic (so a 双十一
    # that lifts every shop is not a burst); Poisson tail below the dated p-value
    expected = shop_total[col_shop] * bucket_total[col_bucket] / n
    burst_col = poisson.sf(col_count - 1, expected) <= p.burst_p_value
    in_burst = burst_col[col].astype(np.float64)
    rating_order, rating_good, rating_fast = _rating_flags(ratings, order_ids, p.fast_rating_minutes)
    rated_r = r[rating_order]
    fast_good_buyer = _share(np.bincount(rated_r, weights=rating_fast, minlength=n_b),
                             np.bincount(rated_r, minlength=n_b).astype(np.float64))
    per_buyer = np.bincount(r, minlength=n_b).astype(np.float64)
    node_features = {
        "log_density_ratio": np.log(np.maximum(ratio, 0.05)),
        "shared_accounts": np.log1p(np.minimum(shared, 20.0)),
        "burst_share": _share(np.bincount(r, weights=in_burst, minlength=n_b), per_buyer),
        "fast_good_share": fast_good_buyer,
    }
    buyer_score = p.node(node_features)
    shop_ratio = np.zeros(n_s)
    np.maximum.at(shop_ratio, col_shop, res.col_score[:shop_cols] / core)
    rated_s = s[rating_order]
    shop_features = {
        "log_density_ratio": np.log(np.maximum(shop_ratio, 0.05)),
        "shared_accounts": _share(np.bincount(s, weights=node_features["shared_accounts"][r], minlength=n_s),
                                  shop_total.astype(np.float64)),
        "burst_share": _share(np.bincount(s, weights=in_burst, minlength=n_s), shop_total.astype(np.float64)),
        "fast_good_share": _share(np.bincount(rated_s, weights=rating_fast, minlength=n_s),
                                  np.bincount(rated_s, minlength=n_s).astype(np.float64)),
    }
    shop_score = p.node(shop_features)

    # blocks → rings: the orders of a block are its accounts' orders in its (shop, period) columns
    row_block = np.full(n_b, -1, dtype=np.int64)
    col_block = np.full(matrix.shape[1], -1, dtype=np.int64)
    blocks = [b for b in res.blocks if (col_kind[b.cols] == 0).any()]
    n_fraudar = len(blocks)
    blocks += _suspicious_groups(matrix, buyer_score, blocks, p)
    for j, b in enumerate(blocks):
        row_block[b.rows[row_block[b.rows] < 0]] = j
        col_block[b.cols[col_block[b.cols] < 0]] = j
    order_block = np.where((row_block[r] >= 0) & (row_block[r] == col_block[col]), row_block[r], -1)
    in_block = np.flatnonzero(order_block >= 0)
    nb = len(blocks)
    ob = order_block[in_block]
    block_orders = np.bincount(ob, minlength=nb).astype(np.float64)
    # time pattern: the densest burst_hours window of each (block, shop), summed over the block's shops
    order = np.lexsort((t[in_block], s[in_block], ob))
    bo, bs, bt = ob[order], s[in_block][order], t[in_block][order]
    win = window_counts(bo * n_s + bs, bt, p.burst_hours * 3_600)
    group = bo * n_s + bs
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else np.empty(0, dtype=np.int64)
    group_max = np.maximum.reduceat(win, starts) if len(starts) else np.empty(0, dtype=np.int64)
    burst_orders = np.bincount(bo[starts], weights=group_max, minlength=nb) if len(starts) else np.zeros(nb)
    rating_block = order_block[rating_order]
    rb_mask = rating_block >= 0
    rated_b = np.bincount(rating_block[rb_mask], minlength=nb).astype(np.float64)
    good_b = np.bincount(rating_block[rb_mask], weights=rating_good[rb_mask], minlength=nb)
    fast_b = np.bincount(rating_block[rb_mask], weights=rating_fast[rb_mask], minlength=nb)
    pair = distinct(ob * (n_b * n_s) + r[in_block] * n_s + s[in_block])  # distinct (block, account, shop)
    pair_block = pair // (n_b * n_s)
    accounts_b = np.bincount(distinct(pair // n_s) // n_b, minlength=nb).astype(np.float64)
    shops_b = np.bincount(distinct(pair_block * n_s + pair % n_s) // n_s, minlength=nb).astype(np.float64)
    pairs_b = np.bincount(pair_block, minlength=nb).astype(np.float64)
    shared_b = np.zeros(nb)
    shared_detail: list[dict[str, int]] = []
    for j in range(nb):
        members = distinct(r[in_block][ob == j])
        # every address / device / payment value two of the ring's accounts share (not only the columns the
        # peel kept in the block)
        sub = attrs[members].tocsc()
        tying = np.flatnonzero(np.diff(sub.indptr) >= 2)
        sharing = distinct(sub[:, tying].tocoo().row)
        shared_b[j] = len(sharing) / max(1, len(members))
        kinds_used = col_kind[shop_cols + tying]
        shared_detail.append({name: int((kinds_used == k).sum()) for k, (_, name) in enumerate(_ATTRIBUTES, 1)}
                             | {"accounts_sharing": len(sharing)})
    block_features = {
        "log_density_ratio": np.log(np.array([b.density for b in blocks]) / core) if nb else np.zeros(0),
        "shared_share": shared_b,
        "burst_share": _share(burst_orders, block_orders),
        "good_share": _share(good_b, rated_b),
        "fast_good_share": _share(fast_b, rated_b),
        "log_accounts": np.log(np.maximum(accounts_b, 1.0)),
        # lockstep: the share of (account, shop) pairs of the block that traded — a ring's accounts buy from
        # most of its shops, a click farm's accounts each from one or two of many
        "fill": _share(pairs_b, accounts_b * shops_b),
    }
    block_conf = p.block(block_features) if nb else np.zeros(0)
    order_score = np.minimum(buyer_score[r], shop_score[s])
    detections: list[Detection] = []
    usual = shop_total / max(1.0, (t.max() - start) / 3_600)  # the shop's orders per hour over the window
    for j, b in enumerate(blocks):
        if accounts_b[j] < p.min_accounts or block_conf[j] < p.report_confidence:
            continue
        mine = in_block[ob == j]
        members = np.unique(r[mine])
        shops = np.unique(s[mine])
        buyer_score[members] = np.maximum(buyer_score[members], block_conf[j])
        shop_score[shops] = np.maximum(shop_score[shops], block_conf[j])
        order_score[mine] = np.maximum(order_score[mine], block_conf[j])
        sel = np.flatnonzero(bo == j)
        peak = sel[np.argmax(win[sel])]
        evidence: dict[str, Any] = {
            "method": "FRAUDAR (Hooi et al., KDD 2016): greedy peeling, column weights 1/ln(d+c)" if j < n_fraudar
            else "suspicious accounts (FRAUDAR suspiciousness + shared attributes) tied by shared shops/attributes",
            "accounts": int(accounts_b[j]), "shops": len(shops), "orders": len(mine),
            "account_shop_fill": block_features["fill"][j],
            "density": {"block": b.density, "graph_core": core, "graph": res.graph_density,
                        "ratio_to_core": b.density / core, "ratio_to_graph": b.density / max(res.graph_density, 1e-9)},
            "shared_attributes": shared_detail[j] | {"share_of_accounts": shared_b[j]},
            "time_pattern": {
                "first_order_at": iso(t[mine].min()), "last_order_at": iso(t[mine].max()),
                "burst_window_hours": p.burst_hours, "orders_in_densest_windows": int(burst_orders[j]),
                "burst_share": block_features["burst_share"][j],
                "peak_shop_id": int(index.shop_ids[bs[peak]]),
                "peak_window_from": iso(bt[peak] - p.burst_hours * 3_600), "peak_window_to": iso(bt[peak]),
                "peak_orders": int(win[peak]), "peak_orders_per_hour": win[peak] / p.burst_hours,
                "peak_shop_usual_orders_per_hour": usual[bs[peak]],
            },
            "ratings": {"rated": int(rated_b[j]), "good_share": block_features["good_share"][j],
                        "fast_good_share": block_features["fast_good_share"][j],
                        "fast_minutes": p.fast_rating_minutes},
        }
        sd = shared_detail[j]
        evidence["summary_zh"] = (
            f"{int(accounts_b[j])} 个账号在 {len(shops)} 家店铺下单 {len(mine)} 笔（北京时间 {beijing(t[mine].min())} 至 "
            f"{beijing(t[mine].max())}），共用收货地址 {sd['addresses']} 个、设备 {sd['devices']} 台、支付账户 "
            f"{sd['payment_accounts']} 个；最密集的 {p.burst_hours} 小时内单店 {int(win[peak])} 笔；子图密度为全图稠密核心的 "
            f"{b.density / core:.2f} 倍；好评率 {block_features['good_share'][j]:.0%}。")
        detections.append(make_detection("order_brushing", index.shop_ids[shops], index.buyer_ids[members],
                                         order_ids[mine], float(block_conf[j]), evidence))
    stats = {"columns": {"shop_periods": shop_cols, "attribute_values": int(matrix.shape[1] - shop_cols)},
             "edges": int(matrix.nnz), "graph_density": res.graph_density, "core_density": core,
             "candidates": res.candidates, "peeling_rounds": res.rounds, "blocks": n_fraudar,
             "groups": len(blocks) - n_fraudar,
             "reported": len(detections)}
    return DetectorOutput("order_brushing", buyer_score, shop_score, order_ids, order_score, detections, stats,
                          {"buyer": node_features, "shop": shop_features, "block": block_features})


def _suspicious_groups(matrix: sp.csr_matrix, buyer_score: np.ndarray, blocks: list[Block],
                       p: OrderBrushing) -> list[Block]:
    """Rings too small to beat the graph's dense core (a shop owner's dozen acquaintances): the accounts
    whose own score passes ``report_confidence`` and are in no block, tied together by the columns (shop
    periods, shared attributes) at least two of them use and that are mostly theirs — each connected
    component is a candidate ring,
    its density measured in the full column-weighted graph."""
    taken = np.zeros(matrix.shape[0], dtype=bool)
    for b in blocks:
        taken[b.rows] = True
    rows = np.flatnonzero((buyer_score >= p.report_confidence) & ~taken)
    if len(rows) < p.min_accounts:
        return []
    sub = matrix[rows].tocsc()
    users = np.diff(sub.indptr)
    everyone = np.diff(matrix.tocsc().indptr)
    # a tie is a column two of them use and that is mostly theirs: not a popular shop's week, where their
    # cover purchases meet thousands of honest buyers
    shared_cols = np.flatnonzero((users >= 2) & (2 * users >= everyone))
    sub = sub[:, shared_cols].tocoo()
    k = len(rows) + len(shared_cols)
    adj = sp.coo_matrix((np.ones(sub.nnz), (sub.row, len(rows) + sub.col)), shape=(k, k))
    n, label = connected_components(adj, directed=False)
    row_label, col_label = label[: len(rows)], label[len(rows):]
    size = np.bincount(row_label, minlength=n)
    weight = np.bincount(row_label[sub.row], weights=sub.data, minlength=n)
    out = []
    for comp in np.flatnonzero(size >= p.min_accounts):
        members, cols = rows[row_label == comp], shared_cols[col_label == comp]
        out.append(Block(members, cols, float(weight[comp] / (len(members) + len(cols)))))
    return out


def _rating_flags(ratings: pl.DataFrame, order_ids: np.ndarray,
                  fast_minutes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the buyer → shop ratings of orders in ``order_ids`` (sorted): the order's position, whether the
    rating is good, and whether it is good *and* given within ``fast_minutes`` of delivery."""
    oid = ratings.get_column("order_id").to_numpy()
    pos = np.searchsorted(order_ids, oid)
    pos_ok = np.minimum(pos, max(0, len(order_ids) - 1))
    known = (pos < len(order_ids)) & (order_ids[pos_ok] == oid) if len(order_ids) else np.zeros(len(oid), bool)
    good = ratings.get_column("value").to_numpy() == 1
    lag = seconds(ratings.get_column("rated_at")) - seconds(ratings.get_column("delivered_at"))
    delivered = ratings.get_column("delivered_at").is_not_null().to_numpy()
    fast = good & delivered & (lag >= 0) & (lag <= fast_minutes * 60)
    return pos[known], good[known].astype(np.float64), fast[known].astype(np.float64)
