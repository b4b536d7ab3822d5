"""What an attachment may be (pure): the type from the file's own bytes, never its name; the size
and count limits from the dated policy (``attachments.*``)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from chengxin.core.errors import DomainError
from chengxin.core.policy import AttachmentPolicy

# Magic numbers: what the bytes say the file is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
TYPE_ZH = {"application/pdf": "PDF", "image/png": "PNG 图片", "image/jpeg": "JPEG 图片"}
EXTENSION = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}


def sniff_type(head: bytes) -> str | None:
    """The MIME type the first bytes announce, or None when they are none of the known formats."""
    for signature, mime in _SIGNATURES:
        if head.startswith(signature):
            return mime
    return None


def clean_filename(name: str) -> str:
    """A display name safe to show and to send back in Content-Disposition: no path, no control
    characters, at most 100 characters (the extension kept)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable() and ch not in '"<>|*?:')
    base = base.strip(" .") or "附件"
    if len(base) > 100:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 100 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else base[:100]
    return base


def check_upload(policy: AttachmentPolicy, name: str, data: bytes, index: int = 1) -> str:
    """The file's MIME type, or a refusal naming the file (``index`` counts from 1)."""
    label = f"第 {index} 个附件“{clean_filename(name)}”"
    if not data:
        raise DomainError("attachment.empty", f"{label}是空文件", f"attachment {index} is empty", field="files")
    if len(data) > policy.max_bytes:
        raise DomainError("attachment.too_large", f"{label}超过 {policy.max_bytes // (1024 * 1024)} MB",
                          f"attachment {index} is larger than {policy.max_bytes} bytes", field="files", status=413)
    mime = sniff_type(data[:16])
    if mime is None or mime not in policy.types:
        allowed = "、".join(TYPE_ZH.get(t, t) for t in policy.types)
        raise DomainError("attachment.bad_type", f"{label}不是允许的文件类型（仅限 {allowed}，按文件内容识别）",
                          f"attachment {index}: only {', '.join(policy.types)} (by content)", field="files")
    return mime


def check_count(policy: AttachmentPolicy, files: Sequence[object]) -> None:
    if len(files) > policy.max_count:
        raise DomainError("attachment.too_many", f"最多上传 {policy.max_count} 个附件",
                          f"at most {policy.max_count} attachments", field="files")
