"""List use cases (名单): propose (by rule or by a department), notice and defence, publicity,
decision, withdrawal, removal and expiry. One use case, one transaction; every state change goes
through ``core.workflow`` (checked, written to ``case_event`` and the audit log) and through
``lists.status.entry_changed`` (the change feed and the subject's precomputed status), in the
same transaction.

Roles (``core.workflow``): the source department proposes (its clerks and API keys) and may
withdraw its own proposals; the credit office (信用办, admins) notices, publicises, decides, removes;
the subject states a defence (陈述申辩) from /me; the system proposes by rule and ends entries whose
term is over. Due process before a decision: black and watch lists need the notice and the end of
the defence period (浙江条例第二十八条); red-list candidates need their publicity period over
(河南条例第二十八条). The rules are in ``lists.rules``, the criteria in ``data/criteria.yaml``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, null, or_, select
from sqlalchemy.orm import Session

from chengxin.catalog.model import Catalog, ItemVersion
from chengxin.core import audit
from chengxin.core.clock import CHINA
from chengxin.core.crypto import KeyRing
from chengxin.core.errors import DomainError, NotFound, PermissionDenied
from chengxin.core.masking import mask_name
from chengxin.core.workflow import DEPARTMENT, OFFICE, SUBJECT, SYSTEM, ConsoleLine, case_history, record_transition
from chengxin.disclosure.rules import display_window, is_displayed
from chengxin.lists import rules
from chengxin.lists.criteria import Criteria, Criterion, NoNegative, RecordsCondition, load_criteria
from chengxin.lists.models import (
    BLACK,
    ENDED,
    LIST_KINDS,
    LISTED,
    NOTICED,
    OPEN_STATES,
    PROPOSED,
    PUBLICITY,
    ListChange,
    ListEntry,
)
from chengxin.lists.status import entry_changed
from chengxin.people import orgs
from chengxin.people.models import PersonAccount
from chengxin.records.models import Record, RecordVersion
from chengxin.scores.model import get_models
from chengxin.scores.models import ScoreCurrent
from chengxin.subjects.models import Subject
from chengxin.subjects.service import find_subject
from chengxin.workdays.rules import WorkCalendar
from chengxin.workdays.service import work_calendar

__all__ = [
    "EntryView", "HistoryLine", "RuleRun", "console_counts", "criteria_of", "decide", "entries_for_subjects",
    "entry_detail", "expire", "is_on_black_list", "propose", "propose_by_rules", "public_entries",
    "public_entry", "queue", "record_defence", "remove", "role_of", "send_notice", "start_publicity", "withdraw",
]

_CHUNK = 500
_MAX_TEXT = 2000


def criteria_of(catalog: Catalog) -> Criteria:
    return load_criteria(catalog)


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(CHINA).date()


# -- views --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    action: str
    label_zh: str
    to_state: str
    to_state_zh: str
    role: str
    actor: str
    at: dt.datetime
    reason: str | None


@dataclass(frozen=True)
class EntryView:
    """One entry as pages and the API show it (masked subject, labels in Chinese)."""

    id: int
    list_kind: str
    list_zh: str
    state: str
    state_zh: str
    subject_id: int
    subject_kind: str
    subject_name: str  # masked for persons
    subject_display_id: str  # masked for persons
    source: str
    criterion_code: str | None
    criteria_version: str | None
    criterion: Criterion | None
    department_code: str
    department_name_zh: str
    proposed_by: str
    proposed_at: dt.datetime
    record_ids: tuple[int, ...]
    reasons: tuple[dict[str, Any], ...]
    basis_zh: str
    notice_sent_on: dt.date | None
    defence_due_on: dt.date | None
    defence: str | None
    publicity_from: dt.date | None
    publicity_to: dt.date | None
    decision_no: str | None
    decided_on: dt.date | None
    decision_note: str | None
    term_from: dt.date | None
    term_to: dt.date | None
    ended_on: dt.date | None
    end_kind: str | None
    end_reason: str | None
    related_persons: tuple[dict[str, Any], ...]
    history: tuple[HistoryLine, ...] = ()
    actions: tuple[str, ...] = field(default=())

    @property
    def in_force(self) -> bool:
        return self.state == LISTED

    @property
    def reasons_zh(self) -> str:
        return "；".join(str(r.get("zh", "")) for r in self.reasons)


def _department_name(catalog: Catalog, code: str) -> str:
    d = catalog.departments.get(code)
    return d.name_zh if d is not None else code


def _history(session: Session, entry_id: int) -> tuple[HistoryLine, ...]:
    labels = {t.action: t.label_zh for t in rules.WORKFLOW.transitions}
    return tuple(HistoryLine(e.action, labels.get(e.action, e.action), e.to_state, rules.STATE_ZH.get(e.to_state, e.to_state),
                             e.role, e.actor, e.at, e.reason)
                 for e in case_history(session, rules.CASE_TYPE, entry_id))


def _views(session: Session, catalog: Catalog, entries: Sequence[ListEntry], *, history: bool = False,
           role: str | None = None) -> list[EntryView]:
    if not entries:
        return []
    criteria = criteria_of(catalog)
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_({e.subject_id for e in entries})))}
    out = []
    for e in entries:
        s = subjects[e.subject_id]
        out.append(EntryView(
            id=e.id, list_kind=e.list_kind, list_zh=rules.KIND_ZH.get(e.list_kind, e.list_kind), state=e.state,
            state_zh=rules.STATE_ZH.get(e.state, e.state), subject_id=e.subject_id, subject_kind=s.kind,
            subject_name=s.display_name, subject_display_id=s.display_id, source=e.source,
            criterion_code=e.criterion_code, criteria_version=e.criteria_version,
            criterion=criteria.version(e.criterion_code, e.criteria_version) if e.criterion_code else None,
            department_code=e.department_code, department_name_zh=_department_name(catalog, e.department_code),
            proposed_by=e.proposed_by, proposed_at=e.proposed_at, record_ids=tuple(e.record_ids or ()),
            reasons=tuple(e.reasons or ()), basis_zh=e.basis_zh, notice_sent_on=e.notice_sent_on,
            defence_due_on=e.defence_due_on, defence=e.defence, publicity_from=e.publicity_from,
            publicity_to=e.publicity_to, decision_no=e.decision_no, decided_on=e.decided_on,
            decision_note=e.decision_note, term_from=e.term_from, term_to=e.term_to, ended_on=e.ended_on,
            end_kind=e.end_kind, end_reason=e.end_reason, related_persons=tuple(e.related_persons or ()),
            history=_history(session, e.id) if history else (),
            actions=tuple(t.action for t in rules.actions_for(e.list_kind, e.state, role)) if role else ()))
    return out


def _payload(entry: ListEntry, **extra: Any) -> dict[str, Any]:
    """What the change feed carries (subscriptions deliver it): no personal identifier in clear."""
    return {"list": entry.list_kind, "state": entry.state, "criterion": entry.criterion_code,
            "department": entry.department_code, "decision_no": entry.decision_no,
            "term_from": entry.term_from.isoformat() if entry.term_from else None,
            "term_to": entry.term_to.isoformat() if entry.term_to else None, **extra}


# -- who acts ---------------------------------------------------------------------------------------


def _is_office(actor: audit.Actor) -> bool:
    return actor.kind == "staff" and actor.role in ("admin", "credit_office")


def role_of(actor: audit.Actor) -> str:
    """The workflow role of a caller: office (信用办, admins), department (clerk or API key), system."""
    if _is_office(actor):
        return OFFICE
    if actor.kind in ("staff", "api_key") and actor.department_code:
        return DEPARTMENT
    if actor.kind in ("system", "cli"):
        return SYSTEM
    raise PermissionDenied("lists.staff_only", "仅限数据提供单位和市信用办办理名单",
                           "Source departments and the credit office only")


def _entry(session: Session, entry_id: int, *, lock: bool = False) -> ListEntry:
    query = select(ListEntry).where(ListEntry.id == entry_id)
    entry = session.scalar(query.with_for_update() if lock else query)
    if entry is None:
        raise NotFound("lists.not_found", "名单条目不存在", "No such list entry")
    return entry


def _move(session: Session, entry: ListEntry, action: str, *, role: str, actor: audit.Actor, now: dt.datetime,
          reason: str | None = None, detail: dict[str, Any] | None = None, check: bool = True) -> None:
    """Check and record one transition, set the state, and keep the feed and status in step."""
    if check and not rules.kind_allows(entry.list_kind, action):
        label = next(t.label_zh for t in rules.WORKFLOW.transitions if t.action == action)
        raise DomainError("lists.not_for_this_list", f"{rules.KIND_ZH[entry.list_kind]}不适用“{label}”",
                          f"{action} does not apply to the {entry.list_kind} list", status=409)
    entry.state = record_transition(session, rules.WORKFLOW, case_id=entry.id, state=entry.state, action=action,
                                    role=role, actor=actor, now=now, reason=reason, subject_id=entry.subject_id,
                                    detail=detail)
    entry_changed(session, entry, entry.state, _payload(entry, action=action))


def _clean(text: str | None, name: str, *, required: bool = False, max_len: int = _MAX_TEXT) -> str | None:
    value = " ".join((text or "").split())
    if required and not value:
        raise DomainError(f"lists.{name}_required", f"请填写{_FIELD_ZH.get(name, name)}", f"{name} is required",
                          field=name)
    if len(value) > max_len:
        raise DomainError(f"lists.{name}_too_long", f"{_FIELD_ZH.get(name, name)}不能超过 {max_len} 字",
                          f"{name}: at most {max_len} characters", field=name)
    return value or None


_FIELD_ZH = {"reason": "理由", "decision_no": "决定文号", "defence": "陈述申辩内容", "note": "说明"}


# -- facts from the records (set-based) -----------------------------------------------------------------


def _item_version(catalog: Catalog, item_code: str, label: str, decision_date: dt.date) -> ItemVersion | None:
    item = catalog.items.get(item_code)
    if item is None:
        return None
    return next((v for v in item.versions if v.version == label), None) or item.version_on(decision_date)


def _fact(catalog: Catalog, row: Any, today: dt.date,
          versions: dict[tuple[str, str], ItemVersion | None] | None = None) -> rules.RecordFact:
    key = (row.item_code, row.item_version)
    if versions is not None and key in versions:
        version = versions[key]
    else:
        version = _item_version(catalog, row.item_code, row.item_version, row.decision_date)
        if versions is not None:
            versions[key] = version
    displayed = False
    if version is not None:
        try:
            _, ends_on = display_window(version, row.severity, row.decision_date)
        except (KeyError, ValueError):
            ends_on = row.decision_date  # no period for this severity: not displayed
        displayed = is_displayed(row.status, row.display_stopped_on, ends_on, today, row.display_from)
    return rules.RecordFact(row.id, row.item_code, row.category, row.severity, row.decision_date, displayed,
                            row.fields or {})


def _record_rows(session: Session, *, items: Iterable[str] | None = None, subject_ids: Sequence[int] | None = None,
                 negative_only: bool = False, with_fields: bool = True) -> Iterable[Any]:
    # The fields (JSON) are read only where a criterion filters on them: decoding them is most of the cost.
    fields = RecordVersion.fields if with_fields else null().label("fields")
    query = (select(Record.id, Record.subject_id, Record.item_code, Record.category, Record.severity,
                    Record.decision_date, Record.status, Record.display_stopped_on, Record.display_from,
                    RecordVersion.item_version, fields)
             .join(RecordVersion, RecordVersion.id == Record.version_id)
             .where(Record.status == "active"))
    if items is not None:
        query = query.where(Record.item_code.in_(sorted(items)))
    if negative_only:
        query = query.where(Record.category == "negative")
    if subject_ids is not None:
        query = query.where(Record.subject_id.in_(list(subject_ids)))
    return session.execute(query)


def _facts(session: Session, catalog: Catalog, subject_ids: Sequence[int], today: dt.date,
           ) -> dict[int, list[rules.RecordFact]]:
    """Every active record of these subjects, as facts (chunked IN lists)."""
    out: dict[int, list[rules.RecordFact]] = defaultdict(list)
    ids = list(subject_ids)
    for i in range(0, len(ids), _CHUNK):
        for row in _record_rows(session, subject_ids=ids[i:i + _CHUNK]):
            out[row.subject_id].append(_fact(catalog, row, today))
    return out


def _scores(session: Session, catalog: Catalog, subject_ids: Sequence[int]) -> dict[int, rules.ScoreFact]:
    """The stored scores (``score_current``) of these subjects, one query per call (the caller chunks),
    with the band names of the model that computed each."""
    models = get_models(catalog).by_id
    out: dict[int, rules.ScoreFact] = {}
    for row in session.execute(select(ScoreCurrent.subject_id, ScoreCurrent.model_id, ScoreCurrent.band,
                                      ScoreCurrent.as_of, ScoreCurrent.total)
                               .where(ScoreCurrent.subject_id.in_(list(subject_ids)))):
        model = models.get(row.model_id)
        band = next((b for b in model.bands if b.code == row.band), None) if model is not None else None
        out[row.subject_id] = rules.ScoreFact(row.model_id, row.band, row.as_of, row.total,
                                              band.name_zh if band else row.band, band.name_en if band else row.band)
    return out


# -- proposing by rule ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    subject_id: int
    subject_name: str
    list_kind: str
    criterion_code: str
    record_ids: tuple[int, ...]
    entry_id: int | None  # None in a dry run


@dataclass
class RuleRun:
    day: dt.date
    subjects_scanned: int = 0
    proposals: list[Proposal] = field(default_factory=list)
    skipped_open: int = 0  # an open entry of that list exists already
    skipped_seen: int = 0  # the same records were proposed before (rejected, withdrawn, ended …)


def propose_by_rules(session: Session, catalog: Catalog, *, now: dt.datetime, dry_run: bool = False,
                     actor: audit.Actor = audit.SYSTEM, limit: int | None = None,
                     progress: Callable[[int, int], None] | None = None) -> RuleRun:
    """Scan every subject's active, displayed records and stored score against the criteria in force
    today and propose an entry for each list a subject now qualifies for.

    Set-based: one query for the records of the criteria's items, one for the subjects whose stored
    band a ``score_band`` criterion names, one per chunk of candidates for their other records (red:
    "no negative record"), their stored scores and their existing entries — never a per-subject
    ORM loop. Scores are read as stored (``score_current``): the record path refreshes a subject's
    score when its records change, but decay and display ends move scores with time, so run
    ``chengxin scores recompute`` before this scan; a subject with no stored score meets no
    ``score_band`` condition. Idempotent: never a second open entry for the same subject and list, and the
    same records are not proposed again under the same criterion once an entry for them was closed (a
    criterion on the score alone cites no records: once its entry for a subject is closed — rejected,
    withdrawn, removed or expired — the scan does not propose that subject under it again).
    ``limit``: at most that many new proposals per list (a batch for the office's queue; the next
    run continues where this one stopped, since what was proposed is skipped).
    """
    today = _today(now)
    criteria = criteria_of(catalog)
    in_force = criteria.in_force(today)
    run = RuleRun(today)
    items = set().union(*(c.items for c in in_force)) if in_force else set()
    # Criteria on the score alone (no records condition): their candidates come from score_current.
    score_only = [c for c in in_force if c.bands and not c.items]
    if not items and not score_only:
        return run
    facts: dict[int, list[rules.RecordFact]] = defaultdict(list)
    versions: dict[tuple[str, str], ItemVersion | None] = {}
    field_items = {i for c in in_force for k in c.conditions if isinstance(k, RecordsCondition) and k.fields
                   for i in k.items}
    for chosen, with_fields in ((items & field_items, True), (items - field_items, False)):
        if chosen:
            for row in _record_rows(session, items=chosen, with_fields=with_fields):
                facts[row.subject_id].append(_fact(catalog, row, today, versions))
    # Red criteria need the candidates' negative records too (守信: no negative record in D days).
    needs_negatives = {i for c in in_force if any(isinstance(k, NoNegative) for k in c.conditions) for i in c.items}
    negative_for_set = {s for s, fs in facts.items() if any(f.item_code in needs_negatives for f in fs)}
    if score_only:
        # One query on ix_score_current_model_band (model, band): the models of the criteria's subject
        # kinds that have one of their bands; the rows stay small (subject ids only).
        bands = set().union(*(c.bands for c in score_only))
        score_kinds = set().union(*(c.subject_kinds for c in score_only))
        model_ids = sorted(m.id for m in get_models(catalog).by_id.values()
                           if str(m.subject_kind) in score_kinds and any(b.code in bands for b in m.bands))
        score_candidates = set(session.scalars(select(ScoreCurrent.subject_id).where(
            ScoreCurrent.model_id.in_(model_ids), ScoreCurrent.band.in_(sorted(bands)))))
        for subject_id in score_candidates:
            facts.setdefault(subject_id, [])
        if any(isinstance(k, NoNegative) for c in score_only for k in c.conditions):
            negative_for_set |= score_candidates
    negative_for = sorted(negative_for_set)
    for i in range(0, len(negative_for), _CHUNK):
        for row in _record_rows(session, subject_ids=negative_for[i:i + _CHUNK], negative_only=True,
                                with_fields=False):
            if row.item_code not in items:  # records of the criteria's items are in already
                facts[row.subject_id].append(_fact(catalog, row, today, versions))
    subject_ids = sorted(facts)
    run.subjects_scanned = len(subject_ids)
    per_kind: dict[str, int] = defaultdict(int)
    reads_scores = any(c.bands for c in in_force)
    done = 0
    for i in range(0, len(subject_ids), _CHUNK):
        chunk = subject_ids[i:i + _CHUNK]
        scores = _scores(session, catalog, chunk) if reads_scores else {}
        kinds = dict(session.execute(select(Subject.id, Subject.kind).where(Subject.id.in_(chunk))).all())
        names = dict(session.execute(select(Subject.id, Subject.display_name).where(Subject.id.in_(chunk))).all())
        open_: set[tuple[int, str]] = set()
        seen: set[tuple[int, str, frozenset[int]]] = set()
        for e in session.execute(select(ListEntry.subject_id, ListEntry.list_kind, ListEntry.state,
                                        ListEntry.criterion_code, ListEntry.record_ids)
                                 .where(ListEntry.subject_id.in_(chunk))):
            if e.state in OPEN_STATES:
                open_.add((e.subject_id, e.list_kind))
            if e.criterion_code:
                seen.add((e.subject_id, e.criterion_code, frozenset(e.record_ids or ())))
        for subject_id in chunk:
            for match in rules.match_all(in_force, kinds[subject_id], facts[subject_id], today,
                                         scores.get(subject_id)):
                c = match.criterion
                if limit is not None and per_kind[c.list_kind] >= limit:
                    continue
                if (subject_id, c.list_kind) in open_:
                    run.skipped_open += 1
                    continue
                if (subject_id, c.code, frozenset(match.record_ids)) in seen:
                    run.skipped_seen += 1
                    continue
                entry_id = None
                if not dry_run:
                    entry = _new_entry(session, subject_id=subject_id, list_kind=c.list_kind, source="rule",
                                       criterion=c, proposed_by=actor.label, department_code=c.authority,
                                       record_ids=list(match.record_ids),
                                       reasons=[r.as_dict() for r in match.reasons], actor=actor, role=SYSTEM,
                                       now=now)
                    entry_id = entry.id
                open_.add((subject_id, c.list_kind))
                per_kind[c.list_kind] += 1
                run.proposals.append(Proposal(subject_id, names.get(subject_id, ""), c.list_kind, c.code,
                                              match.record_ids, entry_id))
        done += len(chunk)
        if progress is not None:
            progress(done, len(subject_ids))
    if not dry_run:
        audit.write(session, actor=actor, action="lists.propose_by_rules", object_type="list_entry",
                    detail={"day": today.isoformat(), "scanned": run.subjects_scanned,
                            "proposed": len(run.proposals), "skipped_open": run.skipped_open,
                            "skipped_seen": run.skipped_seen})
    return run


def _new_entry(session: Session, *, subject_id: int, list_kind: str, source: str, criterion: Criterion,
               proposed_by: str, department_code: str, record_ids: list[int], reasons: list[dict[str, Any]],
               actor: audit.Actor, role: str, now: dt.datetime) -> ListEntry:
    entry = ListEntry(list_kind=list_kind, subject_id=subject_id, state=PROPOSED, source=source,
                      criterion_code=criterion.code, criteria_version=criterion.version, proposed_by=proposed_by,
                      department_code=department_code, proposed_at=now, record_ids=record_ids, reasons=reasons,
                      basis_zh=criterion.basis_zh, related_persons=[])
    session.add(entry)
    session.flush()
    entry.state = record_transition(session, rules.WORKFLOW, case_id=entry.id, state=None, action="propose",
                                    role=role, actor=actor, now=now, subject_id=subject_id,
                                    detail={"list": list_kind, "criterion": criterion.code,
                                            "version": criterion.version, "record_ids": record_ids})
    entry_changed(session, entry, PROPOSED, _payload(entry, action="propose", source=source))
    return entry


# -- proposing by a department --------------------------------------------------------------------------


def propose(session: Session, catalog: Catalog, keyring: KeyRing, *, actor: audit.Actor, list_kind: str,
            criterion_code: str, reason: str, record_ids: Sequence[int] = (), subject_id: int | None = None,
            ric: str | None = None, uscc: str | None = None, now: dt.datetime) -> EntryView:
    """A department (or the office) proposes a subject for a list under a published criterion,
    with its reasons and the records it relies on (records of that subject, active)."""
    today = _today(now)
    role = role_of(actor)
    if role not in (DEPARTMENT, OFFICE):
        raise PermissionDenied("lists.propose_staff_only", "只有数据提供单位和市信用办可以提出拟列入",
                               "Only source departments and the credit office may propose")
    if list_kind not in LIST_KINDS:
        raise DomainError("lists.unknown_kind", f"未知的名单类型“{list_kind}”（red、black、watch）",
                          f"Unknown list {list_kind!r}", field="list")
    criterion = criteria_of(catalog).on(criterion_code, today)
    if criterion is None:
        raise DomainError("lists.unknown_criterion", f"认定标准“{criterion_code}”不存在或今日不在有效期内",
                          f"No criterion {criterion_code!r} in force today", field="criterion")
    if criterion.list_kind != list_kind:
        raise DomainError("lists.criterion_list_mismatch",
                          f"认定标准“{criterion.name_zh}”适用于{rules.KIND_ZH[criterion.list_kind]}",
                          f"Criterion {criterion_code} feeds the {criterion.list_kind} list", field="criterion")
    text = _clean(reason, "reason", required=True)
    if subject_id is not None:
        subject = session.scalar(select(Subject).where(Subject.id == subject_id).with_for_update())
        if subject is None:
            raise NotFound("subject.not_found", "信用主体不存在", "No such subject")
    else:
        if not ric and not uscc:
            raise DomainError("lists.subject_required", "请提供统一社会信用代码或公民身份号码",
                              "Give the subject's uscc or ric", field="subject")
        try:
            found = find_subject(session, keyring, ric=ric or None, uscc=uscc or None)
        except DomainError as exc:  # name the field that is wrong (the identifier's own message)
            raise DomainError(exc.code, exc.message, exc.message_en, field="ric" if ric else "uscc",
                              status=exc.status) from exc
        subject = session.scalar(select(Subject).where(Subject.id == found.id).with_for_update())
        assert subject is not None
    if subject.kind not in criterion.subject_kinds:
        raise DomainError("lists.subject_kind", f"认定标准“{criterion.name_zh}”不适用于该类主体",
                          f"Criterion {criterion_code} does not apply to a {subject.kind}", field="subject")
    ids = sorted({int(i) for i in record_ids})
    if ids:
        owned = set(session.scalars(select(Record.id).where(Record.id.in_(ids), Record.subject_id == subject.id,
                                                           Record.status == "active")))
        if missing := [i for i in ids if i not in owned]:
            raise DomainError("lists.records_not_of_subject",
                              f"记录 {', '.join(map(str, missing))} 不是该主体的有效记录",
                              f"Records {missing} are not active records of this subject", field="record_ids")
    elif list_kind in (BLACK,):
        raise DomainError("lists.records_required", "拟列入严重失信主体名单须列明所依据的信用记录",
                          "A black-list proposal must cite the records it relies on", field="record_ids")
    open_id = session.scalar(select(ListEntry.id).where(ListEntry.subject_id == subject.id,
                                                        ListEntry.list_kind == list_kind,
                                                        ListEntry.state.in_(OPEN_STATES)).limit(1))
    if open_id is not None:
        raise DomainError("lists.already_open", f"该主体已有办理中或有效的{rules.KIND_ZH[list_kind]}条目（编号 {open_id}）",
                          f"The subject already has an open {list_kind} entry ({open_id})", status=409)
    department = actor.department_code if role == DEPARTMENT and actor.department_code else criterion.authority
    reasons = [{"code": "department", "zh": text, "en": "Stated by the proposing department"}]
    entry = _new_entry(session, subject_id=subject.id, list_kind=list_kind,
                       source="department" if role == DEPARTMENT else "office", criterion=criterion,
                       proposed_by=actor.label, department_code=department, record_ids=ids, reasons=reasons,
                       actor=actor, role=role, now=now)
    return _views(session, catalog, [entry], history=True, role=role)[0]


# -- due process ----------------------------------------------------------------------------------------


def send_notice(session: Session, catalog: Catalog, *, entry_id: int, actor: audit.Actor, now: dt.datetime,
                ) -> EntryView:
    """告知: tell the subject the reasons and basis; the defence period runs N working days."""
    today = _today(now)
    entry = _entry(session, entry_id, lock=True)
    role = role_of(actor)
    rules.WORKFLOW.check(entry.state, "notice", role)
    days = criteria_of(catalog).defence_working_days(today)
    due = rules.defence_due(work_calendar(session), today, days)
    entry.notice_sent_on, entry.defence_due_on = today, due.due
    _move(session, entry, "notice", role=role, actor=actor, now=now,
          detail={"defence_due_on": due.due.isoformat(), "working_days": days, "estimated": due.estimated})
    return _views(session, catalog, [entry], history=True, role=role)[0]


def record_defence(session: Session, catalog: Catalog, *, entry_id: int, text: str, actor: audit.Actor,
                   now: dt.datetime, account: PersonAccount | None = None) -> EntryView:
    """陈述申辩: the subject (``account``: the person or an organisation's representative) or the
    office on their behalf records the defence, while the entry is noticed."""
    entry = _entry(session, entry_id, lock=True)
    if account is not None:
        if not orgs.can_act_for(session, account, entry.subject_id):
            raise PermissionDenied("lists.not_your_entry", "只能对本人或所代表单位的名单告知陈述申辩",
                                   "You may answer only notices about yourself or an organisation you represent")
        role = SUBJECT
    else:
        role = role_of(actor)
    defence = _clean(text, "defence", required=True)
    rules.WORKFLOW.check(entry.state, "defence", role)
    entry.defence = defence if not entry.defence else f"{entry.defence}\n{defence}"
    _move(session, entry, "defence", role=role, actor=actor, now=now, detail={"chars": len(defence or "")})
    return _views(session, catalog, [entry], history=True, role=role)[0]


def start_publicity(session: Session, catalog: Catalog, *, entry_id: int, actor: audit.Actor, now: dt.datetime,
                    ) -> EntryView:
    """公示: display a red-list candidate for N days before confirmation (河南条例第二十八条)."""
    today = _today(now)
    entry = _entry(session, entry_id, lock=True)
    role = role_of(actor)
    if not rules.kind_allows(entry.list_kind, "publicity"):
        raise DomainError("lists.not_for_this_list", f"{rules.KIND_ZH[entry.list_kind]}不公示拟列入对象，应先告知",
                          "Only red-list candidates are displayed before confirmation", status=409)
    rules.WORKFLOW.check(entry.state, "publicity", role)
    days = criteria_of(catalog).red_publicity_days(today)
    entry.publicity_from, entry.publicity_to = rules.publicity_window(today, days)
    _move(session, entry, "publicity", role=role, actor=actor, now=now,
          detail={"publicity_from": today.isoformat(), "publicity_to": entry.publicity_to.isoformat()})
    return _views(session, catalog, [entry], history=True, role=role)[0]


# -- decisions ------------------------------------------------------------------------------------------


def _related_persons(session: Session, subject_id: int) -> list[dict[str, Any]]:
    """When an organisation is listed its legal representative is recorded too (上海条例第三十三条,
    山东第三十一条, 河南第三十五条, 浙江第二十七条): from its registration record (masked forms) and the
    representatives linked to it on the platform (person_org_link). Never an identifier in clear."""
    out: list[dict[str, Any]] = []
    row = session.execute(
        select(RecordVersion.fields).join(Record, Record.version_id == RecordVersion.id)
        .where(Record.subject_id == subject_id, Record.item_code == "org_registration", Record.status == "active")
        .order_by(Record.decision_date.desc()).limit(1)).first()
    if row is not None:
        fields = row.fields or {}
        name, ric = fields.get("legal_representative"), fields.get("legal_representative_ric")
        if name:
            person_id = None
            masked_id = ""
            if isinstance(ric, dict):
                masked_id = str(ric.get("masked") or "")
                index = ric.get("index")
                if isinstance(index, str):
                    try:
                        person_id = session.scalar(select(Subject.id).where(Subject.lookup_index == bytes.fromhex(index)))
                    except ValueError:
                        person_id = None
            out.append({"role": "法定代表人", "subject_id": person_id, "display_name": mask_name(str(name)),
                        "display_id": masked_id})
    for person in session.execute(
        select(Subject.id, Subject.display_name, Subject.display_id)
        .join(PersonAccount, PersonAccount.subject_id == Subject.id)
        .join(orgs.OrgLink, orgs.OrgLink.account_id == PersonAccount.id)
        .where(orgs.OrgLink.org_subject_id == subject_id, orgs.OrgLink.revoked_at.is_(None))
    ):
        if not any(p["subject_id"] == person.id for p in out):
            out.append({"role": "经授权的代表人", "subject_id": person.id, "display_name": person.display_name,
                        "display_id": person.display_id})
    return out


def decide(session: Session, catalog: Catalog, *, entry_id: int, action: str, actor: audit.Actor, now: dt.datetime,
           decision_no: str | None = None, term_from: dt.date | None = None, term_to: dt.date | None = None,
           reason: str | None = None, note: str | None = None) -> EntryView:
    """The office's decision: ``list`` (决定列入, with its number and term: the criterion's default
    or the dates given) or ``reject`` (不予列入, with a reason)."""
    if action not in ("list", "reject"):
        raise DomainError("lists.unknown_decision", "决定只能是列入（list）或不予列入（reject）",
                          "The decision must be list or reject", field="action")
    today = _today(now)
    entry = _entry(session, entry_id, lock=True)
    role = role_of(actor)
    reason = _clean(reason, "reason")
    rules.WORKFLOW.check(entry.state, action, role, reason)
    if action == "reject":
        entry.decided_on, entry.decided_by, entry.decision_note = today, actor.label, reason
        _move(session, entry, "reject", role=role, actor=actor, now=now, reason=reason)
        return _views(session, catalog, [entry], history=True, role=role)[0]
    block = rules.decision_block(entry.list_kind, state=entry.state, defence_due_on=entry.defence_due_on,
                                 defence=entry.defence, publicity_to=entry.publicity_to, today=today)
    if block is not None:
        raise DomainError(block.code, block.zh, block.en, status=409)
    number = _clean(decision_no, "decision_no", required=True, max_len=64)
    start = term_from or today
    criterion = criteria_of(catalog).version(entry.criterion_code or "", entry.criteria_version)
    end = term_to if term_to is not None else rules.term_end(start, criterion.term if criterion else None)
    if (bad := rules.validate_term(start, end)) is not None:
        raise DomainError(bad.code, bad.zh, bad.en, field="term_to")
    if end is not None and end < today:
        raise DomainError("lists.term_past", "有效期截止日已过，不能列入", "The term is already over", field="term_to")
    subject = session.get(Subject, entry.subject_id)
    assert subject is not None
    entry.decision_no, entry.decided_on, entry.decided_by = number, today, actor.label
    entry.decision_note = _clean(note, "note") or reason
    entry.term_from, entry.term_to = start, end
    if subject.kind == "organization":
        entry.related_persons = _related_persons(session, subject.id)
    _move(session, entry, "list", role=role, actor=actor, now=now, reason=reason,
          detail={"decision_no": number, "term_from": start.isoformat(), "term_to": end.isoformat() if end else None,
                  "related_persons": len(entry.related_persons or [])})
    return _views(session, catalog, [entry], history=True, role=role)[0]


def withdraw(session: Session, catalog: Catalog, *, entry_id: int, reason: str, actor: audit.Actor,
             now: dt.datetime) -> EntryView:
    """撤回: the proposing department (or the office) withdraws a proposal not yet decided."""
    entry = _entry(session, entry_id, lock=True)
    role = role_of(actor)
    if role == DEPARTMENT and actor.department_code != entry.department_code:
        raise PermissionDenied("lists.other_department", "只能撤回本单位提出的拟列入",
                               "Only the proposing department may withdraw")
    text = _clean(reason, "reason")
    rules.WORKFLOW.check(entry.state, "withdraw", role, text)
    entry.decided_on, entry.decided_by, entry.decision_note = _today(now), actor.label, text
    _move(session, entry, "withdraw", role=role, actor=actor, now=now, reason=text)
    return _views(session, catalog, [entry], history=True, role=role)[0]


def remove(session: Session, catalog: Catalog, *, entry_id: int, reason: str, actor: audit.Actor, now: dt.datetime,
           decision_no: str | None = None) -> EntryView:
    """移出: the office removes a listed entry by decision, with the reason (the subject is told)."""
    today = _today(now)
    entry = _entry(session, entry_id, lock=True)
    role = role_of(actor)
    text = _clean(reason, "reason")
    rules.WORKFLOW.check(entry.state, "remove", role, text)
    number = _clean(decision_no, "decision_no", max_len=64)
    entry.ended_on, entry.end_kind, entry.end_reason = today, "removed", text
    _move(session, entry, "remove", role=role, actor=actor, now=now, reason=text,
          detail={"removal_decision_no": number})
    return _views(session, catalog, [entry], history=True, role=role)[0]


def expire(session: Session, *, now: dt.datetime, progress: Callable[[int, int], None] | None = None) -> list[int]:
    """The job: end every listed entry whose term is over (its last day ``term_to`` < today).

    The entries are found with one indexed query; each then gets its transition, feed row and
    status refresh (``entry_changed``). The credit check never waits for this job: it reads the
    term itself (``status.current_memberships``)."""
    today = _today(now)
    ids = list(session.scalars(select(ListEntry.id).where(ListEntry.state == LISTED, ListEntry.term_to.is_not(None),
                                                          ListEntry.term_to < today).order_by(ListEntry.id)))
    for n, entry_id in enumerate(ids, start=1):
        entry = _entry(session, entry_id, lock=True)
        assert entry.term_to is not None
        entry.ended_on = entry.term_to + dt.timedelta(days=1)  # the first day no longer in force
        entry.end_kind, entry.end_reason = "expired", "有效期届满"
        _move(session, entry, "expire", role=SYSTEM, actor=audit.SYSTEM, now=now,
              detail={"term_to": entry.term_to.isoformat()})
        if progress is not None:
            progress(n, len(ids))
    return ids


# -- reading --------------------------------------------------------------------------------------------


def entry_detail(session: Session, catalog: Catalog, *, entry_id: int, actor: audit.Actor) -> EntryView:
    """One entry with its history, for staff. The read is audited (it names a subject)."""
    entry = _entry(session, entry_id)
    role = role_of(actor)
    if role == DEPARTMENT and actor.department_code != entry.department_code and entry.state != LISTED:
        raise PermissionDenied("lists.other_department", "只能查看本单位提出的拟列入条目",
                               "Departments see only their own proposals")
    audit.write(session, actor=actor, action="list_entry.read", subject_id=entry.subject_id,
                object_type="list_entry", object_id=entry.id, purpose="办理名单认定")
    return _views(session, catalog, [entry], history=True, role=role)[0]


def queue(session: Session, catalog: Catalog, *, actor: audit.Actor, state: str = "open", list_kind: str = "",
          limit: int = 200) -> list[EntryView]:
    """Entries for staff: the office sees the whole city, a department its own proposals."""
    role = role_of(actor)
    query = select(ListEntry)
    if role == DEPARTMENT:
        query = query.where(ListEntry.department_code == actor.department_code)
    if state == "open":
        query = query.where(ListEntry.state.in_((PROPOSED, NOTICED, PUBLICITY)))
    elif state != "all":
        if state not in rules.STATE_ZH:
            raise DomainError("lists.unknown_state", f"未知的状态“{state}”", f"Unknown state {state!r}", field="state")
        query = query.where(ListEntry.state == state)
    if list_kind:
        if list_kind not in LIST_KINDS:
            raise DomainError("lists.unknown_kind", f"未知的名单类型“{list_kind}”", f"Unknown list {list_kind!r}",
                              field="kind")
        query = query.where(ListEntry.list_kind == list_kind)
    entries = list(session.scalars(query.order_by(ListEntry.id.desc()).limit(limit)))
    if entries:
        audit.write(session, actor=actor, action="list_entry.queue", object_type="list_entry",
                    purpose="办理名单认定", detail={"state": state, "kind": list_kind, "count": len(entries)})
    return _views(session, catalog, entries, role=role)


@dataclass(frozen=True)
class PublicPage:
    entries: list[EntryView]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def public_entries(session: Session, catalog: Catalog, *, today: dt.date, list_kind: str = "", q: str = "",
                   page: int = 1, per_page: int = 20, publicity: bool = False) -> PublicPage:
    """Published entries (listed and in their term today) or, with ``publicity``, red-list
    candidates in their publicity window. Subjects in their masked display forms only."""
    if list_kind and list_kind not in LIST_KINDS:
        raise DomainError("lists.unknown_kind", f"未知的名单类型“{list_kind}”（red、black、watch）",
                          f"Unknown list {list_kind!r}", field="kind")
    if page < 1 or page > 10_000:
        raise DomainError("lists.page", "页码应在 1–10000 之间", "page must be 1..10000", field="page")
    q = " ".join((q or "").split())[:100]
    query = select(ListEntry).join(Subject, Subject.id == ListEntry.subject_id)
    if publicity:
        query = query.where(ListEntry.state == PUBLICITY, ListEntry.publicity_from <= today,
                            ListEntry.publicity_to >= today)
    else:
        query = query.where(ListEntry.state == LISTED, or_(ListEntry.term_from.is_(None), ListEntry.term_from <= today),
                            or_(ListEntry.term_to.is_(None), ListEntry.term_to >= today))
    if list_kind:
        query = query.where(ListEntry.list_kind == list_kind)
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Subject.display_name.like(like, escape="\\"), Subject.display_id.like(like, escape="\\")))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = list(session.scalars(query.order_by(ListEntry.decided_on.desc(), ListEntry.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page)))
    return PublicPage(_views(session, catalog, entries), total, page, per_page)


def public_entry(session: Session, catalog: Catalog, *, entry_id: int, today: dt.date) -> EntryView:
    """One published entry (listed, or a red candidate in publicity), else 404."""
    entry = session.get(ListEntry, entry_id)
    visible = entry is not None and (
        (entry.state == LISTED and rules.in_term(entry.term_from, entry.term_to, today))
        or (entry.state == PUBLICITY and entry.publicity_from is not None and entry.publicity_to is not None
            and entry.publicity_from <= today <= entry.publicity_to))
    if entry is None or not visible:
        raise NotFound("lists.not_published", "该名单条目不存在或未公开", "No such published entry")
    return _views(session, catalog, [entry])[0]


def entries_for_subjects(session: Session, catalog: Catalog, subject_ids: Sequence[int]) -> list[EntryView]:
    """Entries the subjects have been told about (notice, publicity, decision, removal), newest first."""
    if not subject_ids:
        return []
    entries = list(session.scalars(
        select(ListEntry).where(ListEntry.subject_id.in_(list(subject_ids)),
                                or_(ListEntry.notice_sent_on.is_not(None), ListEntry.publicity_from.is_not(None),
                                    ListEntry.state.in_((LISTED, ENDED))))
        .order_by(ListEntry.id.desc())))
    return _views(session, catalog, entries, history=True, role=SUBJECT)


def changes(session: Session, *, after: int = 0, limit: int = 100) -> list[ListChange]:
    return list(session.scalars(select(ListChange).where(ListChange.id > after).order_by(ListChange.id).limit(limit)))


def is_on_black_list(session: Session, subject_id: int, today: dt.date) -> bool:
    """Is the subject on the serious-dishonesty list today (a listed black entry in its term)?"""
    rows = session.execute(select(ListEntry.term_from, ListEntry.term_to).where(
        ListEntry.subject_id == subject_id, ListEntry.list_kind == BLACK, ListEntry.state == LISTED)).all()
    return any(rules.in_term(r.term_from, r.term_to, today) for r in rows)


# -- the staff console ---------------------------------------------------------------------------------


def console_counts(session: Session, calendar: WorkCalendar, today: dt.date,
                   department_code: str | None) -> list[ConsoleLine]:
    """办理台: entries awaiting the office (proposed, noticed, in publicity); "due soon" are those
    the office may decide now (defence or publicity period over), "overdue" none (no legal deadline)."""
    del calendar
    query = select(ListEntry.list_kind, ListEntry.state, ListEntry.defence_due_on, ListEntry.defence,
                   ListEntry.publicity_to).where(ListEntry.state.in_((PROPOSED, NOTICED, PUBLICITY)))
    if department_code is not None:
        query = query.where(ListEntry.department_code == department_code)
    rows = session.execute(query).all()
    ready = sum(1 for r in rows if r.state != PROPOSED and rules.decision_block(
        r.list_kind, state=r.state, defence_due_on=r.defence_due_on, defence=r.defence, publicity_to=r.publicity_to,
        today=today) is None)
    return [ConsoleLine(label_zh="名单认定（待办）", open=len(rows), due_soon=ready, overdue=0,
                        link="/office/lists" if department_code is None else "/office/lists")]

