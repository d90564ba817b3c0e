"""Download file names that say what they hold: `fails-by-counterparty-2026-11-20.csv`,
from the question (or a widget's or report's title) and the as-of date, safe on every file
system (lower-case ASCII words joined by hyphens, at most 60 characters before the date)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = ["download_name"]

_MAX = 60
# Words that add nothing to a file name ("what are the ...", "show me ...").
_DROP = frozenset({"a", "an", "the", "of", "for", "me", "please", "show", "list", "what",
                   "which", "how", "many", "are", "is", "was", "were", "do", "does", "did",
                   "give", "tell", "with", "there", "we", "have", "our"})


def download_name(title: str, as_of: date | None, extension: str) -> str:
    """`title` as a file name for `as_of`, with `extension` ("csv", "xlsx", "pdf")."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.findall(r"[a-z0-9]+", text) if w not in _DROP] or ["answer"]
    stem = ""
    for word in words:
        if len(stem) + len(word) + 1 > _MAX:
            break
        stem = f"{stem}-{word}" if stem else word
    stem = stem or words[0][:_MAX]
    dated = f"{stem}-{as_of.isoformat()}" if as_of is not None else stem
    return f"{dated}.{extension.lstrip('.')}"
