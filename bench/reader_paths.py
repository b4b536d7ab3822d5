"""The reader's two paths side by side: CPU per row of the row path (``open_rows`` + ``prepare_chunk``) and of the
columnar path (``records.columnar.prepared_chunks``), on the benchmark file in UTF-8 and in GB18030 (GBK).

    .venv/bin/python bench/reader_paths.py [--rows 200000] [--encodings utf-8,gb18030]

Both paths run in this process, one after the other, on the same file (the baseline is the row path, measured
in the same run); the figures are CPU seconds of this process, so they hold on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, key_dir, penalty_file  # noqa: E402

from chengxin.catalog.loader import load_catalog  # noqa: E402
from chengxin.catalog.rules import template_columns  # noqa: E402
from chengxin.core.crypto import KeyRing  # noqa: E402
from chengxin.core.memory import rare_collections  # noqa: E402
from chengxin.records.columnar import prepared_chunks  # noqa: E402
from chengxin.records.fileio import open_rows  # noqa: E402
from chengxin.records.reader import BatchMemo, chunked, prepare_chunk  # noqa: E402

TODAY = dt.date(2026, 11, 25)
DEPARTMENT = "samr"


def encoded_file(rows: int, encoding: str) -> Path:
    """The benchmark file of ``rows`` rows in ``encoding`` (made once, kept in bench/out)."""
    source = penalty_file(rows)
    if encoding == "utf-8":
        return source
    path = OUT / f"{source.stem}.{encoding}.csv"
    if not path.exists():
        with source.open(encoding="utf-8", newline="") as fin, path.open("w", encoding=encoding, newline="") as fout:
            for line in fin:
                fout.write(line)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--encodings", default="utf-8,gb18030")
    args = parser.parse_args()
    catalog, keyring = load_catalog(), KeyRing.open(key_dir())
    item = catalog.item("admin_penalty")
    columns = template_columns(item.latest)
    gc.collect()
    gc.freeze()
    for encoding in args.encodings.split(","):
        path = encoded_file(args.rows, encoding)
        result: dict[str, object] = {"encoding": encoding, "rows": args.rows}
        for way in ("row", "columnar"):
            cpu, prepared = time.process_time(), 0
            with rare_collections(), open_rows(path, columns) as source:
                if way == "row":
                    memo = BatchMemo()
                    chunks = (prepare_chunk(item, DEPARTMENT, rows, today=TODAY, keyring=keyring, memo=memo)
                              for rows in chunked(source, 5000))
                else:
                    chunks = prepared_chunks(source, path, item, DEPARTMENT, today=TODAY, keyring=keyring,
                                             chunk_rows=5000)
                for chunk in chunks:
                    prepared += len(chunk)
            result[f"{way}_us"] = round((time.process_time() - cpu) / prepared * 1e6, 1)
            result[f"{way}_prepared"] = prepared
        result["columnar_to_row"] = round(float(result["columnar_us"]) / float(result["row_us"]), 2)  # type: ignore[arg-type]
        print(json.dumps(result))


if __name__ == "__main__":
    main()
