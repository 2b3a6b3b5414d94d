"""The types that cross the engine's boundary: one inbound message in, outbound messages out.

Outbound messages carry message ids and parameters, not rendered text: each channel renders them
in the conversation's language its own way (numbered lines on SMS, buttons on Telegram).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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


@dataclass(frozen=True)
class Inbound:
    """One message from a person, already verified and parsed by a channel adapter.

    `sender_key` is the pseudonym of the sender (an HMAC), never the address itself.
    """

    channel: str
    sender_key: str
    text: str
    received_at: datetime
    provider_id: str | None = None
    media_count: int = 0
