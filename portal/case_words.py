"""The words the portal shows for a case's stored codes: statuses, categories, timeline events."""

from __future__ import annotations

from portal.i18n import lazy_gettext

STATUS_WORDS = {
    "received": lazy_gettext("Received"),
    "acknowledged": lazy_gettext("Acknowledged"),
    "preliminary_assessment": lazy_gettext("Preliminary assessment"),
    "under_investigation": lazy_gettext("Under investigation"),
    "substantiated": lazy_gettext("Closed: substantiated"),
    "not_substantiated": lazy_gettext("Closed: not substantiated"),
    "closed_other": lazy_gettext("Closed (other)"),
    "referred": lazy_gettext("Referred to another entity"),
}

CATEGORY_WORDS = {
    "sexual_exploitation": lazy_gettext("Sexual exploitation"),
    "sexual_abuse": lazy_gettext("Sexual abuse"),
    "other": lazy_gettext("Other"),
    "unknown": lazy_gettext("Not known yet"),
}

# A timeline line: what happened (`value` is the new status, category, assignee or organisation).
EVENT_WORDS = {
    "received": lazy_gettext("Referral received"),
    "acknowledge": lazy_gettext("Receipt acknowledged"),
    "status": lazy_gettext("Status set to"),
    "category": lazy_gettext("Category set to"),
    "assign": lazy_gettext("Assigned to"),
    "note": lazy_gettext("Note"),
    "refer_on": lazy_gettext("Referred on to"),
    "referred_in": lazy_gettext("Referred here by"),
    "message_out": lazy_gettext("Message written to the reporter"),
    "message_sent": lazy_gettext("Message sent to the reporter's phone"),
    "message_in": lazy_gettext("The reporter wrote"),
}


def code_words(code: str | None) -> str | None:
    """The words for a status or category code, None for any other code."""
    found = STATUS_WORDS.get(code) or CATEGORY_WORDS.get(code)
    return None if found is None else str(found)
