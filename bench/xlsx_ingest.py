"""Benchmark: reading and ingesting an xlsx workbook as Excel and WPS write them (texts in a shared-strings table).

    .venv/bin/python bench/xlsx_ingest.py [--rows 100000] [--engine sqlite]

The workbook: the first ``--rows`` penalties of the ingest benchmark's CSV file (bench/out), written by openpyxl —
the decision date as a date cell, the amounts as numbers, as a clerk's Excel holds them — and rewritten with shared
strings (openpyxl writes inline strings, which no office program does). Printed, each measured in this run:

* the shared-strings table alone: openpyxl's ``read_string_table`` (the baseline) against
  ``records.xlsx.shared_strings``;
* every row read: openpyxl's read-only ``iter_rows`` (``load_workbook``, the baseline) against
  ``records.xlsx.sheet_rows`` on ``records.xlsx.open_workbook`` (what the ingest reads), CPU s;
* the whole ingest (``records.pipeline.ingest_file``, as ``chengxin ingest`` runs it) into a fresh database: wall
  s, rows/s and the peak RSS of this process and of its reader process.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, fresh_database, key_dir, penalty_file  # noqa: E402


def _typed(row: list[str]) -> list[object]:
    """A data row as a clerk's Excel holds it: the decision date a date cell, the two amounts numbers."""
    cells: list[object] = list(row)
    if row[DATE_COLUMN]:
        cells[DATE_COLUMN] = dt.date.fromisoformat(row[DATE_COLUMN])
    for i in AMOUNT_COLUMNS:
        if row[i]:
            cells[i] = float(row[i])
    return cells


DATE_COLUMN = 4  # 决定日期
AMOUNT_COLUMNS = (13, 14)  # 罚款金额（元）, 没收违法所得…的金额（元）


def shared_strings_workbook(rows: int) -> Path:
    """The first ``rows`` penalties as an xlsx workbook with a shared-strings table, dates as date cells and amounts
    as numbers (made once, kept)."""
    path = OUT / f"penalties_{rows}_excel.xlsx"
    if path.exists():
        return path
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    with penalty_file(1_000_000).open(encoding="utf-8") as fh:
        lines = csv.reader(fh)
        ws.append(next(lines))
        for row in itertools.islice(lines, rows):
            ws.append(_typed(row))
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    index: dict[str, int] = {}

    def shared(match: re.Match[bytes]) -> bytes:
        n = index.setdefault(match.group(2).decode(), len(index))
        return b'<c r="' + match.group(1) + b'" t="s"><v>' + str(n).encode() + b"</v></c>"

    sheet = next(name for name in parts if name.startswith("xl/worksheets/sheet"))
    parts[sheet] = re.sub(rb'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t>(.*?)</t></is></c>', shared, parts[sheet])
    # Excel declares the sheet's size first (openpyxl's streaming writer does not; without it openpyxl's baseline
    # would parse the sheet twice).
    parts[sheet] = parts[sheet].replace(b"<sheetData", f'<dimension ref="A1:U{rows + 1}"/><sheetData'.encode(), 1)
    ns = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts["xl/sharedStrings.xml"] = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="' + ns + b'">'
                                     + b"".join(b"<si><t>" + text.encode() + b"</t></si>" for text in index)
                                     + b"</sst>")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>'))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _cpu(work: object) -> float:
    start = time.process_time()
    work()  # type: ignore[operator]
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--engine", default="sqlite")
    parser.add_argument("--make-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_only:
        shared_strings_workbook(args.rows)
        return
    # Made in a process of its own: Linux keeps a process's peak RSS across fork and exec, and the ingest's
    # process below would report this one's (the workbook is rewritten in memory).
    subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--make-only"], check=True)

    from openpyxl import load_workbook
    from openpyxl.reader.strings import read_string_table

    from chengxin.records.xlsx import open_workbook, shared_strings, sheet_rows

    path = shared_strings_workbook(args.rows)
    with zipfile.ZipFile(path) as z:
        xml = sum(i.file_size for i in z.infolist())
        strings = len(shared_strings(z.open("xl/sharedStrings.xml")))
    print(f"file: {path.name} ({path.stat().st_size / 1e6:.1f} MB, {xml / 1e6:.0f} MB of XML, {strings} shared strings)")

    def table(reader: object) -> object:
        with zipfile.ZipFile(path) as z, z.open("xl/sharedStrings.xml") as src:
            return reader(src)  # type: ignore[operator]

    base, ours = _cpu(lambda: table(read_string_table)), _cpu(lambda: table(shared_strings))
    print(f"shared strings table   openpyxl {base:6.2f} s CPU   ours {ours:6.2f} s   ratio {base / ours:4.1f}x")

    def openpyxl_rows() -> None:
        with path.open("rb") as fh:
            wb = load_workbook(fh, read_only=True, data_only=False, keep_links=False)
            wb.worksheets[0].reset_dimensions()
            for _ in wb.worksheets[0].iter_rows(values_only=False):
                pass
            wb.close()

    def our_rows() -> None:
        with path.open("rb") as fh:
            wb = open_workbook(fh)
            for _ in sheet_rows(wb.worksheets[0]):
                pass
            wb.close()

    base, ours = _cpu(openpyxl_rows), _cpu(our_rows)
    print(f"every row read         openpyxl {base:6.2f} s CPU   ours {ours:6.2f} s   ratio {base / ours:4.1f}x   "
          f"{args.rows / ours:,.0f} rows/s")

    # The ingest in a process of its own (bench/ingest_run.py), so its peak RSS is its own.
    url = fresh_database(args.engine, "xlsx")
    run = subprocess.run([sys.executable, str(Path(__file__).with_name("ingest_run.py")), "--db", url, "--keys",
                          str(key_dir()), "--file", str(path)], capture_output=True, text=True, check=True)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"ingest ({args.engine})        {result['accepted']:,} rows in {result['seconds']:.1f} s = "
          f"{result['accepted'] / result['seconds']:,.0f} rows/s; peak RSS {result['peak_rss_mb']:.0f} MB, reader "
          f"process {result['reader_rss_mb']:.0f} MB")

if __name__ == "__main__":
    main()
