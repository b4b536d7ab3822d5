"""Settings from the environment (prefix ``CHENGXIN_``) or a ``.env`` file in the working directory."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chengxin.core.errors import DomainError

# Rows per chunk of an ingest (read, validated, written together). 20,000 against 5,000: a 1,000,000-row file on
# PostgreSQL in 37.9–40.2 s against 45.8–46.2 (less CPU in every process: per chunk the distinct values are
# validated, the database asked and the COPYs started once), peak memory unchanged (bench/RESULTS.md, ingest,
# session 20).
INGEST_CHUNK_ROWS = 20_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHENGXIN_", env_file=".env", extra="ignore")

    # SQLite file by default (embedded); PostgreSQL in production:
    # postgresql+psycopg://user:pass@host:5432/chengxin
    database_url: str = "sqlite:///var/chengxin.db"
    # Keys live outside the database and outside git (var/ is ignored).
    key_dir: Path = Path("var/keys")
    # Uploads larger than this are refused before reading (bytes).
    max_upload_bytes: int = 512 * 1024 * 1024
    # Rows per write round-trip in the ingest; bigger is faster, smaller uses less memory.
    ingest_chunk_rows: int = INGEST_CHUNK_ROWS
    # Portal session lifetime (hours) and whether the cookie needs HTTPS.
    session_hours: int = 8
    secure_cookies: bool = False
    # Demo data set sizes (loaded by `make run` when the database is empty).
    demo_persons: int = 20_000
    demo_organizations: int = 5_000
    demo_records: int = 200_000
    demo_seed: int = 20181205  # the policy's date: reproducible demo data
    # The credit check (checks/): its log is written behind the request by a writer thread every ~50 ms
    # ("batch"; a hard crash can lose that window) or in the request ("sync").
    check_log: Literal["batch", "sync"] = "batch"
    # A verified API key is trusted in process this many seconds, on every endpoint (accounts.ApiKeyCache):
    # a revoked key stops working within it; 0 verifies every request against the database.
    api_key_cache_seconds: float = Field(default=5.0, ge=0)
    # SQLite: `chengxin serve` checkpoints the write-ahead log from a background thread this often (seconds),
    # so no request pays for a checkpoint (core.db.WalCheckpointer); 0 leaves it to SQLite's auto-checkpoint.
    sqlite_checkpoint_seconds: float = Field(default=0.5, ge=0)
    # `chengxin serve` worker processes; 0 = one per CPU core, at most 4. One process answers ~870 credit
    # checks a second here; the 1,000/s target (issue #5) needs two (bench/RESULTS.md).
    serve_workers: int = Field(default=0, ge=0, le=64)
    # Password hashing (argon2id, RFC 9106): memory in KiB and passes. The defaults are argon2-cffi's
    # (64 MiB, 3 passes: ~0.1 s a hash here). The test suite lowers them (tests/conftest.py) — the same
    # algorithm and code path, cheaper — since it signs in thousands of times.
    password_hash_memory_kib: int = Field(default=65536, ge=1024)
    password_hash_time_cost: int = Field(default=3, ge=1)
    # The proxies in front of `chengxin serve` whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated
    # addresses or networks (CIDR), "*" for any. Sign-in failures are counted per client address (accounts.sign_in):
    # behind a proxy that is not listed here every citizen has the proxy's address, and 50 failures by anyone lock
    # everyone out; a listed proxy's header is believed, so list only proxies that overwrite it.
    trusted_proxies: str = "127.0.0.1"

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for entry in trusted_proxy_entries(value):
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise SettingValueError(f"中的“{entry}”不是 IP 地址或网段",
                                            f"{entry!r} is not an IP address or network") from None
        return value


def trusted_proxy_entries(value: str) -> list[str]:
    """The entries of a ``trusted_proxies`` setting (blank ones dropped)."""
    return [entry.strip() for entry in value.split(",") if entry.strip()]


def serve_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the client's address: forwarded headers believed from ``trusted_proxies`` only (the
    one place `chengxin serve` and its test take them from)."""
    return {"proxy_headers": True, "forwarded_allow_ips": trusted_proxy_entries(settings.trusted_proxies)}


class SettingValueError(ValueError):
    """A setting's own validator refusing a value: the reason in Chinese and in English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


class InvalidSettings(DomainError):
    """A setting from the environment or ``.env`` that cannot be read: named by its variable, with why."""


# What pydantic's error types mean, for the clerk who set the variable.
_SETTING_REASONS: dict[str, str] = {
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "greater_than_equal": "应不小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "应不大于 {le}",
    "less_than": "应小于 {lt}",
    "literal_error": "应为以下之一：{expected}",
}

S = TypeVar("S", bound=BaseSettings)


def load_settings(kind: type[S]) -> S:
    """Settings of ``kind`` from the environment, or :class:`InvalidSettings` naming every variable that is wrong
    (``CHENGXIN_SERVE_WORKERS=-1`` → "CHENGXIN_SERVE_WORKERS 应不小于 0（当前为 -1）") instead of a traceback."""
    try:
        return kind()
    except ValidationError as exc:
        prefix = str(kind.model_config.get("env_prefix", ""))
        zh, en = [], []
        for error in exc.errors():
            name = (prefix + "_".join(str(part) for part in error["loc"])).upper()
            context = error.get("ctx", {})
            own = context.get("error")
            if isinstance(own, SettingValueError):
                reason, reason_en = own.zh, own.en
            else:
                reason = _SETTING_REASONS.get(error["type"], "无法识别").format(**context).replace("' or '", "'、'")
                reason_en = error["msg"]
            shown = str(error["input"])
            shown = shown if len(shown) <= 40 else shown[:39] + "…"
            zh.append(f"{name} {reason}（当前为 {shown}）")
            en.append(f"{name}: {reason_en}")
        raise InvalidSettings("settings.invalid", "配置有误：" + "；".join(zh), "Invalid settings: " + "; ".join(en),
                              status=500) from None


def serve_workers(settings: Settings, cpus: int | None) -> int:
    """The worker processes `chengxin serve` starts: the setting, or one per core (at most 4) when it is 0."""
    return settings.serve_workers or max(1, min(cpus or 1, 4))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(Settings)
