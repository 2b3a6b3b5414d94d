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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage import change_review, changes, conversations, outbox, registrations, totp
from storage.crypto import DecryptionError, Vault
from storage.models import (ChatMessage, Conversation, InboundMessage, OutboxMessage, Registration,
                            RegistrationChange, RegistrationHistory, User)

# (model, column, purpose) of every value sealed with the data key.
SEALED = (
    (Conversation, "state", conversations.STATE_PURPOSE),
    (InboundMessage, "reply", conversations.REPLY_PURPOSE),
    (OutboxMessage, "recipient", outbox.RECIPIENT_PURPOSE),
    (OutboxMessage, "payload", outbox.PAYLOAD_PURPOSE),
    (ChatMessage, "recipient", conversations.CHAT_PURPOSE),
    (User, "totp_secret", totp.TOTP_PURPOSE),
    (Registration, "number", registrations.NUMBER_PURPOSE),
    (Registration, "details", registrations.DETAILS_PURPOSE),
    (RegistrationChange, "old_value", changes.VALUE_PURPOSE),
    (RegistrationChange, "new_value", changes.VALUE_PURPOSE),
    (RegistrationChange, "reply_to", changes.REPLY_PURPOSE),
    (RegistrationChange, "reason", change_review.REASON_PURPOSE),
    (RegistrationHistory, "old_value", changes.VALUE_PURPOSE),
    (RegistrationHistory, "new_value", changes.VALUE_PURPOSE),
)

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
    return sum(session.execute(select(func.count()).select_from(model).where(getattr(model, name).is_not(None))
                               ).scalar_one() for model, name, _purpose in SEALED)


def reseal(old: Vault, new: Vault, blob: bytes, purpose: str) -> bytes | None:
    """`blob` sealed with the new key, or None when it is so already."""
    try:
        new.open(blob, purpose)
        return None
    except DecryptionError:
        pass
    try:
        return new.seal(old.open(blob, purpose), purpose)
    except DecryptionError:
        raise RotationError(f"a {purpose} value opens with neither the old nor the new data key") from None


def rotate(session: Session, old: Vault, new: Vault, progress: Callable[[int], None] = lambda n: None) -> Rotated:
    """Seal every value of `SEALED` again with `new` (in the caller's transaction; never commits)."""
    result = Rotated()
    for model, name, purpose in SEALED:
        column, key = getattr(model, name), f"{model.__tablename__}.{name}"
        result.rewrapped[key] = 0
        after = None
        while True:
            query = select(model.id, column).where(column.is_not(None)).order_by(model.id).limit(BATCH)
            if after is not None:
                query = query.where(model.id > after)
            rows = session.execute(query).all()
            if not rows:
                break
            changed = []
            for row_id, blob in rows:
                sealed = reseal(old, new, bytes(blob), purpose)
                if sealed is None:
                    result.already += 1
                else:
                    changed.append({"id": row_id, name: sealed})
            if changed:  # one executemany per batch (an UPDATE by primary key)
                session.execute(update(model), changed)
                result.rewrapped[key] += len(changed)
            after = rows[-1][0]
            progress(len(rows))
    return result


def opens_with(session: Session, vault: Vault) -> tuple[int, int]:
    """(values `vault` opens, values it does not), over every sealed column."""
    opened = failed = 0
    for model, name, purpose in SEALED:
        column = getattr(model, name)
        for (blob,) in session.execute(select(column).where(column.is_not(None))):
            try:
                vault.open(bytes(blob), purpose)
                opened += 1
            except DecryptionError:
                failed += 1
    return opened, failed
