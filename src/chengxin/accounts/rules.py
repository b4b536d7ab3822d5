"""Rules of staff accounts and API keys, pure (no I/O; today passed in): passwords, a key's validity period."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from chengxin.core.clock import CHINA, day_start_utc
from chengxin.core.errors import DomainError

MIN_PASSWORD = 10


def password_problem(username: str, password: str, *, field: str = "new_password") -> DomainError | None:
    """Why ``password`` may not be chosen for ``username`` (too short, the username itself), or None; the error
    names the form's ``field``."""
    if len(password) < MIN_PASSWORD:
        return DomainError("user.password_too_short", f"密码至少 {MIN_PASSWORD} 位",
                           f"Password needs at least {MIN_PASSWORD} characters", field=field)
    if password.strip().lower() == username.strip().lower():
        return DomainError("user.password_is_username", "密码不能与用户名相同", "The password cannot be the username",
                           field=field)
    return None


RENEW_WITHIN_DAYS = 30  # a key ending within this many days is shown as 即将到期, to be replaced in time


def end_of_day(day: dt.date) -> dt.datetime:
    """The Beijing midnight after ``day``, in UTC."""
    return day_start_utc(day + dt.timedelta(days=1))


def key_expiry(valid_until: dt.date | None, today: dt.date) -> dt.datetime | None:
    """When a key valid until ``valid_until`` (有效期至, that day included, Beijing time) stops: the next midnight in
    Beijing. None: no end. The day must be after ``today``."""
    if valid_until is None:
        return None
    if valid_until <= today:
        raise DomainError("api_key.valid_until", f"有效期须晚于今天（{today.isoformat()}）",
                          f"The validity must end after today ({today.isoformat()})", field="valid_until")
    return end_of_day(valid_until)


def valid_until(expires_at: dt.datetime | None) -> dt.date | None:
    """The last day (Beijing) of a key that stops at ``expires_at`` (:func:`key_expiry`); None: no end."""
    if expires_at is None:
        return None
    return (expires_at.astimezone(CHINA) - dt.timedelta(microseconds=1)).date()


ADDRESS_MAX_LENGTH = 64  # sign_in_failure.address
IPV6_PREFIX = 64  # one IPv6 subscriber is usually handed a whole /64 (RFC 6177): counted as one address


def address_key(host: str) -> str:
    """The client address that sign-in failures are counted by (登录失败处理 by address): an IPv4 address as it is
    (an IPv4-mapped IPv6 one as its IPv4 form), an IPv6 address as its /64 network — one host holds a whole /64
    and could otherwise try from 2**64 addresses. Anything else (a test client's name) as given, cut to fit."""
    try:
        ip = ipaddress.ip_address(host.strip())
    except ValueError:
        return host.strip()[:ADDRESS_MAX_LENGTH]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def address_free_at(failures: Sequence[dt.datetime], *, max_failures: int, window: dt.timedelta) -> dt.datetime | None:
    """When an address may try to sign in again, given its failures within the window, newest first (at least the
    ``max_failures`` newest); None: now. Refused while ``max_failures`` of them fall within ``window``: until the
    ``max_failures``-th newest leaves it."""
    if len(failures) < max_failures:
        return None
    return failures[max_failures - 1] + window
