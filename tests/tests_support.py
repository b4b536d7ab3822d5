"""Helpers shared by fixtures and tests."""

from __future__ import annotations

from sqlalchemy import text

from chengxin.core.db import Database
from chengxin.models import metadata


def empty_all_tables(db: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
