"""What a step asks the host to do, as typed values; each kind has exactly one applier there
(`bot.channels.inbox.APPLIERS`). Kept apart from the engine so that validators, which may set
off effects too (sending a one-time code), can name them."""

from __future__ import annotations

from dataclasses import dataclass


class Effect:
    """Something the host must do because of a step."""


@dataclass(frozen=True)
class Ended(Effect):
    """The person ended the conversation; the host erases what it kept of it."""


@dataclass(frozen=True)
class SubmitReport(Effect):
    """File this report (the draft's answers) under this receipt number."""

    answers: dict
    receipt: str


@dataclass(frozen=True)
class Wipe(Effect):
    """A sensitive flow ended: its messages (both ways) go from the person's phone, and what the
    host kept of them goes too."""


@dataclass(frozen=True)
class SendCode(Effect):
    """Send a one-time code by SMS for this registration: to the number on record (purpose
    "identity") or to the new number a person is changing to (purpose "new_phone", `to`)."""

    registration_id: int
    purpose: str
    to: str | None = None


@dataclass(frozen=True)
class RequestChange(Effect):
    """Queue this change of a registration for a caseworker (`kind` is one of
    `intake.registration.CHANGE_KINDS`; `value` the new value as the change stores it)."""

    registration_id: int
    kind: str
    value: object


@dataclass(frozen=True)
class EraseRegistration(Effect):
    """Delete the personal details of this registration, for good, at the person's request."""

    registration_id: int


@dataclass(frozen=True)
class MarkRead(Effect):
    """The reporter has just been shown these messages from the organisations (their ids)."""

    message_ids: tuple[int, ...]


@dataclass(frozen=True)
class AddAnswer(Effect):
    """Pass what the reporter wrote to the organisations handling this report, and tell their
    focal points (without the words) that it is waiting in the portal."""

    report_id: int
    text: str
