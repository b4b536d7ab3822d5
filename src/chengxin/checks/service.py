"""The credit check (联合奖惩核查), its feedback and statistics.

The check is the hot path (issue #5: 1,000 req/s, p99 under 20 ms with a million subjects): the API key
is verified once per few seconds per process (:class:`accounts.service.ApiKeyCache`), the measures come from memory
(:class:`chengxin.measures.model.MeasureBook`, answers cached per scenario/lists/kind/day), the subject
and its memberships are one indexed read (``subject.lookup_index`` joined with ``subject_list_status``),
and the log is written behind the request (:mod:`chengxin.checks.log`).

Persons: the answer never says whether a person is known to the platform — a person with no
membership and an unknown citizen ID get the same answer (``not_listed``), and no name. Only an
organisation (public information) is reported as ``unknown_subject``. Every check of a known person is
entered in that person's query log (查询使用登记) with the scenario as the purpose.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from psycopg import OperationalError, pq
from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from chengxin.accounts.service import ApiKeyCache
from chengxin.checks import rules
from chengxin.checks.log import CheckLog
from chengxin.checks.models import OUTCOMES, CheckFeedback, CreditCheck
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.db import Database, make_engine, utcnow
from chengxin.core.errors import DomainError, NotFound, PermissionDenied, Unauthenticated
from chengxin.lists.status import current_memberships
from chengxin.measures.loader import measure_book, parameter
from chengxin.measures.model import LIST_SHORT_ZH, MEASURE_KINDS, Measure, MeasureBook, Scenario
from chengxin.subjects.rules import lookup_index

PLATFORM_PREFIX = rules.PLATFORM_PREFIX
CHECK_BASIS = "联合奖惩核查：《浙江省公共信用信息管理条例》第二十八条（依事先公布的措施清单实施）；常州实施意见 P-VI、E-V"


def is_platform(department_code: str | None) -> bool:
    return bool(department_code) and str(department_code).startswith(PLATFORM_PREFIX)



class Found(NamedTuple):
    """A subject as the check's one read finds it."""

    subject_id: int
    display_name: str
    memberships: list[dict[str, Any]]  # subject_list_status (all terms; filtered by day when answering)
    shops: list[dict[str, Any]]  # ec_owner_risk: its online shops at medium risk or above


@dataclass
class _Answer:
    """The cached part of an answer: the measures of a scenario for some lists, kind and day."""

    measures: list[dict[str, Any]]
    codes: list[str]


@dataclass
class Checker:
    """Everything the check needs, built once per app (``app.state.checker``)."""

    db: Database
    keyring: KeyRing
    book: MeasureBook = field(default_factory=measure_book)
    mode: str = "batch"  # settings.check_log
    keys: ApiKeyCache | None = None  # the platform's (Platform.api_keys); its own if none is given
    log: CheckLog = field(init=False)
    _answers: dict[tuple[str, frozenset[str], str, dt.date], _Answer] = field(default_factory=dict, init=False)
    _reader: Engine | None = field(default=None, init=False)
    _reader_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _held: threading.local = field(default_factory=threading.local, init=False)
    _sql: str = field(default="", init=False)  # _SQL in the driver's parameter style, made once
    _owns_keys: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.log = CheckLog(self.db, mode=self.mode)
        if self.keys is None:
            self.keys = ApiKeyCache(self.db)
            self._owns_keys = True
        self._sql = self._SQL.format(p="%s" if self.db.dialect == "postgresql" else "?")

    # -- the one read -------------------------------------------------------------------------------

    def reader(self) -> Engine:
        """A small pool of its own, without the per-checkout ping (the check is one statement; a broken
        connection is discarded by the pool on error and the next check gets a fresh one)."""
        if self._reader is None:
            with self._reader_lock:
                if self._reader is None:
                    url = self.db.engine.url.render_as_string(hide_password=False)
                    extra: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if self.db.dialect == "postgresql" else {}
                    self._reader = make_engine(url, pool_pre_ping=False, pool_size=8, max_overflow=16, **extra)
        return self._reader

    # ec_owner_risk: the subject's shops at risk (issue #7), joined by primary key in the same read.
    _SQL = ("SELECT subject.id, subject.display_name, subject_list_status.memberships, ec_owner_risk.shops "
            "FROM subject "
            "LEFT OUTER JOIN subject_list_status ON subject_list_status.subject_id = subject.id "
            "LEFT OUTER JOIN ec_owner_risk ON ec_owner_risk.subject_id = subject.id "
            "WHERE subject.lookup_index = {p}")

    def read_subject(self, kind: str, identifier: str) -> Found | None:
        """The one indexed read, on a driver connection this thread keeps (from the reader's pool, so with
        the engine's connect-time settings): SQLAlchemy's checkout, execution context and result wrapping
        cost three times the statement (bench/RESULTS.md, credit check). Autocommit on both engines: each
        read sees what is committed. A connection that fails is dropped and the read tried once more."""
        index = lookup_index(self.keyring, kind, identifier)
        for attempt in (1, 2):
            held = getattr(self._held, "conn", None)
            if held is None:
                held = self.reader().raw_connection()
                if self.db.dialect == "postgresql":
                    held.driver_connection.autocommit = True  # type: ignore[union-attr]
                self._held.conn = held
            try:
                if self.db.dialect == "postgresql":
                    row = self._fetch_pg(held, index)
                else:
                    cursor = held.cursor()
                    try:
                        cursor.execute(self._sql, (index,))
                        row = cursor.fetchone()
                    finally:
                        cursor.close()
                break
            except Exception:
                self._held.conn = None
                held.invalidate()
                if attempt == 2:
                    raise
        if row is None:
            return None
        memberships, shops, name = row[2], row[3], row[1]
        if isinstance(memberships, (str, bytes)):  # JSON as text (SQLite; libpq's text format for jsonb)
            memberships = orjson.loads(memberships)
        if isinstance(shops, (str, bytes)):
            shops = orjson.loads(shops)
        if isinstance(name, bytes):
            name = name.decode()
        return Found(int(row[0]), str(name), list(memberships or []), list(shops or []))

    _PG_STATEMENT = b"chengxin_credit_check"

    def _fetch_pg(self, held: Any, index: bytes) -> tuple[Any, ...] | None:
        """PostgreSQL: the read prepared once per connection and run through libpq directly. psycopg's cursor
        (query conversion, the generator-driven wait, row making) cost ~0.2 ms of CPU a check on top of the
        statement — more than the rest of the check (bench/RESULTS.md, credit check on PostgreSQL). Values come
        in libpq's text format: bytes, or None for NULL."""
        pgconn = held.driver_connection.pgconn
        if getattr(self._held, "prepared_on", None) is not held:
            made = pgconn.prepare(self._PG_STATEMENT, self._SQL.format(p="$1").encode())
            if made.status != pq.ExecStatus.COMMAND_OK:
                raise OperationalError((made.error_message or b"prepare failed").decode(errors="replace"))
            self._held.prepared_on = held
        result = pgconn.exec_prepared(self._PG_STATEMENT, [index], [1])
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise OperationalError((result.error_message or b"query failed").decode(errors="replace"))
        if result.ntuples == 0:
            return None
        return tuple(result.get_value(0, column) for column in range(4))

    # -- measures from memory ------------------------------------------------------------------------

    def answer_for(self, scenario: str, lists: frozenset[str], kind: str, day: dt.date) -> _Answer:
        key = (scenario, lists, kind, day)
        found = self._answers.get(key)
        if found is None:
            if len(self._answers) > 4096:
                self._answers.clear()
            measures = self.book.applicable(scenario, lists, kind, day)
            found = _Answer([m.as_json() for m in measures], [m.code for m in measures])
            self._answers[key] = found
        return found

    def scenario(self, code: object, day: dt.date) -> Scenario:
        scenario = self.book.scenario(code, day) if isinstance(code, str) else None
        if scenario is None:
            known = "、".join(f"{s.code}（{s.name_zh}）" for s in self.book.scenarios_on(day))
            raise DomainError("check.scenario_unknown", f"未知或未生效的核查场景：{code}。可用场景：{known}",
                              f"Unknown scenario {code!r}", field="scenario")
        return scenario

    # -- the check -----------------------------------------------------------------------------------

    def check(self, actor: audit.Actor, subject: object, scenario_code: object, subject_kind: str | None = None,
              *, now: dt.datetime | None = None) -> dict[str, Any]:
        """One credit check; returns the answer (a JSON-ready dict) and queues its log rows."""
        now = now or utcnow()
        day = now.astimezone(CHINA).date()
        scenario = self.scenario(scenario_code, day)
        given = rules.parse_subject(subject, subject_kind)
        if given.kind not in scenario.subject_kinds:
            kinds = "、".join({"person": "自然人", "organization": "法人和非法人组织"}[k] for k in scenario.subject_kinds)
            raise DomainError("check.scenario_subject_kind", f"场景“{scenario.name_zh}”只适用于{kinds}",
                              f"Scenario {scenario.code} does not apply to a {given.kind}", field="subject")
        found = self.read_subject(given.kind, given.identifier)
        memberships = current_memberships(found[2], day) if found else []
        lists = rules.current_lists(memberships)
        answer = self.answer_for(scenario.code, frozenset(lists), given.kind, day)
        check_id = rules.new_check_id()
        person = given.kind == rules.PERSON
        if found is None and not person:
            result, message = "unknown_subject", "平台未登记该统一社会信用代码的主体，无名单记录"
        elif lists:
            names = "、".join(LIST_SHORT_ZH[k] for k in lists)
            result = "listed"
            message = (f"该主体在{names}中，本场景适用 {len(answer.codes)} 项措施" if answer.codes
                       else f"该主体在{names}中，但本场景没有适用的措施")
        else:
            result, message = "not_listed", "该主体不在红名单、黑名单或重点关注名单中，本场景无适用措施"
        body: dict[str, Any] = {
            "check_id": check_id,
            "checked_at": now.isoformat(),
            "day": day.isoformat(),
            "scenario": {"code": scenario.code, "name_zh": scenario.name_zh, "name_en": scenario.name_en},
            "subject": {"kind": given.kind, "display_id": given.display_id,
                        "display_name": None if person or found is None else found[1],
                        "registered": None if person else found is not None},
            "result": result,
            "message": message,
            "memberships": [{**m, "list_zh": LIST_SHORT_ZH.get(m["list"], m["list"])} for m in memberships],
            "measures": answer.measures,
            "feedback_url": f"/api/v1/checks/{check_id}/feedback" if answer.codes else None,
        }
        if scenario.shop_risk:
            shops = rules.visible_shop_risk(found.shops, actor.department_code or "") if found else []
            body["shop_risk"] = shops
            if shops:
                body["message"] = f"{message}；该经营者有 {len(shops)} 家网店处于信用风险预警（中及以上）"
        row = self.log_row(check_id, now, day, actor, scenario.code, given, found[0] if found else None, lists,
                           answer.codes)
        reads = [self.query_log_row(check_id, now, actor, scenario, found[0], lists)] if found and person else []
        self.log.submit([row], reads)
        return body

    @staticmethod
    def log_row(check_id: str, now: dt.datetime, day: dt.date, actor: audit.Actor, scenario: str,
                given: rules.GivenSubject, subject_id: int | None, lists: list[str], codes: list[str],
                batch_id: int | None = None, row_no: int | None = None) -> dict[str, Any]:
        return {"id": check_id, "at": now, "day": day, "department_code": actor.department_code or actor.label,
                "caller": actor.label[:128], "scenario": scenario, "subject_id": subject_id,
                "subject_kind": given.kind, "display_id": given.display_id, "found": subject_id is not None,
                "hit": bool(lists), "lists": lists, "measures": codes, "batch_id": batch_id, "row_no": row_no}

    @staticmethod
    def query_log_row(check_id: str, now: dt.datetime, actor: audit.Actor, scenario: Scenario, subject_id: int,
                      lists: list[str]) -> dict[str, Any]:
        """The person's query-log row: the scenario is the purpose (查询使用登记)."""
        department = actor.department_code or ""
        return {"at": now, "subject_id": subject_id, "reader_kind": "api_key" if actor.kind == "api_key" else "staff",
                "reader_name": (f"电商平台 {department[len(PLATFORM_PREFIX):]}" if is_platform(department)
                                else actor.name)[:200],
                "reader_department": None if is_platform(department) else department or None,
                "requester_uscc": department[len(PLATFORM_PREFIX):] if is_platform(department) else None,
                "purpose": f"联合奖惩核查：{scenario.name_zh}", "basis": CHECK_BASIS, "channel": "api",
                "detail": {"check_id": check_id, "scenario": scenario.code, "lists": lists}}

    def close(self) -> None:
        self.log.close()
        if self._owns_keys and self.keys is not None:
            self.keys.close()  # its keys' last uses (the platform's own cache is closed with the app)
        held = getattr(self._held, "conn", None)
        if held is not None:
            self._held.conn = None
            held.close()
        if self._reader is not None:
            self._reader.dispose()


# -- feedback ---------------------------------------------------------------------------------------------


def _caller_department(actor: audit.Actor) -> str:
    if not actor.department_code:
        raise PermissionDenied("check.department_required", "只有部门或平台的 API 密钥可以核查和反馈",
                               "Only a department's or a platform's API key may check and answer")
    return actor.department_code


def get_check(session: Session, check_id: str) -> CreditCheck | None:
    return session.get(CreditCheck, check_id) if rules.check_id_valid(check_id) else None


def get_batch_row(checker: Checker, batch_id: int) -> Any:
    from chengxin.checks.models import CheckBatch

    with checker.db.read() as session:
        return session.get(CheckBatch, batch_id)


def give_feedback(checker: Checker, actor: audit.Actor, check_id: str, body: dict[str, Any]) -> CheckFeedback:
    """The checking department's feedback on one of its checks (one per check)."""
    department = _caller_department(actor)
    with checker.db.read() as session:
        check = get_check(session, check_id)
    if check is None and rules.check_id_valid(check_id):
        checker.log.flush()  # answered a moment ago, not yet written by the log thread
        with checker.db.read() as session:
            check = get_check(session, check_id)
    if check is None:
        raise NotFound("check.not_found", f"核查记录 {check_id} 不存在", f"No check {check_id}")
    if check.department_code != department:
        raise PermissionDenied("check.other_department", "只能反馈本单位发起的核查", "You may only answer your own checks")
    feedback_in = rules.validate_feedback(body, check.measures)
    with checker.db.write() as session:
        if session.execute(select(CheckFeedback.id).where(CheckFeedback.check_id == check_id)).first():
            raise DomainError("feedback.exists", "该核查已反馈，不能重复反馈", "This check has feedback already",
                              status=409)
        feedback = CheckFeedback(check_id=check_id, at=utcnow(), department_code=department, caller=actor.label[:128],
                                 case_no=feedback_in.case_no, measures_applied=list(feedback_in.measures_applied),
                                 outcome=feedback_in.outcome, result=feedback_in.result, note=feedback_in.note)
        session.add(feedback)
        audit.write(session, actor=actor, action="check.feedback", subject_id=check.subject_id, object_type="credit_check",
                    object_id=check_id, detail={"case_no": feedback_in.case_no, "outcome": feedback_in.outcome,
                                                "measures": list(feedback_in.measures_applied)})
        session.flush()
    return feedback


# -- statistics ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsLine:
    department_code: str
    scenario: str
    checks: int
    hits: int  # checks that found a list membership in force
    with_measures: int  # checks that returned at least one measure (those expect feedback)
    feedback: int
    unanswered: int  # returned measures, no feedback, older than the due days
    applied_by_kind: dict[str, int]  # measures applied (from feedback), by measure kind
    outcomes: dict[str, int]


@dataclass(frozen=True)
class Stats:
    day: dt.date
    due_days: int
    cutoff: dt.date
    since: dt.date | None
    until: dt.date | None
    lines: list[StatsLine]

    @property
    def totals(self) -> StatsLine:
        def add(name: str) -> int:
            return sum(getattr(line, name) for line in self.lines)

        kinds: dict[str, int] = {k: sum(line.applied_by_kind.get(k, 0) for line in self.lines) for k in MEASURE_KINDS}
        outcomes = {o: sum(line.outcomes.get(o, 0) for line in self.lines) for o in OUTCOMES}
        return StatsLine("", "", add("checks"), add("hits"), add("with_measures"), add("feedback"), add("unanswered"),
                         kinds, outcomes)


def check_stats(session: Session, book: MeasureBook, today: dt.date, *, department: str | None = None,
                since: dt.date | None = None, until: dt.date | None = None) -> Stats:
    """联合奖惩成效统计: per department and scenario — checks, hits, feedback, unanswered checks (returned
    measures, no feedback, made more than N days ago: N is ``feedback_due_days`` of measures/data/parameters.yaml
    in force today), and the measures applied by kind."""
    due_days = parameter("feedback_due_days", today)
    cutoff = rules.unanswered_cutoff(today, due_days)
    c, f = CreditCheck, CheckFeedback
    with_measures = func.json_array_length(c.measures) if session.get_bind().dialect.name == "sqlite" \
        else func.jsonb_array_length(c.measures)
    conditions = []
    if department:
        conditions.append(c.department_code == department)
    if since:
        conditions.append(c.day >= since)
    if until:
        conditions.append(c.day <= until)
    stmt = (
        select(c.department_code, c.scenario, func.count(c.id),
               func.sum(case((c.hit, 1), else_=0)),
               func.sum(case((with_measures > 0, 1), else_=0)),
               func.count(f.id),
               func.sum(case((and_(with_measures > 0, f.id.is_(None), c.day < cutoff), 1), else_=0)))
        .select_from(c).outerjoin(f, f.check_id == c.id)
        .where(*conditions)
        .group_by(c.department_code, c.scenario)
        .order_by(c.department_code, c.scenario)
    )
    lines: dict[tuple[str, str], list[int]] = {}
    for dep, sc, n, hits, wm, fb, un in session.execute(stmt):
        lines[(dep, sc)] = [int(n), int(hits or 0), int(wm or 0), int(fb or 0), int(un or 0)]
    kinds: dict[tuple[str, str], dict[str, int]] = {}
    outcomes: dict[tuple[str, str], dict[str, int]] = {}
    fb_stmt = select(c.department_code, c.scenario, f.measures_applied, f.outcome).join(f, f.check_id == c.id) \
        .where(*conditions)
    for dep, sc, applied, outcome in session.execute(fb_stmt):
        per = kinds.setdefault((dep, sc), dict.fromkeys(MEASURE_KINDS, 0))
        for code in applied or []:
            measure: Measure | None = book.measure(code)
            if measure is not None:
                per[measure.kind] += 1
        out = outcomes.setdefault((dep, sc), dict.fromkeys(OUTCOMES, 0))
        out[outcome] = out.get(outcome, 0) + 1
    return Stats(today, due_days, cutoff, since, until, [
        StatsLine(dep, sc, values[0], values[1], values[2], values[3], values[4], kinds.get((dep, sc), dict.fromkeys(MEASURE_KINDS, 0)),
                  outcomes.get((dep, sc), dict.fromkeys(OUTCOMES, 0)))
        for (dep, sc), values in sorted(lines.items())])


def stats_scope(actor: audit.Actor, requested: str | None) -> str | None:
    """The credit office (and admins, the CLI) see every department; anyone else only their own."""
    if actor.kind == "cli" or (actor.kind == "staff" and actor.role in ("admin", "credit_office")):
        return requested or None
    if not actor.department_code:
        raise PermissionDenied("check.stats_forbidden", "无权查看核查统计", "You may not see check statistics")
    if requested and requested != actor.department_code:
        raise PermissionDenied("check.stats_other_department", "只能查看本单位的核查统计",
                               "You may only see your own department's statistics")
    return actor.department_code


def require_caller(actor: audit.Actor | None) -> audit.Actor:
    if actor is None:
        raise Unauthenticated("auth.required", "需要 API 密钥（Authorization: Bearer cx_…）",
                              "An API key is required (Authorization: Bearer cx_…)")
    return actor
