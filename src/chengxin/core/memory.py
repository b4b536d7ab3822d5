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


def right_sized(data: bytes) -> bytes:
    """``data`` in a buffer of its own length, for bytes kept by the thousand (a chunk's rows).

    orjson (3.12 on) returns its output in the buffer it wrote into, rounded up and never shrunk: 1,450 bytes of
    a record's fields held ~8 KiB each, and the 20,000 rows of a chunk read row by row (an xlsx file) ~160 MiB
    instead of ~30 (bench/RESULTS.md, ingest, session 22). The copy costs ~0.3 µs."""
    return b"".join((data, b""))
