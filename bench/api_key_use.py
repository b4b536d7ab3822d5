"""The cost the API-key cache's use note adds to a trusted request (issue #2, 账号与密钥: "last used").

Every request with an API key asks ``ApiKeyCache.cached`` / ``actor``; since the keys' last use is kept, a hit
also notes the key's use in memory (a lock and a clock read). This times a cache hit with the note against the
same hit without it (the baseline: the code before the note), in one run, in process — no database: a hit
never touches it.

    .venv/bin/python bench/api_key_use.py
"""

from __future__ import annotations

import hashlib
import time
import timeit
from typing import Any

from chengxin.accounts.service import ApiKeyCache
from chengxin.core.audit import Actor

KEY = "cx_0123456789ab_" + "s" * 43


def main() -> None:
    cache = ApiKeyCache(db=None, ttl=3600.0, use_interval=0)  # type: ignore[arg-type]  # a hit needs no database
    actor = Actor(kind="api_key", name="0123456789ab", role=None, department_code="samr")
    cache._entries[hashlib.sha256(KEY.encode()).digest()] = (actor, time.monotonic() + 3600)
    entries: dict[bytes, Any] = cache._entries
    clock = time.monotonic

    def without_note() -> Actor | None:  # ApiKeyCache.cached before the note (b84af2b)
        hit = entries.get(hashlib.sha256(KEY.encode()).digest())
        return hit[0] if hit is not None and hit[1] > clock() else None

    assert cache.cached(KEY) is actor and without_note() is actor
    n = 200_000
    for _ in range(3):
        base = min(timeit.repeat(without_note, number=n, repeat=5)) / n * 1e6
        noted = min(timeit.repeat(lambda: cache.cached(KEY), number=n, repeat=5)) / n * 1e6
        print(f"cache hit: without the note {base:.3f} µs, with it {noted:.3f} µs "
              f"(+{noted - base:.3f} µs a request; ratio {noted / base:.2f})")


if __name__ == "__main__":
    main()
