"""The migrations build exactly the schema the models describe, on each engine."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chengxin.models import metadata
from chengxin.platform import Platform
from chengxin.records.schema import include_object
from chengxin.search.schema import include_name


def test_migrated_schema_matches_the_models(platform: Platform) -> None:
    with platform.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name,
                                                                  "include_object": include_object}), metadata)
    assert diff == []


def test_a_migrated_database_has_nothing_pending(platform: Platform, tmp_path: object) -> None:
    from chengxin.core.db import make_engine
    from chengxin.core.migrate import pending

    assert pending(platform.db.engine) is False
    empty = make_engine(f"sqlite:///{tmp_path}/empty.db")
    assert pending(empty) is True
