"""CSV for Excel, streamed: UTF-8 with a BOM (without it Excel reads UTF-8 as the local code page), CRLF lines,
written in slices so a download of any length starts at once and holds little memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


def excel_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], *, slice_rows: int = 2000) -> Iterator[bytes]:
    """The header and ``rows`` as CSV bytes, one chunk per ``slice_rows`` rows (None cells are empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow(["" if cell is None else cell for cell in row])
        if n % slice_rows == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()
