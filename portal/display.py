"""Turning stored values into words on a page: report fields, codes, figures and times, in the
page's language (`portal.i18n`).

A report's fields are the report flow's (`intake.report`): each shown once, in the flow's order,
whether it was sealed or kept in a clear column, with its label from the catalogs; any content key
the schema does not know is shown too (under its own name), so nothing a reporter said is hidden.
Templates escape every value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, get_datetime_format

from i18n.numbers import FORMAT_LOCALE
from i18n.text import Text
from intake.report import FIELDS, MEDIA, shown
from portal.case_words import code_words
from portal.i18n import _, current_language, lazy_gettext
from portal.services import services
from storage.small_cells import HIDDEN


def _township(report, named, township) -> str | None:
    if township is not None:
        name = township.name_my if current_language() == "my" and township.name_my else township.name_en
        return f"{name}, {township.state_name_en} ({township.pcode})"
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
    """A `Text` in the page's language, from the bot's catalogs (the same words people were asked
    in; a language those catalogs lack reads in English); anything else as it is."""
    if isinstance(value, Text):
        return services().renderer.text(current_language(), value)
    return value


@dataclass(frozen=True)
class Playable:
    """A voice note or photo of a report, as the page shows it: played or viewed from `src` (the
    route that opens it with the organisation's key), `label` saying what it is."""

    media_kind: str
    src: str
    label: str
    ref: str


def _media(items: object, media_url: Callable[[str], str]) -> object:
    if not isinstance(items, list):
        return items
    field = next(field for field in FIELDS if field.name == MEDIA)
    return [Playable(item["kind"], media_url(item["ref"]), in_words(field.words.get(item["kind"], item["kind"])),
                     item["ref"]) if isinstance(item, dict) and isinstance(item.get("ref"), str) else item
            for item in items]


def report_fields(content: dict, report, named=None, township=None,
                  media_url: Callable[[str], str] | None = None) -> list[tuple[str, object, str | None]]:
    """(label, value, as typed) for every field of a report once: sealed ones from `content`, clear
    ones from the report's columns (`named` organisation and `township` looked up by the caller);
    voice notes and photos as players, from `media_url(ref)`; "as typed" is the reporter's own
    text where it was converted from Zawgyi, else None."""
    return [(in_words(line.label), _media(line.value, media_url) if line.name == MEDIA and media_url
             else in_words(line.value), line.typed) for line in shown(content, _clear(report, named, township))]


# Stored codes that deserve better than "Preliminary assessment"-style capitalising: the routes,
# and the roles (accounts' and the directory's).
WORDS = {
    "named": lazy_gettext("Sent to the organisation named in the report"),
    "unknown_organisation": lazy_gettext("Organisation not recognised: sent to the PSEA Network"),
    "unlisted_organisation": lazy_gettext("Organisation not in the directory: sent to the PSEA Network"),
    "no_focal_point": lazy_gettext("No focal point for that organisation: sent to the PSEA Network"),
    "alternate_channel": lazy_gettext("Reporter asked not to send it to them: sent to the PSEA Network"),
    "focal_point": lazy_gettext("Focal point"),
    "coordinator": lazy_gettext("Coordinator"),
    "caseworker": lazy_gettext("Caseworker"),
    "admin": lazy_gettext("Admin"),
}


def words(code: str | None) -> str:
    """A stored code ("under_investigation") as words ("Under investigation")."""
    if code is None:
        return _("Not given")
    found = WORDS.get(code)
    return str(found) if found is not None else code_words(code) or code.replace("_", " ").capitalize()


def figure(shown_as: str) -> str:
    """A count as `storage.small_cells` shows it ("12", "<3", "hidden"), in the page's words."""
    return _("hidden") if shown_as == HIDDEN else shown_as


# Dates as each language writes a day (English: "16 Oct 2026"; Burmese spells the month out, its
# abbreviations being too alike), then the time on a 24-hour clock.
_DAY = {"en": "yMMMd"}


def when(moment: datetime | None) -> str:
    """A time in the service's time zone, in the page's language, saying which zone it is."""
    if moment is None:
        return ""
    zone = services().settings.timezone or "UTC"
    lang = current_language()
    locale = FORMAT_LOCALE.get(lang, lang)
    local = moment.astimezone(ZoneInfo(zone))
    day = format_skeleton(_DAY.get(lang, "yMMMMd"), local, locale=locale)
    time = format_skeleton("Hm", local, locale=locale)
    return f"{get_datetime_format('medium', locale=locale).format(time, day)} ({zone})"
