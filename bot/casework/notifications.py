"""Neutral notifications to focal points and coordinators, written to the outbox.

They carry no content: the organisation, the case reference, urgency, the deadline and a portal
link. Each goes to every way the directory lists for that person (e-mail, SMS, Telegram), in the
first language they read that the service ships.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from i18n.numbers import format_datetime
from i18n.text import N_, Text
from intake.routing import DirectoryContact
from storage import outbox


def _language(runtime, contact: DirectoryContact) -> str:
    for code in contact.languages:
        if code in runtime.catalogs.shipped:
            return code
    return "en"


def _when(runtime, moment: datetime, lang: str) -> str:
    zone = runtime.settings.timezone
    return f"{format_datetime(lang, moment.astimezone(ZoneInfo(zone)))} ({zone})"


def _yes_no(flag: bool) -> Text:
    return Text(N_("Yes")) if flag else Text(N_("No"))


def enqueue_for(session: Session, runtime, contact: DirectoryContact, *, key: str, subject: Text,
                body: Text, short: Text, now: datetime) -> int:
    """Queue one message per channel the contact can be reached on; returns how many."""
    lang = _language(runtime, contact)
    render = runtime.renderer.text
    channels = [("email", contact.email, {"subject": render(lang, subject), "body": render(lang, body)}),
                ("sms", contact.phone, {"body": render(lang, short)}),
                ("telegram", contact.telegram_chat_id, {"body": render(lang, short)})]
    count = 0
    for channel, address, payload in channels:
        if address:
            outbox.enqueue(session, runtime.vault, dedupe_key=f"{key}:{contact.id}:{channel}", channel=channel,
                           purpose="notification", recipient=address, payload=payload, now=now)
            count += 1
    return count


def referral_link(runtime, case_ref: str) -> str:
    return f"{runtime.settings.public_base_url}/portal/referrals/{case_ref}"


def dashboard_link(runtime) -> str:
    return f"{runtime.settings.public_base_url}/portal/dashboard"


def _params(runtime, organisation: str, case_ref: str, **more) -> dict:
    """What every notification names: the service, the organisation, the case reference."""
    return {"service": runtime.settings.service_name, "organisation": organisation, "case_ref": case_ref, **more}


def notify_referral(session: Session, runtime, contacts, *, organisation: str, case_ref: str,
                    urgent: bool, deadline: datetime, now: datetime) -> int:
    """Tell the receiving focal points (or coordinators) that a referral waits for them."""
    count = 0
    for contact in contacts:
        lang = _language(runtime, contact)
        params = _params(runtime, organisation, case_ref, urgent=_yes_no(urgent),
                         deadline=_when(runtime, deadline, lang), link=referral_link(runtime, case_ref))
        count += enqueue_for(
            session, runtime, contact, key=f"referral:{case_ref}", now=now,
            subject=Text(N_("[{service}] New referral {case_ref}"), params),
            body=Text(N_("A new referral for {organisation} is waiting in the portal.\n"
                         "Case reference: {case_ref}\nUrgent: {urgent}\nPlease acknowledge it by {deadline}.\n"
                         "{link}\n\nThis message does not contain the report: read it in the portal."), params),
            short=Text(N_("{service}: new referral {case_ref} for {organisation}. Urgent: {urgent}. "
                          "Acknowledge by {deadline}. {link}"), params))
    return count


def notify_summary(session: Session, runtime, coordinators, *, organisation: str, case_ref: str, month: str,
                   place: str | None, child: Text, now: datetime) -> int:
    """The non-identifying summary every report sends the coordinators: what and when, no account.
    It is sent as the report is filed, so its status is "received", said with the time it was
    so (the dashboard has the status as it is now)."""
    count = 0
    for contact in coordinators:
        # Translators: the status of a referral in a summary e-mail, as it was when the e-mail was written.
        status = Text(N_("Received, at {when}"), {"when": _when(runtime, now, _language(runtime, contact))})
        params = _params(runtime, organisation, case_ref, month=month, place=place or Text(N_("Not given")),
                         child=child, status=status, link=dashboard_link(runtime))
        count += enqueue_for(
            session, runtime, contact, key=f"summary:{case_ref}", now=now,
            subject=Text(N_("[{service}] Report summary {case_ref}"), params),
            body=Text(N_("A report was received and referred to {organisation}.\nCase reference: {case_ref}\n"
                         "Month: {month}\nPlace: {place}\nChild involved: {child}\nStatus: {status}\n{link}"),
                      params),
            short=Text(N_("{service}: report {case_ref} referred to {organisation}, {month}, {place}. "
                          "Child involved: {child}."), params))
    return count


def notify_escalation(session: Session, runtime, coordinators, *, organisation: str, case_ref: str,
                      deadline: datetime, round_: int, now: datetime) -> int:
    """Tell the coordinators that a referral was not acknowledged in time (again each day)."""
    count = 0
    for contact in coordinators:
        lang = _language(runtime, contact)
        params = _params(runtime, organisation, case_ref, deadline=_when(runtime, deadline, lang),
                         link=dashboard_link(runtime))
        count += enqueue_for(
            session, runtime, contact, key=f"escalation:{case_ref}:{round_}", now=now,
            subject=Text(N_("[{service}] Overdue referral {case_ref}"), params),
            body=Text(N_("Referral {case_ref} for {organisation} was not acknowledged by {deadline}.\n"
                         "Please follow up with the organisation.\n{link}"), params),
            short=Text(N_("{service}: referral {case_ref} for {organisation} not acknowledged by {deadline}."),
                       params))
    return count


def notify_reporter_answer(session: Session, runtime, contacts, *, organisation: str, case_ref: str, key: str,
                           now: datetime) -> int:
    """Tell an organisation's focal points (or coordinators) that the reporter of a case wrote to
    them; what they wrote is only in the portal. `key` names the message (one notice each)."""
    params = _params(runtime, organisation, case_ref, link=referral_link(runtime, case_ref))
    count = 0
    for contact in contacts:
        count += enqueue_for(
            session, runtime, contact, key=key, now=now,
            subject=Text(N_("[{service}] The reporter wrote on {case_ref}"), params),
            body=Text(N_("The reporter of case {case_ref} for {organisation} added information.\n"
                         "Read it in the portal:\n{link}\n\nThis message does not contain what they wrote."), params),
            short=Text(N_("{service}: the reporter of case {case_ref} added information. Read it in the portal: "
                          "{link}"), params))
    return count
