"""What schema comparison leaves out for records (alembic autogenerate, tests/integration/test_migrations.py).

The models declare ``record.subject_id → subject.id`` as a foreign key: SQLite enforces it as one, and the
ORM joins by it. On PostgreSQL migration 0029 replaced the constraint by triggers that check each statement's
rows at once (a bulk ingest's ``COPY`` no longer locks a subject row per record), so the database has no
constraint of that name there, and comparison must not ask to add it back.
"""

from __future__ import annotations

from typing import Any

RECORD_SUBJECT_FK = "fk_record_subject_id_subject"


def include_object(_obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: skip the record → subject foreign key (checked by the behaviour
    tests of tests/integration/test_record_subject_integrity.py on both engines instead)."""
    return not (type_ == "foreign_key_constraint" and name == RECORD_SUBJECT_FK)
