"""SQLite's name index (migration 0031): an FTS5 table of each organisation's grams as tokens.

The triggers cut names into tokens in SQL, a bulk ingest in Python (``search.rules.name_tokens``: the grams of
``search.rules.name_grams`` and each folded character); both must give exactly the same — at the edges of the
folded ranges too — or a search would miss a name. The migration builds the index from the organisations already there, and its
downgrade gives 0008's bigram table back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from chengxin.core.db import make_engine
from chengxin.core.identifiers import make_uscc
from chengxin.core.migrate import alembic_config
from chengxin.platform import Platform
from chengxin.search.rules import name_grams, name_tokens
from chengxin.search.schema import GRAM_TABLE, NAME_FTS_TABLE, NAME_FTS_UPKEEP
from chengxin.search.service import BulkNameIndex, search_subjects
from tests_support import add_subjects, index_in_sync, org

pytestmark = pytest.mark.sqlite_only

# The characters around each range the fold changes (ASCII capitals, full-width forms, the ideographic space).
FOLD_EDGES = "@AZ[`az{" + "".join(chr(c) for c in (0xFF00, 0xFF01, 0xFF21, 0xFF3A, 0xFF41, 0xFF5E, 0xFF5F, 0x2FFF,
                                                     0x3000, 0x3001, 0xE000))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(st.sampled_from(FOLD_EDGES + "常州科技有限公司 ")
                              | st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24),
                      min_size=1, max_size=20),
       renamed=st.text(st.sampled_from(FOLD_EDGES + "华泰"), max_size=12))
def test_the_triggers_index_every_name_as_the_search_rules_cut_it(
    platform: Platform, names: list[str], renamed: str
) -> None:
    with platform.db.write() as session:
        session.execute(text("DELETE FROM subject"))
    add_subjects(platform, [org(n, name) for n, name in enumerate(names)])
    index_in_sync(platform)
    with platform.db.write() as session:  # a rename through the update trigger
        session.execute(text("UPDATE subject SET display_name = :name WHERE id = (SELECT min(id) FROM subject)"),
                        {"name": renamed})
    index_in_sync(platform)


def test_a_bulk_write_that_fails_leaves_the_triggers_on(platform: Platform) -> None:
    """The deferral lives in the bulk ingest's transaction: when it rolls back, so does the flag."""
    with pytest.raises(RuntimeError), platform.db.write() as session:
        names = BulkNameIndex(session)
        assert session.execute(text(f"SELECT deferred FROM {NAME_FTS_UPKEEP}")).scalar_one() == 1
        names.add([(1, "不会写入的有限公司")])
        raise RuntimeError("the batch fails")
    add_subjects(platform, [org(5, "常州回滚之后科技有限公司")])
    index_in_sync(platform)
    with platform.db.read() as session:
        assert [h.display_name for h in search_subjects(session, "回滚之后").results] == ["常州回滚之后科技有限公司"]


def test_one_character_finds_the_names_holding_it_wherever_it_stands(platform: Platform) -> None:
    """One character's token: first, middle and last characters, and no name without it."""
    add_subjects(platform, [org(1, "泰州物流"), org(2, "华泰证券"), org(3, "常州安泰"), org(4, "常州华恒")])
    with platform.db.read() as session:
        assert sorted(h.display_name for h in search_subjects(session, "泰").results) == ["华泰证券", "常州安泰", "泰州物流"]


# -- the migration ----------------------------------------------------------------------------------------

NAMES = ["常州华泰科技有限公司", "ＡＢＣ（常州）有限公司", "Changzhou Widget Co.", "华泰华泰", "",
         "合伙企业（有限合伙）", "A\u3000B"]


@pytest.fixture()
def at_0030(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    url = f"sqlite:///{tmp_path}/m.db"
    engine = make_engine(url)
    _migrate(engine, url, "0030")
    now = dt.datetime(2026, 11, 1).isoformat(sep=" ")
    with engine.begin() as conn:
        for n, name in enumerate(NAMES, start=1):
            conn.execute(text("INSERT INTO subject (id, kind, lookup_index, display_id, display_name, created_at) "
                              "VALUES (:id, :kind, :index, :uscc, :name, :now)"),
                         {"id": n, "kind": "organization", "index": bytes([n]) * 32,
                          "uscc": make_uscc("9", "1", "320400", f"{n:08d}"), "name": name, "now": now})
        conn.execute(text("INSERT INTO subject (id, kind, lookup_index, display_id, display_name, created_at) "
                          "VALUES (99, 'person', :index, '3204**********0011', '张*明', :now)"),
                     {"index": b"p" * 32, "now": now})
    yield engine, url
    engine.dispose()


def _migrate(engine: Engine, url: str, revision: str, *, down: bool = False) -> None:
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_the_migration_indexes_the_organisations_already_there_and_its_downgrade_gives_the_bigrams_back(
    at_0030: tuple[Engine, str],
) -> None:
    engine, url = at_0030
    want = {n: set(name_tokens(name).split()) for n, name in enumerate(NAMES, start=1)}
    _migrate(engine, url, "head")
    with engine.begin() as conn:
        rows = {int(i): set((tokens or "").lower().split())
                for i, tokens in conn.execute(text(f"SELECT rowid, grams FROM {NAME_FTS_TABLE}"))}
        conn.execute(text(f"INSERT INTO {NAME_FTS_TABLE} ({NAME_FTS_TABLE}, rank) VALUES ('integrity-check', 1)"))
        assert conn.execute(text(f"SELECT deferred FROM {NAME_FTS_UPKEEP}")).scalar_one() == 0
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert rows == want
    assert GRAM_TABLE not in tables
    _migrate(engine, url, "0030", down=True)
    with engine.begin() as conn:
        grams = {(g, int(i)) for g, i in conn.execute(text(f"SELECT gram, subject_id FROM {GRAM_TABLE}"))}
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert grams == {(g, n) for n, name in enumerate(NAMES, start=1) for g in name_grams(name)}
    assert NAME_FTS_TABLE not in tables and NAME_FTS_UPKEEP not in tables
