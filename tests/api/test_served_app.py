"""``chengxin serve`` runs the app with its long-lived objects frozen out of the garbage collector."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient

from chengxin.api import app as app_module
from chengxin.platform import Platform


def test_the_served_app_freezes_what_it_built_and_serves(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "open_platform", lambda: platform)
    before = gc.get_freeze_count()
    try:
        served = app_module.create_served_app()
        assert gc.get_freeze_count() > before + 10_000  # the catalog, SQLAlchemy, FastAPI …
        assert TestClient(served).get("/healthz").json()["status"] == "ok"
    finally:
        gc.unfreeze()  # the other tests build many apps: let the collector see them again
