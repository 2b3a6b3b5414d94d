"""What "update my details" sets off: one-time codes sent by SMS, changes queued for a
caseworker (with the needs counted), and erasure. Inside the message's transaction."""

from __future__ import annotations

import logging
import secrets

from intake.effects import EraseRegistration, RequestChange, SendCode
from i18n.text import N_, Digits, Text
from storage import changes, outbox, registrations, self_service
from storage.models import Registration

log = logging.getLogger(__name__)

CODE_TEXT = Text(N_("{code} is your {service} code. It works once, for {minutes} minutes. Do not share it."))

# Where a change's old value is in the record (household changes and erasures change no field).
FIELD_OF = {"phone": "phone", "township": "township", "address": "address", "education": "education",
            "occupation": "occupation", "needs": "needs", "language": "language"}


def _active(work, registration_id: int) -> Registration | None:
    """The record, locked, if it can still be changed: another conversation of the same person
    may have erased it since this one proved it."""
    registration = work.session.get(Registration, registration_id, with_for_update=True)
    if registration is None or registration.status != "active" or registration.erased_at is not None:
        log.info("a change for a registration no longer active was dropped")
        return None
    return registration


def _language(work) -> str:
    return work.conversation.language or work.runtime.context.default_language


def send_code(work, effect: SendCode) -> list[int]:
    """Issue a code and queue it by SMS; returns the outbox id to send once committed."""
    runtime = work.runtime
    registration = _active(work, effect.registration_id)
    if registration is None:
        return []
    to = effect.to or registrations.open_details(runtime.vault, registration).get("phone")
    minutes = runtime.settings.one_time_code_minutes
    code = self_service.issue_code(work.session, runtime.vault, registration_id=registration.id,
                                   purpose=effect.purpose, sender_key=work.inbound.sender_key,
                                   now=work.inbound.received_at, minutes=minutes)
    body = runtime.renderer.text(_language(work), Text(CODE_TEXT.msgid, {
        "code": Digits(code), "service": runtime.settings.service_name, "minutes": Digits(str(minutes))}))
    prefix = f"code:{secrets.token_hex(8)}"
    outbox.enqueue(work.session, runtime.vault, dedupe_key=prefix, channel="sms", purpose="code", recipient=to,
                   payload={"body": body}, now=work.inbound.received_at)
    work.session.flush()
    return outbox.queued_ids(work.session, prefix)


def request_change(work, effect: RequestChange) -> None:
    runtime = work.runtime
    registration = _active(work, effect.registration_id)
    if registration is None:
        return
    details = registrations.open_details(runtime.vault, registration)
    field = FIELD_OF.get(effect.kind)
    changes.request_change(work.session, runtime.vault, registration, kind=effect.kind,
                           old_value=(details.get(field) or None) if field else None, new_value=effect.value,
                           channel=work.inbound.channel, language=_language(work),
                           reply_to=_reply_to(work, details), now=work.inbound.received_at)
    if effect.kind == "needs":
        changes.declare_needs(work.session, effect.value["codes"], township_pcode=registration.township_pcode,
                              now=work.inbound.received_at)


def _reply_to(work, details: dict) -> dict | None:
    """The outcome goes to the chat on Telegram, else by SMS to the number on record."""
    if work.inbound.channel == "telegram" and work.address:
        return {"channel": "telegram", "address": work.address}
    return {"channel": "sms", "address": details["phone"]} if details.get("phone") else None


def erase(work, effect: EraseRegistration) -> None:
    registration = _active(work, effect.registration_id)
    if registration is None:
        return
    self_service.erase(work.session, registration, work.inbound.received_at)
    changes.request_change(work.session, work.runtime.vault, registration, kind="erasure", old_value=None,
                           new_value=None, channel=work.inbound.channel, language=_language(work), reply_to=None,
                           now=work.inbound.received_at)
