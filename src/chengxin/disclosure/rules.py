"""Pure rules of disclosure: display windows (公示期限), whether a record is displayed today, and
who may see it. No database, no web, no clock: ``today`` is always passed in.

The numbers come from the catalog (each item version's ``display_periods``), never from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from chengxin.catalog.model import ItemVersion, Severity, Sharing, SubjectKind
from chengxin.catalog.rules import add_duration
from chengxin.disclosure.model import Audience

__all__ = ["ACTIVE", "HELD_UNTIL_NOTICE", "REVOKED", "department_allowed", "display_window", "is_displayed", "visible_to"]

ACTIVE, REVOKED = "active", "revoked"

_REQUESTER_SHARING = frozenset({Sharing.PUBLIC.value, Sharing.AUTHORIZED.value})
_GOVERNMENT_SHARING = frozenset({Sharing.PUBLIC.value, Sharing.AUTHORIZED.value, Sharing.GOVERNMENT.value})


def display_window(
    version: ItemVersion, severity: Severity | str | None, decision_date: dt.date
) -> tuple[dt.date, dt.date | None]:
    """公示期限 of one record: ``(repair_from, ends_on)``; ``ends_on`` None means displayed long-term.

    ``repair_from`` is the first day repair may be applied for (the minimum display period has
    passed); ``ends_on`` is the first day the record is no longer displayed.

    Counted from the **decision date**. The 2023+ rules (NDRC Order 58, 国办发〔2025〕22号;
    ``extra.period_starts_on: publication_date`` in the catalog) count from the date of
    publication (公示之日); the platform does not collect a publication date yet, so it uses the
    decision date — never later than publication, so a record is never shown for longer than the
    rule allows. Switch to the publication date here once records carry one.
    """
    key = Severity(severity) if severity is not None else None
    period = version.display_periods.get(key)
    if period is None and key is not None:
        period = version.display_periods.get(None)
    if period is None:
        raise KeyError(f"{version.item_code} {version.version} has no display period for {severity!r}")
    repair_from = add_duration(decision_date, period.min) if period.min is not None else decision_date
    ends_on = add_duration(decision_date, period.max) if period.max is not None else None
    return repair_from, ends_on


# ``record.display_from`` of a record of a notice-required item that no credit notice covers yet:
# held, never shown, until a notice is issued and its period passes (issue #4 §4; notices.hold).
HELD_UNTIL_NOTICE = dt.date(9999, 12, 31)


def is_displayed(status: str, display_stopped_on: dt.date | None, ends_on: dt.date | None, today: dt.date,
                 display_from: dt.date | None = None) -> bool:
    """Is the record publicly displayed ``today``?

    Revoked: never. Held after a credit notice (信用告知): not before ``display_from``. Display
    stopped (e.g. after repair): not from that day on. Otherwise while ``today < ends_on`` — the day
    before ``ends_on`` is the last day shown; no ``ends_on``: long-term.
    """
    if status == REVOKED:
        return False
    if display_from is not None and today < display_from:
        return False
    if display_stopped_on is not None and today >= display_stopped_on:
        return False
    return ends_on is None or today < ends_on


def visible_to(
    audience: Audience,
    *,
    sharing: str,
    category: str,
    subject_kind: str,
    public_for_persons: bool,
    displayed: bool,
    consent_categories: Collection[str] | None = None,
    department_allowed: bool = False,
) -> bool:
    """May ``audience`` see a record with these properties?

    - public: displayed, ``sharing == public``, and for persons only items public for persons;
    - self: everything held (revoked and expired included — shown with their status);
    - requester: displayed, sharing public or authorized, of a category the consent covers
      (``consent_categories`` None: no valid consent, nothing);
    - government: displayed, sharing public, authorized or government, and only when the
      department is allowed this item (``department_allowed``, decided from the catalog).
    """
    if audience is Audience.SELF:
        return True
    if not displayed:
        return False
    if audience is Audience.PUBLIC:
        if sharing != Sharing.PUBLIC.value:
            return False
        return subject_kind != SubjectKind.PERSON.value or public_for_persons
    if audience is Audience.REQUESTER:
        return consent_categories is not None and category in consent_categories and sharing in _REQUESTER_SHARING
    if audience is Audience.GOVERNMENT:
        return department_allowed and sharing in _GOVERNMENT_SHARING
    return False  # pragma: no cover - every audience is handled above


def department_allowed(department: str | None, *, shared_with: Collection[str] | None, sources: Collection[str]) -> bool:
    """May a department read an item under government sharing (政务共享)?

    ``department`` None is the platform's own staff (credit office, administrators): allowed.
    ``shared_with`` is the item version's ``extra.shared_with`` list of department codes — absent
    means shared with every department; a source department always reads its own item.
    """
    if department is None or shared_with is None:
        return True
    return department in shared_with or department in sources
