"""Password hashing: argon2id at the production cost by default, whatever the test suite sets for itself,
and a hash verifies under any setting (it carries its own parameters) and is renewed when below it."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type

from chengxin.accounts.sign_in import password_hasher
from chengxin.core.settings import Settings


def test_production_defaults_are_argon2_cffi_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHENGXIN_PASSWORD_HASH_MEMORY_KIB", raising=False)
    monkeypatch.delenv("CHENGXIN_PASSWORD_HASH_TIME_COST", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    library = PasswordHasher()
    assert (settings.password_hash_memory_kib, settings.password_hash_time_cost) == (65536, 3)
    assert (settings.password_hash_memory_kib, settings.password_hash_time_cost) == (library.memory_cost,
                                                                                     library.time_cost)


def test_too_cheap_a_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHENGXIN_PASSWORD_HASH_MEMORY_KIB", "512")
    with pytest.raises(ValueError, match="password_hash_memory_kib"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_hash_made_at_any_cost_verifies_and_one_off_the_setting_is_renewed() -> None:
    strong = PasswordHasher().hash("correct horse battery")
    params = extract_parameters(strong)
    assert params.type is Type.ID and params.memory_cost == 65536
    hasher = password_hasher()
    assert hasher.verify(strong, "correct horse battery")
    assert not hasher.check_needs_rehash(hasher.hash("correct horse battery"))
    other = PasswordHasher(time_cost=hasher.time_cost + 1, memory_cost=hasher.memory_cost)
    assert hasher.check_needs_rehash(other.hash("correct horse battery"))
    assert extract_parameters(hasher.hash("x")).type is Type.ID
