"""Uploads spooled to disk: the one size-checked copy of an ``UploadFile`` the file endpoints read from.

The readers (``records.fileio.open_rows``) work on a path, not a stream: an .xlsx is a ZIP read by seeking,
and a large file is read by another process (``records.pipeline``). So an upload is first copied to a
temporary file, refused as soon as it passes the size limit (413 ``file.too_large``, before it fills the
disk), and removed when the caller is done with it, whatever happened.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from chengxin.records.fileio import FileRejected

_CHUNK = 1 << 20
_MB = 1 << 20
# Only a plain extension of the client's file name reaches the file system (never a path or odd characters).
_PLAIN_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


def upload_suffix(filename: str | None) -> str:
    """The extension of the uploaded file's name (``.csv``, ``.xlsx``, ``.jsonl``) when it is a plain one,
    else ``""``. The temporary file keeps it, so a reader that only sees the path still has the hint."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 else ""
    return suffix.lower() if _PLAIN_SUFFIX.fullmatch(suffix) else ""


def _size(limit: int) -> str:
    """A limit as people read it: ``512 MB``, ``1.5 MB``, ``64 KB``, ``100 B``."""
    if limit >= _MB:
        return f"{limit / _MB:.1f}".removesuffix(".0") + " MB"
    if limit >= 1024:
        return f"{limit / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{limit} B"


def too_large(limit: int) -> FileRejected:
    """413 ``file.too_large``: the upload passed ``limit`` bytes (settings.max_upload_bytes)."""
    return FileRejected("file.too_large", f"文件超过上限 {_size(limit)}，请拆分成多个文件上传",
                        f"File exceeds the {_size(limit)} limit ({limit} bytes)", status=413)


@contextmanager
def spool_upload(upload: UploadFile, limit: int, prefix: str) -> Iterator[Path]:
    """The upload copied to a temporary file named ``<prefix>…<suffix of the uploaded name>``, checked
    against ``limit`` bytes while copying (raises 413 ``file.too_large``), removed on leaving the block."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=upload_suffix(upload.filename))
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            copied = 0
            while chunk := upload.file.read(_CHUNK):
                copied += len(chunk)
                if copied > limit:
                    raise too_large(limit)
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)
