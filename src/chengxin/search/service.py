"""Public search of subjects (信用主体查询): organisations by name or USCC, persons only by exact ID.

Who can be found
- Organisations: by a substring of their name (Chinese or Latin, case-insensitive for ASCII), by
  their USCC exactly, or by a USCC prefix (8–17 characters of the USCC alphabet).
- Persons: never by name (names are encrypted; the masked ``张*明`` is not searchable). Only by an
  exact, valid citizen ID — through the blind index — and only if the person has information the
  public may see (``chengxin.disclosure.service.public_file``); otherwise the search answers exactly
  as if the person did not exist.

How (migration 0004)
- Substrings of ≥ 3 characters: SQLite — the FTS5 trigram table ``subject_fts`` (organisations only);
  PostgreSQL — ``ILIKE '%q%'`` on the partial GIN trigram index ``ix_subject_name_trgm``.
- Substrings of 1–2 characters (no trigram to look up): a scan of the covering B-tree index
  ``(kind, display_name)`` restricted to organisations, stopped after ``SHORT_CANDIDATES`` matches. Common
  short queries stop early; a rare one reads the organisation names once (an index, not the table).
- Exact and prefix matches of a name or a USCC: range scans of ``(kind, display_name)`` and
  ``(kind, display_id)``.

Ranking: exact name first, then names starting with the query, then the others; shorter names first,
then by name. It is computed over at most ``CANDIDATES`` substring matches plus the exact and
prefix matches (each found by its own index), so pages reach at most that far and ``total_estimate``
is exact below the cap and a lower bound (``capped``) at it — the public portal's search is for
finding a subject, not for listing a million of them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog, SubjectKind
from chengxin.core.clock import today_cn
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, NotFound
from chengxin.core.identifiers import is_valid_ric
from chengxin.search.schema import FTS_TABLE

MAX_QUERY = 50
MAX_LIMIT = 100
CANDIDATES = 500  # substring matches ranked per query (and prefix matches, each)
SHORT_CANDIDATES = 100  # the same for 1–2 character queries (a scan, not an index look-up: stop sooner)
ORG = SubjectKind.ORGANIZATION.value
PERSON = SubjectKind.PERSON.value

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_FULL = re.compile(f"[{USCC_CHARS}]{{18}}")
_USCC_PREFIX = re.compile(f"[{USCC_CHARS}]{{8,17}}")
_RIC = re.compile(r"\d{17}[\dX]")
_TOP = "\U0010ffff"  # sorts after every character: [p, p + _TOP) is "starts with p"


@dataclass(frozen=True, slots=True)
class SubjectHit:
    id: int
    kind: str
    display_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    results: list[SubjectHit]
    total_estimate: int
    query: str
    capped: bool = False  # total_estimate is a lower bound (more matches than were ranked)
    mode: str = "name"  # name | uscc | uscc_prefix | ric


def clean_query(raw: str) -> str:
    """The query as searched: NFKC-normalised (full-width → half-width), control characters
    removed, whitespace collapsed and stripped. Raises ``search.empty`` / ``search.too_long``."""
    text_ = unicodedata.normalize("NFKC", raw or "")
    text_ = "".join(" " if ch.isspace() else ch for ch in text_ if ch.isspace() or unicodedata.category(ch)[0] != "C")
    text_ = " ".join(text_.split())
    if not text_:
        raise DomainError("search.empty", "请输入企业名称或统一社会信用代码", "Enter a name or a code to search for",
                          field="q")
    if len(text_) > MAX_QUERY:
        raise DomainError("search.too_long", f"查询内容不能超过 {MAX_QUERY} 个字符",
                          f"The query must be at most {MAX_QUERY} characters", field="q")
    return text_


def search_subjects(
    session: Session,
    query: str,
    *,
    limit: int = 20,
    offset: int = 0,
    keyring: KeyRing | None = None,
    catalog: Catalog | None = None,
    today: dt.date | None = None,
) -> SearchPage:
    """One page of subjects matching ``query`` (see the module docstring for what matches how).

    ``keyring`` and ``catalog`` are needed to find persons by citizen ID (blind index, then the public
    file's rules); without them persons never match. ``today`` defaults to today in China.
    """
    q = clean_query(query)
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    code = q.replace(" ", "").upper()
    if _RIC.fullmatch(code) and is_valid_ric(code):
        hits = _person_by_ric(session, keyring, catalog, today or today_cn(), code)
        return SearchPage(hits[offset : offset + limit], len(hits), q, mode="ric")
    if _USCC_FULL.fullmatch(code):  # exact, valid or not: one index probe
        hits = _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                     "WHERE kind = :org AND display_id = :code", org=ORG, code=code)
        return SearchPage(hits[offset : offset + limit], len(hits), q, mode="uscc")
    if _USCC_PREFIX.fullmatch(code) and any(c.isdigit() for c in code):
        hits = _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                     "WHERE kind = :org AND display_id >= :lo AND display_id < :hi ORDER BY display_id LIMIT :n",
                     org=ORG, lo=code, hi=code + _TOP, n=CANDIDATES + 1)
        capped = len(hits) > CANDIDATES
        hits = hits[:CANDIDATES]
        return SearchPage(hits[offset : offset + limit], len(hits), q, capped=capped, mode="uscc_prefix")
    return _by_name(session, q, limit, offset)


# -- names ----------------------------------------------------------------------------------------------


def _by_name(session: Session, q: str, limit: int, offset: int) -> SearchPage:
    dialect = session.get_bind().dialect.name
    found: dict[int, SubjectHit] = {}
    # Exact and prefix matches come from the B-tree, whatever the substring search returns.
    for hit in _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                     "WHERE kind = :org AND display_name >= :lo AND display_name < :hi "
                     "ORDER BY display_name LIMIT :n", org=ORG, lo=q, hi=q + _TOP,
                     n=CANDIDATES if len(q) >= 3 else SHORT_CANDIDATES):
        found[hit.id] = hit
    cap = CANDIDATES if len(q) >= 3 else SHORT_CANDIDATES
    substring = _substring(session, dialect, q, cap)
    capped = len(substring) > cap
    for hit in substring[:cap]:
        found.setdefault(hit.id, hit)
    folded = q.casefold()

    def rank(hit: SubjectHit) -> tuple[int, int, str, int]:
        name = hit.display_name.casefold()
        tier = 0 if name == folded else 1 if name.startswith(folded) else 2
        return tier, len(hit.display_name), hit.display_name, hit.id

    ranked = sorted((h for h in found.values() if folded in h.display_name.casefold()), key=rank)
    return SearchPage(ranked[offset : offset + limit], len(ranked), q, capped=capped, mode="name")


def _substring(session: Session, dialect: str, q: str, cap: int) -> list[SubjectHit]:
    """Up to ``cap`` + 1 organisations whose name contains ``q`` (index order, not ranked)."""
    n = cap + 1
    if dialect == "sqlite":
        if len(q) >= 3:
            phrase = '"' + q.replace('"', '""') + '"'  # an FTS5 string: no query syntax inside
            return _rows(session, f"SELECT s.id, s.kind, s.display_id, s.display_name FROM {FTS_TABLE} f "
                         f"JOIN subject s ON s.id = f.rowid WHERE {FTS_TABLE} MATCH :phrase LIMIT :n",
                         phrase=phrase, n=n)
        return _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                     "INDEXED BY ix_subject_kind_display_name "
                     "WHERE kind = :org AND instr(lower(display_name), lower(:q)) > 0 LIMIT :n",
                     org=ORG, q=q, n=n)
    if len(q) >= 3:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                     "WHERE kind = :org AND display_name ILIKE :pattern ESCAPE '\\' LIMIT :n",
                     org=ORG, pattern=pattern, n=n)
    return _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                 "WHERE kind = :org AND strpos(lower(display_name), lower(:q)) > 0 LIMIT :n",
                 org=ORG, q=q, n=n)


def _rows(session: Session, sql: str, **params: object) -> list[SubjectHit]:
    return [SubjectHit(int(r[0]), r[1], r[2], r[3]) for r in session.execute(text(sql), params)]


# -- persons ----------------------------------------------------------------------------------------------


def _person_by_ric(
    session: Session, keyring: KeyRing | None, catalog: Catalog | None, today: dt.date, ric: str
) -> list[SubjectHit]:
    """The person with this citizen ID, masked — only if the public may see something about them."""
    if keyring is None or catalog is None:
        return []
    from chengxin.subjects.service import lookup_index

    rows = _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                 "WHERE lookup_index = :index AND kind = :person",
                 index=lookup_index(keyring, PERSON, ric), person=PERSON)
    return [hit for hit in rows if person_has_public_information(session, catalog, hit.id, today)]


def person_has_public_information(session: Session, catalog: Catalog, subject_id: int, today: dt.date) -> bool:
    """Whether a person has at least one item the public may see today (RULES §1).

    The disclosure service decides: its public file of a person without public items is NotFound.
    """
    from chengxin.disclosure.service import public_file

    try:
        public_file(session, catalog, subject_id, today)
    except NotFound:
        return False
    return True
