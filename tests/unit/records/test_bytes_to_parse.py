"""Which files get a reader process (``records.pipeline``): an xlsx workbook by the XML it unpacks to — a 10 MB
workbook is ~100 MB of XML, as slow to read as a 100 MB CSV file — any other file by its size."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from chengxin.records.pipeline import _bytes_to_parse


def test_a_workbook_counts_its_unpacked_xml(tmp_path: Path) -> None:
    path = tmp_path / "w.xlsx"
    wb = Workbook()
    for n in range(3000):
        wb.active.append([f"CZ-{n:08d}", "常州市某某有限公司", "2025-01-01", "警告"])
    wb.save(path)
    size = path.stat().st_size
    assert _bytes_to_parse(path, size) > 5 * size


def test_a_text_file_counts_its_size(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("来源编号,主体名称\nCZ-1,甲\n" * 1000, encoding="utf-8")
    assert _bytes_to_parse(path, path.stat().st_size) == path.stat().st_size


def test_a_damaged_workbook_counts_its_size(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 5000)
    assert _bytes_to_parse(path, 5004) == 5004
