"""core.memory: the collector runs rarely inside a bulk job, and as before after it — error or not."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from chengxin.core.memory import BULK_YOUNG_THRESHOLD, rare_collections


def test_rare_collections_raises_the_young_threshold_and_restores_all_three() -> None:
    before = gc.get_threshold()
    with rare_collections():
        assert gc.get_threshold() == (BULK_YOUNG_THRESHOLD, *before[1:])
        assert gc.isenabled()  # cycles are still collected: memory stays bounded
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), rare_collections(1234):
        assert gc.get_threshold()[0] == 1234
        raise RuntimeError("a failed batch")
    assert gc.get_threshold() == before


def test_overlapping_blocks_in_two_threads_restore_the_thresholds_once_both_are_done() -> None:
    import threading

    before = gc.get_threshold()
    first_in, second_out = threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def second() -> None:
        first_in.wait()
        with rare_collections():
            seen.append(gc.get_threshold())
        second_out.set()

    thread = threading.Thread(target=second)
    thread.start()
    with rare_collections():
        first_in.set()
        assert second_out.wait(10)
        assert gc.get_threshold()[0] == BULK_YOUNG_THRESHOLD  # the other block's exit did not restore them
    thread.join()
    assert seen == [(BULK_YOUNG_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before


def _kept_bytes(make: Callable[[], Any]) -> tuple[list[Any], float]:
    """1,000 results of ``make`` kept, and the memory they hold each (tracemalloc: what was allocated, not what
    ``len`` says)."""
    tracemalloc.start()
    try:
        kept = [make() for _ in range(1000)]
        return kept, tracemalloc.get_traced_memory()[0] / len(kept)
    finally:
        tracemalloc.stop()


def test_a_records_fields_json_is_kept_in_a_buffer_of_its_own_size() -> None:
    """orjson's output buffer is rounded up (8 KiB for 1.4 KiB of JSON): a chunk keeps one a row, so the ingest
    keeps a right-sized copy (``core.memory.right_sized``) — a chunk of 20,000 rows read row by row went from
    ~160 MiB of JSON to ~30."""
    from chengxin.records.rules import canonical_fields

    fields = {f"field_{n}": "测试违法行为类型" * 3 for n in range(18)}
    kept, per_row = _kept_bytes(lambda: canonical_fields(fields))
    assert len(kept[0]) > 1000
    assert per_row < 1.25 * len(kept[0]), per_row


def test_right_sized_is_the_same_bytes() -> None:
    from chengxin.core.memory import right_sized

    data = b'{"a":"\xe5\xb8\xb8"}'
    assert right_sized(data) == data and type(right_sized(data)) is bytes


def test_the_check_logs_json_for_postgresql_is_kept_in_a_buffer_of_its_own_size() -> None:
    """A batch check builds two JSON values a row for 20,000 rows before its COPY: ~4 KiB each from orjson, 160 MiB
    a slice, without the right-sized copy."""
    from chengxin.checks.log import _json_adapter

    as_json = _json_adapter("postgresql")
    value = [{"list": "black", "measure": "m1", "basis": "《江苏省社会信用条例》第十条"}]
    kept, per_value = _kept_bytes(lambda: as_json(value))
    assert isinstance(kept[0], bytes) and per_value < 2 * len(kept[0]) + 64, per_value
