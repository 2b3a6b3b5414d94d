"""Twilio Messaging webhook (SMS, and WhatsApp senders `whatsapp:+…`): verify, parse, hand the
message to the inbox, answer with TwiML (or queue the replies when SMS_REPLY_MODE=outbox)."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl

from flask import Blueprint, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels import media
from bot.channels.inbox import receive
from bot.channels.layout import as_text, split_body
from bot.http import problem
from bot.runtime import current_runtime
from intake.messages import Inbound
from storage import outbox

bp = Blueprint("twilio", __name__)
# Twilio's ids are two letters and 32 hex digits; anything else (a NUL, a 10 kB string) is refused.
_MESSAGE_SID = re.compile(r"[A-Za-z0-9]{2,64}")
# Twilio carries at most 10 media items in one message (WhatsApp: one).
MAX_MEDIA_PER_MESSAGE = 10
# A WhatsApp message runs to 4,096 characters (an SMS through Twilio to 1,600): like Telegram's, an
# account written in one is kept whole, not cut to the SMS limit.
WHATSAPP_MAX_TEXT = 4096


def public_url(base_url: str) -> str:
    """The URL Twilio signed: the configured public base, this path, the raw query string."""
    query = request.query_string.decode("latin-1")
    return f"{base_url}{request.path}" + (f"?{query}" if query else "")


def parse_form(raw: bytes) -> dict[str, str]:
    """Strictly decode an x-www-form-urlencoded body; invalid UTF-8 raises UnicodeDecodeError."""
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict"))


@bp.post("/webhooks/twilio")
def webhook():
    runtime = current_runtime()
    settings = runtime.settings
    token = settings.twilio_auth_token
    if not token:
        return problem(503, "Twilio is not configured on this server (TWILIO_AUTH_TOKEN is unset)")
    try:
        params = parse_form(request.get_data(cache=True))
    except (UnicodeDecodeError, ValueError):
        return problem(400, "the request body is not valid UTF-8 form data")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(token).validate(public_url(settings.public_base_url),
                                                             params, signature):
        return problem(403, "missing or invalid X-Twilio-Signature")

    sender = params.get("From", "").strip()
    message_sid = params.get("MessageSid") or params.get("SmsMessageSid")
    if not sender:
        return problem(400, "the From parameter is missing")
    if not message_sid:
        return problem(400, "the MessageSid parameter is missing")
    if not _MESSAGE_SID.fullmatch(message_sid):
        return problem(400, "the MessageSid parameter is not a Twilio message id")
    channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
    sender_key = runtime.vault.sender_key(channel, sender)
    collected = media.collect(runtime, channel, sender_key, _offered(settings, params, channel))
    now = runtime.clock()
    body = params.get("Body", "")
    limit = settings.max_inbound_chars
    if channel == "whatsapp":
        limit = max(WHATSAPP_MAX_TEXT, limit)
    inbound = Inbound(channel=channel, sender_key=sender_key, text=body[:limit], cut=max(0, len(body) - limit),
                      received_at=now, provider_id=message_sid, media=collected.media)
    inline = settings.sms_reply_mode == "inline"

    def queue_replies(session, handled) -> list[int]:
        if inline or handled.duplicate:
            return []
        # A random tag, not the MessageSid: a sent row must not name the message it answered.
        prefix = f"reply:{channel}:{secrets.token_hex(8)}:"
        for number, body in enumerate(_bodies(handled)):
            outbox.enqueue(session, runtime.vault, dedupe_key=f"{prefix}{number}", channel=channel,
                           purpose="reply", recipient=sender, payload={"body": body}, now=now,
                           ordering_key=inbound.sender_key, conversation_id=handled.conversation.id)
        session.flush()
        return outbox.queued_ids(session, prefix)

    handled = receive(runtime, inbound, address=sender, then=queue_replies, sealed_media=collected.sealed)

    twiml = MessagingResponse()
    if inline:
        for body in _bodies(handled):
            twiml.message(body)
    return Response(str(twiml), mimetype="text/xml")


def _offered(settings, params: dict[str, str], channel: str) -> list[media.Offered]:
    """The message's media (MediaUrl0..N with MediaContentType0..N): on WhatsApp, voice notes,
    audio and photos are fetched where the conversation takes them; MMS on SMS is not taken."""
    try:
        count = min(max(0, int(params.get("NumMedia") or 0)), MAX_MEDIA_PER_MESSAGE)
    except ValueError:
        count = 0
    offered = []
    for number in range(count):
        content_type = params.get(f"MediaContentType{number}", "").split(";")[0].strip().lower()
        url = params.get(f"MediaUrl{number}", "")
        audio = media.audio_type(content_type)
        kind = "photo" if content_type.startswith("image/") else "voice" if audio else "file"
        if channel != "whatsapp":
            offered.append(media.Offered(kind, content_type, None, problem="text_only"))
            continue
        fetch = media.twilio_media(settings, url) if kind in ("photo", "voice") else None
        offered.append(media.Offered(kind, audio or content_type, None, fetch))
    return offered


def _bodies(handled) -> list[str]:
    return [body for reply in handled.replies for body in split_body(as_text(reply))]
