"""Organisations' keys and portal accounts: creating them, granting an organisation's key to its
users, and unlocking it at login. Functions take the session first and never commit.

Who holds an organisation's private key:
* each of its users, as a grant sealed to that user's own public key (the user's private key is
  wrapped under their password), and
* the recovery wrap, under a recovery key shown once when the organisation is created.
A new user gets a grant only from someone who already holds the key, on purpose: the operator
with the recovery key (`flask users create --recovery-key-stdin` or `flask users grant`), or a
colleague whose portal session has the key open (`grant_from_colleague`, which re-seals it to the
newcomer in that session, so the recovery key stays in the safe). Never automatically, so an
account slipped into the database receives nothing.

A reset (a forgotten password) gives the account a new key pair: the old private key was wrapped
under the lost password and cannot be opened, so its grants are deleted and must be given again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage import argon2id, sealing
from storage.addresses import NotAnAddress, email_address
from storage.models import KeyGrant, Organisation, PortalSession, User

ROLES = ("focal_point", "coordinator", "caseworker", "admin")
# Roles whose work needs the organisation's key (to read referrals).
KEY_HOLDING_ROLES = ("focal_point", "coordinator")
MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase; a megabyte "password" would only be a way to burn CPU.
MAX_PASSWORD_LENGTH = 1024

# No 0/O or 1/l/I: generated passwords are read off a screen or a terminal and typed.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 the letters passwords are drawn from, not one

# argon2-cffi's defaults are RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes).
password_hasher = PasswordHasher()


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


class WeakPassword(AccountError):
    """A password the strength check refuses; `rule` names which rule (short, long, email,
    one_character), so that a page can say it in its own language."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


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


def check_password_strength(password: str, *, email: str | None = None) -> None:
    """Refuse passwords that are easy to guess or to try: too short, the login itself, one
    character over and over. Length is what makes a passphrase strong; no rules about kinds of
    characters, which only make passwords harder to remember (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword("short", f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword("long", f"the password must be at most {MAX_PASSWORD_LENGTH} characters")
    if email is not None and email.strip().casefold() in password.casefold():
        raise WeakPassword("email", "the password must not contain the account's e-mail address")
    if len(set(password.casefold())) == 1:
        raise WeakPassword("one_character", "the password must not be one character repeated")


def new_password() -> str:
    """A random password like "k7qm-x3vd-9pwe-tn4h" (80 bits), for a new or reset account."""
    return "-".join("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))


def login_email(email: str) -> str:
    """An e-mail address as a login: checked to be an address (mail can reach it), lower case."""
    try:
        return email_address(email).lower()
    except NotAnAddress as error:
        raise AccountError(str(error)) from None


def create_user(session: Session, *, email: str, role: str, password: str, now: datetime,
                organisation: Organisation | None = None) -> User:
    """A portal account with its own key pair (private half wrapped under the password)."""
    email = login_email(email)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role in KEY_HOLDING_ROLES and organisation is None:
        raise AccountError(f"a {role} belongs to an organisation (--org)")
    if role == "coordinator" and not organisation.is_network:
        raise AccountError("coordinators belong to the PSEA Network organisation")
    check_password_strength(password, email=email)
    if session.execute(select(User.id).where(User.email == email)).first():
        raise AccountError(f"an account for {email} exists already")
    private_key, public_key = sealing.new_key_pair()
    user = User(email=email, role=role, organisation_id=organisation.id if organisation else None,
                password_hash=password_hasher.hash(password), public_key=public_key,
                wrapped_private_key=sealing.wrap_with_password(private_key, password),
                active=True, created_at=now)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User | None:
    """The account with this email (compared as stored: trimmed, lower case)."""
    return session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()


def find_user_by_id(session: Session, user_id: int, *, lock: bool = False) -> User | None:
    """The account with this id (its row locked until the transaction ends, if asked)."""
    return session.get(User, user_id, with_for_update=lock)


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


def rewrapped(wrapped_private_key: bytes, old_password: str, new_password: str) -> tuple[bytes, str]:
    """(the private key wrapped under `new_password`, the new password's hash): slow work with
    no database in it, for a caller to do before it opens a transaction. SealError when
    `old_password` does not open the key."""
    private_key = sealing.unwrap(wrapped_private_key, old_password)
    return sealing.wrap_with_password(private_key, new_password), password_hasher.hash(new_password)


def change_password(user: User, old_password: str, new_password: str) -> None:
    """Re-wrap the user's private key under a new password (grants stay valid). SealError when
    `old_password` does not open the key."""
    check_password_strength(new_password, email=user.email)
    user.wrapped_private_key, user.password_hash = rewrapped(user.wrapped_private_key, old_password, new_password)


# --- the accounts' life: listing, disabling, resetting, sessions -------------------------------

@dataclass(frozen=True)
class Account:
    """One account as the operator's list shows it."""

    user: User
    organisation: str | None  # the acronym
    holds_key: bool  # holds its own organisation's key

    @property
    def needs_key(self) -> bool:
        """A key-holding role that cannot read its organisation's referrals yet."""
        return self.user.role in KEY_HOLDING_ROLES and not self.holds_key


def list_accounts(session: Session) -> list[Account]:
    """Every account, by organisation (accounts of none first), role and e-mail address."""
    granted = select(KeyGrant.id).where(KeyGrant.user_id == User.id,
                                        KeyGrant.organisation_id == User.organisation_id).exists()
    rows = session.execute(select(User, Organisation.acronym, granted)
                           .outerjoin(Organisation, Organisation.id == User.organisation_id)
                           .order_by(Organisation.acronym.is_not(None), func.lower(Organisation.acronym),
                                     User.role, User.email)).all()
    return [Account(user, acronym, bool(holds)) for user, acronym, holds in rows]


def end_sessions(session: Session, user: User, *, keep: str | None = None) -> int:
    """End the user's portal sessions (and logins waiting for a code), all but the one whose row
    id is `keep`; returns how many ended."""
    statement = delete(PortalSession).where(PortalSession.user_id == user.id)
    if keep is not None:
        statement = statement.where(PortalSession.id != keep)
    return session.execute(statement).rowcount


def set_active(session: Session, user: User, active: bool) -> bool:
    """Enable or disable an account; a disabled one is logged out everywhere at once. True if
    this changed anything."""
    if user.active == active:
        return False
    user.active = active
    if not active:
        end_sessions(session, user)
    return True


def reset(session: Session, user: User, password: str) -> int:
    """A forgotten password: a new password and a new key pair, TOTP to be set up again at the
    next login, every session ended. The old private key was wrapped under the
    lost password, so the grants sealed to it are useless: they are deleted, and their count
    returned (someone who holds the key must give it again)."""
    check_password_strength(password, email=user.email)
    private_key, public_key = sealing.new_key_pair()
    user.public_key = public_key
    user.wrapped_private_key = sealing.wrap_with_password(private_key, password)
    user.password_hash = password_hasher.hash(password)
    user.totp_secret, user.totp_last_step = None, None
    end_sessions(session, user)
    return session.execute(delete(KeyGrant).where(KeyGrant.user_id == user.id)).rowcount


def colleagues(session: Session, user: User) -> list[Account]:
    """The other active accounts of `user`'s organisation that can hold its key, with whether
    they do."""
    if user.organisation_id is None:
        return []
    return [account for account in list_accounts(session)
            if account.user.organisation_id == user.organisation_id and account.user.id != user.id
            and account.user.active and account.user.role in KEY_HOLDING_ROLES]


def grant_from_colleague(session: Session, giver: User, newcomer: User, org_private_key: bytes,
                         now: datetime) -> None:
    """Give `newcomer` the organisation's key that `giver`'s session has open: sealed to the
    newcomer's public key, as the recovery key would, without it. Refused (AccountError) unless
    both are active key-holding accounts of the same organisation and the key is really that
    organisation's."""
    if newcomer.id == giver.id or newcomer.organisation_id != giver.organisation_id or giver.organisation_id is None:
        raise AccountError("only a colleague of the same organisation can be given its key")
    if not newcomer.active or newcomer.role not in KEY_HOLDING_ROLES:
        raise AccountError(f"only active {' and '.join(KEY_HOLDING_ROLES)} accounts hold an organisation's key")
    organisation = session.get(Organisation, giver.organisation_id)
    if sealing.public_key_of(org_private_key) != organisation.public_key:
        raise AccountError(f"the key in this session is not {organisation.acronym}'s")
    if has_grant(session, newcomer, organisation):
        raise AccountError(f"{newcomer.email} already holds {organisation.acronym}'s key")
    grant(session, organisation, newcomer, org_private_key, now)
