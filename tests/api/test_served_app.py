"""``chengxin serve`` runs the app with its long-lived objects frozen out of the garbage collector."""

from __future__ import annotations

import gc
import sys

import pytest
from fastapi.testclient import TestClient

from chengxin.api import app as app_module
from chengxin.platform import Platform


def test_the_served_app_freezes_what_it_built_and_serves(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "open_platform", lambda: platform)
    before, interval = gc.get_freeze_count(), sys.getswitchinterval()
    try:
        served = app_module.create_served_app()
        assert gc.get_freeze_count() > before + 10_000  # the catalog, SQLAlchemy, FastAPI …
        assert sys.getswitchinterval() == pytest.approx(app_module.SWITCH_INTERVAL) and app_module.SWITCH_INTERVAL < interval
        assert TestClient(served).get("/healthz").json()["status"] == "ok"
    finally:
        gc.unfreeze()  # the other tests build many apps: let the collector see them again
        sys.setswitchinterval(interval)


def test_routes_are_flat_and_machine_endpoints_come_first() -> None:
    """api.app.flatten_routes: no included-router nodes left (FastAPI >= 0.137 searches them per request),
    /healthz first, then every /api/ route, then the pages — and no path starts with a parameter, so the
    partition cannot change which route answers a path."""
    from chengxin.api.app import create_app

    routes = create_app().router.routes
    paths = [str(getattr(r, "path", "")) for r in routes]
    assert not any(hasattr(r, "original_router") for r in routes)
    assert paths[0] == "/healthz"
    first_page = next(i for i, p in enumerate(paths) if i > 0 and not p.startswith("/api/"))
    assert all(p.startswith("/api/") for p in paths[1:first_page])
    assert not any(p.startswith("/api/") for p in paths[first_page:])
    assert not any(p.startswith("/{") for p in paths)
    assert len(paths) == len(set(zip(paths, [tuple(sorted(getattr(r, "methods", None) or ())) for r in routes],
                                     strict=True)))


def test_hot_paths_come_first_and_shadow_no_other_route() -> None:
    """The API paths with speed targets are tried right after /healthz (api.app.HOT_PATHS). Moving a route
    ahead is only safe if it cannot answer another route's paths: no hot route's pattern matches any other
    route's path (parameters filled with a number and with a word)."""
    import re

    from chengxin.api.app import HOT_PATHS, create_app

    routes = create_app().router.routes
    paths = [str(getattr(r, "path", "")) for r in routes]
    assert paths[1:1 + len(HOT_PATHS)] == list(HOT_PATHS)
    hot = [r for r in routes if getattr(r, "path", "") in HOT_PATHS]
    for other in routes:
        path = str(getattr(other, "path", ""))
        if path in HOT_PATHS or not path:
            continue
        for filler in ("1", "word"):
            concrete = re.sub(r"\{[^}]+\}", filler, path)
            for route in hot:
                assert not route.path_regex.match(concrete), f"{route.path} would answer {concrete} ({path})"
