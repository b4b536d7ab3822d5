"""Whose address a sign-in failure is counted against, through a real uvicorn server run with `chengxin serve`'s
proxy options (``core.settings.serve_options``): a proxy listed in ``CHENGXIN_TRUSTED_PROXIES`` is believed when it
says whom it forwards (``X-Forwarded-For``); any other client is counted as itself, whatever header it sends —
else anyone could spread failures over invented addresses, or pin them on someone else's."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from chengxin.accounts.models import SignInFailure
from chengxin.api.app import create_app
from chengxin.core.settings import Settings, serve_options
from chengxin.platform import Platform
from tests_support import uvicorn_server

FORWARDED_FOR = "203.0.113.9"  # the citizen's address, as a proxy in front would report it


@pytest.mark.parametrize(("trusted", "counted_as"), [
    ("127.0.0.1", FORWARDED_FOR),  # the default: a proxy on this host (the test connects from 127.0.0.1)
    ("10.0.0.0/8, ::1, 127.0.0.0/8", FORWARDED_FOR),  # a network that holds the proxy
    ("10.0.0.0/8", "127.0.0.1"),  # the client is no listed proxy: its header is ignored
    ("", "127.0.0.1"),  # nobody is believed
])
def test_failures_count_against_the_forwarded_address_only_from_a_listed_proxy(
    platform: Platform, trusted: str, counted_as: str
) -> None:
    settings = Settings(trusted_proxies=trusted, _env_file=None)  # type: ignore[call-arg]
    with uvicorn_server(create_app(platform), **serve_options(settings)) as url:
        for path, body in (("/api/v1/auth/token", {"username": "nobody", "password": "wrong password"}),
                           ("/api/v1/me/sessions", {"ric": "11010519491231002X", "password": "wrong password"})):
            answer = httpx.post(url + path, json=body, headers={"X-Forwarded-For": FORWARDED_FOR}, timeout=30)
            assert answer.status_code == 401, answer.text
    with platform.db.read() as session:
        assert sorted(session.scalars(select(SignInFailure.address))) == [counted_as, counted_as]
