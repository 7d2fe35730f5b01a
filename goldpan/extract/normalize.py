"""Text normalisation applied to every extracted text before language ID and counting.

Why: dedup hashes, n-gram signals and token counts must not depend on invisible differences
(composed vs decomposed accents, zero-width joiners, non-breaking spaces, runs of blanks).
Paragraph breaks are kept because Gopher's paragraph statistics and paragraph dedup use them.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi control characters that carry no text; soft hyphen too.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# C0/C1 controls except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Lone surrogates only appear after a lossy decode; they break every UTF-8 writer downstream.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_RUN = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFC, invisible/control characters removed, spaces collapsed in lines, at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    # `_SPACES` never matches a newline, so one pass over the text equals one pass per line
    lines = [ln.strip() for ln in _SPACES.sub(" ", text).split("\n")]
    text = "\n".join(lines)
    return _BLANK_RUN.sub("\n\n", text).strip()
