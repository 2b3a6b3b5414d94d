"""Validators for typed answers, by name (flows refer to them as strings).

A validator takes the person's text as typed (cleaned of invisible characters, not case-folded)
and the engine context (for directory look-ups), and returns `Valid(value)` or `Invalid(reason)`;
the reason is shown before the question repeats.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

from i18n.text import N_, Text


@dataclass(frozen=True)
class Valid:
    value: object


@dataclass(frozen=True)
class Invalid:
    reason: Text


def _has_words(text: str) -> bool:
    """True when the text holds at least one letter, digit or combining mark (not only emoji)."""
    return any(unicodedata.category(char)[0] in "LNM" for char in text)


def free_text(text: str, ctx=None) -> Valid | Invalid:
    """Any answer in the person's own words; empty, blank or emoji-only answers are refused."""
    stripped = text.strip()
    if not _has_words(stripped):
        return Invalid(Text(N_("Please type your answer in words.")))
    return Valid(stripped)


def organisation(text: str, ctx) -> Valid | Invalid:
    """An organisation of the directory, by name, acronym or alias, typos forgiven."""
    match = ctx.directory.match_organisation(text) if _has_words(text) else None
    if match is None:
        return Invalid(Text(N_("We could not find that organisation. Check the name and type it again, "
                               "or choose below.")))
    return Valid(match)


def township(text: str, ctx) -> Valid | Invalid:
    """A place of the gazetteer, by its English or Burmese name."""
    match = ctx.directory.match_township(text) if _has_words(text) else None
    if match is None:
        return Invalid(Text(N_("We could not find that place. Type it again, or choose below.")))
    return Valid(match)


def phone(text: str, ctx=None) -> Valid | Invalid:
    """A phone number: an optional +, then 7 to 15 digits in any script; spaces and dashes allowed."""
    compact = "".join(ch for ch in text.strip() if ch not in " -().")
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isdecimal() or not 7 <= len(digits) <= 15:
        return Invalid(Text(N_("Please type a phone number with 7 to 15 digits.")))
    return Valid(("+" if plus else "") + "".join(str(unicodedata.decimal(ch)) for ch in digits))


VALIDATORS: dict[str, Callable[..., Valid | Invalid]] = {
    "free_text": free_text,
    "organisation": organisation,
    "township": township,
    "phone": phone,
}
