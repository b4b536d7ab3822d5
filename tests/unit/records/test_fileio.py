"""Tests of chengxin.records.fileio: reading uploads as row streams, and writing templates."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import tempfile
import tracemalloc
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from chengxin.catalog.model import Column, EnumOption, FieldType
from chengxin.records.fileio import (
    HEAD_BYTES,
    FileRejected,
    RowSource,
    SourceRow,
    open_rows,
    write_csv_template,
    write_template,
)

KIND_OPTIONS = (
    EnumOption("warning", "警告", "Warning"),
    EnumOption("fine", "罚款", "Fine"),
    EnumOption("confiscation", "没收违法所得", "Confiscation"),
)

COLUMNS: tuple[Column, ...] = (
    Column("subject_name", "行政相对人名称", "Subject name", True, FieldType.STRING),
    Column("ric", "公民身份号码", "Citizen ID", False, FieldType.RIC, help_zh="18 位，末位可为 X"),
    Column("uscc", "统一社会信用代码", "USCC", False, FieldType.USCC),
    Column("decision_date", "处罚决定日期", "Decision date", True, FieldType.DATE),
    Column("amount", "罚没金额（万元）", "Amount (10k yuan)", False, FieldType.DECIMAL),
    Column("kind", "处罚类别", "Penalty kind", True, FieldType.ENUM, options=KIND_OPTIONS),
    Column("note", "备注", "Note", False, FieldType.TEXT),
)
CODES = [c.code for c in COLUMNS]
LABELS = [c.label_zh for c in COLUMNS]


def read_all(path: Path, columns: Sequence[Column] = COLUMNS, **kw: Any) -> tuple[RowSource, list[SourceRow]]:
    with open_rows(path, columns, **kw) as source:
        rows = list(source)
    return source, rows


def rejected(path: Path, columns: Sequence[Column] = COLUMNS, **kw: Any) -> FileRejected:
    """Open and fully iterate, expecting FileRejected (and nothing else) somewhere on the way."""
    with pytest.raises(FileRejected) as info:
        with open_rows(path, columns, **kw) as source:
            for _ in source:
                pass
    return info.value


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


DATA = [
    ["张三", "110101199003077777", "", "2024-03-15", "1.5", "罚款", "首次"],
    ["某某食品有限公司", "", "91320402MA1XXXXX0Q", "2024-03-16", "", "警告", ""],
]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")


# --------------------------------------------------------------------------------------------
# CSV: encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_chinese_headers_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "a.csv", [LABELS, *DATA], encoding=encoding)
    source, rows = read_all(path)
    assert source.format == "csv"
    assert source.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    assert [r.row_no for r in rows] == [2, 3]
    assert rows[0].values == dict(zip(CODES, DATA[0], strict=True))
    assert rows[1].values["subject_name"] == "某某食品有限公司"
    assert all(r.problems == [] for r in rows)
    assert source.warnings == []
    assert source.header_map == dict(zip(LABELS, CODES, strict=True))
    assert source.bytes_read == source.bytes_total == path.stat().st_size


def test_gbk_whose_first_non_ascii_byte_is_after_the_sniffed_head(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    filler = ["ASCII Co", "", "91320402MA1XXXXX0Q", "2024-01-01", "1", "fine", "x" * 40]
    n_ascii = HEAD_BYTES // 60 + 500  # comfortably more than 64 KiB of pure ASCII
    write_csv(path, [CODES, *[filler] * n_ascii, DATA[0]], encoding="gbk")
    assert path.read_bytes()[:HEAD_BYTES].isascii()
    source, rows = read_all(path)
    assert source.encoding == "gb18030"
    assert len(rows) == n_ascii + 1
    assert rows[-1].row_no == n_ascii + 2
    assert rows[-1].values["subject_name"] == "张三"
    assert rows[-1].values["kind"] == "罚款"


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_utf8_character_cut_at_the_sniff_boundary(tmp_path: Path, shift: int) -> None:
    # The header (ASCII codes) is followed by Chinese text; the sniffed window is the 64 KiB from
    # the first non-ASCII byte. Across the three shifts, 3-byte characters fall on the window's
    # end in every alignment — two of them cut a character in half, which must not count.
    header = (",".join(CODES) + "\n").encode()
    first = "甲" + "x" * shift + "甲" * (HEAD_BYTES // 3 + 10)
    body = f"{first},,,2024-01-01,,警告,\n乙公司,,,2024-01-02,,罚款,\n".encode()
    path = tmp_path / "cut.csv"
    path.write_bytes(header + body)
    source, rows = read_all(path)
    assert source.encoding == "utf-8"
    assert [r.values["subject_name"] for r in rows] == [first, "乙公司"]


def test_later_chunk_in_another_encoding_is_rejected_with_a_line_number(tmp_path: Path) -> None:
    lines = [",".join(LABELS)] + [f"张三{i},,,2024-01-01,,警告," for i in range(20_000)]
    path = tmp_path / "mixed.csv"
    good = ("\n".join(lines) + "\n").encode("utf-8")
    bad = "李四,,,2024-01-01,,罚款,\n".encode("gbk")
    path.write_bytes(good + bad + "王五,,,2024-01-01,,警告,\n".encode())
    seen: list[int] = []
    with pytest.raises(FileRejected) as info, open_rows(path, COLUMNS) as source:
        for row in source:
            seen.append(row.row_no)
    assert info.value.code == "file.encoding"
    assert "第 20002 行" in info.value.message
    assert seen and seen[-1] <= 20_001


def test_utf16_excel_unicode_text_export(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u16.txt", [LABELS, *DATA], encoding="utf-16", delimiter="\t")
    source, rows = read_all(path)
    assert source.delimiter == "\t"
    assert rows[0].values["subject_name"] == "张三"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("delimiter", ["\t", ","])
def test_utf16_without_its_bom_reads_as_utf16(tmp_path: Path, codec: str, delimiter: str) -> None:
    """Some export tools and scripts write UTF-16 without the BOM Excel puts first: read by where its NUL bytes
    are, not refused as binary. Chinese-heavy rows too (few ASCII characters, CJK characters whose low byte is
    NUL: 一 is U+4E00)."""
    rows = [LABELS, *DATA, ["一丁七万丈三上下不与丐丑专且丕世丘丙业丛东丝丞", "", "", "2024-03-17", "", "罚款", "一" * 40]]
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    path = tmp_path / "u16.txt"
    path.write_bytes(text.encode(codec))
    source, read = read_all(path)
    assert source.delimiter == delimiter
    assert [r.values["subject_name"] for r in read] == ["张三", "某某食品有限公司", rows[3][0]]
    assert read[2].values["note"] == "一" * 40


@given(st.binary(min_size=64, max_size=4096))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_binary_with_nul_bytes_is_not_taken_for_utf16(tmp_path: Path, data: bytes) -> None:
    """Bytes that are not UTF-16 text (NUL bytes on both sides of the pairs, or control characters once decoded)
    are still refused, never read as rows."""
    from chengxin.records.fileio import _bomless_utf16

    blob = b"\x00\x01\x00\x00" + data  # NUL on both sides of the first pairs; a control character either way
    assert _bomless_utf16(blob, True) is None
    path = tmp_path / "b.csv"
    path.write_bytes(blob)
    assert rejected(path).code in {"file.binary", "file.encoding", "file.unknown_format", "file.no_header"}


def test_undecodable_text_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name,kind\n" + bytes(range(0x80, 0x100)) * 10)
    assert rejected(path).code == "file.encoding"


# --------------------------------------------------------------------------------------------
# CSV: delimiters, cells, rows


@pytest.mark.parametrize("delimiter", ["\t", ";", ","])
def test_delimiter_sniffed_from_the_header_line(tmp_path: Path, delimiter: str) -> None:
    data = [["张三", "", "", "2024-03-15", "1,5", "罚款", "a;b\tc"]]
    path = write_csv(tmp_path / "d.csv", [LABELS, *data], delimiter=delimiter)
    source, rows = read_all(path)
    assert source.delimiter == delimiter
    assert rows[0].values["amount"] == "1,5"
    assert rows[0].values["note"] == "a;b\tc"


def test_cells_are_stripped_and_one_excel_apostrophe_removed(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "s.csv",
        [LABELS, ["  张三 ", " '110101199003077777", "''x", " 2024-03-15", "", "罚款 ", "'"]],
    )
    _, rows = read_all(path)
    values = rows[0].values
    assert values["subject_name"] == "张三"
    assert values["ric"] == "110101199003077777"
    assert values["uscc"] == "'x"
    assert values["note"] == ""


def test_blank_rows_are_skipped_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text(
        ",".join(LABELS) + "\n" + "甲,,,2024-01-01,,警告,\n\n,,,,,,\n  , ,\t,,,,\n乙,,,2024-01-02,,罚款,\n\n",
        encoding="utf-8",
    )
    _, rows = read_all(path)
    assert [(r.row_no, r.values["subject_name"]) for r in rows] == [(2, "甲"), (6, "乙")]


def test_row_numbers_are_excel_rows_when_a_cell_has_a_line_break(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "m.csv",
        [
            LABELS,
            ["甲", "", "", "2024-01-01", "", "警告", "第一行\n第二行"],
            ["乙", "", "", "2024-01-02", "", "罚款", ""],
        ],
    )
    _, rows = read_all(path)
    assert [r.row_no for r in rows] == [2, 3]
    assert rows[0].values["note"] == "第一行\n第二行"


def test_extra_cells_are_a_row_problem_but_trailing_empty_ones_are_not(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        ",".join(LABELS) + ",,\n"
        "甲,,,2024-01-01,1,警告,,,\n"
        "乙,,,2024-01-02,1,000,罚款,首次\n"  # an unquoted comma in the amount shifted the cells
        "丙,,,2024-01-03\n",  # short rows are padded with ""
        encoding="utf-8",
    )
    _, rows = read_all(path)
    assert rows[0].problems == []
    assert [p.code for p in rows[1].problems] == ["row.extra_cells"]
    assert rows[1].values["kind"] == "000"
    assert rows[2].values["kind"] == "" and rows[2].problems == []


def test_short_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("序号,行政相对人名称,处罚决定日期,处罚类别,经办人\n1,甲,2024-01-01,警告,王\n", encoding="utf-8")
    source, rows = read_all(path)
    assert [w.code for w in source.warnings] == ["file.unknown_columns"]
    assert "序号" in source.warnings[0].message and "经办人" in source.warnings[0].message
    assert rows[0].values == {"subject_name": "甲", "decision_date": "2024-01-01", "kind": "警告"}


def test_header_only_gives_no_rows_and_a_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [LABELS])
    source, rows = read_all(path)
    assert rows == []
    assert [w.code for w in source.warnings] == ["file.no_rows"]


def test_oversized_field_is_a_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        ",".join(LABELS) + "\n" + '甲,,,2024-01-01,,警告,"' + "长" * 200_000 + '"\n乙,,,2024-01-02,,罚款,\n',
        encoding="utf-8",
    )
    _, rows = read_all(path)
    assert rows[0].problems[0].code == "row.bad_csv"
    assert rows[-1].values["subject_name"] == "乙"


# --------------------------------------------------------------------------------------------
# header matching


def test_header_variants_match(tmp_path: Path) -> None:
    header = [
        "\ufeff 行政相对人名称＊",  # BOM, space, full-width asterisk
        "CITIZEN ID",  # English label, other case
        "uscc",  # code
        "处罚决定日期*",
        "罚没金额(万元)",  # half-width parentheses
        "处罚类别（必填）",
        "Note",
    ]
    path = write_csv(tmp_path / "v.csv", [header, DATA[0]])
    source, rows = read_all(path)
    assert list(source.header_map.values()) == CODES
    assert rows[0].values == dict(zip(CODES, DATA[0], strict=True))


def test_header_by_english_code(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [CODES, DATA[0]])
    source, rows = read_all(path)
    assert source.header_map == {c: c for c in CODES}
    assert rows[0].values["kind"] == "罚款"


def test_missing_required_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [["行政相对人名称", "备注"], ["甲", ""]])
    err = rejected(path)
    assert err.code == "file.missing_columns"
    assert "处罚决定日期" in err.message and "处罚类别" in err.message
    assert "行政相对人名称" not in err.message.split("：")[1].split("。")[0]


def test_duplicate_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [[*LABELS, "subject_name"], [*DATA[0], "乙"]])
    err = rejected(path)
    assert err.code == "file.duplicate_columns"
    assert "行政相对人名称" in err.message


def test_blank_header_cell_between_named_ones(tmp_path: Path) -> None:
    header = [LABELS[0], "", *LABELS[1:]]
    err = rejected(write_csv(tmp_path / "e.csv", [header, ["甲"]]))
    assert err.code == "file.empty_header_cell"
    assert "B" in err.message and "合并单元格" in err.message


def test_title_row_then_header_in_row_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["某某市市场监督管理局行政处罚信息（2024 年 3 月）", "", ""], LABELS, *DATA])
    source, rows = read_all(path)
    assert source.header_row == 2
    assert [r.row_no for r in rows] == [3, 4]


def test_no_header_at_all(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "n.csv", [["a", "b"], ["1", "2"], ["3", "4"]])
    assert rejected(path).code == "file.no_header"


@pytest.mark.parametrize("above", [
    ["", "", ""],  # blank rows
    ["某某市市场监督管理局行政处罚信息", "填报单位：某某市市场监督管理局,填报日期：2024-03-31", ""],  # title, filler
    ["标题"] * 9,  # as many as may stand above it
])
def test_the_header_is_the_first_row_naming_a_column(tmp_path: Path, above: list[str]) -> None:
    path = tmp_path / "bl.csv"
    path.write_text("".join(line + "\n" for line in above) + ",".join(LABELS) + "\n" + ",".join(DATA[0]) + "\n",
                    encoding="utf-8")
    source, rows = read_all(path)
    assert source.header_row == len(above) + 1
    assert [r.row_no for r in rows] == [len(above) + 2] and rows[0].values["subject_name"] == "张三"


def test_a_header_below_the_first_ten_rows_is_not_looked_for(tmp_path: Path) -> None:
    path = tmp_path / "deep.csv"
    path.write_text("标题\n" * 10 + ",".join(LABELS) + "\n" + ",".join(DATA[0]) + "\n", encoding="utf-8")
    err = rejected(path)
    assert err.code == "file.no_header" and "前 10 行" in err.message


# --------------------------------------------------------------------------------------------
# whole-file rejections


@pytest.mark.parametrize(
    "content",
    [b"", b"   \r\n\r\n\t ", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n\n", b",,,\n,,\n"],
    ids=["zero-bytes", "whitespace", "bom-only", "bom-and-newlines", "only-commas"],
)
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    assert rejected(path).code == "file.empty"


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(os.urandom(2 * 1024 * 1024))
    err = rejected(path)
    assert err.code in {
        "file.binary",
        "file.encoding",
        "file.bad_xlsx",
        "file.unknown_format",
        "file.no_header",
    }


def test_random_bytes_without_nul(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(os.urandom(2 * 1024 * 1024).replace(b"\x00", b"\x01"))
    assert rejected(path).code in {"file.encoding", "file.unknown_format", "file.bad_xlsx"}


def test_fifty_megabytes_of_garbage_is_rejected_from_the_head(tmp_path: Path) -> None:
    path = tmp_path / "g.bin"
    path.write_bytes(os.urandom(1024 * 1024) * 50)
    # Rejected by open_rows itself, from the sniffed head: the 50 MB are never streamed.
    with pytest.raises(FileRejected) as info:
        open_rows(path, COLUMNS, filename="upload.xlsx")
    assert info.value.code in {"file.binary", "file.encoding", "file.bad_xlsx", "file.unknown_format"}


def test_garbage_behind_a_zip_signature(tmp_path: Path) -> None:
    path = tmp_path / "z.xlsx"
    path.write_bytes(b"PK\x03\x04" + os.urandom(100_000))
    assert rejected(path).code == "file.bad_xlsx"


def test_too_large_is_checked_before_reading(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", [LABELS, *DATA])
    err = rejected(path, max_bytes=10)
    assert err.code == "file.too_large"
    assert err.status == 413


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.xls"),
        (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "fake.xls"),
        (b'[{"subject_name": "x"}]', "a.json"),
        (b"%PDF-1.7\n...", "scan.pdf"),
    ],
)
def test_foreign_formats(tmp_path: Path, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    err = rejected(path)
    assert err.code == "file.unknown_format"


def test_nul_in_text_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_bytes(",".join(LABELS).encode() + b"\n\x00\x00\x00\n")
    assert rejected(path).code == "file.binary"


def test_extension_is_only_a_hint(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "upload.bin", [LABELS, *DATA])
    source, rows = read_all(path, filename="数据.xlsx")
    assert source.format == "csv" and len(rows) == 2
    assert [w.code for w in source.warnings] == ["file.extension_mismatch"]


def test_csv_starting_with_the_letters_pk_is_not_a_zip(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "pk.csv", [["PK", *LABELS], ["1", *DATA[0]]])
    source, rows = read_all(path)
    assert source.format == "csv" and rows[0].values["subject_name"] == "张三"


def test_jsonl_named_file_with_csv_content_is_bad_json(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.jsonl", [LABELS, *DATA])
    assert rejected(path).code == "file.bad_json"


# --------------------------------------------------------------------------------------------
# xlsx


def make_xlsx(path: Path, rows: Sequence[Sequence[object]], *, title: str = "Sheet") -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return wb


def test_xlsx_basic_and_typed_values(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    when = datetime(2024, 3, 15)
    make_xlsx(path, [LABELS, ["张三 ", "'110101199003077777", None, when, 1.5, "罚款", None], [], DATA[1]])
    source, rows = read_all(path)
    assert source.format == "xlsx" and source.sheet_name == "Sheet"
    assert [r.row_no for r in rows] == [2, 4]
    first = rows[0].values
    assert first["subject_name"] == "张三"
    assert first["ric"] == "110101199003077777"
    assert first["decision_date"] == when
    assert first["amount"] == 1.5
    assert first["uscc"] is None and first["note"] is None
    assert rows[1].values["uscc"] == "91320402MA1XXXXX0Q"
    assert source.bytes_read == source.bytes_total


def test_xlsx_formula_cell_is_a_row_problem(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    make_xlsx(path, [LABELS, ["张三", None, None, "2024-03-15", "=B2*3", "罚款", "ok"]])
    _, rows = read_all(path)
    (row,) = rows
    assert [p.code for p in row.problems] == ["file.formula_cell"]
    problem = row.problems[0]
    assert problem.message == "“罚没金额（万元）”列是公式（=B2*3），请复制后“选择性粘贴为数值”再上传"
    assert problem.field == "amount"
    assert row.values["amount"] is None
    assert row.values["subject_name"] == "张三" and row.values["note"] == "ok"


def test_xlsx_error_cell(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(LABELS)
    ws.append(["张三", None, None, "2024-03-15", None, "罚款"])
    ws["E2"].value = "#N/A"
    ws["E2"].data_type = "e"
    wb.save(path)
    _, rows = read_all(path)
    assert [p.code for p in rows[0].problems] == ["file.error_cell"]


def test_xlsx_merged_header_cells(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["行政相对人名称", None, *LABELS[1:]])
    ws.merge_cells("A1:B1")
    ws.append(["张三", "", None, None, "2024-03-15", None, "罚款"])
    wb.save(path)
    err = rejected(path)
    assert err.code == "file.empty_header_cell"
    assert "第 B 列" in err.message and "合并单元格" in err.message


def test_xlsx_merged_title_row(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["某某市行政处罚信息汇总表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LABELS))
    ws.append([f"{label}*" if col.required else label for label, col in zip(LABELS, COLUMNS, strict=True)])
    ws.append(DATA[0])
    wb.save(path)
    source, rows = read_all(path)
    assert source.header_row == 2
    assert rows[0].row_no == 3 and rows[0].values["subject_name"] == "张三"


def test_xlsx_serial_date_number_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    make_xlsx(path, [LABELS, ["张三", None, None, 45366, None, "罚款"]])
    _, rows = read_all(path)
    assert rows[0].values["decision_date"] == 45366
    assert rows[0].problems == []


def test_xlsx_id_stored_as_number(tmp_path: Path) -> None:
    path = tmp_path / "n.xlsx"
    make_xlsx(
        path,
        [LABELS, ["张三", 3.20402199001011234e17, 12345, "2024-03-15", 2, "罚款", 7.0]],
    )
    _, rows = read_all(path)
    (row,) = rows
    ric = row.values["ric"]
    assert isinstance(ric, str) and ric.isdigit() and len(ric) == 18 and not ric.endswith(".0")
    assert [p.code for p in row.problems] == ["file.number_precision"]
    assert row.problems[0].field == "ric"
    assert "公民身份号码被 Excel 存为数字，已丢失精度" in row.problems[0].message
    # the digits Excel kept are a person's ID number but for the last three: never quoted in clear
    assert f"读到的是 {ric[:6]}{'*' * 12}）" in row.problems[0].message
    assert ric[6:15] not in row.problems[0].message + row.problems[0].message_en
    assert row.values["uscc"] == "12345"  # integral numbers in text columns become digits
    assert row.values["note"] == "7"
    assert row.values["amount"] == 2  # numeric columns keep numbers


def test_xlsx_prefers_the_data_sheet_and_skips_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    wb = Workbook()
    first = wb.active
    first.title = "封面"
    first["A1"] = "封面"
    ws = wb.create_sheet("数据")
    ws.append(LABELS)
    ws.append(DATA[0])
    ws["A5"] = "李四"
    ws["D5"] = "2024-01-01"
    ws["F5"] = "警告"
    ws["C4"] = "   "  # whitespace only: a blank row
    wb.save(path)
    source, rows = read_all(path)
    assert source.sheet_name == "数据"
    assert [r.row_no for r in rows] == [2, 5]


def test_xlsx_with_no_header_on_its_first_sheet_is_read_from_the_next(tmp_path: Path) -> None:
    path = tmp_path / "second.xlsx"
    wb = Workbook()
    notes = wb.active
    notes.title = "填报说明"
    notes["A1"] = "请在第二个工作表填写"
    ws = wb.create_sheet("Sheet2")
    ws.append(["某某局行政处罚信息报送表"])
    ws.append([])
    ws.append(LABELS)
    ws.append(DATA[0])
    wb.save(path)
    source, rows = read_all(path)
    assert source.sheet_name == "Sheet2" and source.header_row == 3
    assert [r.row_no for r in rows] == [4] and rows[0].values["subject_name"] == "张三"
    (warning,) = [w for w in source.warnings if w.code == "file.other_sheet"]
    assert "“填报说明”中没有表头，已读取工作表“Sheet2”" in warning.message


def test_xlsx_with_no_header_on_any_sheet_names_them(tmp_path: Path) -> None:
    path = tmp_path / "none.xlsx"
    wb = Workbook()
    wb.active.title = "封面"
    wb.active["A1"] = "封面"
    wb.create_sheet("Sheet2")["B2"] = "随便"
    wb.save(path)
    err = rejected(path)
    assert err.code == "file.no_header"
    assert "工作表“封面”“Sheet2”的前 10 行中都没有" in err.message and "'Sheet2'" in err.message_en


def test_xlsx_header_fault_on_the_first_sheet_is_not_passed_over(tmp_path: Path) -> None:
    """A sheet with a header is the one the clerk filled in: its fault is reported, not another sheet read."""
    path = tmp_path / "dup.xlsx"
    wb = Workbook()
    wb.active.append([*LABELS, LABELS[0]])
    wb.create_sheet("Sheet2").append(LABELS)
    wb.save(path)
    assert rejected(path).code == "file.duplicate_columns"


def test_xlsx_skips_a_hidden_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    wb = Workbook()
    hidden = wb.active
    hidden.title = "lists"
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("Sheet1")
    ws.append(LABELS)
    ws.append(DATA[0])
    wb.active = 1
    wb.save(path)
    source, rows = read_all(path)
    assert source.sheet_name == "Sheet1" and len(rows) == 1


def test_truncated_xlsx(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    make_xlsx(good, [LABELS, *DATA * 50])
    data = good.read_bytes()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(data[: len(data) // 2])
    assert rejected(bad).code == "file.bad_xlsx"


def test_xlsx_with_corrupt_sheet_data(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append(LABELS)
    for i in range(5000):
        ws.append([f"公司{i}", None, f"9132{i:014d}", "2024-03-15", i, "罚款", os.urandom(8).hex()])
    wb.save(good)
    with zipfile.ZipFile(good) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))
    data = bytearray(good.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    data[middle : middle + 64] = os.urandom(64)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bytes(data))
    assert rejected(bad).code == "file.bad_xlsx"


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert rejected(path).code == "file.bad_xlsx"


@needs_proc
def test_xlsx_file_handle_is_released(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    make_xlsx(path, [LABELS, *DATA * 10])
    before = open_fds()
    with open_rows(path, COLUMNS) as source:
        next(source)
        assert open_fds() > before
    assert open_fds() == before
    source, _ = read_all(path)  # exhausted without an explicit close
    assert open_fds() == before
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(path.read_bytes()[:2000])
    rejected(bad)
    assert open_fds() == before


@needs_proc
def test_csv_file_handle_is_released_on_rejection(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [["x"], ["1"]])
    before = open_fds()
    rejected(path)
    assert open_fds() == before


# --------------------------------------------------------------------------------------------
# JSONL


def jsonl(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def obj(**kw: object) -> str:
    return json.dumps(kw, ensure_ascii=False)


def test_jsonl_with_a_broken_line_in_the_middle(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "a.jsonl",
        [
            obj(subject_name="甲", decision_date="2024-01-01", kind="warning", amount=1.5),
            "",
            '{"subject_name": "乙", "decision_date": ',
            obj(subject_name="丙", decision_date="2024-01-03", kind="fine"),
            "[1, 2]",
            json.dumps({"行政相对人名称": "丁", "处罚类别": "警告", "foo": 1}, ensure_ascii=False),
        ],
    )
    source, rows = read_all(path)
    assert source.format == "jsonl"
    assert [r.row_no for r in rows] == [1, 3, 4, 5, 6]
    assert rows[0].values == {
        "subject_name": "甲",
        "decision_date": "2024-01-01",
        "kind": "warning",
        "amount": 1.5,
    }
    assert [p.code for p in rows[1].problems] == ["row.bad_json"] and rows[1].values == {}
    assert rows[2].values["subject_name"] == "丙" and rows[2].problems == []
    assert [p.code for p in rows[3].problems] == ["row.not_object"]
    assert rows[4].values == {"subject_name": "丁", "kind": "警告"}
    assert [w.code for w in source.warnings] == ["file.unknown_columns"]
    assert "foo" in source.warnings[0].message


def test_jsonl_first_line_not_json(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "a.jsonl", ["{", '  "subject_name": "甲"', "}"])
    assert rejected(path).code == "file.bad_json"


def test_jsonl_must_be_utf8(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_bytes(obj(subject_name="张三").encode("gbk") + b"\n")
    assert rejected(path).code == "file.encoding"


def test_jsonl_progress_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + "\r\n".join(obj(subject_name=f"甲{i}") for i in range(1000)).encode())
    with open_rows(path, COLUMNS) as source:
        first = next(source)
        assert first.row_no == 1 and first.values == {"subject_name": "甲0"}
        assert 0 < source.bytes_read <= source.bytes_total
        rest = list(source)
    assert len(rest) == 999 and source.bytes_read == source.bytes_total


# --------------------------------------------------------------------------------------------
# memory and properties


@pytest.mark.slow
def test_memory_stays_flat_on_a_large_csv(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(LABELS) + "\n")
        for i in range(300_000):
            f.write(
                f"某某市某某区某某食品有限公司{i},,91320402MA1XX{i:05d},2024-03-15,{i}.50,罚款,第{i}条备注说明，已当场改正\n"
            )
    assert path.stat().st_size > 38 * 1024 * 1024
    tracemalloc.start()
    try:
        count = 0
        with open_rows(path, COLUMNS) as source:
            for row in source:
                count += 1
                assert row.values["kind"] == "罚款"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 300_000
    print(f"tracemalloc peak while reading {path.stat().st_size / 1e6:.0f} MB: {peak / 1e6:.2f} MB")
    assert peak < 30 * 1024 * 1024, peak


cell_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(cell_text, min_size=3, max_size=3), min_size=1, max_size=5), gb=st.booleans())
def test_csv_round_trip_property(rows: list[list[str]], gb: bool) -> None:
    columns = (
        Column("name", "名称", "Name", False, FieldType.STRING),
        Column("code", "代码", "Code", False, FieldType.STRING),
        Column("note", "备注", "Note", False, FieldType.TEXT),
    )
    encoding = "utf-8"
    if gb:
        try:
            for row in rows:
                for value in row:
                    value.encode("gb18030")
            encoding = "gb18030"
        except UnicodeEncodeError:
            pass
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([c.label_zh for c in columns])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.csv"
        path.write_bytes(buf.getvalue().encode(encoding))
        _, got = read_all(path, columns)

    def clean(value: str) -> str:
        value = value.strip()
        return value[1:] if value.startswith("'") else value

    expected = [
        (i + 2, dict(zip(["name", "code", "note"], map(clean, row), strict=True)))
        for i, row in enumerate(rows)
        if any(v.strip() for v in row)
    ]
    assert [(r.row_no, r.values) for r in got] == expected
    assert all(r.problems == [] for r in got)


# --------------------------------------------------------------------------------------------
# templates


def test_template_reads_back_with_every_column(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(COLUMNS, path, title_zh="行政处罚信息上传模板", notes=["金额单位为万元。"])
    source, rows = read_all(path)
    assert source.sheet_name == "数据"
    assert sorted(source.header_map.values()) == sorted(CODES)
    assert rows == []

    wb = load_workbook(path)
    ws = wb["数据"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].value == "行政相对人名称*" and ws["A1"].font.bold
    assert ws["B1"].value == "公民身份号码"
    assert "18 位" in ws["B1"].comment.text
    assert ws.column_dimensions["B"].number_format == "@"
    assert ws.column_dimensions["C"].number_format == "@"
    assert ws.column_dimensions["D"].number_format == "yyyy-mm-dd"
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"警告,罚款,没收违法所得"'
    assert str(dv.sqref).startswith("F2")
    help_ws = wb["说明"]
    texts = [str(c.value) for row in help_ws.iter_rows() for c in row if c.value is not None]
    assert "行政处罚信息上传模板" in texts
    assert "公民身份号码（18 位）" in texts
    assert "警告、罚款、没收违法所得" in texts
    assert any("金额单位为万元" in t for t in texts)
    assert wb.sheetnames[0] == "数据"


def test_template_filled_in_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    buf = io.BytesIO()
    write_template(COLUMNS, buf, title_zh="模板")
    path.write_bytes(buf.getvalue())
    wb = load_workbook(path)
    ws = wb["数据"]
    ws.append(["张三", "110101199003077777", None, datetime(2024, 3, 15), 1.5, "罚款", None])
    wb.save(path)
    _, rows = read_all(path)
    assert rows[0].values["ric"] == "110101199003077777"
    assert rows[0].values["decision_date"] == datetime(2024, 3, 15)


def test_template_with_long_option_lists_uses_a_hidden_sheet(tmp_path: Path) -> None:
    options = tuple(EnumOption(f"o{i}", f"很长的选项名称第{i}项", f"Option {i}") for i in range(40))
    columns = (*COLUMNS, Column("big", "大选项", "Big", False, FieldType.ENUM, options=options))
    path = tmp_path / "t.xlsx"
    write_template(columns, path, title_zh="模板")
    wb = load_workbook(path)
    assert wb["选项"].sheet_state == "hidden"
    formulas = [dv.formula1 for dv in wb["数据"].data_validations.dataValidation]
    assert "'选项'!$H$1:$H$40" in formulas
    source, _ = read_all(path, columns)
    assert len(source.header_map) == len(columns)


def test_csv_template_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        write_csv_template(COLUMNS, f)
    raw = path.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8) and not raw.startswith(codecs.BOM_UTF8 * 2)
    source, rows = read_all(path)
    assert sorted(source.header_map.values()) == sorted(CODES)
    sig = tmp_path / "sig.csv"
    with sig.open("w", encoding="utf-8-sig", newline="") as f:
        write_csv_template(COLUMNS, f)
    assert sig.read_bytes().startswith(codecs.BOM_UTF8) and not sig.read_bytes().startswith(codecs.BOM_UTF8 * 2)
    buf = io.StringIO()
    write_csv_template(COLUMNS, buf)
    assert buf.getvalue().startswith("行政相对人名称*,")  # the caller adds the BOM when encoding
