"""The engine-specific parts of the search schema (migration 0004) that no model declares.

SQLite: ``subject_fts`` — an FTS5 table with the ``trigram`` tokenizer over organisations' names
(rowid = ``subject.id``), kept in sync by triggers on ``subject``; FTS5 adds shadow tables
``subject_fts_*``. PostgreSQL: the partial GIN trigram index ``ix_subject_name_trgm``.
Schema comparison (``alembic`` autogenerate, tests/integration/test_migrations.py) skips these.
"""

from __future__ import annotations

from collections.abc import Mapping

FTS_TABLE = "subject_fts"
TRGM_INDEX = "ix_subject_name_trgm"


def include_name(name: str | None, type_: str, _parent_names: Mapping[str, str | None]) -> bool:
    """Alembic ``include_name`` hook: leave the objects above out of model/database comparison."""
    if type_ == "table" and name is not None and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    return not (type_ == "index" and name == TRGM_INDEX)
