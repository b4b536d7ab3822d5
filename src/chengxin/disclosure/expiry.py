"""公示期满: display periods end by themselves (issue #4 §3, RULES §1).

Correctness never depends on this job: every read computes the display end from the catalog
(``disclosure.rules.display_window`` / ``is_displayed``), so a record whose maximum display period
has passed is hidden on the day its display ends even if the job never ran. The job
(``chengxin display expire``, run daily from cron) only *records* the fact — one row per record in
``record_display_end`` with the day its display ended — so the credit office can see how many
records left display each day, and one audit event per run.

Set-based and idempotent: the record table is walked in id ranges (primary-key ranges, one short
transaction each); in each range one ``INSERT … SELECT`` per display period marks every active
record whose period has passed and that is not marked yet. The display end is computed in SQL
exactly as ``catalog.rules.add_duration`` does (months clamped to the month's end, then days), so a
second run — or a run on any later day — marks nothing twice and changes nothing already marked.
Which records qualify is decided per catalog item version (the version in force on the decision
date) and severity, with the date cut-off computed here in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Date, ForeignKey, Index, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from chengxin.catalog.model import Catalog, Duration, Severity
from chengxin.catalog.rules import add_duration
from chengxin.core import audit
from chengxin.core.audit import AuditEvent
from chengxin.core.db import Base, BigId, Database, UtcDateTime, utcnow
from chengxin.records.models import Record

__all__ = ["DisplayEnd", "ExpiryResult", "ExpiryRule", "ended_per_day", "expire_displays", "expiry_rules",
           "last_decision_date_ended", "recent_runs"]

BATCH_IDS = 50_000
ACTION = "display.expire"


class DisplayEnd(Base):
    """公示期满 marker: the record's maximum display period ended on ``ended_on`` (kept, not displayed)."""

    __tablename__ = "record_display_end"
    __table_args__ = (Index("ix_record_display_end_ended_on", "ended_on"),)

    record_id: Mapped[int] = mapped_column(BigId, ForeignKey("record.id"), primary_key=True, autoincrement=False)
    ended_on: Mapped[dt.date] = mapped_column(Date)  # first day the record was no longer displayed
    marked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)  # the run that noted it


# -- pure rules --------------------------------------------------------------------------------------


def last_decision_date_ended(period: Duration, today: dt.date) -> dt.date:
    """The latest decision date whose display (``period`` long) has ended by ``today``: the largest d
    with ``add_duration(d, period) <= today``. ``add_duration`` never decreases as d grows, so every
    earlier decision date has ended too."""
    months = period.years * 12 + period.months
    guess = today - dt.timedelta(days=period.days)
    y, m = divmod(guess.year * 12 + guess.month - 1 - months, 12)
    day = dt.date(y, m + 1, 1)
    day = day.replace(day=min(guess.day, _month_days(day)))
    while add_duration(day + dt.timedelta(days=1), period) <= today:
        day += dt.timedelta(days=1)
    while add_duration(day, period) > today:
        day -= dt.timedelta(days=1)
    return day


def _month_days(day: dt.date) -> int:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return (following - dt.timedelta(days=1)).day


@dataclass(frozen=True)
class ExpiryRule:
    """Records of ``item_code`` decided in [``decided_from``, ``decided_to``] (one catalog version) with
    this severity — ``severity`` None with ``other_than``: any severity the version names no period
    for, which falls back to its default period — are displayed for ``period`` at most."""

    item_code: str
    decided_from: dt.date
    decided_to: dt.date | None
    severity: str | None
    other_than: tuple[str, ...]
    period: Duration


def expiry_rules(catalog: Catalog) -> list[ExpiryRule]:
    """Every (item version, severity) with a maximum display period, from the catalog."""
    out: list[ExpiryRule] = []
    for code in sorted(catalog.items):
        for version in catalog.items[code].versions:
            named = tuple(sorted(k.value for k in version.display_periods if isinstance(k, Severity)))
            for key, period in version.display_periods.items():
                if period.max is None:
                    continue  # displayed long-term
                out.append(ExpiryRule(code, version.effective_from, version.effective_to,
                                      key.value if isinstance(key, Severity) else None,
                                      () if isinstance(key, Severity) else named, period.max))
    return out


# -- the job -----------------------------------------------------------------------------------------


def _ends_sql(dialect: str, period: Duration) -> str:
    """``add_duration(r.decision_date, period)`` in SQL (integers from the catalog, never user input)."""
    months, days = int(period.years) * 12 + int(period.months), int(period.days)
    if dialect == "postgresql":
        return f"(CAST(r.decision_date + make_interval(months => {months}) AS date) + {days})"
    # SQLite's '+N months' overflows into the next month (Jan 31 + 1 month = Mar 2): clamp to the
    # last day of the target month like add_duration. ISO dates compare as text.
    return (f"date(min(date(r.decision_date, '+{months} months'), "
            f"date(r.decision_date, 'start of month', '+{months + 1} months', '-1 day')), '+{days} days')")


@dataclass(frozen=True)
class ExpiryResult:
    today: dt.date
    scanned_ids: int
    marked: int
    by_day: dict[dt.date, int]
    seconds: float


def _statements(dialect: str, catalog: Catalog, today: dt.date) -> list[tuple[str, dict[str, object]]]:
    """One INSERT … SELECT per distinct display period, over the rules whose records may have ended."""
    grouped: dict[tuple[int, int, int], list[tuple[ExpiryRule, dt.date]]] = {}
    for rule in expiry_rules(catalog):
        cutoff = last_decision_date_ended(rule.period, today)
        upper = min(cutoff, rule.decided_to) if rule.decided_to is not None else cutoff
        if upper < rule.decided_from:
            continue
        key = (rule.period.years, rule.period.months, rule.period.days)
        grouped.setdefault(key, []).append((rule, upper))
    statements = []
    for (years, months, days), rules in sorted(grouped.items()):
        params: dict[str, object] = {}
        terms = []
        for n, (rule, upper) in enumerate(rules):
            params.update({f"i{n}": rule.item_code, f"f{n}": rule.decided_from, f"u{n}": upper})
            term = f"(r.item_code = :i{n} AND r.decision_date BETWEEN :f{n} AND :u{n}"
            if rule.severity is not None:
                params[f"s{n}"] = rule.severity
                term += f" AND r.severity = :s{n}"
            elif rule.other_than:
                names = ", ".join(f":o{n}_{k}" for k in range(len(rule.other_than)))
                params.update({f"o{n}_{k}": s for k, s in enumerate(rule.other_than)})
                term += f" AND (r.severity IS NULL OR r.severity NOT IN ({names}))"
            terms.append(term + ")")
        ends = _ends_sql(dialect, Duration(years, months, days))
        sql = (
            "INSERT INTO record_display_end (record_id, ended_on, marked_at) "
            f"SELECT r.id, {ends}, :marked_at FROM record r "
            "WHERE r.id >= :lo AND r.id < :hi AND r.status = 'active' AND r.display_stopped_on IS NULL "
            f"AND ({' OR '.join(terms)}) "
            "AND NOT EXISTS (SELECT 1 FROM record_display_end e WHERE e.record_id = r.id) "
            "ON CONFLICT (record_id) DO NOTHING"
        )
        statements.append((sql, params))
    return statements


def expire_displays(db: Database, catalog: Catalog, *, today: dt.date, actor: audit.Actor = audit.SYSTEM,
                    batch_ids: int = BATCH_IDS, progress: Callable[[int, int], None] | None = None) -> ExpiryResult:
    """Note every record whose maximum display period ended by ``today`` (idempotent, any time).

    ``progress(done, total)`` is called after each id range. Each range is its own short transaction,
    so the job never holds the write lock long and a killed run is simply finished by the next one.
    """
    import time

    started = time.perf_counter()
    marked_at = utcnow()
    with db.read() as session:
        lo, hi = session.execute(select(func.min(Record.id), func.max(Record.id))).one()
    statements = _statements(db.dialect, catalog, today)
    marked = 0
    total = 0 if lo is None else hi - lo + 1
    if lo is not None and statements:
        for start in range(lo, hi + 1, batch_ids):
            with db.write() as session:
                conn = session.connection()
                for sql, params in statements:
                    result = conn.execute(text(sql), {**params, "lo": start, "hi": start + batch_ids,
                                                      "marked_at": _bind_time(db.dialect, marked_at)})
                    marked += max(result.rowcount or 0, 0)
            if progress is not None:
                progress(min(start + batch_ids, hi + 1) - lo, total)
    by_day: dict[dt.date, int] = {}
    if marked:
        with db.write() as session:
            by_day = {_as_date(day): n for day, n in session.execute(
                select(DisplayEnd.ended_on, func.count()).where(DisplayEnd.marked_at == marked_at)
                .group_by(DisplayEnd.ended_on))}
            audit.write(session, actor=actor, action=ACTION, object_type="record_display_end",
                        detail={"today": today.isoformat(), "marked": marked,
                                "by_day": {d.isoformat(): n for d, n in sorted(by_day.items())}})
    return ExpiryResult(today, total, marked, by_day, time.perf_counter() - started)


def _bind_time(dialect: str, value: dt.datetime) -> object:
    # Raw SQL bypasses UtcDateTime: store what it would (naive UTC text on SQLite).
    if dialect == "sqlite":
        return value.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# -- what the credit office reads ------------------------------------------------------------------


def ended_per_day(session: Session, *, since: dt.date, until: dt.date) -> list[tuple[dt.date, int]]:
    """How many records left display on each day in [since, until] (days with none omitted)."""
    rows = session.execute(select(DisplayEnd.ended_on, func.count()).where(
        DisplayEnd.ended_on >= since, DisplayEnd.ended_on <= until).group_by(DisplayEnd.ended_on)
        .order_by(DisplayEnd.ended_on.desc()))
    return [(_as_date(day), int(n)) for day, n in rows]


@dataclass(frozen=True)
class RunLine:
    at: dt.datetime
    actor: str
    today: str
    marked: int


def recent_runs(session: Session, limit: int = 20) -> list[RunLine]:
    """The job's runs that noted something (a run that finds nothing new leaves no trace)."""
    rows = session.scalars(select(AuditEvent).where(AuditEvent.action == ACTION)
                           .order_by(AuditEvent.id.desc()).limit(limit))
    return [RunLine(e.at, e.actor, str(e.detail.get("today", "")), int(e.detail.get("marked", 0))) for e in rows]
