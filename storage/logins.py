"""Checking portal logins: the password, the TOTP code (single-use), setting TOTP up at a first
login, and the growing wait after repeated failures from one address for one email.

A password check is an Argon2 verification (~0.1 s and 64 MiB), so it runs with no transaction
open: `read_credentials` copies what it needs in a short read, `password_matches` and
`open_organisation_key` work on that copy, and `conclude` takes the account's row lock only to
re-check and count. Held across the check, the lock would be SQLite's one write lock, and a
spray of wrong logins would keep every webhook waiting.

Whatever the reason a login fails (no such account, inactive, wrong password) the work
done is the same, one Argon2 verification, so neither the answer nor its timing tells an attacker
which emails have accounts. Every outcome is audited by user id and reason, never by email.
Functions take the session first and never commit.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import accounts, totp
from storage.audit_log import audit
from storage.crypto import Vault
from storage.db import insert_ignoring_duplicates
from storage.models import KeyGrant, LoginFailure, User
from storage.totp import TOTP_PURPOSE  # noqa: F401 (where callers have always found it)

# What a code step can come to.
ACCEPTED = "accepted"
WRONG = "wrong"  # not the code of now (counted towards the lockout)
USED = "used"  # the right code, but used already: a replay, or the same code typed twice
REFUSED = "refused"  # the account cannot log in now (disabled, TOTP changed meanwhile)
HELD = "held"  # not checked: this address must wait before its next try for this account


@dataclass(frozen=True)
class Lockout:
    """How failures from one address for one email hold that address back: the first `attempts`
    are free; from then on each failure makes the next try from there wait 2, 4, 8 ... seconds,
    `minutes` at most. The account itself is never locked: a person logging in from anywhere
    else is not held by what an attacker typed."""

    attempts: int
    minutes: int

    @classmethod
    def from_settings(cls, settings) -> "Lockout":
        return cls(settings.portal_lockout_attempts, settings.portal_lockout_minutes)

    def wait(self, failures: int) -> timedelta:
        """How long the next try waits after `failures` failures in a row."""
        if failures < self.attempts:
            return timedelta(0)
        doublings = min(failures - self.attempts + 1, 30)  # 2 ** 30 s is past any cap
        return min(timedelta(seconds=2 ** doublings), timedelta(minutes=self.minutes))


# A count with no failure for this long starts over (a held address has long been let go by then).
FORGET_AFTER = timedelta(days=1)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    # Made with the hasher in use, so verifying against it costs what a real account costs.
    return hasher.hash("no account has this password")


def address_group(address: str | None) -> str:
    """The client an address stands for, for the limits: an IPv4 address itself, an IPv6 one its
    /64 (one subscriber's whole network: every address in it is theirs to use)."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def failure_digest(vault: Vault, address: str | None, email: str) -> bytes:
    """The key of the failures from `address` (its group) for `email`, whether or not an account
    has that email: being held says nothing about which emails have accounts."""
    return vault.lookup_digest("login-failures", f"{address_group(address)}\x00{_normal_email(email)}")


def _wait_left(row: LoginFailure | None, now: datetime) -> int:
    if row is None or now - row.last_failed_at > FORGET_AFTER or row.held_until is None or row.held_until <= now:
        return 0
    return math.ceil((row.held_until - now).total_seconds())


def seconds_held(session: Session, digest: bytes, now: datetime, *, lock: bool = False) -> int:
    """Whole seconds the next try from this address for this email must still wait (0: none).
    With `lock`, read under the row's lock: a guess made in parallel with others that set a hold
    meanwhile is held too (even with the right password)."""
    statement = select(LoginFailure).where(LoginFailure.digest == digest)
    return _wait_left(session.execute(statement.with_for_update() if lock else statement).scalar(), now)


def record_failure(session: Session, digest: bytes, user: User | None, *, now: datetime, lockout: Lockout,
                   reason: str) -> int:
    """Count one failed attempt from this address for this email (audited by user id when the
    account exists); the seconds the next try from there must wait (0: none yet)."""
    insert_ignoring_duplicates(session, LoginFailure, digest=digest, failures=0, last_failed_at=now)
    row = session.execute(select(LoginFailure).where(LoginFailure.digest == digest).with_for_update()).scalar_one()
    if now - row.last_failed_at > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failed_at = now
    wait = lockout.wait(row.failures)
    row.held_until = now + wait if wait else None
    audit(session, now=now, action="login_failed", user_id=user.id if user else None, detail=reason)
    if wait and user is not None and row.failures == lockout.attempts:
        audit(session, now=now, action="login_held", user_id=user.id,
              detail=f"{row.failures} failed attempts from one address: it waits before each further try")
    return math.ceil(wait.total_seconds())


def clear_failures(session: Session, digest: bytes) -> None:
    """A complete login from this address: its count for this email starts over."""
    session.execute(delete(LoginFailure).where(LoginFailure.digest == digest))


def purge_failures(session: Session, now: datetime) -> int:
    """Delete the counts nobody added to for FORGET_AFTER; how many."""
    return session.execute(delete(LoginFailure).where(LoginFailure.last_failed_at < now - FORGET_AFTER)).rowcount


def record_success(user: User, now: datetime) -> None:
    """A complete login (password and, where the account has one, TOTP)."""
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


def conclude(session: Session, credentials: Credentials, correct: bool, digest: bytes, *, now: datetime,
             lockout: Lockout) -> tuple[User | None, int]:
    """Decide the login whose password was checked: (the account, 0) if it may log in now, else
    (None, the seconds the next try from this address for this email must wait). The rows are
    locked (the account's, then the count's), so parallel guesses are counted one by one, and a
    hold set while this password was being checked holds it too (even the right password). Every
    refusal but a changed account counts, an unknown email's too (no telling which exist)."""
    user = None if credentials.user_id is None else session.get(User, credentials.user_id, with_for_update=True)
    held = seconds_held(session, digest, now, lock=True)
    if held:
        audit(session, now=now, action="login_failed", user_id=user.id if user else None,
              detail="held: this address waits before its next try")
        return None, held
    if user is None:
        return None, record_failure(session, digest, None, now=now, lockout=lockout, reason="unknown account")
    if user.password_hash != credentials.password_hash:
        # It changed while the password was checked: refuse, count nothing.
        audit(session, now=now, action="login_failed", user_id=user.id, detail="account changed during login")
        return None, 0
    if not user.active:
        return None, record_failure(session, digest, user, now=now, lockout=lockout, reason="inactive account")
    if not correct:
        return None, record_failure(session, digest, user, now=now, lockout=lockout, reason="wrong password")
    return user, 0


def _may_try_code(session: Session, user: User, digest: bytes, now: datetime) -> str | None:
    """Lock the account's row and say whether a code may be tried for it now from this address:
    None if it may, else REFUSED or HELD (audited)."""
    session.refresh(user, with_for_update=True)
    if not user.active:
        audit(session, now=now, action="login_failed", user_id=user.id, detail="inactive account")
        return REFUSED
    if seconds_held(session, digest, now, lock=True):
        audit(session, now=now, action="login_failed", user_id=user.id,
              detail="held: this address waits before its next try")
        return HELD
    return None


def _judge(session: Session, user: User, secret: str, code: str, digest: bytes, *, now: datetime,
           lockout: Lockout, what: str) -> str:
    """ACCEPTED (and the step remembered), USED or WRONG for a code against `secret`."""
    step = totp.matching_step(secret, code, now)
    if step is None:
        record_failure(session, digest, user, now=now, lockout=lockout, reason=f"wrong {what}")
        return WRONG
    if user.totp_last_step is not None and step <= user.totp_last_step:
        # Not a guess (the code was right once), so not counted: the owner typing the code they
        # just used must not hold themselves back. Audited, as a replay would be.
        audit(session, now=now, action="login_failed", user_id=user.id, detail=f"{what} used already")
        return USED
    user.totp_last_step = step
    return ACCEPTED


def check_totp(session: Session, user: User, code: str, digest: bytes, *, vault: Vault, now: datetime,
               lockout: Lockout) -> str:
    """Whether `code` is a code of the account's authenticator that was not used before (one
    step either side of now allowed for clock drift): ACCEPTED, WRONG, USED, HELD or REFUSED.
    Wrong codes count with the wrong passwords from the same address (`digest`)."""
    refused = _may_try_code(session, user, digest, now)
    if refused:
        return refused
    if user.totp_secret is None:  # reset while this login waited for its code
        audit(session, now=now, action="login_failed", user_id=user.id, detail="TOTP was reset")
        return REFUSED
    return _judge(session, user, totp.secret_of(user, vault), code, digest, now=now, lockout=lockout,
                  what="TOTP code")


def enrol_totp(session: Session, user: User, secret: str, code: str, digest: bytes, *, vault: Vault,
               now: datetime, lockout: Lockout) -> str:
    """A first login sets TOTP up: `secret` (shown to the user) becomes the account's once they
    type a code from it. REFUSED if the account got a secret meanwhile (another login finished
    setting it up first: this one must start again and use that one)."""
    refused = _may_try_code(session, user, digest, now)
    if refused:
        return refused
    if user.totp_secret is not None:
        audit(session, now=now, action="login_failed", user_id=user.id, detail="TOTP set up meanwhile")
        return REFUSED
    outcome = _judge(session, user, secret, code, digest, now=now, lockout=lockout, what="TOTP set-up code")
    if outcome == ACCEPTED:
        step = user.totp_last_step
        totp.store(user, vault, secret)
        user.totp_last_step = step
    return outcome
