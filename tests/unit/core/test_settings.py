"""Settings from the environment: a value that cannot be read is named by its variable, in Chinese and English,
with why and what it was (``InvalidSettings``) — every wrong variable at once, never a traceback. And the
proxies whose forwarded headers `chengxin serve` believes (``CHENGXIN_TRUSTED_PROXIES``)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengxin.core.settings import InvalidSettings, Settings, load_settings, serve_options
from chengxin.subscriptions.config import WebhookSettings


@pytest.fixture(autouse=True)
def _no_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(tmp_path)  # a developer's .env in the checkout must not decide these tests


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("CHENGXIN_SERVE_WORKERS", "-1", "CHENGXIN_SERVE_WORKERS 应不小于 0（当前为 -1）"),
    ("CHENGXIN_SERVE_WORKERS", "65", "CHENGXIN_SERVE_WORKERS 应不大于 64（当前为 65）"),
    ("CHENGXIN_SESSION_HOURS", "八", "CHENGXIN_SESSION_HOURS 应为整数（当前为 八）"),
    ("CHENGXIN_SECURE_COOKIES", "maybe", "CHENGXIN_SECURE_COOKIES 应为 true 或 false（当前为 maybe）"),
    ("CHENGXIN_CHECK_LOG", "fast", "CHENGXIN_CHECK_LOG 应为以下之一：'batch'、'sync'（当前为 fast）"),
    ("CHENGXIN_API_KEY_CACHE_SECONDS", "soon", "CHENGXIN_API_KEY_CACHE_SECONDS 应为数字（当前为 soon）"),
    ("CHENGXIN_PASSWORD_HASH_MEMORY_KIB", "8", "CHENGXIN_PASSWORD_HASH_MEMORY_KIB 应不小于 1024（当前为 8）"),
    ("CHENGXIN_TRUSTED_PROXIES", "10.0.0.1, nginx", "CHENGXIN_TRUSTED_PROXIES 中的“nginx”不是 IP 地址或网段"),
    ("CHENGXIN_TRUSTED_PROXIES", "10.0.0.0/33", "“10.0.0.0/33”不是 IP 地址或网段"),
])
def test_a_setting_that_cannot_be_read_is_named_with_why(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidSettings) as caught:
        load_settings(Settings)
    assert caught.value.code == "settings.invalid"
    assert said in caught.value.message
    assert variable in caught.value.message_en


def test_every_wrong_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHENGXIN_SERVE_WORKERS", "-1")
    monkeypatch.setenv("CHENGXIN_CHECK_LOG", "fast")
    with pytest.raises(InvalidSettings) as caught:
        load_settings(Settings)
    assert "CHENGXIN_SERVE_WORKERS" in caught.value.message and "CHENGXIN_CHECK_LOG" in caught.value.message


def test_a_long_value_is_shortened_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHENGXIN_SESSION_HOURS", "9" * 30 + "x" * 100)
    with pytest.raises(InvalidSettings) as caught:
        load_settings(Settings)
    assert "9" * 30 + "x" * 9 + "…）" in caught.value.message  # 40 characters at most, the last one "…"


def test_the_webhook_settings_load_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHENGXIN_WEBHOOK_ALLOW_HTTP_HOSTS", "localhost")
    assert load_settings(WebhookSettings).http_hosts == {"localhost"}


def test_good_values_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHENGXIN_SERVE_WORKERS", "3")
    monkeypatch.setenv("CHENGXIN_TRUSTED_PROXIES", " 10.0.0.0/8 , ::1,")
    settings = load_settings(Settings)
    assert settings.serve_workers == 3
    assert serve_options(settings) == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8", "::1"]}


def test_by_default_only_a_proxy_on_this_host_is_believed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHENGXIN_TRUSTED_PROXIES", raising=False)
    assert serve_options(load_settings(Settings))["forwarded_allow_ips"] == ["127.0.0.1"]


_ADDRESSES = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
_NETWORKS = st.one_of(st.ip_addresses(v=4).flatmap(lambda a: st.integers(0, 32).map(lambda p: f"{a}/{p}")),
                      st.ip_addresses(v=6).flatmap(lambda a: st.integers(0, 128).map(lambda p: f"{a}/{p}")))


@given(st.lists(st.one_of(_ADDRESSES.map(str), _NETWORKS, st.just("*")), min_size=1, max_size=5))
def test_any_list_of_addresses_and_networks_is_accepted_as_written(entries: list[str]) -> None:
    settings = Settings(trusted_proxies=",".join(entries), _env_file=None)  # type: ignore[call-arg]
    assert serve_options(settings)["forwarded_allow_ips"] == entries


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz.:/-", min_size=1, max_size=20))
def test_an_entry_that_is_no_address_is_refused(entry: str) -> None:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        with pytest.raises(ValueError, match="is not an IP address or network"):
            Settings(trusted_proxies=f"127.0.0.1,{entry}", _env_file=None)  # type: ignore[call-arg]
    else:  # e.g. "::" or "::/0": an address after all
        Settings(trusted_proxies=f"127.0.0.1,{entry}", _env_file=None)  # type: ignore[call-arg]
