"""Turning stored values into words on a page: report fields, codes, and times.

A report's fields are the report flow's (`intake.report`): each shown once, in the flow's order,
whether it was sealed or kept in a clear column, with its label from the catalogs; any content key
the schema does not know is shown too (under its own name), so nothing a reporter said is hidden.
Templates escape every value.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from i18n.text import Text
from intake.report import FIELDS, shown
from portal.services import services

# The portal is in English for now; its labels go through the same catalogs as the bot's words.
PORTAL_LANGUAGE = "en"


def _township(report, named, township) -> str | None:
    if township is not None:
        return f"{township.name_en}, {township.state_name_en} ({township.pcode})"
    return report.township_pcode or report.state_pcode


# How a clear column's value reads as the answer it keeps (`intake.flows.Field.column`).
COLUMN_VALUES = {
    "named_organisation_id": lambda report, named, township: f"{named.name} ({named.acronym})" if named else None,
    "township_pcode": _township,
}


def _clear(report, named, township) -> dict[str, object]:
    """The clear fields' answers, field name -> value (a yes/no column as the flow's "yes"/"no")."""
    answers = {}
    for field in FIELDS:
        if field.sealed:
            continue
        resolve = COLUMN_VALUES.get(field.column)
        value = resolve(report, named, township) if resolve else getattr(report, field.column)
        answers[field.name] = ("yes" if value else "no") if isinstance(value, bool) else value
    return answers


def in_words(value: object) -> object:
    """A `Text` in the portal's language; anything else as it is (the template shows it)."""
    if isinstance(value, Text):
        return services().renderer.text(PORTAL_LANGUAGE, value)
    return value


def report_fields(content: dict, report, named=None, township=None) -> list[tuple[str, object]]:
    """(label, value) for every field of a report once: sealed ones from `content`, clear ones from
    the report's columns (`named` organisation and `township` looked up by the caller)."""
    return [(in_words(line.label), in_words(line.value)) for line in shown(content, _clear(report, named, township))]


# Stored codes that deserve better than "Preliminary assessment"-style capitalising.
WORDS = {
    "named": "Sent to the organisation named in the report",
    "unknown_organisation": "Organisation not recognised: sent to the PSEA Network",
    "no_focal_point": "No focal point for that organisation: sent to the PSEA Network",
    "alternate_channel": "Reporter asked not to send it to them: sent to the PSEA Network",
}


def words(code: str | None) -> str:
    """A stored code ("under_investigation") as words ("Under investigation")."""
    if code is None:
        return "Not given"
    return WORDS.get(code) or code.replace("_", " ").capitalize()


def when(moment: datetime | None) -> str:
    """A time in the service's time zone, saying which zone it is."""
    if moment is None:
        return ""
    zone = services().settings.timezone or "UTC"
    return f"{moment.astimezone(ZoneInfo(zone)):%d %b %Y, %H:%M} ({zone})"
