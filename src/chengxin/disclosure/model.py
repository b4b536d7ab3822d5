"""The credit file (信用档案) as each audience sees it — the contract between the disclosure
service (which assembles it), the portal and API (which show it) and the reports (which print it).

Plain frozen dataclasses: no database, no web. Assembled by ``disclosure.service``.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class Audience(enum.StrEnum):
    """Who is reading: what they may see depends on it (sharing level, consent, self)."""

    PUBLIC = "public"  # 社会公众: only what is public, persons masked
    SELF = "self"  # 信用主体本人: everything held, with status and history
    REQUESTER = "requester"  # 授权查询方: what the person's consent covers
    GOVERNMENT = "government"  # 政务共享: what the sharing level allows a department


@dataclass(frozen=True)
class FieldLine:
    """One field of a record, ready to print: Chinese label and display value (identifiers masked)."""

    code: str
    label_zh: str
    value: str


@dataclass(frozen=True)
class RecordChange:
    """One version in a record's history (shown to the subject themselves: Audience.SELF)."""

    version: int
    change: str  # create | correct | revoke
    status: str  # active | revoked
    at: dt.datetime
    reason: str | None = None


@dataclass(frozen=True)
class FileItem:
    """One record in a credit file."""

    record_id: int
    item_code: str
    item_name_zh: str
    category: str  # basic | positive | negative
    severity: str | None  # minor | general | serious (negative items)
    report_section: str  # RULES §6 section: 基本信息, 行政管理, …
    sharing: str  # public | authorized | government
    department_code: str
    department_name_zh: str  # 来源单位 — every item names its source
    decision_date: dt.date
    display_ends_on: dt.date | None  # None: displayed long-term
    status: str  # active | revoked
    displayed: bool  # publicly displayed today (in its display period, not revoked, display not stopped)
    under_objection: bool = False  # 异议中 (issue #4 fills it)
    statement: str | None = None  # 本人声明 (issue #4 fills it)
    version: int = 1
    fields: tuple[FieldLine, ...] = ()
    history: tuple[RecordChange, ...] = ()  # SELF only: every version, oldest first


@dataclass(frozen=True)
class QueryLogEntry:
    """One read of a person's data (查询使用登记), as shown to that person and in their report."""

    at: dt.datetime
    reader: str  # organisation or department name
    purpose: str
    basis: str  # consent reference or legal basis


@dataclass(frozen=True)
class FilePage:
    """分页 — which slice of the audience's items a file holds. The API answers files page by page (a
    subject can have over a thousand records); the portal's pages and the reports hold the whole file."""

    offset: int  # items skipped, newest first (decision date, then record)
    limit: int  # at most this many items on the page
    total: int  # items this audience may see in all
    next_offset: int | None  # where the next page starts; None on the last page


@dataclass(frozen=True)
class CreditFile:
    subject_id: int
    kind: str  # person | organization
    display_id: str  # masked citizen ID, or USCC in full
    display_name: str  # masked name, or organisation name
    audience: Audience
    as_of: dt.date
    items: tuple[FileItem, ...] = ()
    query_log: tuple[QueryLogEntry, ...] = field(default=())
    page: FilePage | None = None  # None: the whole file

    def by_category(self) -> dict[str, list[FileItem]]:
        out: dict[str, list[FileItem]] = {"basic": [], "positive": [], "negative": []}
        for item in self.items:
            out.setdefault(item.category, []).append(item)
        return out

    def by_section(self, sections: tuple[str, ...]) -> dict[str, list[FileItem]]:
        out: dict[str, list[FileItem]] = {s: [] for s in sections}
        for item in self.items:
            out.setdefault(item.report_section, []).append(item)
        return out
