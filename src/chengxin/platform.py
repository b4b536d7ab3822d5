"""Everything a use case needs, opened once: database, catalog, keys, settings.

The CLI, the web app and the tests all start here, so there is one way to wire the platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chengxin.accounts.service import ApiKeyCache
from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Catalog
from chengxin.core.crypto import KeyRing, get_keyring
from chengxin.core.db import Database, get_database
from chengxin.core.settings import Settings, get_settings


@dataclass(frozen=True)
class Platform:
    db: Database
    catalog: Catalog
    keyring: KeyRing
    settings: Settings
    api_keys: ApiKeyCache = field(init=False, repr=False, compare=False)  # one per process and database

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_keys", ApiKeyCache(self.db, ttl=self.settings.api_key_cache_seconds))


def open_platform(database_url: str | None = None, key_dir: Path | None = None) -> Platform:
    settings = get_settings()
    return Platform(
        db=get_database(database_url or settings.database_url),
        catalog=load_catalog(),
        keyring=get_keyring(key_dir or settings.key_dir),
        settings=settings,
    )
