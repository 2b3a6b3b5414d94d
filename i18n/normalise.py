"""Text normalisation before any matching: what a person typed -> a comparable key.

Order matters: a menu number is read first, from the text as typed (a lone `၄` could otherwise
be taken for Zawgyi and become `၎`); then Zawgyi is converted to Unicode where i18n.zawgyi
decides it is Zawgyi; then NFC, invisible characters removed, case folded, digits of any script
made ASCII. `as_typed` is the text tidied but not converted: what the person wrote, kept beside
the converted text in a report.
"""

from __future__ import annotations

import re
import unicodedata

from i18n.zawgyi import to_unicode

# Zero-width and invisible formatting characters that phones insert (ZWSP, ZWNJ, ZWJ, BOM, WJ).
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_EDGE_PUNCTUATION = " \t\r\n.,;:!?\"'()[]{}<>-_*#\u104a\u104b"  # incl. Myanmar section marks
_SPACES = re.compile(r"\s+")


def _tidy(text: str) -> str:
    # Lone surrogates (a broken emoji) cannot be stored as UTF-8, and NUL not at all in PostgreSQL.
    text = "".join(char for char in text if char != "\x00" and not "\ud800" <= char <= "\udfff")
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def as_typed(text: str) -> str:
    """The text as the person typed it, only tidied: NFC, invisible characters removed,
    whitespace collapsed; no Zawgyi conversion."""
    return _tidy(text)


def clean(text: str, zawgyi: bool = False) -> str:
    """The text to store or match: NFC, invisible characters removed, whitespace collapsed, and
    Zawgyi converted to Unicode (`i18n.zawgyi.to_unicode`; `zawgyi`: the sender is known to type
    Zawgyi, so text that is valid in both encodings is read as Zawgyi)."""
    return unicodedata.normalize("NFC", to_unicode(_tidy(text), known_zawgyi=zawgyi))


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def match_key(text: str) -> str:
    """The form used to compare answers: cleaned, case-folded, decimal digits as ASCII, edge
    punctuation dropped ("Menu!" == "menu", "၁" == "1")."""
    return _ascii_digits(clean(text).casefold()).strip(_EDGE_PUNCTUATION)


def read_number(text: str) -> int | None:
    """The whole number a reply consists of (any script's decimal digits), else None; read from
    the text as typed, before any Zawgyi conversion."""
    key = _ascii_digits(_tidy(text)).strip(_EDGE_PUNCTUATION)
    # ASCII only: str.isdigit() also accepts 128 characters int() refuses (①, ¹, Ethiopic digits).
    return int(key) if key.isascii() and key.isdigit() and len(key) <= 4 else None
