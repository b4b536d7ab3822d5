"""The fingerprint of a text someone signs (信用承诺书): SHA-256 of its exact UTF-8 bytes, in hex.

Shared by the repair commitment (``repair.commitment``) and the platform's credit commitments
(``commitments``): both keep this hash beside the text so anyone can recompute it and see that what
is shown is, character for character, what was signed. No normalisation on purpose — a changed
space, line break or full-width punctuation mark is a different text and must give a different hash.
"""

from __future__ import annotations

import hashlib

__all__ = ["text_sha256"]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
