"""How many processes `chengxin serve` starts: the setting, or one per core (at most 4) when it is 0."""

from __future__ import annotations

import pytest

from chengxin.core.settings import Settings, serve_workers


@pytest.mark.parametrize(("setting", "cpus", "expected"), [
    (0, 2, 2),  # this machine kind: two cores, two workers (the credit check's 1,000/s needs both)
    (0, 1, 1),
    (0, None, 1),  # os.cpu_count() may not know
    (0, 16, 4),  # a big host: at most 4 by default (each process holds the catalog and its caches)
    (3, 2, 3),  # an explicit setting wins
    (1, 16, 1),
])
def test_serve_workers(setting: int, cpus: int | None, expected: int) -> None:
    assert serve_workers(Settings(serve_workers=setting, _env_file=None), cpus) == expected  # type: ignore[call-arg]


def test_a_negative_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="serve_workers"):
        Settings(serve_workers=-1, _env_file=None)  # type: ignore[call-arg]
