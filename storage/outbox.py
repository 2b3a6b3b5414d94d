"""The outbox (ARCHITECTURE.md principle 5): messages written in the transaction that caused them,
claimed by a worker, delivered with retries, every attempt recorded.

Recipient and body are sealed, and wiped once the message is sent or given up, so a delivered
reply leaves no phone number behind. The one exception is a notification to staff that was given
up: its recipient is a focal point's address that the directory holds anyway, and its body says
only where to read a referral, so it is kept (sealed) for an operator to retry once the cause is
fixed (a relay refusing the sender, a provider down for longer than the retries last), until the
purge removes it with the other finished messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.binding import legacy_allowed
from storage.crypto import DecryptionError, Vault
from storage.db import insert_ignoring_duplicates
from storage.models import ChatMessage, DeliveryAttempt, OutboxMessage

RECIPIENT_PURPOSE = "outbox.recipient"
PAYLOAD_PURPOSE = "outbox.payload"
# Messages kept (sealed) when given up, so that an operator can retry them.
RETRYABLE_PURPOSES = ("notification",)


@dataclass(frozen=True)
class Delivery:
    """What a sender needs for one message, decrypted only in the worker's memory."""

    id: int
    channel: str
    recipient: str
    payload: dict
    attempts: int  # including this one


def enqueue(session: Session, vault: Vault, *, dedupe_key: str, channel: str, purpose: str,
            recipient: str, payload: dict, now: datetime, ordering_key: str | None = None,
            conversation_id: int | None = None, sensitive: bool = False) -> None:
    """Queue a message. Queuing the same `dedupe_key` again does nothing (idempotent).
    Messages sharing an `ordering_key` (one conversation's replies) leave in the order queued."""
    insert_ignoring_duplicates(
        session, OutboxMessage, dedupe_key=dedupe_key, channel=channel, purpose=purpose,
        recipient=vault.seal(recipient.encode(), RECIPIENT_PURPOSE, row_of(dedupe_key, channel, purpose)),
        payload=vault.seal_json(payload, PAYLOAD_PURPOSE, row_of(dedupe_key, channel, purpose)),
        status="pending", attempts=0, next_attempt_at=now, created_at=now, ordering_key=ordering_key,
        conversation_id=conversation_id, sensitive=sensitive)


def row_of(dedupe_key: str, channel: str, purpose: str) -> dict:
    """What a message's recipient and body are bound to: its dedupe key (unique, and known before
    the row is written, which an INSERT ignoring duplicates gives no id for), its channel and its
    purpose. Another row's recipient, or a message moved to another channel, does not open."""
    return {"dedupe_key": dedupe_key, "channel": channel, "purpose": purpose}


def open_row(session: Session, vault: Vault, row: OutboxMessage) -> tuple[str, dict]:
    """A message's recipient and body; AlteredError when either is not this row's."""
    bound = row_of(row.dedupe_key, row.channel, row.purpose)
    legacy = legacy_allowed(session, "outbox", row.id)
    return (vault.open(row.recipient, RECIPIENT_PURPOSE, bound, legacy=legacy).decode(),
            vault.open_json(row.payload, PAYLOAD_PURPOSE, bound, legacy=legacy))


def queued_ids(session: Session, dedupe_prefix: str) -> list[int]:
    """Ids of pending rows whose dedupe key starts with `dedupe_prefix` (to deliver them now)."""
    return list(session.execute(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key.startswith(dedupe_prefix, autoescape=True),
        OutboxMessage.status == "pending").order_by(OutboxMessage.id)).scalars())


def waiting_and_failed(session: Session) -> tuple[int, int]:
    """How many messages wait to leave (or are leaving), and how many failed for good."""
    count = select(func.count()).select_from(OutboxMessage)
    waiting = session.execute(count.where(OutboxMessage.status.in_(("pending", "sending")))).scalar_one()
    return waiting, session.execute(count.where(OutboxMessage.status == "failed")).scalar_one()


def claim_next(session: Session, vault: Vault, now: datetime, channels: set[str], lease: timedelta,
               ids: list[int] | None = None, skip: frozenset[int] | set[int] = frozenset(),
               ) -> Delivery | None:
    """Lease the next due message for the given channels to this worker (only one of `ids`, if
    given; none of `skip`), or return None when nothing is due.

    One message per lease, claimed right before it is sent: a lease taken for a whole batch runs
    out while the last rows still wait behind a slow provider, and another worker sends them too.
    A lease that runs out (the worker died mid-send) makes the message due again. Concurrent
    workers skip each other's rows (`SKIP LOCKED`; SQLite serialises the whole transaction). A
    message waits while an older one with the same ordering key is still unsent.
    """
    if not channels:
        return None
    earlier = aliased(OutboxMessage)
    head_of_line = ~exists().where(earlier.ordering_key == OutboxMessage.ordering_key,
                                   earlier.id < OutboxMessage.id,
                                   earlier.status.in_(("pending", "sending")))
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.channel.in_(sorted(channels)),
               or_(OutboxMessage.status == "pending",
                   (OutboxMessage.status == "sending") & (OutboxMessage.locked_until < now)),
               OutboxMessage.next_attempt_at <= now,
               or_(OutboxMessage.ordering_key.is_(None), head_of_line))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(of=OutboxMessage, skip_locked=True))
    if ids is not None:
        statement = statement.where(OutboxMessage.id.in_(ids))
    if skip:
        statement = statement.where(OutboxMessage.id.not_in(sorted(skip)))
    while (row := session.execute(statement).scalar()) is not None:
        try:
            recipient, payload = open_row(session, vault, row)
        except DecryptionError:
            # Another row's recipient or body, an edited channel or purpose, a replaced data key:
            # it is never sent (to anyone), and it must not block the rest of the queue. Logged as
            # its kind; flushed, so that the next look passes over it.
            row.status, row.locked_until = "failed", None
            row.last_error = "sealed recipient or body did not open: the stored record was altered (or the data key changed)"
            session.flush()
            continue
        if row.status == "sending":
            # Its lease ran out: the worker that held it stopped mid-send (killed, or hung) and
            # wrote nothing down. The provider may have the message already; this is written
            # down, so that a copy sent now is known for what it may be.
            session.add(DeliveryAttempt(outbox_id=row.id, attempted_at=now, outcome="interrupted",
                                        error="the worker stopped mid-send; the provider may have it",
                                        duration_ms=0))
        row.status = "sending"
        row.locked_until = now + lease
        row.attempts += 1
        return Delivery(row.id, row.channel, recipient, payload, row.attempts)
    return None


def record_attempt(session: Session, delivery_id: int, *, attempt: int, now: datetime, outcome: str,
                   duration_ms: int, error: str | None = None, provider_ref: str | None = None,
                   retry_at: datetime | None = None) -> None:
    """Write down attempt number `attempt` and move the message on: sent, retry later, or failed
    for good. An attempt whose lease was taken over by another worker is written down only."""
    row = session.get(OutboxMessage, delivery_id, with_for_update=True)
    session.add(DeliveryAttempt(outbox_id=delivery_id, attempted_at=now, outcome=outcome,
                                error=error, duration_ms=duration_ms))
    if row.status != "sending" or row.attempts != attempt:
        # This worker stalled past its lease and another claimed the message since: that claim
        # decides. Letting a late "retry" through would requeue a sent, wiped row, which no
        # worker could then decrypt.
        return
    row.locked_until = None
    row.last_error = error[:255] if error else None
    if outcome == "retry":
        row.status, row.next_attempt_at = "pending", retry_at
        return
    row.status = outcome  # sent or failed
    row.sent_at = now if outcome == "sent" else None
    row.provider_ref = provider_ref
    if outcome == "sent" or row.purpose not in RETRYABLE_PURPOSES:
        row.recipient = None
        row.payload = None
    if outcome == "sent" and row.sensitive and row.conversation_id and row.channel == "telegram" and provider_ref:
        session.add(ChatMessage(conversation_id=row.conversation_id, message_id=provider_ref, from_bot=True,
                                created_at=now))
    _unlink(row)


def _unlink(row: OutboxMessage) -> None:
    """A finished message no longer says whose conversation it belonged to: its time would
    otherwise tie a sender's pseudonym to the report notified at the same instant."""
    row.ordering_key = None
    row.conversation_id = None


def purge_finished(session: Session, now: datetime, retention: timedelta) -> int:
    """Delete sent, failed and cancelled messages (and their attempts) older than `retention`."""
    old = select(OutboxMessage.id).where(OutboxMessage.status.in_(("sent", "failed", "cancelled")),
                                         OutboxMessage.created_at < now - retention)
    session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.outbox_id.in_(old)))
    return session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(old))).rowcount


def cancel_sensitive(session: Session, conversation_id: int, now: datetime) -> int:
    """Drop a conversation's sensitive messages still waiting to leave (its flow has ended, and
    they would only be deleted again); returns how many."""
    rows = session.execute(select(OutboxMessage).where(
        OutboxMessage.conversation_id == conversation_id, OutboxMessage.sensitive.is_(True),
        OutboxMessage.status == "pending").with_for_update()).scalars().all()
    for row in rows:
        row.status, row.recipient, row.payload, row.last_error = "cancelled", None, None, "flow ended"
        _unlink(row)
    return len(rows)


# --- for operators: what failed, and trying it again ------------------------------------------

@dataclass(frozen=True)
class Failed:
    """A message given up, as an operator may see it: never its recipient or its content."""

    id: int
    channel: str
    purpose: str
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    retryable: bool  # its sealed recipient and body are still there


def _failed_rows():
    last_attempt = (select(func.max(DeliveryAttempt.attempted_at))
                    .where(DeliveryAttempt.outbox_id == OutboxMessage.id).scalar_subquery())
    return select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.purpose, OutboxMessage.attempts,
                  OutboxMessage.last_error, OutboxMessage.created_at, last_attempt,
                  OutboxMessage.payload.is_not(None)).where(OutboxMessage.status == "failed")


def failed(session: Session, *, limit: int = 200) -> list[Failed]:
    """The messages given up, newest first (at most `limit`)."""
    rows = session.execute(_failed_rows().order_by(OutboxMessage.id.desc()).limit(limit)).all()
    return [Failed(*row[:7], retryable=bool(row[7])) for row in rows]


def retry(session: Session, now: datetime, ids: list[int] | None = None) -> list[int]:
    """Queue failed messages again, with a fresh count of attempts (the worker's retries start
    over; the attempts made so far stay on record): those of `ids`, or every one that can be
    retried. Returns the ids queued; a message whose content was wiped cannot be, and is left."""
    statement = select(OutboxMessage).where(OutboxMessage.status == "failed", OutboxMessage.payload.is_not(None),
                                            OutboxMessage.recipient.is_not(None))
    if ids is not None:
        statement = statement.where(OutboxMessage.id.in_(ids))
    rows = session.execute(statement.order_by(OutboxMessage.id).with_for_update()).scalars().all()
    for row in rows:
        row.status, row.attempts, row.next_attempt_at, row.locked_until = "pending", 0, now, None
    return [row.id for row in rows]
