"""Checking portal logins: the password, the TOTP code, and the lockout after repeated failures.

A password check is an Argon2 verification (~0.1 s and 64 MiB), so it runs with no transaction
open: `read_credentials` copies what it needs in a short read, `password_matches` and
`open_organisation_key` work on that copy, and `conclude` takes the account's row lock only to
re-check and count. Held across the check, the lock would be SQLite's one write lock, and a
spray of wrong logins would keep every webhook waiting.

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
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import accounts
from storage.audit_log import audit
from storage.crypto import Vault
from storage.models import KeyGrant, User

# The Vault purpose of User.totp_secret (the base32 secret an authenticator app is given).
TOTP_PURPOSE = "users.totp_secret"


@dataclass(frozen=True)
class Lockout:
    """How many consecutive failures lock an account, and for how long."""

    attempts: int
    minutes: int

    @classmethod
    def from_settings(cls, settings) -> "Lockout":
        return cls(settings.portal_lockout_attempts, settings.portal_lockout_minutes)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Made with the hasher in use, so verifying against it costs what a real account costs.
    return hasher.hash("no account has this password")


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


@dataclass(frozen=True)
class Credentials:
    """What a password check needs, copied out of the database (nothing here opens anything
    without the password). `user_id` is None when no account has the email."""

    user_id: int | None
    role: str | None = None
    password_hash: str | None = None
    wrapped_private_key: bytes | None = None
    sealed_grant: bytes | None = None  # the organisation key sealed to the user, if granted


def _normal_email(email: str) -> str:
    return "".join(char for char in email if char.isprintable()).strip().lower()  # no NUL to the database


def read_credentials(session: Session, email: str) -> Credentials:
    """The account's credentials, read without locking anything."""
    user = session.execute(select(User).where(User.email == _normal_email(email))).scalar_one_or_none()
    if user is None:
        return Credentials(None)
    grant = session.execute(select(KeyGrant.sealed_key).where(
        KeyGrant.user_id == user.id, KeyGrant.organisation_id == user.organisation_id)).scalar_one_or_none()
    return Credentials(user.id, user.role, user.password_hash, user.wrapped_private_key, grant)


def password_matches(credentials: Credentials, password: str) -> bool:
    """One Argon2 verification whatever the account (a dummy one when there is none)."""
    if credentials.password_hash is None:
        accounts.verify_password_hash(_dummy_hash(accounts.password_hasher), password)  # same cost, no account
        return False
    return accounts.verify_password_hash(credentials.password_hash, password)


def open_organisation_key(credentials: Credentials, password: str) -> bytes | None:
    """The organisation's private key, opened with a verified password; None without a grant."""
    if credentials.sealed_grant is None or credentials.wrapped_private_key is None:
        return None
    return accounts.open_grant(credentials.wrapped_private_key, credentials.sealed_grant, password)


def conclude(session: Session, credentials: Credentials, correct: bool, *, now: datetime,
             lockout: Lockout) -> User | None:
    """Decide the login whose password was checked: the account if it may log in now, else None.
    The row is locked, so parallel guesses are counted one by one, and a lock taken while this
    password was being checked still holds (even for the right password)."""
    user = None if credentials.user_id is None else session.get(User, credentials.user_id, with_for_update=True)
    if user is None or user.password_hash != credentials.password_hash:
        # No account, or it changed while the password was checked: refuse, count nothing.
        audit(session, now=now, action="login_failed", user_id=user.id if user else None,
              detail="unknown account" if user is None else "account changed during login")
        return None
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
