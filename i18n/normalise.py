"""Text normalisation before any matching: what a person typed -> a comparable key.

Kept separate from what is stored or shown: the person's own words are never rewritten here,
only the key used to compare them with menu numbers, keywords and accepted answers.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and invisible formatting characters that phones insert (ZWSP, ZWNJ, ZWJ, BOM, WJ).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_EDGE_PUNCTUATION = " \t\r\n.,;:!?\"'()[]{}<>-_*#\u104a\u104b"  # incl. Myanmar section marks
_SPACES = re.compile(r"\s+")


def clean(text: str) -> str:
    """NFC, invisible characters removed, whitespace collapsed: safe to store or echo back."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def match_key(text: str) -> str:
    """The form used to compare answers: cleaned, case-folded, decimal digits as ASCII, edge
    punctuation dropped ("Menu!" == "menu", "၁" == "1")."""
    folded = clean(text).casefold()
    folded = "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in folded)
    return folded.strip(_EDGE_PUNCTUATION)


def read_number(text: str) -> int | None:
    """The whole number a reply consists of (any script's decimal digits), else None."""
    key = match_key(text)
    return int(key) if key.isdigit() and len(key) <= 4 else None
