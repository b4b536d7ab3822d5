"""Where the reader process's CPU goes, part by part, the way ``records.reader.read_file`` spends it: parsing the
file into rows, preparing them (``prepare_chunk``: validation, blind indexes, encryption, canonical JSON, content
hash) and pickling each chunk for the pipe — CPU seconds of this process, in one pass over the file.

    .venv/bin/python bench/ingest_reader.py [--rows 1000000] [--chunk-rows 5000]

Run old and new code alternately (``PYTHONPATH=/tmp/before/src`` for the old one) and compare the ``prepare_s``
column. Measure it this way, streaming chunk by chunk, not over rows loaded into memory first: in session 14 a
column-by-column validation took 5.0 µs a row against 9.5 row by row over 100,000 rows held in memory, and
4.95 against 5.9 streaming — the row-by-row pass over rows parsed long before paid cache misses that the
reader, preparing each chunk as soon as it is parsed, does not (bench/RESULTS.md, ingest, session 14).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import json
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import key_dir, penalty_file  # noqa: E402

from chengxin.catalog.loader import load_catalog  # noqa: E402
from chengxin.catalog.rules import template_columns  # noqa: E402
from chengxin.core.crypto import KeyRing  # noqa: E402
from chengxin.core.memory import rare_collections  # noqa: E402
from chengxin.records.fileio import open_rows  # noqa: E402
from chengxin.records.reader import BatchMemo, prepare_chunk  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=5000)
    args = parser.parse_args()
    path = penalty_file(args.rows)
    catalog, keyring = load_catalog(), KeyRing.open(key_dir())
    item = catalog.item("admin_penalty")
    gc.collect()
    gc.freeze()  # as read_file: what is alive now stays to the end
    parse = prepare = pickling = 0.0
    rows_done = 0
    clock = time.process_time
    with rare_collections(), open_rows(path, template_columns(item.latest)) as source:
        memo = BatchMemo()
        while True:
            start = clock()
            rows = list(itertools.islice(source, args.chunk_rows))
            parsed = clock()
            parse += parsed - start
            if not rows:
                break
            chunk = prepare_chunk(item, "samr", rows, today=dt.date(2026, 11, 25), keyring=keyring, memo=memo)
            prepared = clock()
            prepare += prepared - parsed
            pickle.dumps(("chunk", chunk))  # as Connection.send
            pickling += clock() - prepared
            rows_done += len(rows)
    per_row = 1e6 / max(rows_done, 1)
    print(json.dumps({
        "rows": rows_done, "parse_s": round(parse, 2), "prepare_s": round(prepare, 2), "pickle_s": round(pickling, 2),
        "parse_us": round(parse * per_row, 2), "prepare_us": round(prepare * per_row, 2),
        "pickle_us": round(pickling * per_row, 2),
    }))


if __name__ == "__main__":
    main()
