"""Test fixtures: a real database (SQLite file, or PostgreSQL when CHENGXIN_TEST_DATABASE_URL says so),
migrated with Alembic once per session and emptied before each test that uses it."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from chengxin.catalog.loader import load_catalog
from chengxin.core.clock import today_cn
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database, make_engine
from chengxin.core.migrate import upgrade
from chengxin.core.settings import get_settings
from chengxin.platform import Platform
from tests_support import empty_all_tables

# argon2id at a test cost (1 MiB, 1 pass instead of 64 MiB, 3 passes: ~1 ms a hash instead of ~110 ms): the
# suite signs users in thousands of times. Same algorithm and code; tests/unit/core/test_password_hashing.py holds the
# production defaults. Set before any Settings is read (subprocesses inherit it).
os.environ.setdefault("CHENGXIN_PASSWORD_HASH_MEMORY_KIB", "1024")
os.environ.setdefault("CHENGXIN_PASSWORD_HASH_TIME_COST", "1")

# Property tests check behaviour, not speed: no per-example deadline (CI machines are shared and noisy).
settings.register_profile("chengxin", deadline=None)
settings.load_profile("chengxin")


def _database_url(tmp_root: Path) -> str:
    url = os.environ.get("CHENGXIN_TEST_DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{tmp_root / 'test.db'}"
    if url.startswith("postgresql"):
        # One database per test run (and per xdist worker), created fresh and dropped at the end.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"chengxin_test_{worker}_{uuid.uuid4().hex[:6]}"
        admin = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return admin.set(database=name).render_as_string(hide_password=False)
    return url


def _drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _database_url(tmp_path_factory.mktemp("db"))
    yield url
    from chengxin.core.db import get_database

    get_database.cache_clear()
    _drop_database(url)


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "keys"


@pytest.fixture(scope="session")
def _migrated(database_url: str, key_dir: Path) -> Iterator[Platform]:
    engine = make_engine(database_url)
    upgrade(engine)
    platform = Platform(db=Database(engine), catalog=load_catalog(), keyring=KeyRing.open(key_dir),
                        settings=get_settings())
    yield platform
    platform.api_keys.close()  # its last uses, while the database is still there
    engine.dispose()


@pytest.fixture()
def day() -> dt.date:
    """Today (Beijing), taken when the test starts — not at import, so a run across midnight still agrees
    with the server's own today."""
    return today_cn()


@pytest.fixture()
def platform(_migrated: Platform) -> Platform:
    """The platform on an empty, migrated database."""
    empty_all_tables(_migrated.db)
    return _migrated


@pytest.fixture()
def client(platform: Platform) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from chengxin.api.app import create_app

    with TestClient(create_app(platform)) as c:
        yield c


@pytest.fixture()
def make_user(platform: Platform) -> Callable[..., str]:
    """Create a staff user and return a bearer token for them."""
    from chengxin.accounts.service import Role, create_user, open_session
    from chengxin.core.audit import SYSTEM

    def make(role: str, department: str | None = None, username: str | None = None,
             password: str = "correct horse battery") -> str:
        with platform.db.write() as session:
            user = create_user(session, username=username or f"{role}_{uuid.uuid4().hex[:6]}", password=password,
                               role=Role(role), display_name="测试", department_code=department, actor=SYSTEM)
            return open_session(session, user, hours=1).token

    return make


@pytest.fixture()
def make_api_key(platform: Platform) -> Callable[[str], str]:
    from chengxin.accounts.service import create_api_key
    from chengxin.core.audit import SYSTEM

    def make(department: str) -> str:
        with platform.db.write() as session:
            return create_api_key(session, department_code=department, label="test", actor=SYSTEM).key

    return make


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, leave out the tests that never touch a database (pure rules, parsers,
    crypto, file readers): they ran on the SQLite run of the same `make test`, and running them twice
    proves nothing about PostgreSQL. A test touches the database exactly when it asks, directly or
    through another fixture, for ``database_url``. They are deselected, not skipped: the summary
    counts them as deselected. On the SQLite run, the tests marked ``postgresql_only`` are left out the
    same way, and on the PostgreSQL run those marked ``sqlite_only``."""
    if not os.environ.get("CHENGXIN_TEST_DATABASE_URL", "").strip():
        dropped = [item for item in items if item.get_closest_marker("postgresql_only")]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql_only")]
        return

    def on_postgresql(item: pytest.Item) -> bool:
        return "database_url" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("sqlite_only")

    keep = [item for item in items if on_postgresql(item)]
    dropped = [item for item in items if not on_postgresql(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture()
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temp dir of this test only (tempfile's documented ``tempdir``), where uploads are spooled: a test can
    see that the copy is gone afterwards, and other runs on the machine cannot change what it counts there."""
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    return spool
