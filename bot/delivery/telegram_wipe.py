"""Wiping abandoned reports from Telegram chats: a report left half-way is ended by the purge,
with no message from the person that would set off the wipe, so the worker queues it."""

from __future__ import annotations

from datetime import datetime

from bot.delivery.senders import TelegramSender
from storage import conversations, outbox
from storage.binding import legacy_for
from storage.crypto import AlteredError


def wipe_abandoned(session, runtime, now: datetime) -> int:
    """Delete from the chat the messages of reports abandoned mid-way (their draft expires now);
    returns how many chats were queued for it."""
    count = 0
    for conversation, messages in conversations.abandoned_chats(session, now, runtime.context.timeout):
        sealed = next((m for m in messages if m.recipient is not None), None)
        outbox.cancel_sensitive(session, conversation.id, now)
        doomed = conversations.take_messages_to_wipe(session, conversation, now)
        if sealed is None or not doomed:
            continue
        try:
            chat_id = runtime.vault.open(sealed.recipient, conversations.CHAT_PURPOSE,
                                         conversations.chat_row(sealed.conversation_id, sealed.message_id),
                                         legacy=legacy_for(sealed, "chat_messages")).decode()
        except AlteredError:
            continue  # another chat's id: nothing is deleted there (logged as its kind)
        outbox.enqueue(session, runtime.vault, dedupe_key=f"tg:abandoned:{conversation.id}:{int(now.timestamp())}",
                       channel=TelegramSender.channel, purpose="wipe", recipient=chat_id,
                       payload={"delete": doomed}, now=now, ordering_key=conversation.sender_key,
                       conversation_id=conversation.id)
        count += 1
    return count
