"""The engine's `intake.ports.FollowUp` for one message, over the database: a receipt opens its
report's status and the messages the organisations wrote to the reporter, and wrong receipts are
throttled, per sender and for everyone together.

The throttle is the self-service lockout (`storage.self_service` over `IdentityAttempt` rows),
counted per window of `RECEIPT_CHECK_LOCKOUT_MINUTES`: each window has its own row for a sender
and its own row for everyone (the row's digest names the window), so that honest typos spread
over weeks never add up to a lock. A lock set late in one window lasts into the next, so the
rows of both are read. No derivation runs while either holds: that is what the throttle saves.

A mistyped receipt, one never given and one whose report was deleted take the same path: one
look-up by the receipt's lookup part, one derivation (done by the host beforehand, with the salt
of the report found or, when none is, a decoy salt at the same cost), one failure counted. An
old 12-digit receipt is derived first (one fixed salt) and looked up by what that gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.ports import Note, ReceiptCheck, ReportCase
from storage import reporter_messages, reports, sealing, self_service
from storage.crypto import AlteredError, Vault
from storage.models import IdentityAttempt, Report

# `IdentityAttempt.subject` values (8 characters at most) of the receipt throttle's rows.
SENDER = "rcpt-snd"
ADDRESS = "rcpt-adr"  # the client address, where it is the person's own (the simulator)
EVERYONE = "rcpt-all"


@dataclass(frozen=True)
class ReceiptLimits:
    """Wrong receipts allowed in one window, from one sender and from everyone; the window's
    length, which is also the longest wait."""

    per_sender: int
    everyone: int
    minutes: int

    @classmethod
    def from_settings(cls, settings) -> ReceiptLimits:
        return cls(settings.receipt_check_attempts, settings.receipt_check_global_attempts,
                   settings.receipt_check_lockout_minutes)

    def lockout(self, subject: str) -> self_service.Lockout:
        """The lockout of a sender's or an address's rows (SENDER, ADDRESS) or of everyone's (EVERYONE)."""
        return self_service.Lockout(self.everyone if subject == EVERYONE else self.per_sender, self.minutes)


def case_of(session: Session, report: Report, report_key: bytes, zone: str) -> ReportCase:
    """What the reporter may see of their report: the status that counts and the messages to them
    (each dated by its day in `zone`). The status is that of the organisation the case was last
    passed to among those still holding it; once every one referred it on (out of this service),
    "referred"."""
    referrals = reporter_messages.handling_referrals(session, report.id)
    active = [referral for referral in referrals if referral.status != "referred"]
    status = active[-1].status if active else "referred"  # oldest first: the last is the newest
    notes = tuple(Note(message.id, message.text, message.created_at.astimezone(ZoneInfo(zone)).date())
                  for message in reporter_messages.for_reporter(session, report, report_key))
    return ReportCase(report.id, status, notes)


class SecretsFor(Protocol):
    """The host's derivation of a receipt's secrets (bot.channels.inbox._Receipts.secrets_for):
    with the salt and cost of the report its lookup part found (or a decoy's), or none for an
    old receipt."""

    def __call__(self, receipt: str, salt: bytes | None = None,
                 kdf: sealing.KdfParams | None = None) -> sealing.ReceiptSecrets: ...


class FollowUpLookup:
    """`secrets_for(receipt)` gives a receipt's derived secrets, or ends this attempt at the
    message so that the host derives them with no transaction open (see intake.ports.FollowUp)."""

    available = True
    max_answer_length = reporter_messages.MAX_LENGTH

    def __init__(self, session: Session, vault: Vault, *, sender_key: str, now: datetime, zone: str,
                 limits: ReceiptLimits, secrets_for: SecretsFor, pepper: bytes | None = None,
                 origin: str | None = None):
        self.session, self.vault, self.origin = session, vault, origin
        self.sender_key, self.now, self.zone = sender_key, now, zone
        self.limits, self.secrets_for = limits, secrets_for
        self.pepper = vault.receipt_pepper if pepper is None else pepper

    def _subjects(self, window: int) -> list[tuple[str, bytes]]:
        """The throttle's rows of one window: this sender's, its client address's (the simulator's:
        `Inbound.origin`, counted like a sender), then everyone's (always that order, in which
        `self_service.lock_attempts` locks them)."""
        subjects = [(SENDER, self.vault.lookup_digest("receipt-check-sender", f"{self.sender_key}\x00{window}"))]
        if self.origin is not None:
            subjects.append((ADDRESS, self.vault.lookup_digest("receipt-check-address", f"{self.origin}\x00{window}")))
        return subjects + [(EVERYONE, self.vault.lookup_digest("receipt-check-everyone", str(window)))]

    def _window(self) -> int:
        return int(self.now.timestamp()) // (self.limits.minutes * 60)

    def _held(self, rows: list[IdentityAttempt]) -> ReceiptCheck | None:
        for subject, outcome in ((SENDER, "locked"), (ADDRESS, "locked"), (EVERYONE, "busy")):
            wait = self_service.minutes_locked([row for row in rows if row.subject == subject], self.now)
            if wait:
                return ReceiptCheck(outcome, wait_minutes=wait)
        return None

    def _waiting(self) -> ReceiptCheck | None:
        """A lock of this window or the one before, read without writing anything."""
        window = self._window()
        digests = [digest for _, digest in self._subjects(window) + self._subjects(window - 1)]
        rows = self.session.execute(select(IdentityAttempt).where(
            IdentityAttempt.subject.in_((SENDER, ADDRESS, EVERYONE)),
            IdentityAttempt.digest.in_(digests))).scalars().all()
        return self._held(list(rows))

    def _failed(self) -> ReceiptCheck:
        rows = self_service.lock_attempts(self.session, self._subjects(self._window()), self.now)
        for row in rows:
            self_service.count_failure([row], self.now, self.limits.lockout(row.subject))
        return self._held(rows) or ReceiptCheck("wrong")

    def check_receipt(self, receipt: str) -> ReceiptCheck:
        waiting = self._waiting()
        if waiting:
            return waiting
        report, secrets = self._find(receipt)
        if report is None or report.receipt_lookup != secrets.lookup:
            return self._failed()
        try:
            report_key = reports.open_with_receipt(report, secrets)
        except (AlteredError, sealing.SealError):
            # The lookup part is right and the rest is not; or the wrap is not this report's, or
            # its routing columns were edited (logged as its kind): nothing of it is shown, and to
            # the reporter it is a receipt that did not open.
            return self._failed()
        return ReceiptCheck("found", case=case_of(self.session, report, report_key, self.zone))

    def _find(self, receipt: str) -> tuple[Report | None, sealing.ReceiptSecrets]:
        """The report a receipt's lookup finds (or None) and the receipt's secrets, derived with
        that report's salt and cost, or a decoy salt at the current cost when none is found."""
        lookup = sealing.receipt_lookup(receipt, self.pepper)
        if lookup is None:  # an old 12-digit receipt: its lookup needs the derivation first
            secrets = self.secrets_for(receipt)
            return self._by_lookup(secrets.lookup), secrets
        report = self._by_lookup(lookup)
        if report is None or report.receipt_salt is None:
            return None, self.secrets_for(receipt, sealing.decoy_receipt_salt(lookup, self.pepper),
                                          sealing.RECEIPT_KDF)
        return report, self.secrets_for(receipt, report.receipt_salt,
                                        sealing.receipt_kdf_from_text(report.receipt_kdf))

    def _by_lookup(self, lookup: str) -> Report | None:
        return self.session.execute(select(Report).where(Report.receipt_lookup == lookup)).scalar()
