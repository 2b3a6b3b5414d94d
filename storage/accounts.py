"""Organisations' keys and portal accounts: creating them, granting an organisation's key to its
users, and unlocking it at login. Functions take the session first and never commit.

Who holds an organisation's private key:
* each of its users, as a grant sealed to that user's own public key (the user's private key is
  wrapped under their password), and
* the recovery wrap, under a recovery key shown once when the organisation is created.
A new user gets a grant only from the recovery key, through the operator (`flask users create
--recovery-key-stdin` or `flask users grant`): never automatically, so an account slipped into the
database receives nothing.
"""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import argon2id, sealing
from storage.models import KeyGrant, Organisation, User

ROLES = ("focal_point", "coordinator", "caseworker", "admin")
# Roles whose work needs the organisation's key (to read referrals).
KEY_HOLDING_ROLES = ("focal_point", "coordinator")
MIN_PASSWORD_LENGTH = 12

# argon2-cffi's defaults are RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes).
password_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


def create_organisation(session: Session, *, name: str, acronym: str, aliases: str = "",
                        is_network: bool = False, now: datetime) -> tuple[Organisation, str]:
    """A new organisation with a fresh key pair. Returns it and its recovery key, which is not
    stored anywhere: the caller must show it once to the operator."""
    private_key, public_key = sealing.new_key_pair()
    recovery_key = sealing.new_recovery_key()
    organisation = Organisation(name=name, acronym=acronym, aliases=aliases, is_network=is_network,
                                public_key=public_key,
                                recovery_wrap=sealing.wrap_with_recovery_key(private_key, recovery_key),
                                created_at=now)
    session.add(organisation)
    session.flush()
    return organisation, recovery_key


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")


def create_user(session: Session, *, email: str, role: str, password: str, now: datetime,
                organisation: Organisation | None = None) -> User:
    """A portal account with its own key pair (private half wrapped under the password)."""
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role in KEY_HOLDING_ROLES and organisation is None:
        raise AccountError(f"a {role} belongs to an organisation (--org)")
    if role == "coordinator" and not organisation.is_network:
        raise AccountError("coordinators belong to the PSEA Network organisation")
    check_password_strength(password)
    if session.execute(select(User.id).where(User.email == email)).first():
        raise AccountError(f"an account for {email} exists already")
    private_key, public_key = sealing.new_key_pair()
    user = User(email=email, role=role, organisation_id=organisation.id if organisation else None,
                password_hash=password_hasher.hash(password), public_key=public_key,
                wrapped_private_key=sealing.wrap_with_password(private_key, password),
                failed_logins=0, active=True, created_at=now)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User | None:
    """The account with this email (compared as stored: trimmed, lower case)."""
    return session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()


def has_grant(session: Session, user: User, organisation: Organisation) -> bool:
    """True when `user` already holds `organisation`'s key."""
    return session.execute(select(KeyGrant.id).where(KeyGrant.organisation_id == organisation.id,
                                                     KeyGrant.user_id == user.id)).first() is not None


def grant(session: Session, organisation: Organisation, user: User, org_private_key: bytes,
          now: datetime) -> None:
    """Give `user` the organisation's key (idempotent)."""
    if not has_grant(session, user, organisation):
        session.add(KeyGrant(organisation_id=organisation.id, user_id=user.id,
                             sealed_key=sealing.seal_to(user.public_key, org_private_key), created_at=now))


def grant_with_recovery_key(session: Session, organisation: Organisation, user: User,
                            recovery_key: str, now: datetime) -> None:
    """Give `user` the organisation's key using the recovery key (SealError if it is wrong)."""
    grant(session, organisation, user, sealing.unwrap(organisation.recovery_wrap, recovery_key), now)


def verify_password_hash(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash (constant-time, via argon2)."""
    try:
        with argon2id.slot():
            return password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def open_grant(wrapped_private_key: bytes, sealed_grant: bytes, password: str) -> bytes:
    """An organisation's private key from a user's grant, with the (verified) password."""
    return sealing.open_sealed(sealing.unwrap(wrapped_private_key, password), sealed_grant)


def change_password(user: User, old_password: str, new_password: str) -> None:
    """Re-wrap the user's private key under a new password (grants stay valid)."""
    check_password_strength(new_password)
    private_key = sealing.unwrap(user.wrapped_private_key, old_password)
    user.wrapped_private_key = sealing.wrap_with_password(private_key, new_password)
    user.password_hash = password_hasher.hash(new_password)
