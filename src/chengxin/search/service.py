"""Public search of subjects (信用主体查询): organisations by name or USCC, persons only by exact ID.

Who can be found
- Organisations: by a substring of their name of any length (Chinese or Latin; ASCII case and
  full-width/half-width forms ignored: ``ＡＢＣ（集团）`` and ``abc(集团)`` are the same text), by their
  USCC exactly, or by a USCC prefix (8–17 characters of the USCC alphabet).
- Persons: never by name (names are encrypted; the masked ``张*明`` is not searchable). Only by an
  exact, valid citizen ID — through the blind index — and only if the person has information the
  public may see (``chengxin.disclosure.service.public_file``); otherwise the search answers exactly
  as if the person did not exist.

How (migrations 0008 and 0031, ``chengxin.search.rules``)
- Every organisation is indexed under the grams of its folded name: each bigram and its last character
  alone (``name_grams``). Triggers in plain SQL keep the index in sync on both engines, whoever writes
  ``subject``; a bulk ingest writes its new organisations' grams itself (``BulkNameIndex``).
- PostgreSQL: ``subject_name_gram (gram, subject_id)``, and ``subject_name_gram_count (gram, n)``, how
  many names hold each gram (in a fixed one-in-eight sample of organisations: enough to tell a rare
  bigram from a common one). A gram's posting list is a range of the primary key in ``subject_id``
  order: it is read in order and the read stops as soon as enough candidates are found, so a common
  query costs no more than a rare one.
  - 1 character ``c``: the grams starting with ``c`` (one key range), at most ``SHORT_CANDIDATES``.
  - 2 characters: the posting list of that bigram.
  - 3+ characters: the rarest of the query's bigrams (by the counts) drives; the next ``FILTERS`` rarest
    are looked up in the index before a subject row is read. The counts only choose the order: a wrong
    count costs time, never a result.
- SQLite: ``subject_name_fts``, an FTS5 table with the grams, and each character of the folded name, as
  tokens (``name_tokens``). A query of 2+ characters matches all its bigrams (FTS5 intersects the lists in
  id order, seeking in the long ones, and stops at the limit); 1 character matches that character's token.
- Either way the subject row is then checked for the whole query (in SQL when the query has no ASCII
  character, else in Python after folding): holding every bigram is not holding the text.
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
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog, SubjectKind
from chengxin.core.clock import today_cn
from chengxin.core.crypto import KeyRing
from chengxin.core.db import BulkWriter
from chengxin.core.errors import DomainError, NotFound
from chengxin.core.identifiers import is_valid_ric
from chengxin.search.rules import (
    contains,
    counted,
    dedupe,
    fold,
    is_ascii_free,
    match_all,
    name_gram_frame,
    name_tokens,
    query_bigrams,
    rank_key,
)
from chengxin.search.schema import GRAM_COUNT_TABLE, GRAM_TABLE, NAME_FTS_TABLE, NAME_FTS_UPKEEP

MAX_QUERY = 50
MAX_LIMIT = 100
CANDIDATES = 500  # substring matches ranked per query (and prefix matches, each)
SHORT_CANDIDATES = 100  # the same for a 1-character query (a character matches a large share of all names)
FILTERS = 2  # further bigrams of a query looked up in the index before a candidate's subject row is read
ORG = SubjectKind.ORGANIZATION.value
PERSON = SubjectKind.PERSON.value

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_FULL = re.compile(f"[{USCC_CHARS}]{{18}}")
_USCC_PREFIX = re.compile(f"[{USCC_CHARS}]{{8,17}}")
_RIC = re.compile(r"\d{17}[\dX]")
_TOP = "\U0010ffff"  # sorts after every character: [p, p + _TOP) is "starts with p"
_COLUMNS = "s.id, s.kind, s.display_id, s.display_name"


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
    """The query as searched: control characters removed, whitespace collapsed and stripped.
    Raises ``search.empty`` / ``search.too_long``. (Width and ASCII case are folded when comparing,
    on both sides: ``chengxin.search.rules.fold``.)"""
    text_ = "".join(" " if ch.isspace() else ch for ch in raw or "" if ch.isspace() or unicodedata.category(ch)[0] != "C")
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
    code = fold(q).replace(" ", "").upper()
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
    folded = fold(q)
    cap = CANDIDATES if len(folded) > 1 else SHORT_CANDIDATES
    found: dict[int, SubjectHit] = {}
    # Exact and prefix matches come from the B-tree, whatever the substring search returns: the
    # name as typed, and folded (names are stored as submitted, in either width or case).
    for prefix in dict.fromkeys((q, folded)):
        for hit in _rows(session, "SELECT id, kind, display_id, display_name FROM subject "
                         "WHERE kind = :org AND display_name >= :lo AND display_name < :hi "
                         "ORDER BY display_name LIMIT :n", org=ORG, lo=prefix, hi=prefix + _TOP, n=cap):
            found[hit.id] = hit
    substring, capped = _substring(session, folded, cap)
    for hit in substring:
        found.setdefault(hit.id, hit)
    ranked = sorted((h for h in found.values() if contains(h.display_name, folded)),
                    key=lambda h: rank_key(h.display_name, h.id, folded))
    return SearchPage(ranked[offset : offset + limit], len(ranked), q, capped=capped, mode="name")


def _substring(session: Session, folded: str, cap: int) -> tuple[list[SubjectHit], bool]:
    """Up to ``cap`` organisations whose folded name contains ``folded`` (index order, not ranked),
    and whether there may be more."""
    if session.get_bind().dialect.name == "sqlite":
        return _fts_matches(session, match_all(query_bigrams(folded) if len(folded) > 1 else [folded]), folded, cap)
    if len(folded) == 1:
        return _by_character(session, folded, cap)
    bigrams = query_bigrams(folded)
    if len(bigrams) > 1:
        counts = _posting_lengths(session, bigrams)
        bigrams = sorted(bigrams, key=lambda g: counts.get(g, 0))
    drive, filters = bigrams[0], bigrams[1 : 1 + FILTERS]
    params: dict[str, object] = {"drive": drive, "org": ORG, "n": cap + 1}
    gram_where = ["g.gram = :drive"]
    for i, gram in enumerate(filters):
        params[f"f{i}"] = gram
        # A correlated look-up per posting (PostgreSQL would turn an EXISTS into a hash join).
        gram_where.append(f"(SELECT 1 FROM {GRAM_TABLE} x{i} WHERE x{i}.gram = :f{i} "
                          f"AND x{i}.subject_id = g.subject_id) IS NOT NULL")
    subject_where = ["s.id = g.subject_id", "s.kind = :org"]
    if is_ascii_free(folded):  # the database can check the whole query (else: checked below)
        params["q"] = folded
        subject_where.append("strpos(s.display_name, :q) > 0")
    # OFFSET 0 keeps the planner from flattening the look-up into a hash join
    sql = (f"SELECT {_COLUMNS} FROM {GRAM_TABLE} g CROSS JOIN LATERAL "
           f"(SELECT {_COLUMNS} FROM subject s WHERE {' AND '.join(subject_where)} OFFSET 0) s "
           f"WHERE {' AND '.join(gram_where)} LIMIT :n")
    rows = _rows(session, sql, **params)
    return [h for h in rows[:cap] if contains(h.display_name, folded)], len(rows) > cap


def _fts_matches(session: Session, match: str, folded: str, cap: int) -> tuple[list[SubjectHit], bool]:
    """SQLite: up to ``cap`` organisations whose name index entry matches ``match`` and whose folded name holds
    ``folded`` (id order, not ranked), and whether there may be more."""
    params: dict[str, object] = {"match": match, "org": ORG, "n": cap + 1}
    where = [f"f.{NAME_FTS_TABLE} MATCH :match", "s.id = f.rowid", "s.kind = :org"]
    if is_ascii_free(folded):
        params["q"] = folded
        where.append("instr(s.display_name, :q) > 0")
    # CROSS JOIN: SQLite keeps this join order (the index drives, the subject row is read by its key).
    rows = _rows(session, f"SELECT {_COLUMNS} FROM {NAME_FTS_TABLE} f CROSS JOIN subject s "
                          f"WHERE {' AND '.join(where)} LIMIT :n", **params)
    return [h for h in rows[:cap] if contains(h.display_name, folded)], len(rows) > cap


def _by_character(session: Session, char: str, cap: int) -> tuple[list[SubjectHit], bool]:
    # A name holds ``char`` exactly when one of its grams starts with it; a name may have several.
    read = 3 * (cap + 1)
    ids = [int(i) for i in session.execute(
        text(f"SELECT subject_id FROM {GRAM_TABLE} WHERE gram >= :lo AND gram < :hi LIMIT :n"),
        {"lo": char, "hi": char + _TOP, "n": read}).scalars()]
    distinct = dedupe(ids)
    capped = len(ids) == read or len(distinct) > cap
    if not distinct:
        return [], capped
    rows = session.execute(
        text(f"SELECT {_COLUMNS} FROM subject s WHERE s.kind = :org AND s.id IN :ids").bindparams(
            bindparam("ids", expanding=True)),
        {"org": ORG, "ids": distinct[:cap]})
    return [SubjectHit(int(r[0]), r[1], r[2], r[3]) for r in rows if contains(r[3], char)], capped


def _posting_lengths(session: Session, grams: list[str]) -> dict[str, int]:
    """How many (sampled) organisations' names hold each gram, as the triggers keep them (absent: 0)."""
    rows = session.execute(
        text(f"SELECT gram, n FROM {GRAM_COUNT_TABLE} WHERE gram IN :grams").bindparams(
            bindparam("grams", expanding=True)),
        {"grams": grams})
    return {gram: int(n) for gram, n in rows}


def _rows(session: Session, sql: str, **params: object) -> list[SubjectHit]:
    return [SubjectHit(int(r[0]), r[1], r[2], r[3]) for r in session.execute(text(sql), params)]


# -- persons ----------------------------------------------------------------------------------------------


def _person_by_ric(
    session: Session, keyring: KeyRing | None, catalog: Catalog | None, today: dt.date, ric: str
) -> list[SubjectHit]:
    """The person with this citizen ID, masked — only if the public may see something about them."""
    if keyring is None or catalog is None:
        return []
    from chengxin.subjects.rules import lookup_index

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
        public_file(session, catalog, subject_id, today, window=(0, 1))  # counts them, builds at most one
    except NotFound:
        return False
    return True


# -- bulk upkeep of the name index -------------------------------------------------------------------------

FLUSH_GRAMS = 500_000  # grams held before they are written (~35 MB): memory stays flat however large the file


class BulkNameIndex:
    """The name grams of the organisations one bulk ingest creates, written by the ingest itself: computed
    here (``search.rules.name_grams``, the triggers' definition) and written before the batch commits, with
    the insert triggers off for the batch's own subjects. Same transaction: nobody ever sees the subjects
    without their grams. Subjects inserted after :meth:`finish` are indexed by the triggers again.

    PostgreSQL: copied into ``subject_name_gram`` in key order, with their counts. Why not the triggers: per
    chunk they insert all over an index that outgrows the server's buffers (migration 0027); and the one
    ``INSERT … SELECT`` of 0027 at the batch's end, which the server ran alone while the reader's core idled,
    spent more than half of its time generating the grams with an SQL function per name and sorting them
    (13.2 s of a 1,000,000-row file here; bench/RESULTS.md, ingest, session 13). The grams are cut, put in the
    index's order and rendered as CSV in columns (``search.rules.name_gram_frame``) when written — by the
    ingest's insert thread, off the thread that chains the records.

    SQLite: one row of tokens per organisation into the FTS5 table (migration 0031), where the trigger's SQL
    spent ~45 µs per name cutting it into grams (bench/RESULTS.md, ingest, session 16).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.organisations: list[tuple[int, str]] = []  # PostgreSQL: (subject id, name), cut into grams when written
        self.rows: list[tuple[int, str]] = []  # SQLite: (subject id, its tokens)
        self.grams = 0  # grams held (PostgreSQL: at most, a name's length each; SQLite: its tokens)
        if self.sqlite:  # the insert trigger skips this transaction's subjects from here on
            session.execute(text(f"UPDATE {NAME_FTS_UPKEEP} SET deferred = 1"))
        else:  # the statement trigger of 0027 does
            session.execute(text("SET LOCAL chengxin.grams_deferred = on"))

    def add(self, organisations: Iterable[tuple[int, str]]) -> None:
        """Index these new organisations (id, name): held until :meth:`flush` (when :meth:`full`) or :meth:`finish`;
        never touches the database."""
        if self.sqlite:
            rows = [(subject_id, name_tokens(name)) for subject_id, name in organisations]
            self.rows.extend(rows)
            self.grams += sum(token.count(" ") + 1 for _, token in rows)
            return
        held = len(self.organisations)
        self.organisations.extend(organisations)
        self.grams += sum(len(name) for _, name in self.organisations[held:])

    def full(self) -> bool:
        """Whether the grams held should be written now (:meth:`flush`) to keep memory flat."""
        return self.grams >= FLUSH_GRAMS

    def take(self) -> HeldGrams:
        """The grams held so far, handed over to :meth:`write` (which may run in another thread: the ingest's
        insert thread); holding starts anew."""
        held = HeldGrams(self.organisations, self.rows)
        self.organisations, self.rows, self.grams = [], [], 0
        return held

    def flush(self) -> None:
        """Write the grams held so far (the caller's connection must be free for it)."""
        self.write(self.take())

    def finish(self) -> None:
        """Write what is left; subjects inserted later in this transaction are indexed by the triggers again."""
        self.flush()
        if self.sqlite:
            self.session.execute(text(f"UPDATE {NAME_FTS_UPKEEP} SET deferred = 0"))
        else:
            self.session.execute(text("SET LOCAL chengxin.grams_deferred = off"))

    def write(self, held: HeldGrams) -> None:
        """Write grams taken by :meth:`take` into the index (and, on PostgreSQL, their counts)."""
        if held.rows:
            BulkWriter(self.session).insert(NAME_FTS_TABLE, ("rowid", "grams"), held.rows)
        if not held.organisations:
            return
        ids = [subject_id for subject_id, _ in held.organisations]
        grams = name_gram_frame(ids, [name for _, name in held.organisations])
        BulkWriter(self.session).copy_csv(GRAM_TABLE, ("gram", "subject_id"),
                                          grams.write_csv(include_header=False, quote_style="always").encode())
        sampled = [subject_id for subject_id in ids if counted(subject_id)]
        counts = grams.filter(pl.col("subject_id").is_in(sampled)).group_by("gram").len().sort("gram")
        if len(counts):
            self.session.execute(
                text(f"INSERT INTO {GRAM_COUNT_TABLE} (gram, n) "
                     "SELECT g, n FROM unnest(CAST(:grams AS text[]), CAST(:counts AS bigint[])) AS c(g, n) ORDER BY g "
                     f"ON CONFLICT (gram) DO UPDATE SET n = {GRAM_COUNT_TABLE}.n + excluded.n"),
                {"grams": counts["gram"].to_list(), "counts": counts["len"].to_list()},
            )


@dataclass(slots=True)
class HeldGrams:
    """Grams of new organisations not yet written (:meth:`BulkNameIndex.take`)."""

    organisations: list[tuple[int, str]]  # PostgreSQL: (subject id, name)
    rows: list[tuple[int, str]]  # SQLite: (subject id, tokens)
