"""Shared plumbing of the detectors: dense indexes of buyers and shops, sparse gathers, window counts.

Every detector works on positions (0..n−1) into :class:`Index`, so their per-buyer and per-shop score
arrays line up and :mod:`pipeline` can hand them over as plain arrays.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

__all__ = ["NULL_TIME", "Index", "beijing", "codes", "distinct", "distinct_counts", "edge_positions", "iso", "seconds", "window_counts"]


@dataclass(frozen=True)
class Index:
    """Sorted distinct ids; ``buyer(ids)`` / ``shop(ids)`` give their positions (ids must be present);
    ``buyers_of(frame)`` / ``shops_of(frame)`` the same for a frame's column, computed once per frame."""

    buyer_ids: np.ndarray
    shop_ids: np.ndarray
    _cache: dict[tuple[int, str], tuple[pl.DataFrame, np.ndarray]] = field(default_factory=dict, repr=False,
                                                                           compare=False)

    @classmethod
    def of(cls, *frames: pl.DataFrame) -> Index:
        def ids(column: str) -> np.ndarray:
            parts = [f.get_column(column).cast(pl.Int64) for f in frames if column in f.columns]
            if not parts:
                return np.empty(0, dtype=np.int64)
            return pl.concat(parts).unique().sort().to_numpy().astype(np.int64)

        return cls(ids("buyer_id"), ids("shop_id"))

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_ids)

    @property
    def n_shops(self) -> int:
        return len(self.shop_ids)

    def buyer(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.buyer_ids, ids).astype(np.int64)

    def shop(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.shop_ids, ids).astype(np.int64)

    def _of(self, frame: pl.DataFrame, column: str, ids: np.ndarray) -> np.ndarray:
        key = (id(frame), column)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is frame:
            return hit[1]
        positions = np.searchsorted(ids, frame.get_column(column).to_numpy()).astype(np.int64)
        self._cache[key] = (frame, positions)  # the frame is kept, so its id cannot be reused meanwhile
        return positions

    def buyers_of(self, frame: pl.DataFrame) -> np.ndarray:
        return self._of(frame, "buyer_id", self.buyer_ids)

    def shops_of(self, frame: pl.DataFrame) -> np.ndarray:
        return self._of(frame, "shop_id", self.shop_ids)


def edge_positions(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Positions in a CSR ``indices``/``data`` of every edge of ``nodes`` (one vectorised gather)."""
    starts = indptr[nodes]
    lens = indptr[nodes + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    before = np.cumsum(lens) - lens
    return np.repeat(starts - before, lens) + np.arange(total, dtype=np.int64)


def window_counts(group: np.ndarray, seconds: np.ndarray, window: int) -> np.ndarray:
    """For events sorted by (group, seconds): how many events of the same group lie in (t − window, t]
    — the count of the sliding window ending at each event (searchsorted on a combined key, no loop)."""
    if len(group) == 0:
        return np.empty(0, dtype=np.int64)
    span = int(seconds.max() - seconds.min()) + 2 * window + 1
    key = group.astype(np.int64) * span + (seconds - seconds.min()).astype(np.int64)
    counts: np.ndarray = np.arange(len(key)) - np.searchsorted(key, key - window, side="right") + 1
    return counts


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: numpy's hash-based ``unique`` is several times slower on
    millions of int64)."""
    if len(values) == 0:
        return values.copy()
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def distinct_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and how often each occurs."""
    if len(values) == 0:
        return values.copy(), np.empty(0, dtype=np.int64)
    ordered = np.sort(values)
    first = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[first], np.diff(np.r_[first, len(ordered)])


_BEIJING = ZoneInfo("Asia/Shanghai")


def iso(epoch_seconds: int) -> str:
    """ISO 8601 UTC time of epoch seconds (for evidence)."""
    return dt.datetime.fromtimestamp(int(epoch_seconds), dt.UTC).isoformat()


def beijing(epoch_seconds: int) -> str:
    """Beijing local time, minutes (for the Chinese summaries analysts read)."""
    return dt.datetime.fromtimestamp(int(epoch_seconds), _BEIJING).strftime("%Y-%m-%d %H:%M")


def seconds(series: pl.Series) -> np.ndarray:
    """Epoch seconds (int64) of a datetime Series; nulls become ``NULL_TIME``."""
    return series.dt.epoch("s").fill_null(NULL_TIME).to_numpy().astype(np.int64)


NULL_TIME = np.iinfo(np.int64).min


def codes(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dense integer codes of a string Series (a 64-bit hash, then ``np.unique``) and a mask of the
    non-null rows (null rows get code −1)."""
    valid = series.is_not_null().to_numpy()
    hashed = series.hash(seed=0).to_numpy()
    out = np.full(len(series), -1, dtype=np.int64)
    if valid.any():
        _, inverse = np.unique(hashed[valid], return_inverse=True)
        out[valid] = inverse
    return out, valid
