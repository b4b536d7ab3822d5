"""Sign-in defences shared by staff and person accounts (登录失败处理, GB/T 22239-2019): argon2id hashing, the
lock-out of an account after failures in a row, and the limit on failures from one client address over every
account (password spraying tries a few passwords on many accounts and never locks one)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from chengxin.accounts.models import SignInFailure
from chengxin.accounts.rules import address_free_at, address_key
from chengxin.core.clock import CHINA
from chengxin.core.errors import DomainError, Unauthenticated
from chengxin.core.policy import SignInPolicy, policy_on
from chengxin.core.settings import get_settings

Realm = Literal["staff", "person"]


@lru_cache(maxsize=1)
def password_hasher() -> PasswordHasher:
    """argon2id with the configured cost (settings ``password_hash_*``). A stored hash carries its own
    parameters, so any hash verifies whatever the setting; a hash below the setting is renewed at sign-in."""
    settings = get_settings()
    return PasswordHasher(time_cost=settings.password_hash_time_cost, memory_cost=settings.password_hash_memory_kib)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """Verified against when the account does not exist, so a wrong username costs as long as a wrong password."""
    return password_hasher().hash("chengxin-dummy-password")


def _policy(now: dt.datetime) -> SignInPolicy:
    return policy_on(now.astimezone(CHINA).date()).sign_in


class AddressLimited(DomainError):
    """Too many failed sign-ins from the client's address: refused before any password is checked."""

    status = 429


def _minutes_until(later: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((later - now).total_seconds() / 60))


def _refused_until(session: Session, key: str, policy: SignInPolicy, now: dt.datetime) -> dt.datetime | None:
    """Until when the address ``key`` (as counted: ``address_key``) is refused; None: it is not."""
    window = dt.timedelta(minutes=policy.address_window_minutes)
    newest = session.scalars(
        select(SignInFailure.at)
        .where(SignInFailure.address == key, SignInFailure.at > now - window)
        .order_by(SignInFailure.at.desc())
        .limit(policy.address_max_failures)
    ).all()
    return address_free_at(newest, max_failures=policy.address_max_failures, window=window)


def refuse_if_address_limited(session: Session, address: str | None, now: dt.datetime) -> None:
    """429 ``auth.address_limited`` with the minutes left, while ``sign_in.address_max_failures`` failed sign-ins
    from ``address`` (any account, staff or person) fall within ``sign_in.address_window_minutes``. No address
    (a caller outside HTTP): nothing to count."""
    if not address:
        return
    free_at = _refused_until(session, address_key(address), _policy(now), now)
    if free_at is not None:
        minutes = _minutes_until(free_at, now)
        raise AddressLimited("auth.address_limited",
                             f"该网络地址登录失败次数过多，请 {minutes} 分钟后再试；如多人共用网络，请稍后再登录",
                             f"Too many failed sign-ins from this network address: try again in {minutes} minutes")


@dataclass(frozen=True, slots=True)
class AddressFailures:
    """An address's failed sign-ins within the window (for the console)."""

    address: str  # as counted: an IPv4 address or an IPv6 /64
    failures: int
    last_at: dt.datetime
    refused_until: dt.datetime | None  # None: not refused


def failing_addresses(session: Session, now: dt.datetime) -> list[AddressFailures]:
    """Every address with failed sign-ins within ``sign_in.address_window_minutes``, most failures first."""
    policy = _policy(now)
    window = dt.timedelta(minutes=policy.address_window_minutes)
    rows = session.execute(
        select(SignInFailure.address, func.count(), func.max(SignInFailure.at))
        .where(SignInFailure.at > now - window).group_by(SignInFailure.address)
    ).all()
    found = []
    for address, failures, last_at in rows:
        refused_until = (_refused_until(session, address, policy, now)
                         if failures >= policy.address_max_failures else None)
        found.append(AddressFailures(address, failures, last_at, refused_until))
    return sorted(found, key=lambda a: (-a.failures, a.address))


def forget_address_failures(session: Session, address: str, now: dt.datetime) -> int:
    """Drop ``address``'s failed sign-ins within the window (older ones stay, as the record of what happened);
    the caller checks who may and audits it. How many were dropped."""
    window = dt.timedelta(minutes=_policy(now).address_window_minutes)
    dropped = session.execute(delete(SignInFailure).where(SignInFailure.address == address_key(address),
                                                          SignInFailure.at > now - window))
    return int(getattr(dropped, "rowcount", 0) or 0)


def note_address_failure(session: Session, address: str | None, realm: Realm, now: dt.datetime) -> None:
    """Count a failed sign-in against its client address (the caller commits it although the sign-in is
    refused)."""
    if address:
        session.add(SignInFailure(address=address_key(address), realm=realm, at=now))


class Lockable(Protocol):
    """An account whose sign-in locks after failures (staff and person accounts)."""

    failed_attempts: int
    locked_until: dt.datetime | None


def refuse_if_locked(account: Lockable | None, now: dt.datetime) -> None:
    """401 ``auth.locked`` with the minutes left, while the account is locked (checked before the password)."""
    if account is not None and account.locked_until is not None and account.locked_until > now:
        minutes = _minutes_until(account.locked_until, now)
        raise Unauthenticated("auth.locked", f"登录失败次数过多，账户已锁定，请 {minutes} 分钟后再试",
                              f"Too many failures: the account is locked, try again in {minutes} minutes")


def note_failed_sign_in(account: Lockable, now: dt.datetime) -> bool:
    """Count a failure in a row; the ``sign_in.max_failures``-th locks the account for ``sign_in.lock_minutes``
    (dated policy, GB/T 22239-2019 登录失败处理). True when this one locked it. The caller commits it although
    the sign-in is refused."""
    policy = _policy(now)
    account.failed_attempts += 1
    if account.failed_attempts < policy.max_failures:
        return False
    account.failed_attempts = 0
    account.locked_until = now + dt.timedelta(minutes=policy.lock_minutes)
    return True


def note_sign_in(account: Lockable) -> None:
    account.failed_attempts = 0
    account.locked_until = None
