"""Person accounts: registration after a real-name check, password (argon2id) + TOTP sign-in,
brute-force lockout, and portal sessions (hashed tokens, CSRF) like the staff ones."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from chengxin.accounts.rules import MIN_PASSWORD
from chengxin.accounts.service import IssuedSession, _sha256
from chengxin.accounts.sign_in import (
    dummy_hash,
    note_address_failure,
    note_failed_sign_in,
    note_sign_in,
    password_hasher,
    refuse_if_address_limited,
    refuse_if_locked,
)
from chengxin.catalog.model import SubjectKind
from chengxin.core import audit
from chengxin.core.crypto import KeyRing
from chengxin.core.db import utcnow
from chengxin.core.errors import DomainError, Unauthenticated
from chengxin.core.identifiers import normalize_ric
from chengxin.people.identity import IdentityProvider
from chengxin.people.models import PersonAccount, PersonSession
from chengxin.subjects.rules import lookup_index

TOTP_ISSUER = "诚信常州"

_BAD_CREDENTIALS = ("auth.bad_credentials", "身份号码、密码或动态验证码错误", "Wrong citizen ID, password or code")


def actor_for(account: PersonAccount) -> audit.Actor:
    return audit.Actor(kind="person", name=str(account.id))


def _aad(account_id: int) -> bytes:
    return f"person_account:{account_id}:totp".encode()


def login_index(keyring: KeyRing, ric: str) -> bytes:
    return lookup_index(keyring, SubjectKind.PERSON.value, normalize_ric(ric))


def register(session: Session, keyring: KeyRing, identity: IdentityProvider, *, ric: str, name: str,
             password: str) -> PersonAccount:
    """An account for the person with this verified identity (one per person: 409 for a second)."""
    if len(password) < MIN_PASSWORD:
        raise DomainError("user.password_too_short", f"密码至少 {MIN_PASSWORD} 位",
                          f"Password needs at least {MIN_PASSWORD} characters", field="password")
    subject_id = identity.verify_identity(session, ric, name)
    if session.execute(select(PersonAccount.id).where(PersonAccount.subject_id == subject_id)).first():
        raise DomainError("person.exists", "该身份已注册账户，请直接登录", "An account exists for this person",
                          status=409)
    account = PersonAccount(subject_id=subject_id, login_index=login_index(keyring, ric),
                            password_hash=password_hasher().hash(password), totp_enabled=False, failed_attempts=0)
    session.add(account)
    session.flush()
    audit.write(session, actor=actor_for(account), action="person.register", subject_id=subject_id,
                object_type="person_account", object_id=account.id)
    return account


@dataclass(frozen=True)
class TotpSetup:
    secret: str  # shown once
    uri: str  # otpauth://… for an authenticator app


def _secret(keyring: KeyRing, account: PersonAccount) -> str | None:
    if account.totp_cipher is None or account.totp_key_version is None:
        return None
    return keyring.decrypt(account.totp_cipher, account.totp_key_version, _aad(account.id))


def enable_totp(session: Session, keyring: KeyRing, account: PersonAccount) -> TotpSetup:
    """A new TOTP secret (pending until :func:`confirm_totp`); refused once TOTP is on."""
    if account.totp_enabled:
        raise DomainError("totp.already_enabled", "动态验证码已启用", "TOTP is already enabled", status=409)
    secret = pyotp.random_base32()
    account.totp_cipher = keyring.encrypt(secret, _aad(account.id))
    account.totp_key_version = keyring.data_version
    audit.write(session, actor=actor_for(account), action="person.totp_setup", subject_id=account.subject_id,
                object_type="person_account", object_id=account.id)
    uri = pyotp.TOTP(secret).provisioning_uri(name=f"account-{account.id}", issuer_name=TOTP_ISSUER)
    return TotpSetup(secret, uri)


def _check_code(keyring: KeyRing, account: PersonAccount, code: str) -> bool:
    secret = _secret(keyring, account)
    code = (code or "").strip()
    if secret is None or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for drift in (0, -1, 1):  # one 30-second step either side for clock skew
        at = now + dt.timedelta(seconds=30 * drift)
        step = totp.timecode(at)
        if secrets.compare_digest(totp.at(at), code) and (account.totp_last_step or -1) < step:
            account.totp_last_step = step  # a code is accepted once
            return True
    return False


def confirm_totp(session: Session, keyring: KeyRing, account: PersonAccount, code: str) -> None:
    if account.totp_enabled:
        raise DomainError("totp.already_enabled", "动态验证码已启用", "TOTP is already enabled", status=409)
    if account.totp_cipher is None:
        raise DomainError("totp.not_started", "请先生成动态验证码密钥", "Start TOTP setup first", status=409)
    if not _check_code(keyring, account, code):
        raise DomainError("totp.bad_code", "动态验证码错误，请核对手机时间后重试", "Wrong code", field="code")
    account.totp_enabled = True
    audit.write(session, actor=actor_for(account), action="person.totp_enable", subject_id=account.subject_id,
                object_type="person_account", object_id=account.id)


def sign_in(session: Session, keyring: KeyRing, *, ric: str, password: str, totp_code: str = "",
            address: str | None = None) -> PersonAccount:
    """The account, or 401 with one message for an unknown ID, a wrong password or a wrong code.

    After ``sign_in.max_failures`` failures in a row the account is locked for
    ``sign_in.lock_minutes`` minutes (dated policy parameters; reported as 401 ``auth.locked``); after
    ``sign_in.address_max_failures`` failures from the client ``address`` within ``sign_in.address_window_minutes``,
    whatever the accounts, the address is refused (429 ``auth.address_limited``). Failures are committed by the caller
    even though an error is raised (see the portal's handling).
    """
    now = utcnow()
    refuse_if_address_limited(session, address, now)
    try:
        index = login_index(keyring, ric)
    except DomainError:
        index = b""
    account = session.execute(select(PersonAccount).where(PersonAccount.login_index == index)).scalar_one_or_none()
    refuse_if_locked(account, now)
    try:
        password_hasher().verify(account.password_hash if account else dummy_hash(), password)
        ok = account is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and account is not None and account.totp_enabled:
        ok = _check_code(keyring, account, totp_code)
    if not ok:
        note_address_failure(session, address, "person", now)
    if account is None:
        raise Unauthenticated(*_BAD_CREDENTIALS)
    if not ok:
        if note_failed_sign_in(account, now):
            audit.write(session, actor=actor_for(account), action="person.locked", subject_id=account.subject_id,
                        object_type="person_account", object_id=account.id)
        raise Unauthenticated(*_BAD_CREDENTIALS)
    note_sign_in(account)
    if password_hasher().check_needs_rehash(account.password_hash):
        account.password_hash = password_hasher().hash(password)
    return account


def open_session(session: Session, account: PersonAccount, *, hours: int) -> IssuedSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = utcnow() + dt.timedelta(hours=hours)
    session.add(PersonSession(token_hash=_sha256(token), account_id=account.id, csrf_token=csrf, expires_at=expires))
    audit.write(session, actor=actor_for(account), action="person.sign_in", subject_id=account.subject_id,
                object_type="person_account", object_id=account.id)
    return IssuedSession(token, csrf, expires)


def account_for_token(session: Session, token: str) -> tuple[PersonAccount, PersonSession]:
    row = session.execute(
        select(PersonSession, PersonAccount)
        .join(PersonAccount, PersonAccount.id == PersonSession.account_id)
        .where(PersonSession.token_hash == _sha256(token))
    ).first()
    if row is None:
        raise Unauthenticated("auth.bad_token", "登录已失效，请重新登录", "Invalid or expired session")
    person_session, account = row
    if person_session.revoked_at is not None or person_session.expires_at <= utcnow():
        raise Unauthenticated("auth.bad_token", "登录已失效，请重新登录", "Invalid or expired session")
    return account, person_session


def close_session(session: Session, token: str) -> None:
    for row in session.execute(select(PersonSession).where(PersonSession.token_hash == _sha256(token))).scalars():
        row.revoked_at = utcnow()
