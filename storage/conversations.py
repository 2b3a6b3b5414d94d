"""Conversation rows: lock one sender's conversation, load and save its sealed state, remember
which provider message ids were handled. Functions take the session first and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake.state import State
from storage.binding import legacy_for
from storage.crypto import AlteredError, Vault
from storage.db import insert_ignoring_duplicates
from storage.models import ChatMessage, Conversation, InboundMessage

STATE_PURPOSE = "conversations.state"
REPLY_PURPOSE = "inbound_messages.reply"


def lock_conversation(session: Session, channel: str, sender_key: str, now: datetime) -> Conversation:
    """The conversation of (channel, sender), created if new, locked until the transaction ends.

    Row lock on PostgreSQL (`FOR UPDATE`); on SQLite the transaction already holds the database
    write lock (`BEGIN IMMEDIATE`, see storage.db). Either way, two messages from one sender are
    processed one after the other. A new conversation records only the day it began: a first
    message minutes before a report would otherwise date that report's sender. (The purge may
    delete an idle row between the insert and the lock: then it is made again.)
    """
    statement = (select(Conversation)
                 .where(Conversation.channel == channel, Conversation.sender_key == sender_key)
                 .with_for_update()
                 .execution_options(populate_existing=True))
    for _ in range(2):
        insert_ignoring_duplicates(session, Conversation, channel=channel, sender_key=sender_key,
                                   turns=0, created_at=now.replace(hour=0, minute=0, second=0, microsecond=0))
        conversation = session.execute(statement).scalar_one_or_none()
        if conversation is not None:
            return conversation
    return session.execute(statement).scalar_one()


def load_state(vault: Vault, conversation: Conversation) -> State:
    """The engine state of a conversation (a fresh one, in the remembered language, if none)."""
    if conversation.state is not None:
        try:
            return State.from_json(vault.open_json(conversation.state, STATE_PURPOSE, state_row(conversation),
                                                   legacy=legacy_for(conversation, "conversations")))
        except AlteredError:
            # Another conversation's state, or this one's moved: never used (logged as its kind).
            # The person starts afresh rather than continue someone else's draft.
            pass
    return State(lang=conversation.language, encoding=conversation.encoding,
                 encoding_chosen=bool(conversation.encoding_chosen))


def state_row(conversation: Conversation) -> dict:
    """What a conversation's state is bound to: the row (its id exists before any state: the
    conversation is inserted first) and whose it is (channel and sender pseudonym)."""
    return {"id": conversation.id, "channel": conversation.channel, "sender_key": conversation.sender_key}


def reply_row(digest: bytes, conversation_id: int | None) -> dict:
    """What a handled message's stored answer is bound to: its digest (unique, known before the
    row is written) and its conversation."""
    return {"digest": digest.hex(), "conversation_id": conversation_id}


def chat_row(conversation_id: int, message_id: str) -> dict:
    """What a chat message's sealed chat id is bound to: its conversation and message."""
    return {"conversation_id": conversation_id, "message_id": message_id}


def save_state(vault: Vault, conversation: Conversation, state: State) -> None:
    """Store the engine state sealed; a closed conversation keeps only its language and encoding
    (not even when it was last active, which would line up with the time of the report it sent)."""
    conversation.language = state.lang
    conversation.encoding, conversation.encoding_chosen = state.encoding, state.encoding_chosen
    closed = state.position is None
    conversation.last_active_at = None if closed else state.last_active
    conversation.state = None if closed else vault.seal_json(state.to_json(), STATE_PURPOSE, state_row(conversation))


def find_handled(session: Session, vault: Vault, channel: str, provider_id: str) -> InboundMessage | None:
    """The record of a provider message id already processed, if any."""
    return session.execute(select(InboundMessage).where(
        InboundMessage.digest == vault.provider_digest(channel, provider_id))).scalar_one_or_none()


def record_handled(session: Session, vault: Vault, conversation: Conversation, provider_id: str,
                   now: datetime, replies: list, *, unlinked: bool = False) -> None:
    """Remember that `provider_id` was processed. Ordinary messages keep, for a provider's quick
    retry, their conversation, time and sealed answer; an `unlinked` one (it ended a sensitive
    flow: its answer may be a receipt, its time is the report's) keeps only the digest and day."""
    digest = vault.provider_digest(conversation.channel, provider_id)
    session.add(InboundMessage(digest=digest, seen_on=now.date(),
                               conversation_id=None if unlinked else conversation.id,
                               received_at=None if unlinked else now,
                               reply=None if unlinked else vault.seal_json(replies, REPLY_PURPOSE,
                                                                           reply_row(digest, conversation.id))))


def stored_replies(vault: Vault, handled: InboundMessage, conversation: Conversation) -> list:
    """The replies given the first time a message was handled: [] once erased, and [] to any
    other conversation (a provider id is never shared between senders; a copy from elsewhere
    is a replay, and gets nothing of someone else's)."""
    if handled.reply is None or handled.conversation_id != conversation.id:
        return []
    try:
        return vault.open_json(handled.reply, REPLY_PURPOSE, reply_row(handled.digest, handled.conversation_id),
                               legacy=legacy_for(handled, "inbound_messages"))
    except AlteredError:
        return []  # another message's answer: never repeated (logged as its kind)


def erase_conversation(session: Session, conversation: Conversation) -> None:
    """Quick exit: drop the state and every stored answer that could echo the conversation."""
    conversation.state = None
    unlink_handled(session, conversation)


def unlink_handled(session: Session, conversation: Conversation) -> None:
    """Cut this conversation's handled messages loose: no answer (it may hold a review summary,
    which with the server's secrets would tell what was reported), no time, no conversation.
    Their digests stay, so a retry or replay is still recognised."""
    session.execute(update(InboundMessage)
                    .where(InboundMessage.conversation_id == conversation.id)
                    .values(reply=None, received_at=None, conversation_id=None))


# Telegram lets a bot delete messages in a private chat for 48 hours; keep a margin.
DELETABLE_FOR = timedelta(hours=47)


CHAT_PURPOSE = "chat_messages.recipient"


def remember_message(session: Session, conversation: Conversation, message_id: str, *, from_bot: bool,
                     now: datetime, recipient: bytes | None = None) -> None:
    """Note a chat message of a sensitive flow, to delete it from the chat when the flow ends;
    `recipient` is the chat, sealed with CHAT_PURPOSE for `chat_row(conversation.id, message_id)`."""
    session.add(ChatMessage(conversation_id=conversation.id, message_id=message_id, from_bot=from_bot,
                            created_at=now, recipient=recipient))


def abandoned_chats(session: Session, now: datetime, draft_timeout: timedelta) -> list[tuple[Conversation, list[ChatMessage]]]:
    """Conversations whose draft is about to expire and that still have chat messages to wipe."""
    rows = session.execute(select(Conversation, ChatMessage)
                           .join(ChatMessage, ChatMessage.conversation_id == Conversation.id)
                           .where(Conversation.state.is_not(None),
                                  Conversation.last_active_at < now - draft_timeout)
                           .order_by(Conversation.id, ChatMessage.id)).all()
    grouped: dict[int, tuple[Conversation, list[ChatMessage]]] = {}
    for conversation, message in rows:
        grouped.setdefault(conversation.id, (conversation, []))[1].append(message)
    return list(grouped.values())


def take_messages_to_wipe(session: Session, conversation: Conversation, now: datetime) -> list[str]:
    """The chat message ids still deletable for this conversation; forgets all of them."""
    rows = session.execute(select(ChatMessage).where(ChatMessage.conversation_id == conversation.id)
                           .order_by(ChatMessage.id)).scalars().all()
    ids = [row.message_id for row in rows if row.created_at > now - DELETABLE_FOR]
    session.execute(delete(ChatMessage).where(ChatMessage.conversation_id == conversation.id))
    return ids


def purge(session: Session, now: datetime, draft_timeout: timedelta,
          reply_retention: timedelta, replay_window: timedelta) -> dict[str, int]:
    """Delete what has outlived its purpose: unfinished conversations silent for longer than
    `draft_timeout`; the answers kept for a provider's retry, with their link and time, after
    `reply_retention` (providers retry within minutes); the digests of handled messages after
    `replay_window` (a captured request replayed within it is recognised); chat message ids too
    old to delete. Returns how many rows each rule touched."""
    drafts = session.execute(update(Conversation)
                             .where(Conversation.state.is_not(None),
                                    Conversation.last_active_at < now - draft_timeout)
                             .values(state=None, last_active_at=None)).rowcount
    replies = session.execute(update(InboundMessage)
                              .where(InboundMessage.received_at < now - reply_retention)
                              .values(reply=None, received_at=None, conversation_id=None)).rowcount
    handled = session.execute(delete(InboundMessage)
                              .where(InboundMessage.seen_on < (now - replay_window).date())).rowcount
    # Past 48 hours Telegram refuses the deletion, so the ids serve nothing any more.
    undeletable = session.execute(delete(ChatMessage).where(ChatMessage.created_at < now - DELETABLE_FOR)).rowcount
    return {"expired_conversations": drafts, "stored_replies": replies, "handled_messages": handled,
            "undeletable_chat_messages": undeletable}


def peek_state(session: Session, vault: Vault, channel: str, sender_key: str) -> State | None:
    """The saved state of (channel, sender) without locking or creating anything, for a look
    before the unit of work (whether a message's media are worth fetching); None if none is open."""
    conversation = session.execute(select(Conversation).where(Conversation.channel == channel,
                                                              Conversation.sender_key == sender_key)).scalar_one_or_none()
    if conversation is None or conversation.state is None:
        return None
    return load_state(vault, conversation)
