"""The engine's `intake.ports.Registry` for one message, over the database: identity checks and
one-time codes, with the lockout counted where each check is made.

An unknown registration number and a wrong date of birth take the same path and the same time:
one slow `dob_check` either way, against the record's value or against nothing.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from intake.ports import IdentityCheck
from intake.registration import DAY, DateOfBirth
from storage import registrations, self_service
from storage.crypto import Vault
from storage.models import Registration, Township


class RegistryLookup:
    """`sender_phone`: the number an SMS came from (None on other channels), compared with the
    number on record only when an identity is checked."""

    def __init__(self, session: Session, vault: Vault, *, sender_key: str, sender_phone: str | None,
                 now: datetime, lockout: self_service.Lockout, can_send_sms: bool, origin: str | None = None):
        self.session, self.vault, self.origin = session, vault, origin
        self.sender_key, self.sender_phone, self.now = sender_key, sender_phone, now
        self.lockout, self.can_send_sms = lockout, can_send_sms
        self._available: bool | None = None

    @property
    def available(self) -> bool:
        if self._available is None:
            self._available = bool(self.session.execute(select(exists().select_from(Registration))).scalar())
        return self._available

    def _attempts(self, number_digest: bytes | None) -> list:
        """This sender's attempt row, its client address's (the simulator's: `Inbound.origin`) and,
        given its digest, the number's: locked in that order."""
        subjects = [("sender", self.vault.lookup_digest("attempt-sender", self.sender_key))]
        if self.origin is not None:
            subjects.append(("address", self.vault.lookup_digest("attempt-address", self.origin)))
        if number_digest is not None:
            subjects.append(("number", number_digest))
        return self_service.lock_attempts(self.session, subjects, self.now)

    def _locked(self, rows) -> IdentityCheck | None:
        wait = self_service.minutes_locked(rows, self.now)
        return IdentityCheck("locked", wait_minutes=wait) if wait else None

    def _failed(self, rows) -> IdentityCheck:
        self_service.count_failure(rows, self.now, self.lockout)
        return self._locked(rows) or IdentityCheck("mismatch")

    @staticmethod
    def _number_rows(rows) -> list:
        return [row for row in rows if row.subject == "number"]

    def check_identity(self, number: str, date_of_birth: DateOfBirth) -> IdentityCheck:
        digest = registrations.number_digest(self.vault, number)
        row = registrations.find_by_number(self.session, self.vault, number)
        on_record = row is not None and row.dob_check is not None
        # Failures others caused against a number do not hold back its owner's own phone (else
        # anyone could keep a person locked out of their record); that phone's own count does.
        from_its_phone = (on_record and self.sender_phone is not None
                          and row.phone_key == registrations.phone_key(self.vault, self.sender_phone))
        attempts = self._attempts(None if from_its_phone else digest)
        locked = self._locked(attempts)
        if locked:
            return locked
        candidate = date_of_birth.at(row.dob_precision if on_record else DAY)
        proof = self.vault.dob_check(digest, candidate or date_of_birth.value)  # the same work either way
        if not (on_record and candidate is not None and hmac.compare_digest(proof, row.dob_check)):
            return self._failed(attempts)
        if row.status != "active":
            return IdentityCheck("inactive")
        if from_its_phone:
            return IdentityCheck("verified", row.id)
        if row.phone_key is None or not self.can_send_sms:
            return IdentityCheck("no_phone")
        return self.allow_code(row.id, attempts)

    def allow_code(self, registration_id: int, attempts=None) -> IdentityCheck:
        """May a code be sent for this registration now? Each code sent counts as one try against
        its number, so that right details alone cannot fetch code after code (guessing each a
        few times, or flooding a phone with SMS): "code_needed", or "locked"."""
        if attempts is None:
            attempts = self._attempts(self.session.get(Registration, registration_id).number_digest)
        numbers = self._number_rows(attempts)
        self_service.count_failure(numbers, self.now, self.lockout)
        return self._locked(numbers) or IdentityCheck("code_needed", registration_id)

    def check_code(self, purpose: str, code: str) -> IdentityCheck:
        pending = self_service.pending_code(self.session, sender_key=self.sender_key, purpose=purpose, now=self.now)
        registration = self.session.get(Registration, pending.registration_id) if pending else None
        attempts = self._attempts(registration.number_digest if registration else None)
        locked = self._locked(attempts)
        if locked:
            return locked
        if pending is None or registration.status != "active":
            return IdentityCheck("expired")
        if not hmac.compare_digest(pending.code_digest, self_service.code_digest(self.vault, self.sender_key,
                                                                                  purpose, code)):
            pending.failures += 1
            if pending.failures >= self.lockout.attempts:
                pending.used_at = self.now  # spent: a new code is needed
            return self._failed(attempts)
        pending.used_at = self.now
        self_service.clear_failures(self._number_rows(attempts))  # never the sender's: they run out
        return IdentityCheck("verified", registration.id)

    def on_record(self, registration_id: int) -> dict:
        row = self.session.get(Registration, registration_id)
        details = registrations.open_details(self.vault, row)
        township = self.session.get(Township, row.township_pcode) if row.township_pcode else None
        return {**details, "township_name": township.name_en if township else None}
