"""Subscription rules (pure: no database, no network, no clock — times and random draws are passed in).

- **Targets and SSRF.** A subscriber names a URL the platform will call from inside the government
  network. Plain http and private, loopback, link-local and other special-purpose addresses
  (IANA special-purpose registries, RFC 6890 / RFC 6890-bis) are refused, except for the hosts the
  installation allows (loopback by default, for development). Numeric host spellings that resolvers
  accept (``2130706433``, ``0x7f.1``, ``017700000001``) are read as the address they are. The check
  runs at subscription time on the URL and again before every delivery on the resolved addresses,
  and the connection is pinned to the address that was checked (no DNS rebinding in between).
- **Signatures** follow Standard Webhooks (https://www.standardwebhooks.com/):
  ``webhook-signature: v1,<base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"))>``,
  where the key is the base64 part of the secret ``whsec_<base64>``.
- **Back-off**: the dated schedule with jitter (``data/webhooks.yaml``).

How a receiver verifies a notification (Python, standard library only)::

    import base64, hashlib, hmac, time

    def verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> bool:
        msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
        if abs(time.time() - int(ts)) > tolerance:      # refuse replays of old messages
            return False
        key = base64.b64decode(secret.removeprefix("whsec_"))
        mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(mac).decode()
        return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())

Use the raw body bytes as received (before any JSON parsing). ``webhook-id`` is the same on every
retry of one notification: store it to ignore a duplicate (delivery is at least once).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from chengxin.core import audit
from chengxin.core import workflow as wf
from chengxin.core.errors import DomainError, InvalidIdentifier
from chengxin.core.identifiers import normalize_ric, normalize_uscc

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LIST_KIND_ZH = {"red": "守信激励对象名单（红名单）", "black": "严重失信主体名单（黑名单）", "watch": "重点关注名单",
                "shop_risk": "网店信用风险等级"}
CHANGE_ZH = {"proposed": "拟列入", "noticed": "已告知拟列入", "publicity": "红名单公示中", "listed": "已列入",
             "ended": "已移出", "rejected": "不予列入", "withdrawn": "已撤回", "risk_changed": "风险等级变化"}
MAX_URL_CHARS = 2000
EVENT_TYPE = "list.change"
SECRET_PREFIX = "whsec_"

# -- subscription lifecycle (core.workflow) --------------------------------------------------------

CASE_TYPE = "subscription"
ACTIVE = "active"  # 推送中
DISABLED = "disabled"  # 已停用（连续推送失败）: deliveries wait until the subscriber re-enables it
CANCELLED = "cancelled"  # 已取消: nothing more is dispatched or sent
STATES = {ACTIVE: "推送中", DISABLED: "已停用（连续推送失败）", CANCELLED: "已取消"}

# Delivery states (not cases: each delivery's history is its attempt log).
PENDING = "pending"  # 待推送 / 重试中
DELIVERED = "delivered"  # 已送达
FAILED = "failed"  # 推送失败（重试用尽，可人工重新推送）
DELIVERY_STATES = {PENDING: "待推送", DELIVERED: "已送达", FAILED: "推送失败"}

SCOPE_SUBJECTS = "subjects"  # the subjects the subscriber named
SCOPE_ALL = "all"  # every subject of the chosen lists (the credit office)
SCOPES = (SCOPE_SUBJECTS, SCOPE_ALL)


WORKFLOW = wf.Workflow(
    case_type=CASE_TYPE,
    states=STATES,
    initial=ACTIVE,
    transitions=(
        wf.Transition("open", "创建订阅", frozenset(), ACTIVE, frozenset({wf.DEPARTMENT, wf.OFFICE})),
        wf.Transition("disable", "停用订阅", frozenset({ACTIVE}), DISABLED, frozenset({wf.SYSTEM, wf.OFFICE}),
                      needs_reason=True),
        wf.Transition("enable", "恢复订阅", frozenset({DISABLED}), ACTIVE, frozenset({wf.DEPARTMENT, wf.OFFICE})),
        wf.Transition("cancel", "取消订阅", frozenset({ACTIVE, DISABLED}), CANCELLED,
                      frozenset({wf.DEPARTMENT, wf.OFFICE})),
    ),
)


# -- who subscribes ----------------------------------------------------------------------------------


def subscriber_kind(actor: audit.Actor) -> str:
    """office | platform | department — decides which lists may be followed (``list_kinds_for``)."""
    if actor.kind == "staff" and actor.role in ("admin", "credit_office"):
        return "office"
    if actor.kind == "api_key" and (actor.department_code or "").startswith("platform:"):
        return "platform"
    if actor.kind == "api_key" and actor.department_code:
        return "department"
    raise DomainError("subscription.not_allowed", "只有数据使用单位、电商平台（API 密钥）和市信用办可以订阅名单变动",
                      "Only departments and platforms (API key) and the credit office may subscribe", status=403)


def owner_code(actor: audit.Actor) -> str:
    """The owner of a subscription: the key's department (opaque, e.g. ``samr`` or ``platform:<USCC>``)."""
    if subscriber_kind(actor) == "office":
        return "credit_office"
    assert actor.department_code is not None
    return actor.department_code


# -- targets and SSRF ---------------------------------------------------------------------------------

# IANA IPv4/IPv6 special-purpose address registries: none of these is a receiver on the internet.
# (ipaddress's is_global misses some, e.g. 192.0.0.0/24 beyond /29 and the NAT64 prefix's payload.)
_SPECIAL_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
))
_SPECIAL_V6 = tuple(ipaddress.IPv6Network(n) for n in (
    "::/128", "::1/128", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
    "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "3fff::/20", "5f00::/16",
))
REFUSAL_ZH = {
    "loopback": "本机回环地址", "private": "内网地址", "link_local": "链路本地地址", "multicast": "组播地址",
    "unspecified": "未指定地址", "special": "保留或特殊用途地址",
}


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be called (a code of :data:`REFUSAL_ZH`), or None for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded) or "special"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private and not ip.is_reserved:
        return "private"
    specials = _SPECIAL_V4 if isinstance(ip, ipaddress.IPv4Address) else _SPECIAL_V6
    if ip.is_reserved or not ip.is_global or any(ip in net for net in specials):
        return "special"
    return None


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host name spells, if it is one — including the numeric forms resolvers accept."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # 2130706433, 0x7f.1, 0177.0.0.1 …
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class Target:
    """A checked subscription URL."""

    url: str
    scheme: str
    host: str  # lower case, no brackets, no trailing dot
    port: int
    allowed_host: bool  # named in the installation's allow list: plain http allowed, address not checked
    literal: IPAddress | None


def _url_error(code: str, zh: str, en: str) -> DomainError:
    return DomainError(f"subscription.{code}", zh, en, field="url")


def parse_target(url: str, allow_http_hosts: frozenset[str]) -> Target:
    """Check a subscription URL (syntax, scheme, host); refuses with the reason named."""
    url = (url or "").strip()
    if not url:
        raise _url_error("url_required", "请填写接收推送的地址", "The target URL is required")
    if len(url) > MAX_URL_CHARS:
        raise _url_error("url_too_long", f"地址不得超过 {MAX_URL_CHARS} 个字符", f"URL longer than {MAX_URL_CHARS}")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise _url_error("url_invalid", "地址含有空白或控制字符", "The URL contains blanks or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
    except ValueError as exc:
        raise _url_error("url_invalid", f"地址格式不正确：{exc}", f"Malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise _url_error("url_scheme", "地址须以 https:// 开头", "The URL must start with https://")
    if not host:
        raise _url_error("url_invalid", "地址缺少主机名", "The URL has no host")
    if parts.username is not None or parts.password is not None:
        raise _url_error("url_userinfo", "地址中不得包含用户名或密码（签名已证明来源）",
                         "No user name or password in the URL (the signature authenticates us)")
    if parts.fragment:
        raise _url_error("url_fragment", "地址中不得包含 # 片段", "No #fragment in the URL")
    allowed = host in allow_http_hosts
    if scheme == "http" and not allowed:
        raise _url_error("url_https_required", "推送地址须使用 https（明文 http 仅限本机开发测试地址）",
                         "The target must use https (plain http only for the installation's allowed hosts)")
    literal = _ip_literal(host)
    if not allowed:
        if host == "localhost" or host.endswith(".localhost"):
            raise _url_error("url_address_refused", "不能推送到本机回环地址", "Loopback targets are refused")
        if literal is not None and (why := address_refusal(literal)) is not None:
            raise _url_error("url_address_refused", f"不能推送到{REFUSAL_ZH[why]}（{literal}）",
                             f"Target address refused ({why}): {literal}")
    return Target(url=url, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80),
                  allowed_host=allowed, literal=literal)


def pick_address(target: Target, addresses: Sequence[str]) -> str | None:
    """The address to connect to, after checking every address the host resolves to.

    Allowed hosts are not pinned (None: connect by name). Any refused address refuses the whole
    host: an attacker's name may resolve to one public and one internal address.
    """
    if target.allowed_host:
        return None
    if target.literal is not None:
        return str(target.literal)
    if not addresses:
        raise _url_error("url_unresolved", f"无法解析推送地址的主机名 {target.host}", f"Cannot resolve {target.host}")
    for raw in addresses:
        ip = ipaddress.ip_address(raw.split("%", 1)[0])
        if (why := address_refusal(ip)) is not None:
            raise _url_error("url_address_refused", f"主机 {target.host} 解析为{REFUSAL_ZH[why]}（{ip}），不能推送",
                             f"{target.host} resolves to a refused address ({why}): {ip}")
    return addresses[0].split("%", 1)[0]


# -- signatures (Standard Webhooks) -------------------------------------------------------------------


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1,`` + base64 of the HMAC-SHA256."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers_for(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
        "user-agent": "chengxin-webhooks/1",
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """The receiver's check (see the module docstring): signature matches and the timestamp is fresh."""
    try:
        msg_id, ts = headers["webhook-id"], int(headers["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(now - ts) > tolerance:
        return False
    expected = signature(secret, msg_id, ts, body)
    return any(hmac.compare_digest(expected, s) for s in headers.get("webhook-signature", "").split())


def message_id(subscription_id: int, change_id: int) -> str:
    """``webhook-id``: one per (subscription, change), the same on every retry (receivers dedupe on it)."""
    return f"msg_cx_{subscription_id}_{change_id}"


# -- back-off -----------------------------------------------------------------------------------------


def retry_wait(schedule: Sequence[float], failed_attempts: int, jitter_fraction: float, draw: float) -> float | None:
    """Seconds to wait after the ``failed_attempts``-th failure, or None when the schedule is spent.

    ``draw`` is a uniform random number in [0, 1) (passed in: tests fix it); the wait is the
    scheduled one scaled by ``1 + jitter_fraction * (2 * draw - 1)``.
    """
    if failed_attempts < 1:
        raise ValueError("failed_attempts counts from 1")
    if failed_attempts > len(schedule):
        return None
    return float(schedule[failed_attempts - 1]) * (1.0 + jitter_fraction * (2.0 * draw - 1.0))


def is_success(status_code: int) -> bool:
    """Only 2xx is a delivery. Redirects are not followed (a redirect could point inside the network)."""
    return 200 <= status_code < 300


# -- what is asked for, what is sent -------------------------------------------------------------------


def wants(list_kinds: Sequence[str], changes: Sequence[str], list_kind: str, change: str) -> bool:
    return list_kind in list_kinds and change in changes


def in_scope(scope: str, owner: str, names_subject: bool, entry_id: int | None, payload: Mapping[str, Any]) -> bool:
    """Whether a subscription reaches a change's subject. List entries: every subject (scope ``all``) or
    the named ones. Feed events of other features (no entry, e.g. a shop's risk level, issue #7) may
    name their ``audience`` (``platform:<USCC>`` owners): a platform then hears of its own shops only —
    all of them, named or not — and never of another platform's; departments and the office as for lists."""
    audience = payload.get("audience") if entry_id is None else None
    if audience is not None and owner.startswith("platform:"):
        return owner in audience
    return scope == SCOPE_ALL or names_subject


def feed_event_data(*, change_id: int, list_kind: str, change: str, occurred_at: dt.datetime,
                    payload: Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` of a feed event that belongs to no list entry: the snapshot its feature wrote into the
    change's ``payload["data"]`` (masked forms only), with the feed's own fields."""
    data = dict(payload.get("data") or {})
    data.update({"change_id": change_id, "list_kind": list_kind, "list_kind_zh": LIST_KIND_ZH.get(list_kind, list_kind),
                 "change": change, "change_zh": CHANGE_ZH.get(change, change),
                 "occurred_at": occurred_at.astimezone(dt.UTC).isoformat()})
    data.setdefault("subject", {"kind": None, "display_id": None, "display_name": None})
    return data


@dataclass(frozen=True)
class SubjectItem:
    """One subject a subscriber names: its position in the request, kind and normalised identifier."""

    index: int
    kind: str  # person | organization
    identifier: str


def parse_subject_item(index: int, raw: Mapping[str, Any]) -> SubjectItem:
    """``{"uscc": …}`` or ``{"ric": …}`` → a normalised item; raises with the reason (field names the item)."""
    uscc, ric = raw.get("uscc"), raw.get("ric")
    where = f"subjects[{index}]"
    if bool(uscc) == bool(ric):
        raise DomainError("subscription.subject_identifier", "每项须且只须填写统一社会信用代码（uscc）或公民身份号码（ric）之一",
                          "Give exactly one of uscc or ric", field=where)
    try:
        if uscc:
            return SubjectItem(index, "organization", normalize_uscc(str(uscc)))
        return SubjectItem(index, "person", normalize_ric(str(ric)))
    except InvalidIdentifier as exc:
        raise DomainError(exc.code, exc.message, exc.message_en, field=where) from None


def event_data(*, change_id: int, entry_id: int, list_kind: str, change: str, occurred_at: dt.datetime,
               subject_kind: str, display_id: str, display_name: str, decision_no: str | None,
               decided_on: dt.date | None, term_from: dt.date | None, term_to: dt.date | None,
               basis_zh: str, department_code: str, end_kind: str | None, public_url: str) -> dict[str, Any]:
    """The notification's ``data`` (snapshot at dispatch): masked display forms only, never clear personal data."""
    return {
        "change_id": change_id,
        "entry_id": entry_id,
        "list_kind": list_kind,
        "list_kind_zh": LIST_KIND_ZH.get(list_kind, list_kind),
        "change": change,
        "change_zh": CHANGE_ZH.get(change, change),
        "occurred_at": occurred_at.astimezone(dt.UTC).isoformat(),
        "subject": {"kind": subject_kind, "display_id": display_id, "display_name": display_name},
        "decision_no": decision_no,
        "decided_on": decided_on.isoformat() if decided_on else None,
        "term_from": term_from.isoformat() if term_from else None,
        "term_to": term_to.isoformat() if term_to else None,
        "basis_zh": basis_zh,
        "department_code": department_code,
        "end_kind": end_kind,
        "url": public_url,
    }


def body(msg_id: str, created_at: dt.datetime, data: Mapping[str, Any], identifier: str | None) -> bytes:
    """The exact bytes sent (the same on every retry). ``identifier`` is the one the subscriber gave
    for this subject (it knows it already), or None for an all-subjects subscription."""
    payload = dict(data)
    payload["subject"] = {**data["subject"], "identifier": identifier}
    return orjson.dumps({"id": msg_id, "type": EVENT_TYPE, "timestamp": created_at.astimezone(dt.UTC).isoformat(),
                         "data": payload})


def excerpt(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
