"""Rotating the data key: every value sealed with it opened with the old key and sealed again with
a new one, in one transaction (all or nothing), through the vault's own `open` and `seal`.

`SEALED` names every column the data key protects, with the purpose it is sealed for; the test
beside it fails when a table gains a binary column that is in neither `SEALED` nor `NOT_DATA_KEY`,
so that a new sealed column cannot be forgotten by the rotation.

A value that already opens with the new key is left as it is: a rotation whose transaction
committed but whose key files were not yet swapped (a crash in between) is finished by running it
again with the same new key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.binding import legacy_allowed
from storage.crypto import DecryptionError, Vault
from storage.resealing import DATA_KEY_COLUMNS, SealedColumn

# (model, column, purpose) of every value sealed with the data key: storage.resealing's list, the
# one place that also says what each value is bound to.
SEALED = tuple((sealed.model, sealed.column, sealed.purpose) for sealed in DATA_KEY_COLUMNS)

# Binary columns the data key does not protect, and what does.
NOT_DATA_KEY = {
    "organisations.public_key": "public",
    "organisations.recovery_wrap": "the organisation's recovery key (offline, on paper)",
    "users.public_key": "public",
    "users.wrapped_private_key": "the user's password (Argon2id)",
    "key_grants.sealed_key": "the user's private key",
    "portal_sessions.unlocked_key": "a key held only in the user's cookie",
    "reports.content": "the report key",
    "reports.receipt_wrap": "the receipt",
    "referrals.sealed_key": "the organisation's private key",
    "referral_events.note": "the organisation's private key",
    "reporter_messages.body": "the report key or the organisation's private key",
    "media_items.body": "the item's own key, inside the report's content",
    "inbound_messages.digest": "a keyed digest (SECRET_KEY), not encrypted",
    "api_tokens.token_digest": "a keyed digest (SECRET_KEY)",
    "audit_log.chain": "an HMAC (SECRET_KEY)",
    "audit_head.chain": "an HMAC (SECRET_KEY)",
    "registrations.number_digest": "a keyed digest (SECRET_KEY)",
    "reports.receipt_salt": "not secret: the report's own salt for its receipt's derivation",
    "login_failures.digest": "a keyed digest (SECRET_KEY)",
    "audit_head.anchor_chain": "an HMAC (SECRET_KEY)",
    "audit_head.anchor_mac": "an HMAC (SECRET_KEY)",
    "registrations.dob_check": "a keyed, slow digest (SECRET_KEY)",
    "registrations.row_digest": "a keyed digest (SECRET_KEY)",
    "identity_attempts.digest": "a keyed digest (SECRET_KEY)",
    "one_time_codes.code_digest": "a keyed digest (SECRET_KEY)",
}

BATCH = 500


class RotationError(Exception):
    """A sealed value opens with neither key: the rotation is rolled back, nothing changed."""


@dataclass
class Rotated:
    rewrapped: dict[str, int] = field(default_factory=dict)  # "table.column" -> values sealed again
    already: int = 0  # values that opened with the new key already (a rotation being finished)

    @property
    def total(self) -> int:
        return sum(self.rewrapped.values())


def count_sealed(session: Session) -> int:
    """How many sealed values there are (for a progress bar)."""
    return sum(session.execute(select(func.count()).select_from(sealed.model).where(
        getattr(sealed.model, sealed.column).is_not(None))).scalar_one() for sealed in DATA_KEY_COLUMNS)


def _rows(session: Session, sealed: SealedColumn):
    """The rows holding a value of `sealed`, in batches of BATCH, by id."""
    attribute, after = getattr(sealed.model, sealed.column), 0
    while True:
        rows = session.execute(select(sealed.model).where(attribute.is_not(None), sealed.model.id > after)
                               .order_by(sealed.model.id).limit(BATCH)).scalars().all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _open(session: Session, vault: Vault, sealed: SealedColumn, row) -> bytes:
    return vault.open(bytes(getattr(row, sealed.column)), sealed.purpose, sealed.row(row),
                      legacy=legacy_allowed(session, sealed.model.__tablename__, row.id))


def rotate(session: Session, old: Vault, new: Vault, progress: Callable[[int], None] = lambda n: None) -> Rotated:
    """Seal every data-key value again with `new`, bound to its row as before (in the caller's
    transaction; never commits). A value the old key does not open but the new one does was
    rotated by a run that committed before its key files were swapped, and is left as it is."""
    result = Rotated()
    for sealed in DATA_KEY_COLUMNS:
        result.rewrapped[sealed.name] = 0
        for rows in _rows(session, sealed):
            for row in rows:
                try:
                    plain = _open(session, old, sealed, row)
                except DecryptionError:
                    try:
                        _open(session, new, sealed, row)
                    except DecryptionError:
                        raise RotationError(f"a {sealed.name} value opens with neither the old nor the new "
                                            "data key") from None
                    result.already += 1
                    continue
                setattr(row, sealed.column, new.seal(plain, sealed.purpose, sealed.row(row)))
                result.rewrapped[sealed.name] += 1
            session.flush()
            progress(len(rows))
    return result


def opens_with(session: Session, vault: Vault) -> tuple[int, int]:
    """(values `vault` opens as their row's, values it does not), over every sealed column."""
    opened = failed = 0
    for sealed in DATA_KEY_COLUMNS:
        for rows in _rows(session, sealed):
            for row in rows:
                try:
                    _open(session, vault, sealed, row)
                    opened += 1
                except DecryptionError:
                    failed += 1
    return opened, failed
