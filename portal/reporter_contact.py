"""Where a message to the reporter can also be sent, when they consented to be contacted: the
number or chat they wrote from, or the number they typed. Read from the opened report only."""

from __future__ import annotations

from intake.report import CHANNEL

# The channels a number or chat from the report can be written to through the outbox.
_SENDABLE = ("sms", "whatsapp", "telegram")


def reporter_address(content: dict, contact_allowed: bool) -> tuple[str, str] | None:
    """(channel, address) to write to, or None when the reporter did not consent (the report's
    clear `contact_allowed`) or gave nothing we can use."""
    if not contact_allowed:
        return None
    number = content.get("contact_number")
    if not isinstance(number, str) or not number.strip():
        return None
    channel = content.get(CHANNEL) if content.get("contact_how") == "this_number" else "sms"
    return (channel, number.strip()) if channel in _SENDABLE else None
