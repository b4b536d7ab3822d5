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
