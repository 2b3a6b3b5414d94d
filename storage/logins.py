"""Checking portal logins: the password, the TOTP code (single-use), setting TOTP up at a first
login, and the lockout after repeated failures.

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

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import accounts, totp
from storage.audit_log import audit
from storage.crypto import Vault
from storage.models import KeyGrant, User
from storage.totp import TOTP_PURPOSE  # noqa: F401 (where callers have always found it)

# What a code step can come to.
ACCEPTED = "accepted"
WRONG = "wrong"  # not the code of now (counted towards the lockout)
USED = "used"  # the right code, but used already: a replay, or the same code typed twice
REFUSED = "refused"  # the account cannot log in now (locked, disabled, TOTP changed meanwhile)


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


def _may_try_code(session: Session, user: User, now: datetime) -> bool:
    """Lock the account's row and say whether a code may be tried for it now (audited if not)."""
    session.refresh(user, with_for_update=True)
    if not user.active:
        audit(session, now=now, action="login_failed", user_id=user.id, detail="inactive account")
        return False
    if _lock_holds(user, now):
        audit(session, now=now, action="login_failed", user_id=user.id, detail="account locked")
        return False
    return True


def _judge(session: Session, user: User, secret: str, code: str, *, now: datetime, lockout: Lockout,
           what: str) -> str:
    """ACCEPTED (and the step remembered), USED or WRONG for a code against `secret`."""
    step = totp.matching_step(secret, code, now)
    if step is None:
        record_failure(session, user, now=now, lockout=lockout, reason=f"wrong {what}")
        return WRONG
    if user.totp_last_step is not None and step <= user.totp_last_step:
        # Not a guess (the code was right once), so not counted: the owner typing the code they
        # just used must not lock themselves out. Audited, as a replay would be.
        audit(session, now=now, action="login_failed", user_id=user.id, detail=f"{what} used already")
        return USED
    user.totp_last_step = step
    return ACCEPTED


def check_totp(session: Session, user: User, code: str, *, vault: Vault, now: datetime,
               lockout: Lockout) -> str:
    """Whether `code` is a code of the account's authenticator that was not used before (one
    step either side of now allowed for clock drift): ACCEPTED, WRONG, USED or REFUSED. Wrong
    codes count towards the same lockout as wrong passwords."""
    if not _may_try_code(session, user, now):
        return REFUSED
    if user.totp_secret is None:  # reset while this login waited for its code
        audit(session, now=now, action="login_failed", user_id=user.id, detail="TOTP was reset")
        return REFUSED
    return _judge(session, user, totp.secret_of(user, vault), code, now=now, lockout=lockout, what="TOTP code")


def enrol_totp(session: Session, user: User, secret: str, code: str, *, vault: Vault, now: datetime,
               lockout: Lockout) -> str:
    """A first login sets TOTP up: `secret` (shown to the user) becomes the account's once they
    type a code from it. REFUSED if the account got a secret meanwhile (another login finished
    setting it up first: this one must start again and use that one)."""
    if not _may_try_code(session, user, now):
        return REFUSED
    if user.totp_secret is not None:
        audit(session, now=now, action="login_failed", user_id=user.id, detail="TOTP set up meanwhile")
        return REFUSED
    outcome = _judge(session, user, secret, code, now=now, lockout=lockout, what="TOTP set-up code")
    if outcome == ACCEPTED:
        step = user.totp_last_step
        totp.store(user, vault, secret)
        user.totp_last_step = step
    return outcome
