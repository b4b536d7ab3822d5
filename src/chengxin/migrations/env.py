"""Alembic environment: runs on the connection handed over by ``chengxin.core.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from chengxin.models import metadata
from chengxin.records.schema import include_object
from chengxin.search.schema import include_name

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER
        compare_type=True,
        include_name=include_name,  # type: ignore[arg-type]  # engine-specific search objects (migration 0004)
        include_object=include_object,  # the record → subject key: triggers on PostgreSQL (migration 0029)
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.begin() as conn:
        _run(conn)
