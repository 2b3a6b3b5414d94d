"""What the engine may ask of the world outside it, as types: the host passes an object that
fits, the engine and the flows' validators call nothing else. (No database here: the host's
implementations, storage.directory_lookup.DirectoryLookup, storage.registry_lookup.RegistryLookup
and storage.followup.FollowUpLookup, read it.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

from intake.registration import DateOfBirth


@runtime_checkable
class Directory(Protocol):
    """The look-ups of the report flow: organisations, places and emergency lines."""

    @property
    def available(self) -> bool:
        """Reports can be taken (there is a PSEA Network to route them to)."""

    def match_organisation(self, text: str) -> dict | None:
        """{"id", "name"} of the organisation the text names, or None."""

    def match_township(self, text: str) -> dict | None:
        """{"pcode", "state_pcode", "name_en", "name_my"} of the place the text names, or None."""

    def emergency_contacts(self, lang: str | None) -> str:
        """The general emergency lines to show someone in danger, in their language where written."""

    def area_emergency_contacts(self, lang: str | None, areas: tuple[str | None, ...]) -> str:
        """The emergency lines of these areas (P-codes: a township, then its state), in that
        order, in the person's language where written; "" when they have none."""


@dataclass(frozen=True)
class IdentityCheck:
    """The answer to "is this who they say?". `outcome`: "verified" (and writing from the number
    on record), "code_needed" (right details, another number or channel: a code must prove it),
    "no_phone" (right details, but no number on record to send a code to), "mismatch" (unknown
    number or wrong date of birth: never told apart), "inactive", or "locked" (`wait_minutes`)."""

    outcome: str
    registration_id: int | None = None
    wait_minutes: int = 0


@runtime_checkable
class Registry(Protocol):
    """The look-ups of "update my details", for one sender. Checks count their failures where
    they are made, so that no path can check without counting."""

    @property
    def available(self) -> bool:
        """Registrations have been imported, so identities can be checked."""

    def check_identity(self, number: str, date_of_birth: DateOfBirth) -> IdentityCheck:
        """Compare with the record, in the same time whether or not the number exists."""

    def allow_code(self, registration_id: int) -> IdentityCheck:
        """May one more code be sent for this registration (a new number being proved)? Each counts
        as a try against the number: "code_needed", or "locked"."""

    def check_code(self, purpose: str, code: str) -> IdentityCheck:
        """The one-time code this sender was sent for `purpose`: "verified", "mismatch" (wrong),
        "expired" (none valid: expired, used, or never sent) or "locked"."""

    def on_record(self, registration_id: int) -> dict:
        """What is on record (the details), to show the person after they proved who they are."""


@dataclass(frozen=True)
class Note:
    """A message an organisation wrote to the reporter, as the reporter reads it."""

    id: int
    text: str
    written_on: date


@dataclass(frozen=True)
class ReportCase:
    """What a receipt shows of its report: the status that counts for the reporter (a code of
    the UN system-wide terms, `storage.reports.STATUSES`) and every message the organisations
    wrote to them, oldest first."""

    report_id: int
    status: str
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class ReceiptCheck:
    """The answer to "which report is this receipt's?". `outcome`: "found" (`case`), "wrong" (no
    report has it: mistyped, never given, or its report deleted, never told apart), "locked"
    (too many wrong receipts from this sender) or "busy" (too many from everyone), both with
    `wait_minutes`."""

    outcome: str
    case: ReportCase | None = None
    wait_minutes: int = 0


@runtime_checkable
class FollowUp(Protocol):
    """The look-ups of "check a report", for one sender. A wrong receipt counts against the
    throttle where it is checked, so that no path can check without counting. Opening a receipt
    takes a slow key derivation that the host runs outside the message's transaction: the first
    call may end this attempt at the message, and the host handles it again once the derivation
    is done (the engine is deterministic, so it asks again, and then gets the answer)."""

    @property
    def available(self) -> bool:
        """Receipts can be checked."""

    @property
    def max_answer_length(self) -> int:
        """The longest answer a reporter may write (what the organisations' side keeps whole)."""

    def check_receipt(self, receipt: str) -> ReceiptCheck:
        """The report of this receipt (16 ASCII digits, or 12 from before), unless the throttle
        holds the sender."""
