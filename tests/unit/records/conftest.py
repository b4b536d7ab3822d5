"""Fixtures of the record-path unit tests: the shipped catalog and a key ring of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from chengxin.catalog.loader import load_catalog
from chengxin.catalog.model import Catalog
from chengxin.core.crypto import KeyRing


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return KeyRing.open(Path(tmp_path_factory.mktemp("keys")))
