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
    def __init__(self, session: Session, vault: Vault, *, sender_key: str, channel: str, now: datetime,
                 lockout: self_service.Lockout, can_send_sms: bool):
        self.session, self.vault = session, vault
        self.sender_key, self.channel, self.now = sender_key, channel, now
        self.lockout, self.can_send_sms = lockout, can_send_sms
        self._available: bool | None = None

    @property
    def available(self) -> bool:
        if self._available is None:
            self._available = bool(self.session.execute(select(exists().select_from(Registration))).scalar())
        return self._available

    def _subjects(self, number_digest: bytes | None) -> list[tuple[str, bytes]]:
        subjects = [("sender", self.vault.lookup_digest("attempt-sender", self.sender_key))]
        if number_digest is not None:
            subjects.append(("number", number_digest))
        return subjects

    def _locked(self, subjects) -> IdentityCheck | None:
        wait = self_service.minutes_locked(self.session, subjects, self.now)
        return IdentityCheck("locked", wait_minutes=wait) if wait else None

    def _failed(self, subjects) -> IdentityCheck:
        self_service.count_failure(self.session, subjects, self.now, self.lockout)
        return self._locked(subjects) or IdentityCheck("mismatch")

    def check_identity(self, number: str, date_of_birth: DateOfBirth) -> IdentityCheck:
        digest = registrations.number_digest(self.vault, number)
        subjects = self._subjects(digest)
        locked = self._locked(subjects)
        if locked:
            return locked
        row = registrations.find_by_number(self.session, self.vault, number)
        on_record = row is not None and row.dob_check is not None
        candidate = date_of_birth.at(row.dob_precision if on_record else DAY)
        proof = self.vault.dob_check(digest, candidate or date_of_birth.value)  # the same work either way
        if not (on_record and candidate is not None and hmac.compare_digest(proof, row.dob_check)):
            return self._failed(subjects)
        self_service.clear_failures(self.session, subjects)
        if row.status != "active":
            return IdentityCheck("inactive")
        if self.channel == "sms" and row.phone_key == self.sender_key:
            return IdentityCheck("verified", row.id)
        if row.phone_key is None or not self.can_send_sms:
            return IdentityCheck("no_phone")
        return IdentityCheck("code_needed", row.id)

    def check_code(self, purpose: str, code: str) -> IdentityCheck:
        pending = self_service.pending_code(self.session, sender_key=self.sender_key, purpose=purpose, now=self.now)
        registration = self.session.get(Registration, pending.registration_id) if pending else None
        subjects = self._subjects(registration.number_digest if registration else None)
        locked = self._locked(subjects)
        if locked:
            return locked
        if pending is None or registration.status != "active":
            return IdentityCheck("expired")
        if not hmac.compare_digest(pending.code_digest, self_service.code_digest(self.vault, self.sender_key,
                                                                                  purpose, code)):
            pending.failures += 1
            if pending.failures >= self.lockout.attempts:
                pending.used_at = self.now  # spent: a new code is needed
            return self._failed(subjects)
        pending.used_at = self.now
        self_service.clear_failures(self.session, subjects)
        return IdentityCheck("verified", registration.id)

    def on_record(self, registration_id: int) -> dict:
        row = self.session.get(Registration, registration_id)
        details = registrations.open_details(self.vault, row)
        township = self.session.get(Township, row.township_pcode) if row.township_pcode else None
        return {**details, "township_name": township.name_en if township else None}

