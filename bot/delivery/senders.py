"""Senders deliver one outbox message each over a provider: SMTP e-mail, Twilio SMS, Telegram.

A sender returns the provider's reference or raises `TransientError` (try again later) or
`PermanentError` (this message can never go). Error texts name the failure, never the recipient
or the content, because they are stored and logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import httpx

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from config import Settings

PROVIDER_TIMEOUT_SECONDS = 20
SMTP_LOGIN_CODES = (530, 535)  # authentication required; credentials invalid (RFC 4954)
MESSAGE_ID_DOMAIN = "intake.local"  # when SMTP_FROM names no domain

# twilio's HTTP client logs every request at INFO; ours must not reach a handler.
_twilio_http_log = logging.getLogger("intake.twilio_http")
_twilio_http_log.setLevel(logging.WARNING)
# httpx logs every request URL at INFO, and a Bot API URL contains the bot token.
logging.getLogger("httpx").setLevel(logging.WARNING)


class TransientError(Exception):
    """The provider may accept the message later (outage, rate limit, timeout). `retry_after`
    is the provider's own minimum wait in seconds, when it gave one (Telegram's 429)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """The provider will never accept this message (invalid address, refused content)."""


class SmtpSender:
    """E-mail through the configured SMTP relay. The Message-ID is derived from the outbox id
    alone, so a message sent twice (after a crash mid-send, or a lease that ran out) is
    recognisably the same message to the relay and the mail client."""

    channel = "email"

    def __init__(self, settings: Settings):
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.sender = settings.smtp_from
        self.starttls = settings.smtp_starttls
        _, at, domain = parseaddr(self.sender)[1].rpartition("@")
        self.domain = domain if at and domain else MESSAGE_ID_DOMAIN

    def message_id(self, outbox_id: int) -> str:
        """The Message-ID of outbox message `outbox_id`: the same on every attempt, so no time,
        process id or random part (as `email.utils.make_msgid` would add)."""
        return f"<outbox-{outbox_id}@{self.domain}>"

    def send(self, outbox_id: int, recipient: str, payload: dict) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = payload["subject"]
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = self.message_id(outbox_id)
        message.set_content(payload["body"])
        try:
            with smtplib.SMTP(self.host, self.port, timeout=PROVIDER_TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _ in error.recipients.values()})
            raise (PermanentError if all(c >= 500 for c in codes) else TransientError)(
                f"smtp recipient refused {codes}") from None
        except smtplib.SMTPResponseException as error:
            # 530/535 (login needed or refused) are our configuration, which an operator can fix:
            # retry, as for Twilio's 401/403, rather than drop every queued e-mail.
            permanent = error.smtp_code >= 500 and error.smtp_code not in SMTP_LOGIN_CODES
            raise (PermanentError if permanent else TransientError)(f"smtp {error.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise TransientError(f"smtp {type(error).__name__}") from None
        return message["Message-ID"]


class TwilioSender:
    """SMS (and WhatsApp) through Twilio's REST API."""

    channels = ("sms", "whatsapp")

    def __init__(self, settings: Settings):
        self.from_number = settings.twilio_from_number
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                             http_client=TwilioHttpClient(timeout=PROVIDER_TIMEOUT_SECONDS,
                                                          logger=_twilio_http_log))
        if settings.twilio_api_base_url:
            self.client.api.base_url = settings.twilio_api_base_url.rstrip("/")

    def send(self, outbox_id: int, recipient: str, payload: dict) -> str:
        sender = f"whatsapp:{self.from_number}" if recipient.startswith("whatsapp:") else self.from_number
        try:
            message = self.client.messages.create(to=recipient, from_=sender, body=payload["body"])
        except TwilioRestException as error:
            # 429 and 5xx pass; 401/403 are our configuration, which an operator can fix: retry.
            transient = error.status in (401, 403, 429) or error.status >= 500
            raise (TransientError if transient else PermanentError)(
                f"twilio {error.status} code {error.code}") from None
        except Exception as error:  # connection refused, timeout, bad gateway body...
            raise TransientError(f"twilio {type(error).__name__}") from None
        return message.sid


class TelegramSender:
    """Telegram through the Bot API, with one long-lived HTTP client per process (plain HTTPS,
    synchronous: the worker is a thread, and python-telegram-bot's asyncio client cannot be
    shared across WSGI requests without losing replies silently).

    Payloads: {"body", "buttons"?: [[label, callback_data], ...]} sends a message (buttons as an
    inline keyboard); {"delete": [message ids]} deletes messages from the chat;
    {"callback_query_id", "text"?} answers a button press."""

    channel = "telegram"

    def __init__(self, settings: Settings):
        self.base = f"{settings.telegram_api_base_url}/bot{settings.telegram_bot_token}"
        self.client = httpx.Client(timeout=PROVIDER_TIMEOUT_SECONDS)

    def call(self, method: str, params: dict, timeout: float | None = None) -> object:
        """One Bot API call; returns its result or raises TransientError / PermanentError."""
        try:
            response = self.client.post(f"{self.base}/{method}", json=params,
                                        timeout=timeout or PROVIDER_TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise TransientError(f"telegram {type(error).__name__}") from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and data.get("ok"):
            return data["result"]
        code = data.get("error_code", response.status_code)
        if code == 429:
            retry_after = (data.get("parameters") or {}).get("retry_after")
            raise TransientError(f"telegram {method} 429", retry_after=float(retry_after) if retry_after else None)
        # 400 (chat not found, message too old to delete) and 403 (the person blocked the bot) are
        # final; 401 is our token, which an operator can fix, and 5xx pass.
        if code in (400, 403):
            raise PermanentError(f"telegram {method} {code}")
        raise TransientError(f"telegram {method} {code}")

    def send(self, outbox_id: int, recipient: str, payload: dict) -> str:
        if "delete" in payload:
            ids = [int(message_id) for message_id in payload["delete"]]
            for start in range(0, len(ids), 100):  # deleteMessages takes at most 100 ids
                self.call("deleteMessages", {"chat_id": recipient, "message_ids": ids[start:start + 100]})
            return f"deleted {len(ids)}"
        if "callback_query_id" in payload:
            params = {"callback_query_id": payload["callback_query_id"]}
            if payload.get("text"):
                params["text"] = payload["text"]
            self.call("answerCallbackQuery", params)
            return "answered"
        params = {"chat_id": recipient, "text": payload["body"]}
        if payload.get("buttons"):
            params["reply_markup"] = {"inline_keyboard": [[{"text": label, "callback_data": data}]
                                                          for label, data in payload["buttons"]]}
        return str(self.call("sendMessage", params)["message_id"])


def configured_senders(settings: Settings) -> dict:
    """Channel -> sender, for each provider the configuration makes usable. Messages for a
    channel with no sender stay queued until one is configured."""
    senders = {}
    if settings.smtp_host:
        senders["email"] = SmtpSender(settings)
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
        twilio = TwilioSender(settings)
        for channel in TwilioSender.channels:
            senders[channel] = twilio
    if settings.telegram_bot_token:
        senders["telegram"] = TelegramSender(settings)
    return senders
