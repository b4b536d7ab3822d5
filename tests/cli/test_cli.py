"""The CLI end to end, on the test database: templates, ingest, verify, accounts, key rotation."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
from rich.console import Console
from sqlalchemy import select, text
from typer.testing import CliRunner

from chengxin.catalog.rules import template_columns
from chengxin.cli.main import app
from chengxin.core.crypto import KeyRing
from chengxin.platform import Platform
from chengxin.records.models import RecordVersion
from chengxin.subjects.models import Subject
from chengxin.subjects.service import decrypt_identity, find_subject
from factories import ric_for, valid_row


@pytest.fixture()
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands open the test platform (same database and keys)."""
    monkeypatch.setattr("chengxin.platform.open_platform", lambda *a, **k: platform)
    return CliRunner()


def _csv(platform: Platform, path: Path, rows: list[dict[str, object]]) -> Path:
    columns = template_columns(platform.catalog.item("admin_penalty").latest)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.label_zh for c in columns])
        for row in rows:
            writer.writerow(["" if row.get(c.code) is None else row[c.code] for c in columns])
    return path


def _version(platform: Platform):  # type: ignore[no-untyped-def]
    return platform.catalog.item("admin_penalty").version_on(dt.date(2025, 9, 1))


def test_template_has_the_chinese_headers_and_reads_back(cli: CliRunner, platform: Platform, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = cli.invoke(app, ["template", "admin_penalty", "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["数据"]
    headers = [c.value for c in sheet[1] if c.value]
    columns = template_columns(platform.catalog.item("admin_penalty").latest)
    assert [h.rstrip("*") for h in headers] == [c.label_zh for c in columns]
    assert cli.invoke(app, ["template", "no_such_item"]).exit_code == 2


def test_ingest_prints_the_receipt_and_a_second_run_changes_nothing(
    cli: CliRunner, platform: Platform, tmp_path: Path
) -> None:
    v = _version(platform)
    bad = valid_row(v, 3, decision_date="2025-13-01")
    path = _csv(platform, tmp_path / "p.csv", [valid_row(v, 1), valid_row(v, 2), bad])
    first = cli.invoke(app, ["ingest", str(path), "-d", "samr", "-i", "admin_penalty"])
    assert first.exit_code == 0, first.output
    assert "新增 2" in first.output and "拒绝 1" in first.output and "field.not_date" in first.output
    assert "3 行" in first.output and "kB" in first.output, first.output  # the bar: rows read, size in units
    second = cli.invoke(app, ["ingest", str(path), "-d", "samr", "-i", "admin_penalty"])
    assert "新增 0" in second.output and "未变 2" in second.output


def test_the_rejected_rows_of_a_batch_to_a_csv(cli: CliRunner, platform: Platform, tmp_path: Path) -> None:
    v = _version(platform)
    rows = [valid_row(v, 1), valid_row(v, 2, decision_date="2025-13-01"), valid_row(v, 3, decision_date="")]
    ingested = cli.invoke(app, ["ingest", str(_csv(platform, tmp_path / "p.csv", rows)), "-d", "samr",
                                "-i", "admin_penalty"])
    batch = int(re.search(r"批次 batch (\d+)", ingested.output).group(1))  # type: ignore[union-attr]
    out = tmp_path / "拒绝清单.csv"
    result = cli.invoke(app, ["records", "rejections", str(batch), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r[0], r[2], r[3], r[5]) for r in table[1:]] == [
        ("3", "decision_date", "决定日期", "field.not_date"), ("4", "decision_date", "决定日期", "field.required")]
    assert out.read_bytes().startswith("\ufeff".encode())  # Excel opens it as UTF-8
    missing = cli.invoke(app, ["records", "rejections", "999999", "-o", str(tmp_path / "x.csv")])
    assert missing.exit_code == 2 and "批次不存在" in missing.output


def test_quality_gives_the_commonest_reasons_in_words(cli: CliRunner, platform: Platform, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # A table wide enough for whole reasons: the CLI's console took its width when it was made (an xdist worker
    # sets COLUMNS=80 before that), so the runner's COLUMNS would not reach it.
    monkeypatch.setattr("chengxin.cli.main.console", Console(width=400))
    v = _version(platform)
    rows = [valid_row(v, 1), *(valid_row(v, n, decision_date="2025-13-01") for n in (2, 3)),
            valid_row(v, 4, decision_date="")]
    cli.invoke(app, ["ingest", str(_csv(platform, tmp_path / "p.csv", rows)), "-d", "samr", "-i", "admin_penalty"])
    result = cli.invoke(app, ["quality", "-d", "samr", "-i", "admin_penalty"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "×" in line][1:]  # below the header
    assert "决定日期" in lines[0] and "2025-13-01" in lines[0] and "× 2" in lines[0]  # the commonest first
    assert "决定日期" in lines[1] and "× 1" in lines[1]
    assert "field.not_date" not in result.output  # words, not codes
    assert cli.invoke(app, ["quality", "-d", "tax"]).output.count("×") == 1  # the header only


def test_ingest_refuses_a_file_it_cannot_read_with_a_clear_message(
    cli: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("来源编号,主体名称（姓名）\nA-1,甲公司\n", encoding="utf-8")
    result = cli.invoke(app, ["ingest", str(path), "-d", "samr", "-i", "admin_penalty"])
    assert result.exit_code == 2 and "file.missing_columns" in result.output
    unknown = cli.invoke(app, ["ingest", str(path), "-d", "samr", "-i", "no_such_item"])
    assert unknown.exit_code == 2 and "item.unknown" in unknown.output and "归集" not in unknown.output


def test_verify_passes_then_names_a_tampered_row(cli: CliRunner, platform: Platform, tmp_path: Path) -> None:
    v = _version(platform)
    cli.invoke(app, ["ingest", str(_csv(platform, tmp_path / "p.csv", [valid_row(v, n) for n in range(1, 4)])),
                     "-d", "samr", "-i", "admin_penalty"])
    ok = cli.invoke(app, ["verify"])
    assert ok.exit_code == 0 and "账本完整" in ok.output
    assert "3/3" in ok.output and "100%" in ok.output, ok.output  # the bar ends at the ledger's length
    with platform.db.engine.begin() as conn:
        conn.execute(text("UPDATE record_version SET source_id = 'FORGED' WHERE id = 2"))
    bad = cli.invoke(app, ["verify"])
    assert bad.exit_code == 1 and "altered" in bad.output and "record_version" in bad.output


def test_revoke_from_the_cli(cli: CliRunner, platform: Platform, tmp_path: Path) -> None:
    v = _version(platform)
    cli.invoke(app, ["ingest", str(_csv(platform, tmp_path / "p.csv", [valid_row(v, 1)])), "-d", "samr",
                     "-i", "admin_penalty"])
    result = cli.invoke(app, ["records", "revoke", "-d", "samr", "-s", "SRC-0000001", "-r", "复议撤销"])
    assert result.exit_code == 0, result.output
    with platform.db.read() as s:
        assert [v.change for v in s.execute(select(RecordVersion).order_by(RecordVersion.id)).scalars()] == [
            "create", "revoke"]
    assert cli.invoke(app, ["records", "revoke", "-d", "samr", "-s", "NOPE", "-r", "x"]).exit_code == 2


def test_users_and_api_keys(cli: CliRunner) -> None:
    made = cli.invoke(app, ["users", "create", "wang", "--role", "clerk", "--department", "samr",
                            "--password", "a-long-password"])
    assert made.exit_code == 0, made.output
    assert cli.invoke(app, ["users", "create", "li", "--role", "boss", "--password", "a-long-password"]).exit_code == 2
    assert cli.invoke(app, ["users", "create", "li", "--role", "clerk", "--password", "short"]).exit_code == 2
    issued = cli.invoke(app, ["api-keys", "create", "-d", "samr", "--label", "系统对接"])
    key = issued.output.strip().splitlines()[-1]
    assert key.startswith("cx_")
    key_id = key.split("_")[1]
    listed = cli.invoke(app, ["api-keys", "list"])
    assert key_id in listed.output and key not in listed.output  # the secret is never shown again
    assert cli.invoke(app, ["api-keys", "revoke", key_id]).exit_code == 0
    assert "已吊销" in cli.invoke(app, ["api-keys", "list"]).output


def test_key_rotation_reencrypts_every_person_and_lookups_still_work(
    cli: CliRunner, platform: Platform, tmp_path: Path
) -> None:
    v = _version(platform)
    rows = [valid_row(v, n, person=True, subject_name=f"李{n}华") for n in range(1, 6)]
    cli.invoke(app, ["ingest", str(_csv(platform, tmp_path / "p.csv", rows)), "-d", "samr", "-i", "admin_penalty"])
    with platform.db.read() as s:
        before = {x.id: x.id_cipher for x in s.execute(select(Subject)).scalars()}
    old_version = platform.keyring.data_version
    result = cli.invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "5/?" in result.output and "%" not in result.output, result.output  # no percentage of an unknown end
    assert platform.keyring.data_version == old_version + 1
    fresh = KeyRing(platform.keyring.key_dir)  # what the next process sees
    assert fresh.data_version == old_version + 1
    with platform.db.read() as s:
        subjects = s.execute(select(Subject)).scalars().all()
        assert {x.key_version for x in subjects} == {old_version + 1}
        assert all(before[x.id] != x.id_cipher for x in subjects)
        assert sorted(decrypt_identity(fresh, x)[1] for x in subjects) == sorted(r["subject_name"] for r in rows)
        assert find_subject(s, fresh, ric=ric_for(3)).display_name == "李*华"
    assert cli.invoke(app, ["verify"]).exit_code == 0


def test_demo_persons_are_real_name_checkable_identities(cli: CliRunner) -> None:
    from chengxin.core.identifiers import is_valid_ric

    result = cli.invoke(app, ["demo", "persons", "-n", "3"])
    assert result.exit_code == 0, result.output
    rics = [w for w in result.output.split() if len(w) == 18 and w[:17].isdigit()]
    assert len(rics) == 3 and all(is_valid_ric(r) for r in rics)


def test_a_database_not_yet_migrated_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    """The installed ``chengxin`` command (a real process) against a database nobody has migrated yet."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CHENGXIN_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
           "CHENGXIN_KEY_DIR": str(tmp_path / "keys"), "COLUMNS": "200"}
    command = str(Path(sys.executable).parent / "chengxin")
    before = subprocess.run([command, "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert before.returncode == 2, before.stdout + before.stderr
    assert "chengxin migrate" in before.stderr and "db.not_migrated" in before.stderr
    assert "Traceback" not in before.stdout + before.stderr
    assert subprocess.run([command, "migrate"], env=env, capture_output=True, timeout=120).returncode == 0
    after = subprocess.run([command, "verify"], env=env, capture_output=True, text=True, timeout=120)
    assert after.returncode == 0 and "账本完整" in after.stdout, after.stdout + after.stderr


def test_a_setting_that_cannot_be_read_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    """The installed ``chengxin`` command (a real process) with two wrong variables: both named, exit code 2."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "CHENGXIN_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
           "CHENGXIN_KEY_DIR": str(tmp_path / "keys"), "COLUMNS": "200",
           "CHENGXIN_SERVE_WORKERS": "-1", "CHENGXIN_TRUSTED_PROXIES": "nginx"}
    command = str(Path(sys.executable).parent / "chengxin")
    for args in (["serve", "--port", "1"], ["migrate"]):
        answer = subprocess.run([command, *args], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert answer.returncode == 2, answer.stdout + answer.stderr
        assert "settings.invalid" in answer.stderr and "CHENGXIN_SERVE_WORKERS 应不小于 0" in answer.stderr
        assert "CHENGXIN_TRUSTED_PROXIES 中的“nginx”不是 IP 地址或网段" in answer.stderr
        assert "Traceback" not in answer.stdout + answer.stderr
    assert not (tmp_path / "fresh.db").exists()  # refused before anything was made
