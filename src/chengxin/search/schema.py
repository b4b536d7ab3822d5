"""The parts of the search schema that no model declares (migrations 0004 and 0008).

Since 0008, on both engines: ``subject_name_gram (gram, subject_id)`` — the bigram index of
organisations' names — and ``subject_name_gram_count (gram, n)``, kept in sync by triggers on
``subject`` (PostgreSQL: with the SQL functions ``subject_name_fold`` / ``subject_name_grams``).
They hold data derived from ``subject`` only, and their triggers are engine-specific, so they live in
the migration rather than in ``chengxin.models`` (whose tables ``tests_support.empty_all_tables``
empties one by one: the triggers empty these with ``subject``).

Until 0008 (dropped there, rebuilt by its downgrade): SQLite ``subject_fts`` — an FTS5 trigram
table with shadow tables ``subject_fts_*`` — and PostgreSQL's GIN trigram index ``ix_subject_name_trgm``.
Schema comparison (``alembic`` autogenerate, tests/integration/test_migrations.py) skips all of these.
"""

from __future__ import annotations

from collections.abc import Mapping

GRAM_TABLE = "subject_name_gram"
GRAM_COUNT_TABLE = "subject_name_gram_count"
FTS_TABLE = "subject_fts"  # before 0008
TRGM_INDEX = "ix_subject_name_trgm"  # before 0008


def include_name(name: str | None, type_: str, _parent_names: Mapping[str, str | None]) -> bool:
    """Alembic ``include_name`` hook: leave the objects above out of model/database comparison."""
    if type_ == "table" and name is not None and (
        name in (GRAM_TABLE, GRAM_COUNT_TABLE) or name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    ):
        return False
    return not (type_ == "index" and name == TRGM_INDEX)
