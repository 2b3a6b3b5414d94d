"""Translatable text and the messages made of it: what the engine says, as gettext ids with
parameters, before any channel renders it in a language. The lowest layer: the engine builds
these, i18n renders them, channels lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


def N_(msgid: str) -> str:
    """Mark a user-visible string for extraction; it is translated when rendered."""
    return msgid


def P_(context: str, msgid: str) -> "Text":
    """Mark a string with a gettext context (e.g. "answers": accepted replies, "|"-separated)."""
    return Text(msgid, context=context)


@dataclass(frozen=True)
class Text:
    """A translatable message: gettext id, optional context, and named parameters.

    `literal` text is shown as is (a language's own name). `every_language` renders the message
    in each offered language, for people whose language is not known yet.
    """

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)
    context: str | None = None
    literal: bool = False
    every_language: bool = False


class Digits(str):
    """A parameter made of digits (a receipt number), written in the reader's own digits."""


@dataclass(frozen=True)
class Keyword:
    """A parameter that renders as a global keyword (e.g. MENU) in the reader's language."""

    name: str


@dataclass(frozen=True)
class Option:
    """One numbered choice offered to the person."""

    number: int
    value: str
    label: Text


@dataclass(frozen=True)
class Outbound:
    """One message to send back: paragraphs of text, then the choices (if the step has any)."""

    parts: tuple[Text, ...]
    options: tuple[Option, ...] = ()
