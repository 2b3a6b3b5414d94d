"""What "update my details" keeps between messages: failed identity checks (for the lockout),
one-time codes (digests only), the erasure of a record, and the purge of what has a lifetime."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, true, update
from sqlalchemy.orm import Session

from storage.crypto import Vault
from storage.db import insert_ignoring_duplicates
from storage.models import (
    IdentityAttempt, OneTimeCode, Registration, RegistrationChange, RegistrationHistory,
)


@dataclass(frozen=True)
class Lockout:
    attempts: int
    minutes: int

    @classmethod
    def from_settings(cls, settings) -> Lockout:
        return cls(settings.identity_lockout_attempts, settings.identity_lockout_minutes)


# --- the lockout ---------------------------------------------------------------------------------

def lock_attempts(session: Session, subjects, now: datetime) -> list[IdentityAttempt]:
    """The attempt rows of these subjects, made if missing and locked in the order given (sender
    before number, always), so that checks running at once count every failure."""
    for subject, digest in subjects:
        insert_ignoring_duplicates(session, IdentityAttempt, subject=subject, digest=digest, failures=0,
                                   last_failed_at=now)
    rows = []
    for subject, digest in subjects:
        rows.append(session.execute(select(IdentityAttempt).where(
            IdentityAttempt.subject == subject, IdentityAttempt.digest == digest).with_for_update()).scalar_one())
    return rows


def minutes_locked(rows: list[IdentityAttempt], now: datetime) -> int:
    """Whole minutes until every lock on these rows has passed (0: none is locked)."""
    until = [row.locked_until for row in rows if row.locked_until and row.locked_until > now]
    return math.ceil((max(until) - now).total_seconds() / 60) if until else 0


def count_failure(rows: list[IdentityAttempt], now: datetime, lockout: Lockout) -> None:
    """One more failure on each row; a row that reaches the limit is locked (and starts counting
    again once the lock has passed)."""
    for row in rows:
        if row.locked_until and row.locked_until <= now:
            row.failures, row.locked_until = 0, None
        row.failures += 1
        row.last_failed_at = now
        if row.failures >= lockout.attempts:
            row.locked_until = now + timedelta(minutes=lockout.minutes)


def clear_failures(rows: list[IdentityAttempt]) -> None:
    for row in rows:
        row.failures, row.locked_until = 0, None


# --- one-time codes ------------------------------------------------------------------------------

def code_digest(vault: Vault, sender_key: str, purpose: str, code: str) -> bytes:
    return vault.lookup_digest("one-time-code", f"{sender_key}\x00{purpose}\x00{code}")


def issue_code(session: Session, vault: Vault, *, registration_id: int, purpose: str, sender_key: str,
               now: datetime, minutes: int) -> str:
    """A fresh 6-digit code for this sender and purpose (any earlier one stops working)."""
    session.execute(delete(OneTimeCode).where(OneTimeCode.sender_key == sender_key, OneTimeCode.purpose == purpose))
    code = f"{secrets.randbelow(10 ** 6):06d}"
    session.add(OneTimeCode(registration_id=registration_id, purpose=purpose, sender_key=sender_key,
                            code_digest=code_digest(vault, sender_key, purpose, code), failures=0,
                            created_at=now, expires_at=now + timedelta(minutes=minutes)))
    return code


def pending_code(session: Session, *, sender_key: str, purpose: str, now: datetime) -> OneTimeCode | None:
    """The code this sender may still use for `purpose`: unexpired and unused."""
    return session.execute(select(OneTimeCode).where(
        OneTimeCode.sender_key == sender_key, OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_(None),
        OneTimeCode.expires_at > now).order_by(OneTimeCode.id.desc()).limit(1)).scalar_one_or_none()


# --- erasure -------------------------------------------------------------------------------------

def erase(session: Session, registration: Registration, now: datetime) -> None:
    """Delete a record's personal details for good: the sealed details, the proofs, every value
    its history and its changes hold. What remains says only what kind of change happened when;
    the record is inactive and no longer proves anyone's identity. The caseworkers' queue gets
    an erasure entry (values none) so the office knows."""
    registration.details = None
    registration.dob_check = registration.dob_precision = registration.phone_key = None
    registration.row_digest = registration.township_pcode = None
    registration.status = "inactive"
    registration.erased_at = now
    session.execute(update(RegistrationHistory).where(RegistrationHistory.registration_id == registration.id)
                    .values(old_value=None, new_value=None))
    session.execute(update(RegistrationChange).where(RegistrationChange.registration_id == registration.id)
                    .values(old_value=None, new_value=None, reply_to=None, reason=None, township_pcode=None))
    session.execute(update(RegistrationChange).where(RegistrationChange.registration_id == registration.id,
                                                     RegistrationChange.status == "pending")
                    .values(status="withdrawn", decided_at=now))
    session.execute(delete(OneTimeCode).where(OneTimeCode.registration_id == registration.id))


# --- lifetimes -----------------------------------------------------------------------------------

def purge(session: Session, now: datetime, *, pending_days: int, rejected_days: int,
          lockout_minutes: int, windows: dict[str, int] | None = None) -> dict[str, int]:
    """Delete what has outlived its purpose; returns counts by kind. `windows` gives the rows of
    other subjects on the same table (the receipt throttle's) their own lifetime in minutes: a row
    counts the failures of a window that long, so it must outlive the last of them by as much."""
    windows = windows or {}
    counts = {}
    counts["unanswered_changes"] = session.execute(delete(RegistrationChange).where(
        RegistrationChange.status == "pending",
        RegistrationChange.requested_at < now - timedelta(days=pending_days))).rowcount
    counts["rejected_changes"] = session.execute(delete(RegistrationChange).where(
        RegistrationChange.status.in_(("rejected", "withdrawn")),
        RegistrationChange.decided_at < now - timedelta(days=rejected_days))).rowcount
    counts["one_time_codes"] = session.execute(delete(OneTimeCode).where(
        or_(OneTimeCode.expires_at <= now, OneTimeCode.used_at.is_not(None)))).rowcount
    quiet = [and_(IdentityAttempt.subject.not_in(tuple(windows)) if windows else true(),
                  IdentityAttempt.last_failed_at < now - timedelta(minutes=lockout_minutes))]
    quiet += [and_(IdentityAttempt.subject == subject, IdentityAttempt.last_failed_at < now - timedelta(minutes=minutes))
              for subject, minutes in windows.items()]
    counts["identity_attempts"] = session.execute(delete(IdentityAttempt).where(
        or_(IdentityAttempt.locked_until.is_(None), IdentityAttempt.locked_until <= now), or_(*quiet))).rowcount
    return counts
