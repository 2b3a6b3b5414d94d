"""Checking portal logins: the password, the TOTP code, and the lockout after repeated failures.

Whatever the reason a login fails (no such account, inactive, locked, wrong password) the work
done is the same, one Argon2 verification, so neither the answer nor its timing tells an attacker
which emails have accounts. Every outcome is audited by user id and reason, never by email.
Functions take the session first and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import accounts
from storage.crypto import Vault
from storage.models import User
from storage.reports import audit

# The Vault purpose of User.totp_secret (the base32 secret an authenticator app is given).
TOTP_PURPOSE = "users.totp_secret"


@dataclass(frozen=True)
class Lockout:
    """How many consecutive failures lock an account, and for how long."""

    attempts: int
    minutes: int

    @classmethod
    def from_config(cls, config) -> "Lockout":
        return cls(config["PORTAL_LOCKOUT_ATTEMPTS"], config["PORTAL_LOCKOUT_MINUTES"])


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Made with the hasher in use, so verifying against it costs what a real account costs.
    return hasher.hash("no account has this password")


def _waste_a_verification(password: str) -> None:
    hasher = accounts.password_hasher
    try:
        hasher.verify(_dummy_hash(hasher), password)
    except (VerificationError, InvalidHashError):
        pass


def _lock_holds(user: User, now: datetime) -> bool:
    """True while the account is locked; a lock that has run out is cleared (a fresh count)."""
    if user.locked_until is None:
        return False
    if now < user.locked_until:
        return True
    user.locked_until = None
    user.failed_logins = 0
    return False


def record_failure(session: Session, user: User, *, now: datetime, lockout: Lockout, reason: str) -> bool:
    """Count one failed attempt; lock the account when it reaches the limit. True if it locked."""
    user.failed_logins = (user.failed_logins or 0) + 1
    audit(session, now=now, action="login_failed", user_id=user.id, detail=reason)
    if user.failed_logins < lockout.attempts:
        return False
    user.locked_until = now + timedelta(minutes=lockout.minutes)
    audit(session, now=now, action="locked", user_id=user.id,
          detail=f"{user.failed_logins} failed attempts; locked for {lockout.minutes} minutes")
    return True


def record_success(user: User, now: datetime) -> None:
    """A complete login (password and, where the account has one, TOTP): the count starts over."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now


def check_password(session: Session, email: str, password: str, *, now: datetime,
                   lockout: Lockout) -> User | None:
    """The account if `password` is right and it may log in now, else None. The user row is
    locked for the rest of the transaction so parallel guesses cannot slip past the count."""
    email = "".join(char for char in email if char.isprintable()).strip().lower()  # no NUL to the database
    user = session.execute(select(User).where(User.email == email)
                           .with_for_update()).scalar_one_or_none()
    if user is None:
        _waste_a_verification(password)
        audit(session, now=now, action="login_failed", detail="unknown account")
        return None
    correct = accounts.verify_password(user, password)  # always, so every path costs the same
    if not user.active:
        audit(session, now=now, action="login_failed", user_id=user.id, detail="inactive account")
        return None
    if _lock_holds(user, now):
        audit(session, now=now, action="login_failed", user_id=user.id, detail="account locked")
        return None
    if not correct:
        record_failure(session, user, now=now, lockout=lockout, reason="wrong password")
        return None
    return user


def check_totp(session: Session, user: User, code: str, *, vault: Vault, now: datetime,
               lockout: Lockout) -> bool:
    """True if `code` is the account's current TOTP code (one step either side allowed for clock
    drift). Wrong codes count towards the same lockout as wrong passwords."""
    session.refresh(user, with_for_update=True)
    if not user.active or user.totp_secret is None:
        audit(session, now=now, action="login_failed", user_id=user.id, detail="inactive account")
        return False
    if _lock_holds(user, now):
        audit(session, now=now, action="login_failed", user_id=user.id, detail="account locked")
        return False
    secret = vault.open(user.totp_secret, TOTP_PURPOSE).decode()
    if pyotp.TOTP(secret).verify("".join(code.split()), for_time=now, valid_window=1):
        return True
    record_failure(session, user, now=now, lockout=lockout, reason="wrong TOTP code")
    return False
