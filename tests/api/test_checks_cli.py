"""``chengxin checks batch`` end to end: a file with good and bad rows, the result file next to it."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from typer.testing import CliRunner

from chengxin.core.clock import today_cn
from chengxin.platform import Platform
from factories import listed_entry, uscc_for

DAY = today_cn()


def test_cli_batch_writes_the_result(platform: Platform, tmp_path: Path, monkeypatch: Any) -> None:
    import chengxin.platform
    from chengxin.cli.main import app

    monkeypatch.setattr(chengxin.platform, "open_platform", lambda: platform)
    listed_entry(platform, list_kind="black", uscc=uscc_for(61), term_from=DAY - dt.timedelta(days=1))
    source = tmp_path / "subjects.jsonl"
    source.write_text(f'{{"subject": "{uscc_for(61)}", "ref": "a"}}\n{{"subject": "bad", "ref": "b"}}\n',
                      encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["checks", "batch", str(source), "--scenario", "gov_procurement", "-d", "finance"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader((tmp_path / "subjects.核查结果.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[1][2] == "a" and "B-PROC-01" in rows[1][8]
    assert rows[2][2] == "b" and rows[2][10].startswith("uscc.")
    out = tmp_path / "r.xlsx"
    again = runner.invoke(app, ["checks", "batch", str(source), "-s", "gov_procurement", "-d", "finance", "-o", str(out)])
    assert again.exit_code == 0, again.output
    assert load_workbook(out).active.max_row == 3
    unknown = runner.invoke(app, ["checks", "batch", str(source), "-s", "gov_procurement", "-d", "nobody"])
    assert unknown.exit_code == 2
    bad_scenario = runner.invoke(app, ["checks", "batch", str(source), "-s", "nope", "-d", "finance"])
    assert bad_scenario.exit_code == 1 and "未知" in bad_scenario.output
