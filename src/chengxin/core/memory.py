"""Garbage-collector settings for long bulk jobs.

CPython's cyclic collector runs a young collection every 700 new container objects and, every hundred or so
of those, a full one that walks every live object. A bulk ingest creates tens of container objects per row
(rows, dicts, tuples, lists of a chunk) and keeps a few hundred thousand alive (the chunk in hand, the batch's
subject cache): the collector's walks cost 15–25% of the writer's CPU and ~13% of the reader's
(bench/RESULTS.md, "Ingest", session 9) while finding almost nothing to free — chunks are freed by reference
counting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_YOUNG_THRESHOLD = 50_000  # new container objects between young collections (CPython's default: 700)


@contextmanager
def rare_collections(young: int = BULK_YOUNG_THRESHOLD) -> Iterator[None]:
    """Collect cycles less often while the block runs (still collected: memory stays bounded), then restore
    the thresholds as they were."""
    thresholds = gc.get_threshold()
    gc.set_threshold(young, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
