"""Fixtures of the browser tests: a real uvicorn server on the test platform, and Debian's chromium
driven by Playwright (no browser download: ``make system-deps`` installs the ``chromium`` package)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from chengxin.api.app import create_app
from chengxin.platform import Platform
from tests_support import uvicorn_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@pytest.fixture()
def server(platform: Platform) -> Iterator[str]:
    """A real uvicorn server on the test platform, in a background thread; yields its base URL."""
    with uvicorn_server(create_app(platform)) as url:
        yield url


@pytest.fixture()
def browser() -> Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        pytest.skip("Debian chromium is not installed (make system-deps, or apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (zh-CN, 1280×900, downloads accepted) and one page in it."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    try:
        yield pg
    finally:
        context.close()
