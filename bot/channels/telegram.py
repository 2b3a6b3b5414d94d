"""Telegram channel: `POST /webhooks/telegram`, and the update handling that polling shares.

Updates are parsed with python-telegram-bot's `Update.de_json`. Only private chats hold
conversations; a group gets one polite line and nothing is stored. Replies, button answers and
deletions all go through the outbox (so an outage of the Bot API delays them and loses none) and
are delivered at once after the commit when the API answers.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Blueprint, jsonify, request
from telegram import Update

from bot.channels import media
from bot.channels.inbox import Handled, button_tag, receive
from bot.channels.layout import split_body
from bot.delivery.senders import PermanentError, TransientError
from bot.delivery.worker import deliver_after_commit
from bot.http import describe, json_body, problem
from bot.runtime import current_runtime
from config import Settings
from i18n.text import N_, Text
from intake.messages import Inbound
from storage import conversations, outbox

log = logging.getLogger(__name__)

bp = Blueprint("telegram", __name__)
CHANNEL = "telegram"
MAX_TEXT = 4096  # Telegram's limit for one message
# Commands people type out of habit; they map to the keyword that does what they expect.
COMMANDS = {"/start": "help", "/help": "help", "/menu": "menu", "/language": "language", "/exit": "exit"}
# Message kinds that carry something other than text. Voice notes, audio and photos (also sent as
# a file) are fetched and sealed where the conversation takes them (bot.channels.media); nothing
# of the others is downloaded or kept.
MEDIA = ("photo", "voice", "audio", "video", "video_note", "animation", "document", "sticker",
         "location", "venue", "contact", "poll", "dice")
# Photos sent as a file (uncompressed, with all their metadata) are taken as photos.
PHOTO_FILE_TYPES = ("image/jpeg", "image/png", "image/webp")  # what Pillow decodes as shipped


def configured(settings: Settings) -> bool:
    return bool(settings.telegram_bot_token and settings.telegram_webhook_secret)


@bp.post("/webhooks/telegram")
def webhook():
    runtime = current_runtime()
    settings = runtime.settings
    if not configured(settings):
        return problem(503, "Telegram is not configured on this server "
                            "(TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are needed)")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), settings.telegram_webhook_secret.encode()):
        return problem(403, "missing or wrong X-Telegram-Bot-Api-Secret-Token")
    # Past the secret, an update we cannot read is an ignored 200: Telegram retries
    # anything else, and an update it keeps retrying would hold up the ones behind it. A bug of
    # ours is a 500 from the app's error policy, so Telegram does try again (a retried update that
    # was handled already is recognised and not answered twice).
    data = json_body()
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int) \
            or not 0 <= data["update_id"] < 2 ** 53:
        return jsonify({"ok": False, "ignored": "not a Telegram Update (a JSON object with an update_id)"})
    update = read_update(data)
    if update is None:
        return jsonify({"ok": False, "ignored": "the update could not be read"})
    process_update(runtime, update)
    return jsonify({"ok": True})


def read_update(data: dict) -> Update | None:
    """The Update, or None when the parts we act on are not what the Bot API sends (a forged or
    garbled body): past this point a failure is a bug, not bad input."""
    try:
        update = Update.de_json(data, None)
    except (TypeError, ValueError, LookupError, AttributeError, ArithmeticError, RecursionError) as error:
        log.warning("update %s ignored: %s", data["update_id"], describe(error))
        return None
    message, query = update.message, update.callback_query
    if message is not None and (message.chat is None or not isinstance(message.chat.id, int)):
        return None
    if query is not None and not isinstance(query.id, str):
        return None
    return update


def process_update(runtime, update: Update) -> None:
    """Handle one update in its own transaction; what it queued is sent once that committed."""
    if update.callback_query is not None:
        _button(runtime, update)
        return
    message = update.message
    if message is None:
        return  # edited messages, channel posts, member updates, polls: nothing to do
    if message.chat.type != "private":
        _decline_group(runtime, message)
        return
    text = message.text if isinstance(message.text, str) else ""
    command = text.split(maxsplit=1)[0].split("@")[0].lower() if text.startswith("/") else None
    if command in COMMANDS:
        text = COMMANDS[command]
    collected = media.Collected()
    if message.text is None:
        text = message.caption if isinstance(message.caption, str) else ""
        sender_key = runtime.vault.sender_key(CHANNEL, str(message.chat.id))
        collected = media.collect(runtime, CHANNEL, sender_key, _offered(runtime.settings, message))
    inbound = _inbound(runtime, message.chat.id, text, update.update_id, collected.media)

    def queue(session, handled: Handled) -> list[int]:
        return _after(session, runtime, handled, message.chat.id, message.message_id)

    receive(runtime, inbound, address=str(message.chat.id), then=queue, sealed_media=collected.sealed)


def _offered(settings: Settings, message) -> list[media.Offered]:
    """The media items of a message, each with how to fetch it if it is a kind we take."""
    offered = []
    if message.voice:
        offered.append(media.Offered("voice", media.audio_type(message.voice.mime_type) or "audio/ogg",
                                     message.voice.file_size, media.telegram_file(settings, message.voice.file_id)))
    if message.audio:
        kind = media.audio_type(message.audio.mime_type)
        offered.append(media.Offered("audio", kind or "", message.audio.file_size,
                                     media.telegram_file(settings, message.audio.file_id) if kind else None))
    if message.photo:
        largest = message.photo[-1]  # Telegram sends every size it made, smallest first
        offered.append(media.Offered("photo", media.PHOTO_TYPE, largest.file_size,
                                     media.telegram_file(settings, largest.file_id)))
    document = message.document
    document_type = document.mime_type.lower() if document and isinstance(document.mime_type, str) else ""
    if document and (document_type in PHOTO_FILE_TYPES or media.audio_type(document.mime_type)):
        kind = "photo" if document_type in PHOTO_FILE_TYPES else "audio"
        offered.append(media.Offered(kind, media.audio_type(document.mime_type) or media.PHOTO_TYPE,
                                     document.file_size, media.telegram_file(settings, document.file_id)))
    if not offered:  # a sticker, a place, a video, a file of another kind: not taken
        offered = [media.Offered(kind, "", None) for kind in MEDIA if getattr(message, kind, None)]
    return offered


def _inbound(runtime, chat_id: int, text: str, update_id: int, items: tuple = ()) -> Inbound:
    # Telegram messages run to 4,096 characters: an account is not cut to the SMS limit (and what
    # is cut, never by Telegram's own, is said).
    limit = max(MAX_TEXT, runtime.settings.max_inbound_chars)
    return Inbound(channel=CHANNEL, sender_key=runtime.vault.sender_key(CHANNEL, str(chat_id)),
                   text=text[:limit], cut=max(0, len(text) - limit), received_at=runtime.clock(),
                   provider_id=str(update_id), media=items)


def _button(runtime, update: Update) -> None:
    query = update.callback_query
    chat = query.message.chat if query.message else None
    tag, _, number = (query.data if isinstance(query.data, str) else "").partition(":")
    if chat is None or chat.type != "private" or not number or not isinstance(chat.id, int):
        with runtime.transaction() as session:
            deliver_after_commit(session, runtime, [_enqueue_answer(session, runtime, query.id, None)])
        return
    inbound = _inbound(runtime, chat.id, number, update.update_id)

    def queue(session, handled: Handled) -> list[int]:
        notice = None
        if handled.stale:
            lang = _language(runtime, handled, query.from_user.language_code if query.from_user else None)
            notice = runtime.renderer.text(lang, Text(N_("That button is from an earlier question.")),
                                           zawgyi=getattr(handled.conversation, "encoding", None) == "zawgyi")
        return [_enqueue_answer(session, runtime, query.id, notice), *_after(session, runtime, handled, chat.id, None)]

    receive(runtime, inbound, address=str(chat.id), button=tag, then=queue)


def _enqueue_answer(session, runtime, query_id: str, notice: str | None) -> int:
    """Every button press is answered, or the person's app shows a spinner; returns the row id."""
    prefix = _dedupe_prefix()
    outbox.enqueue(session, runtime.vault, dedupe_key=f"{prefix}answer", channel=CHANNEL,
                   purpose="callback", recipient="-", payload={"callback_query_id": query_id, "text": notice},
                   now=runtime.clock())
    session.flush()
    return outbox.queued_ids(session, prefix)[0]


def _dedupe_prefix() -> str:
    """A random prefix for one update's outbox rows. Not the update id: a sent row must not name
    the update it answered (duplicates are recognised before anything is queued)."""
    return f"tg:{secrets.token_hex(8)}:"


def _language(runtime, handled: Handled | None, hint: str | None) -> str:
    conversation = handled.conversation if handled else None
    if conversation is not None and conversation.language in runtime.context.languages:
        return conversation.language
    # The Bot API sends a string; Update.de_json does not check types, so a forged one may not be.
    if isinstance(hint, str) and hint.split("-")[0] in runtime.context.languages:
        return hint.split("-")[0]
    return runtime.context.default_language


def _after(session, runtime, handled: Handled, chat_id: int, message_id: int | None) -> list[int]:
    """Remember sensitive messages, wipe when a sensitive flow ended, queue the replies."""
    conversation = handled.conversation
    now = runtime.clock()
    prefix = _dedupe_prefix()
    wipe_enabled = runtime.settings.telegram_wipe_messages
    if not handled.duplicate and not handled.stale:
        if wipe_enabled and handled.inbound_sensitive and message_id is not None:
            conversations.remember_message(session, conversation, str(message_id), from_bot=False, now=now,
                                           recipient=runtime.vault.seal(
                                               str(chat_id).encode(), conversations.CHAT_PURPOSE,
                                               conversations.chat_row(conversation.id, str(message_id))))
        if wipe_enabled and handled.wipe:
            outbox.cancel_sensitive(session, conversation.id, now)
            doomed = conversations.take_messages_to_wipe(session, conversation, now)
            if doomed:
                outbox.enqueue(session, runtime.vault, dedupe_key=f"{prefix}wipe", channel=CHANNEL,
                               purpose="wipe", recipient=str(chat_id), payload={"delete": doomed}, now=now,
                               ordering_key=conversation.sender_key, conversation_id=conversation.id)
        tag = button_tag(handled.position)
        for index, reply in enumerate(handled.replies):
            bodies = split_body("\n".join(reply.paragraphs), MAX_TEXT)
            for part, body in enumerate(bodies):
                last = part == len(bodies) - 1
                buttons = [[f"{reply.number(n)}. {label}", f"{tag}:{n}"] for n, label in reply.options] if last else []
                outbox.enqueue(session, runtime.vault, dedupe_key=f"{prefix}{index}:{part}",
                               channel=CHANNEL, purpose="reply", recipient=str(chat_id),
                               payload={"body": body, "buttons": buttons}, now=now,
                               ordering_key=conversation.sender_key, conversation_id=conversation.id,
                               sensitive=wipe_enabled and handled.replies_sensitive)
    session.flush()
    return outbox.queued_ids(session, prefix)


def _decline_group(runtime, message) -> None:
    """One polite line to a group or channel; nothing is stored, so it is sent directly (and a
    failure only logged)."""
    sender = runtime.senders.get(CHANNEL)
    if sender is None:
        return
    hint = message.from_user.language_code if message.from_user else None
    lang = _language(runtime, None, hint)
    text = runtime.renderer.text(lang, Text(N_("I only answer in a private chat. Please message me directly.")))
    try:
        sender.call("sendMessage", {"chat_id": message.chat.id, "text": text})
    except (TransientError, PermanentError) as error:
        log.warning("could not answer a group message: %s", error)
