"""core.memory: the collector runs rarely inside a bulk job, and as before after it — error or not."""

from __future__ import annotations

import gc

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
