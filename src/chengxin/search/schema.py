"""The parts of the search schema that no model declares (migrations 0004, 0008 and 0031).

PostgreSQL, since 0008: ``subject_name_gram (gram, subject_id)`` — the bigram index of
organisations' names — and ``subject_name_gram_count (gram, n)``, kept in sync by triggers on
``subject`` (with the SQL functions ``subject_name_fold`` / ``subject_name_grams``). SQLite had the
same until 0031; since, ``subject_name_fts`` — an FTS5 table holding the same grams as tokens
(``search.rules.name_tokens``), with shadow tables ``subject_name_fts_*`` — and the one-row
``subject_name_fts_upkeep`` (whether a bulk ingest is writing the grams itself), kept by triggers.
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
NAME_FTS_TABLE = "subject_name_fts"  # SQLite, since 0031
NAME_FTS_UPKEEP = "subject_name_fts_upkeep"  # SQLite, since 0031
FTS_TABLE = "subject_fts"  # before 0008
TRGM_INDEX = "ix_subject_name_trgm"  # before 0008


def include_name(name: str | None, type_: str, _parent_names: Mapping[str, str | None]) -> bool:
    """Alembic ``include_name`` hook: leave the objects above out of model/database comparison."""
    if type_ == "table" and name is not None and (
        name in (GRAM_TABLE, GRAM_COUNT_TABLE)
        or any(name == fts or name.startswith(fts + "_") for fts in (FTS_TABLE, NAME_FTS_TABLE))
    ):
        return False
    return not (type_ == "index" and name == TRGM_INDEX)
