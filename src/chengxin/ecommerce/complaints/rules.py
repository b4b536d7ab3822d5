"""Pure rules of complaint intake: the row parser (every problem of a row at once, like the trade parsers) and
reporter protection (举报人保护).

No database, no clock: ``now``, the submitting department and the rules in force are passed in.

Reporter protection: the departments keep who complained; we keep what the complaint is about. No field that
names, reaches or identifies the complainant is accepted — a row carrying one (``reporter_name``,
``complainant_phone``, ``身份证号``, any key ending in ``phone`` / ``email`` / ``ric`` …) is refused with
``complaint.reporter_data``, and a summary containing a mobile number, a valid citizen ID number or an
e-mail address with ``complaint.summary_personal_data`` (《市场监督管理投诉举报处理暂行办法》第十六条: the
reporter's information is kept confidential). A name written into the summary in prose cannot be told from
a shop's or a product's name by a rule; the summary's length limit and the template's note keep it short.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

from chengxin.core.errors import Problem
from chengxin.core.identifiers import is_valid_ric
from chengxin.ecommerce.complaints.params import CLOSED_STATUSES, STATUSES, ComplaintRules

# The trade parsers' field readers: the same messages, limits and time rules for every row a department or a
# platform sends (Beijing time without an offset, not in the future, no control characters).
from chengxin.ecommerce.trade.rules import (
    MAX_ID,
    _canonical,
    _Collector,
    _datetime,
    _enum,
    _fail,
    _iso,
    _present,
    _shop_code,
    _str,
    _text,
)

__all__ = ["COMPLAINT_FIELDS", "STATUS_ZH", "ComplaintRow", "content_hash", "parse_complaint", "reporter_problems"]

STATUS_ZH = {"received": "已受理", "handling": "处理中", "substantiated": "举报属实", "not_substantiated": "查无实据",
             "withdrawn": "已撤回"}
COMPLAINT_FIELDS = frozenset({"source_complaint_id", "channel", "received_at", "platform", "shop_code",
                              "source_order_id", "category", "status", "closed_at", "summary"})
# Keys that name or reach the complainant: who they are (reporter / complainant / 投诉人 …) or a personal
# attribute at the end of the key (…_phone, …_email, …_ric, 身份证, 手机 …).
_REPORTER_KEY = re.compile(
    r"reporter|complainant|informant|whistle|consumer|contact|举报人|投诉人|联系人|消费者|姓名|电话|手机|身份证|证件|邮箱|住址"
    r"|(?:^|_)(?:phone|mobile|tel|telephone|email|mail|ric|id_?card|id_?no|id_?number|identity)$",
    re.IGNORECASE)
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?![0-9A-Za-z])", re.ASCII)
_RIC_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PLATFORM = re.compile(r"[a-z][a-z0-9_-]{1,31}")


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    """One complaint about a shop as a department hands it over (no complainant data, ever)."""

    row_no: int
    source_complaint_id: str  # the department's own number: (department, number) identifies the complaint
    channel: str
    received_at: dt.datetime
    platform_code: str
    shop_code: str
    source_order_id: str | None  # the platform's order id, when the complaint names an order
    category: str
    status: str
    closed_at: dt.datetime | None
    summary: str | None
    content_hash: str = field(default="", compare=False)


def _key_text(key: object) -> str:
    return _str(key)[:64]


def reporter_problems(values: Mapping[str, object]) -> list[Problem]:
    """举报人保护: a problem for every key with a value that would carry the complainant's identity."""
    out = []
    for key, value in values.items():
        name = _key_text(key)
        if name in COMPLAINT_FIELDS or not _present(value) or not _REPORTER_KEY.search(name):
            continue
        out.append(Problem(
            "complaint.reporter_data",
            f"字段“{name}”疑似投诉举报人的个人信息。为保护投诉举报人，本系统不接收其姓名、电话、证件号码、邮箱或住址，"
            "请删除该字段后重新报送",
            f"Field {name!r} looks like the complainant's personal data; the complainant's name, phone, ID number, "
            "e-mail or address is never accepted (reporter protection) — remove it and submit again", field=name))
    return out


def _looks_personal(text: str) -> bool:
    """A mobile number, a citizen ID number that passes its check digit, or an e-mail address."""
    return bool(_PHONE.search(text) or _EMAIL.search(text)
                or any(is_valid_ric(m.group(0)) for m in _RIC_LIKE.finditer(text)))


def _summary(raw: object, max_len: int) -> str | None:
    text = _text(raw, "summary", max_len=max_len, required=False)
    if text is not None and _looks_personal(text):
        raise _fail("complaint.summary_personal_data", "summary",
                    "摘要中含有疑似手机号、身份证号或邮箱。为保护投诉举报人，摘要只写投诉举报的事项，不写任何人的联系方式或证件号码",
                    "The summary contains what looks like a phone number, an ID number or an e-mail address; "
                    "describe the matter only (reporter protection)")
    return text


def _platform(raw: object) -> str | None:
    code = _text(raw, "platform", max_len=32, required=True)
    if code is not None and not _PLATFORM.fullmatch(code.lower()):
        raise _fail("platform.code", "platform", "平台代码应为 2–32 位小写字母、数字、_ 或 -，以字母开头",
                    "The platform code is 2-32 lowercase letters, digits, _ or -, starting with a letter")
    return None if code is None else code.lower()


def _channel(raw: object, rules: ComplaintRules, department: str | None) -> str:
    options = {**{c.code: c.code for c in rules.channels}, **{c.name_zh: c.code for c in rules.channels},
               **{c.hotline: c.code for c in rules.channels if c.hotline}}
    code = _enum(raw, "channel", options)
    channel = rules.channel(code)
    if channel is not None and department is not None and department not in channel.departments:
        raise _fail("complaint.channel_not_department", "channel",
                    f"“{channel.name_zh}”渠道的投诉举报由 {'、'.join(channel.departments)} 报送，本单位（{department}）不能报送该渠道的数据",
                    f"Complaints from channel {code} are submitted by {', '.join(channel.departments)}, "
                    f"not by {department}")
    return code


def content_hash(row: ComplaintRow) -> str:
    """The fingerprint of what a row says: the same again is ``unchanged``, different is ``corrected``."""
    payload = {f.name: getattr(row, f.name) for f in fields(row) if f.name not in ("row_no", "content_hash")}
    payload["received_at"], payload["closed_at"] = _iso(row.received_at), _iso(row.closed_at)
    return _canonical(payload)


def parse_complaint(values: Mapping[str, object], *, row_no: int, now: dt.datetime, rules: ComplaintRules,
                    department: str | None, read_problems: Iterable[Problem] = ()) -> ComplaintRow | list[Problem]:
    """One complaint row, or every problem of it.

    ``department`` is the submitter (the channel must list it); closed statuses (属实 / 查无实据 / 撤回) need
    ``closed_at`` (not before ``received_at``), open ones must not have it."""
    c = _Collector()
    c.problems.extend(read_problems)
    reporter = reporter_problems(values)
    c.problems.extend(reporter)
    flagged = {p.field for p in reporter}
    extra = sorted(_key_text(k) for k in values if _key_text(k) not in COMPLAINT_FIELDS and _key_text(k) not in flagged
                   and _present(values[k]))
    if extra:
        names = ", ".join(extra[:10])
        c.problems.append(Problem("field.unknown", f"含有不认识的字段：{names}（字段名请见接口文档）",
                                  f"unknown fields {names}", field=extra[0]))
    source_id = c.take(_text, values.get("source_complaint_id"), "source_complaint_id", max_len=MAX_ID, required=True)
    channel = c.take(_channel, values.get("channel"), rules, department)
    received_at = c.take(_datetime, values.get("received_at"), "received_at", now=now, required=True)
    platform = c.take(_platform, values.get("platform"))
    shop = c.take(_shop_code, values.get("shop_code"))
    order = c.take(_text, values.get("source_order_id"), "source_order_id", max_len=MAX_ID, required=False)
    categories = {**{k.code: k.code for k in rules.categories}, **{k.name_zh: k.code for k in rules.categories}}
    category = c.take(_enum, values.get("category"), "category", categories)
    status = c.take(_enum, values.get("status"), "status", {**{s: s for s in STATUSES},
                                                              **{zh: s for s, zh in STATUS_ZH.items()}},
                    default="received")
    closed_at = c.take(_datetime, values.get("closed_at"), "closed_at", now=now, required=False)
    summary = c.take(_summary, values.get("summary"), rules.summary_max_chars)
    if status in CLOSED_STATUSES and closed_at is None and not any(p.field == "closed_at" for p in c.problems):
        c.problems.append(Problem("complaint.closed_at_required",
                                  f"状态为“{STATUS_ZH[status]}”的投诉举报须填写办结时间（closed_at）",
                                  f"A {status} complaint needs closed_at", field="closed_at"))
    if status is not None and status not in CLOSED_STATUSES and closed_at is not None:
        c.problems.append(Problem("complaint.closed_at_open",
                                  f"状态为“{STATUS_ZH[status]}”的投诉举报尚未办结，不应填写办结时间",
                                  f"A {status} complaint is not closed: leave closed_at empty", field="closed_at"))
    if closed_at is not None and received_at is not None and closed_at < received_at:
        c.problems.append(Problem("complaint.closed_before_received", "办结时间早于受理时间",
                                  "closed_at is before received_at", field="closed_at"))
    if c.problems:
        return c.problems
    row = ComplaintRow(row_no, source_id, channel, received_at, platform, shop, order, category, status, closed_at,
                       summary)
    return ComplaintRow(**{f.name: getattr(row, f.name) for f in fields(row) if f.name != "content_hash"},
                        content_hash=content_hash(row))
