"""Load and check the dated webhook parameters (``data/webhooks.yaml``) and the installation settings.

Two kinds of configuration, kept apart on purpose:
- *policy* (what may be subscribed, the retry schedule, when a subscription is disabled) is dated
  data with a basis, like every rule of the platform (DESIGN.md: never constants in code);
- *installation* settings (which hosts may be reached over plain http, the portal's public address)
  differ per machine and come from the environment (``CHENGXIN_WEBHOOK_*``), like the database URL.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TypeAlias

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chengxin.core.dated import Dated, DatedError, DatedFormat, DatedVersion
from chengxin.core.settings import load_settings
from chengxin.lists.models import (
    ENDED,
    LIST_KINDS,
    LISTED,
    NOTICED,
    PROPOSED,
    PUBLICITY,
    REJECTED,
    WITHDRAWN,
)

__all__ = ["CONFIG_FILE", "FEED_KINDS", "RISK_CHANGED", "SHOP_RISK", "ConfigError", "WebhookConfig",
           "WebhookSettings", "config_on", "load_config", "parse_config", "webhook_settings"]

CONFIG_FILE = Path(__file__).resolve().parent / "data" / "webhooks.yaml"
# Issue #7: a shop's risk level (ecommerce.risk.warning) rides the same feed as list changes.
SHOP_RISK = "shop_risk"
RISK_CHANGED = "risk_changed"
FEED_KINDS = (*LIST_KINDS, SHOP_RISK)
KNOWN_CHANGES = (PROPOSED, NOTICED, PUBLICITY, LISTED, ENDED, REJECTED, WITHDRAWN, RISK_CHANGED)
SUBSCRIBER_KINDS = ("department", "platform", "office")


class ConfigError(DatedError):
    """The parameter file is invalid (the message names the file, the version and the field)."""


class WebhookConfig(DatedVersion):
    """One dated version of the parameters."""

    retry_schedule_seconds: tuple[float, ...] = Field(min_length=1)
    jitter_fraction: float = Field(ge=0, lt=1)
    disable_after_failed_deliveries: int = Field(gt=0)
    connect_timeout_seconds: float = Field(gt=0, le=60)
    read_timeout_seconds: float = Field(gt=0, le=300)
    response_excerpt_chars: int = Field(ge=0, le=10_000)
    max_subjects_per_request: int = Field(gt=0)
    settle_seconds: float = Field(ge=0)
    batch_size: int = Field(gt=0, le=10_000)
    poll_seconds: float = Field(gt=0)
    list_kinds_for: dict[str, tuple[str, ...]]
    changes: tuple[str, ...] = Field(min_length=1)
    all_subjects_for: tuple[str, ...]

    @field_validator("retry_schedule_seconds")
    @classmethod
    def _positive_waits(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(w <= 0 for w in value):
            raise ValueError("every wait must be a positive number of seconds")
        return value

    @field_validator("list_kinds_for")
    @classmethod
    def _kinds(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if unknown := sorted(set(value) - set(SUBSCRIBER_KINDS)):
            raise ValueError(f"unknown subscriber kinds {unknown} (known: {', '.join(SUBSCRIBER_KINDS)})")
        for who, kinds in value.items():
            if bad := sorted(set(kinds) - set(FEED_KINDS)):
                raise ValueError(f"{who}: unknown list kinds {bad} (known: {', '.join(FEED_KINDS)})")
        return value

    @field_validator("changes")
    @classmethod
    def _changes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if bad := sorted(set(value) - set(KNOWN_CHANGES)):
            raise ValueError(f"unknown changes {bad} (known: {', '.join(KNOWN_CHANGES)})")
        return value

    @field_validator("all_subjects_for")
    @classmethod
    def _all_for(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if bad := sorted(set(value) - set(SUBSCRIBER_KINDS)):
            raise ValueError(f"unknown subscriber kinds {bad}")
        return value

    @property
    def max_attempts(self) -> int:
        return len(self.retry_schedule_seconds) + 1


# The versions follow one another (each lasts until the next starts); before the first, the first applies.
WebhookConfigs: TypeAlias = Dated[WebhookConfig]
_FORMAT = DatedFormat(WebhookConfig, ConfigError, chained=True, oldest_before=True)


def parse_config(text: str, source: str = "<string>") -> WebhookConfigs:
    return _FORMAT.parse(text, source)


def load_config(path: Path = CONFIG_FILE) -> WebhookConfigs:
    return _FORMAT.load(path)


def config_on(day: dt.date, path: Path = CONFIG_FILE) -> WebhookConfig:
    """The parameters in force on the Beijing date ``day``."""
    return load_config(path).on(day)


class WebhookSettings(BaseSettings):
    """Per-installation settings (environment ``CHENGXIN_WEBHOOK_*`` or ``.env``).

    ``allow_http_hosts``: comma-separated host names or addresses that may be reached over plain
    http and are exempt from the private-address refusal. The default is loopback only, for
    development and tests; a production installation sets it to the empty string, so every target
    must be https on a public address.
    """

    model_config = SettingsConfigDict(env_prefix="CHENGXIN_WEBHOOK_", env_file=".env", extra="ignore")

    allow_http_hosts: str = "127.0.0.1,::1,localhost"
    # The portal's public address: the link to the public list entry in every notification.
    public_base_url: str = "http://127.0.0.1:8000"

    @property
    def http_hosts(self) -> frozenset[str]:
        return frozenset(h.strip().lower().strip("[]") for h in self.allow_http_hosts.split(",") if h.strip())


@functools.lru_cache(maxsize=1)
def webhook_settings() -> WebhookSettings:
    return load_settings(WebhookSettings)
