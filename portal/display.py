"""Turning stored values into words on a page: report fields, codes, and times.

Report content is whatever the intake flow stored; known keys get readable labels in the flow's
order, any other key is shown too (under its own name), so nothing a reporter said is hidden.
Templates escape every value.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.runtime import current_runtime

# The report flow's answers (intake/flows.py `store=` names), in the order they are asked.
CONTENT_LABELS = {
    "danger": "In danger when reporting",
    "organisation": "Organisation named",
    "send_to_them": "May it be sent to that organisation",
    "account": "What happened",
    "when": "When it happened",
    "where": "Where it happened",
    "affected": "Who was affected",
    "child": "Anyone under 18",
    "contact": "May the organisation make contact",
    "contact_how": "How to make contact",
    "contact_number": "Contact number",
}

# Stored codes that deserve better than "Preliminary assessment"-style capitalising.
WORDS = {
    "self": "The reporter",
    "other": "Someone else",
    "named": "Sent to the organisation named in the report",
    "unknown_organisation": "Organisation not recognised: sent to the PSEA Network",
    "no_focal_point": "No focal point for that organisation: sent to the PSEA Network",
    "alternate_channel": "Reporter asked not to send it to them: sent to the PSEA Network",
}


def content_fields(content: dict) -> list[tuple[str, object]]:
    """(label, value) for every key in a report's content: known keys first, in flow order."""
    known = [key for key in CONTENT_LABELS if key in content]
    others = sorted(key for key in content if key not in CONTENT_LABELS)
    return [(CONTENT_LABELS.get(key) or words(key), content[key]) for key in known + others]


def words(code: str | None) -> str:
    """A stored code ("under_investigation") as words ("Under investigation")."""
    if code is None:
        return "Not given"
    return WORDS.get(code) or code.replace("_", " ").capitalize()


def when(moment: datetime | None) -> str:
    """A time in the service's time zone, saying which zone it is."""
    if moment is None:
        return ""
    zone = current_runtime().config.get("TIMEZONE") or "UTC"
    return f"{moment.astimezone(ZoneInfo(zone)):%d %b %Y, %H:%M} ({zone})"
