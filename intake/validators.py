"""Validators for typed answers, by name (flows refer to them as strings).

A validator takes the person's text as typed (cleaned of invisible characters, not case-folded)
and returns `Valid(value)` or `Invalid(reason)`; the reason is shown before the prompt repeats.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

from intake.messages import N_, Text


@dataclass(frozen=True)
class Valid:
    value: object


@dataclass(frozen=True)
class Invalid:
    reason: Text


def _has_words(text: str) -> bool:
    """True when the text holds at least one letter, digit or combining mark (not only emoji)."""
    return any(unicodedata.category(char)[0] in "LNM" for char in text)


def free_text(text: str) -> Valid | Invalid:
    """Any answer in the person's own words; empty, blank or emoji-only answers are refused."""
    stripped = text.strip()
    if not _has_words(stripped):
        return Invalid(Text(N_("Please type your answer in words.")))
    return Valid(stripped)


VALIDATORS: dict[str, Callable[[str], Valid | Invalid]] = {
    "free_text": free_text,
}
