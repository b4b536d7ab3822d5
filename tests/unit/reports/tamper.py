"""What an attacker does to a PDF: rewrite a text string in a page content stream (glyph ids, Identity-H)."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject

_BFCHAR = re.compile(rb"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]{4,8})>")


def _glyphs(font: object) -> dict[str, list[bytes]]:
    """Unicode character → the glyph ids (hex, as written in the content stream) that print it."""
    out: dict[str, list[bytes]] = {}
    to_unicode = font.get("/ToUnicode")  # type: ignore[attr-defined]
    if to_unicode is None:
        return out
    for gid, uni in _BFCHAR.findall(to_unicode.get_object().get_data()):
        out.setdefault(bytes.fromhex(uni.decode()).decode("utf-16-be"), []).append(gid.lower())
    return out


def tamper_text(pdf: bytes, old: str, new: str) -> bytes:
    """Replace the printed ``old`` by ``new`` (same length) in the first page content stream that has it."""
    assert len(old) == len(new)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page in writer.pages:
        data = page.get_contents().get_data()  # type: ignore[union-attr]
        for font in page["/Resources"]["/Font"].values():
            glyphs = _glyphs(font.get_object())
            if not all(c in glyphs for c in old + new):
                continue
            sep = rb"(?:>[-0-9.\s]*<)?"
            pattern = sep.join(b"(" + b"|".join(glyphs[c]) + b")" for c in old)
            match = re.search(pattern, data, flags=re.IGNORECASE)
            if match is None:
                continue
            start, end = match.span()
            chunk = data[start:end]
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                if a != b:
                    g_old = match.group(i + 1)
                    chunk = chunk.replace(g_old, glyphs[b][0], 1) if chunk.count(g_old) == 1 else chunk
            assert chunk != data[start:end], "could not rewrite the glyphs"
            stream = DecodedStreamObject()
            stream.set_data(data[:start] + chunk + data[end:])
            page[NameObject("/Contents")] = writer._add_object(stream)
            out = io.BytesIO()
            writer.write(out)
            return out.getvalue()
    raise AssertionError(f"{old!r} not found in any content stream")
