"""Resealing what the data key protects: every such value opened as its row's and sealed again,
bound to its row (`storage.binding`). Used by `flask --app app reseal` after migration 0018
(values of the old format become row-bound, and the old format stops opening anywhere), and
meant for data-key rotation too: open with the old key's vault, seal with the new one's.

What only an organisation can open (report content, report keys, notes, messages) is not here:
the server cannot open it. Functions take the session first and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import change_review, changes, conversations, outbox, registrations, totp
from storage.binding import legacy_allowed
from storage.crypto import DecryptionError, Vault
from storage.models import (
    ChatMessage, Conversation, InboundMessage, LegacySeal, OutboxMessage, Registration, RegistrationChange,
    RegistrationHistory, User,
)


@dataclass(frozen=True)
class SealedColumn:
    """One column the data key seals: its model, attribute, Vault purpose and row binding."""

    model: type
    column: str
    purpose: str
    row: Callable[[object], dict]

    @property
    def name(self) -> str:
        return f"{self.model.__tablename__}.{self.column}"


# Every column sealed with the data key, and what each is bound to (see the modules named).
DATA_KEY_COLUMNS = (
    SealedColumn(Conversation, "state", conversations.STATE_PURPOSE, conversations.state_row),
    SealedColumn(InboundMessage, "reply", conversations.REPLY_PURPOSE,
                 lambda row: conversations.reply_row(row.digest, row.conversation_id)),
    SealedColumn(OutboxMessage, "recipient", outbox.RECIPIENT_PURPOSE,
                 lambda row: outbox.row_of(row.dedupe_key, row.channel, row.purpose)),
    SealedColumn(OutboxMessage, "payload", outbox.PAYLOAD_PURPOSE,
                 lambda row: outbox.row_of(row.dedupe_key, row.channel, row.purpose)),
    SealedColumn(ChatMessage, "recipient", conversations.CHAT_PURPOSE,
                 lambda row: conversations.chat_row(row.conversation_id, row.message_id)),
    SealedColumn(Registration, "number", registrations.NUMBER_PURPOSE,
                 lambda row: registrations.record_row(row.number_digest)),
    SealedColumn(Registration, "details", registrations.DETAILS_PURPOSE,
                 lambda row: registrations.record_row(row.number_digest)),
    SealedColumn(RegistrationChange, "old_value", changes.VALUE_PURPOSE,
                 lambda row: changes.change_row(row, "old_value")),
    SealedColumn(RegistrationChange, "new_value", changes.VALUE_PURPOSE,
                 lambda row: changes.change_row(row, "new_value")),
    SealedColumn(RegistrationChange, "reply_to", changes.REPLY_PURPOSE,
                 lambda row: changes.change_row(row, "reply_to")),
    SealedColumn(RegistrationChange, "reason", change_review.REASON_PURPOSE,
                 lambda row: changes.change_row(row, "reason")),
    SealedColumn(RegistrationHistory, "old_value", changes.VALUE_PURPOSE,
                 lambda row: changes.history_row(row, "old_value")),
    SealedColumn(RegistrationHistory, "new_value", changes.VALUE_PURPOSE,
                 lambda row: changes.history_row(row, "new_value")),
    SealedColumn(User, "totp_secret", totp.TOTP_PURPOSE, lambda row: {"id": row.id}),
)
_BATCH = 500


@dataclass
class Resealed:
    """What a reseal did, per column ("outbox.recipient"): values resealed, and values that did
    not open as their row's (left as they are: they are refused wherever they are read)."""

    resealed: dict[str, int]
    refused: dict[str, int]


def reseal(session: Session, opener: Vault, sealer: Vault | None = None) -> Resealed:
    """Reseal every value the data key protects, bound to its row. With `sealer` (another data
    key's vault: rotation), every value is opened with `opener` and sealed with `sealer`; without,
    only values of the old format are rewritten. Either way the old format then opens nowhere
    among these tables (their `legacy_seals` rows are deleted)."""
    done = Resealed({}, {})
    for sealed in DATA_KEY_COLUMNS:
        table = sealed.model.__tablename__
        resealed = refused = 0
        last = 0
        attribute = getattr(sealed.model, sealed.column)
        while True:
            rows = session.execute(select(sealed.model).where(attribute.is_not(None), sealed.model.id > last)
                                   .order_by(sealed.model.id).limit(_BATCH)).scalars().all()
            if not rows:
                break
            for row in rows:
                last = row.id
                blob = getattr(row, sealed.column)
                if sealer is None and Vault.is_current(blob):
                    continue
                try:
                    plain = opener.open(blob, sealed.purpose, sealed.row(row),
                                        legacy=legacy_allowed(session, table, row.id))
                except DecryptionError:
                    refused += 1
                    continue
                setattr(row, sealed.column, (sealer or opener).seal(plain, sealed.purpose, sealed.row(row)))
                resealed += 1
            session.flush()
        done.resealed[sealed.name], done.refused[sealed.name] = resealed, refused
    tables = sorted({sealed.model.__tablename__ for sealed in DATA_KEY_COLUMNS})
    session.execute(delete(LegacySeal).where(LegacySeal.table_name.in_(tables)))
    session.flush()
    return done
