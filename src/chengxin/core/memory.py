"""Garbage-collector settings for long bulk jobs.

CPython's cyclic collector runs a young collection every 700 new container objects and, every hundred or so
of those, a full one that walks every live object. A bulk ingest creates tens of container objects per row
(rows, dicts, tuples, lists of a chunk) and keeps a few hundred thousand alive (the chunk in hand, the batch's
subject cache): the collector's walks cost 8–25% of the writer's CPU and ~13% of the reader's
(bench/RESULTS.md, "Ingest", session 9) while finding almost nothing to free — chunks are freed by reference
counting.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK_YOUNG_THRESHOLD = 50_000  # new container objects between young collections (CPython's default: 700)


_lock = threading.Lock()
_holders = 0  # blocks inside rare_collections() now, in any thread
_saved: tuple[int, int, int] = gc.get_threshold()  # what the first block to enter found


@contextmanager
def rare_collections(young: int = BULK_YOUNG_THRESHOLD) -> Iterator[None]:
    """Collect cycles less often while the block runs (still collected: memory stays bounded). Blocks may
    overlap in several threads (two uploads ingested at once): the first to enter saves the thresholds, the
    last to leave puts them back."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            _saved = gc.get_threshold()
        _holders += 1
        gc.set_threshold(max(young, gc.get_threshold()[0]), *_saved[1:])
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.set_threshold(*_saved)
