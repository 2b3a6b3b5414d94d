"""What a registration record holds and what a person may change in it (pure: the import, the
"update my details" flow and the portal all read these).

The coded lists (education, occupation) and the need groups are the README's; a code is what
the registration system stores, the label is what a person or a caseworker reads.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from i18n.text import N_, P_, Text

# The record's fields, in the order of the import file (registration_number first).
DETAIL_FIELDS = ("registration_number", "group_number", "given_name", "family_name", "date_of_birth", "sex",
                 "phone", "township", "address", "education", "occupation", "needs", "language")

# What a person may change themselves (an allow-list: nothing else is asked or stored).
# "household" and "erasure" are requests a caseworker acts on, not fields.
CHANGE_KINDS = ("phone", "township", "address", "education", "occupation", "needs", "language", "household",
                "erasure")

EDUCATION: dict[str, Text] = {
    "NONE": Text(N_("No schooling")),
    "PRIM": Text(N_("Primary")),
    "MIDL": Text(N_("Middle")),
    "HIGH": Text(N_("High school")),
    "VOC": Text(N_("Vocational training")),
    "UNIV": Text(N_("University")),
    "MON": Text(N_("Monastic school")),
    "OTH": Text(N_("Other")),
}

OCCUPATION: dict[str, Text] = {
    "FARM": Text(N_("Farming or fishing")),
    "DAYL": Text(N_("Daily labour")),
    "TRADE": Text(N_("Business or trade")),
    "SKILL": Text(N_("Skilled work")),
    "CARE": Text(N_("Home or care work")),
    "STUD": Text(N_("Student")),
    "NONE": Text(N_("No work now")),
    "OTH": Text(N_("Other")),
}


@dataclass(frozen=True)
class NeedGroup:
    """A UNHCR specific-need group: its name for caseworkers, and the plain words a person may
    use for it (matched anywhere in what they write, in every offered language)."""

    name: Text
    words: Text


NEED_GROUPS: dict[str, NeedGroup] = {
    "DS": NeedGroup(Text(N_("Disability")),
                    P_("needs", "cannot walk|can't walk|wheelchair|disabled|disability|blind|cannot see|deaf|"
                                "cannot hear|crutches|lost my leg|lost my arm")),
    "SM": NeedGroup(Text(N_("Serious medical condition")),
                    P_("needs", "sick|ill|illness|disease|medicine|hospital|diabetes|cancer|heart|tuberculosis|"
                                "hiv|surgery")),
    "CR": NeedGroup(Text(N_("Child at risk")),
                    P_("needs", "child is in danger|child at risk|child works|child labour|child married|"
                                "child is not safe")),
    "ER": NeedGroup(Text(N_("Older person at risk")),
                    P_("needs", "old person|elderly|older person|grandmother|grandfather|too old")),
    "WR": NeedGroup(Text(N_("Woman at risk")),
                    P_("needs", "woman alone|widow|woman at risk|woman is not safe")),
    "SP": NeedGroup(Text(N_("Single parent or caregiver")),
                    P_("needs", "single mother|single father|single parent|alone with my children|"
                                "raise my children alone")),
    "SC": NeedGroup(Text(N_("Separated or unaccompanied child")),
                    P_("needs", "child alone|lost child|separated from parents|no parents|orphan|unaccompanied")),
    "FU": NeedGroup(Text(N_("Family reunification")),
                    P_("needs", "find my family|looking for my family|missing family|family reunification|"
                                "lost my family")),
    "LP": NeedGroup(Text(N_("Legal and physical protection")),
                    P_("needs", "arrested|detained|police|documents|lawyer|threatened|legal help")),
    "SV": NeedGroup(Text(N_("Sexual and gender-based violence")),
                    P_("needs", "raped|rape|sexual violence|sexually|beaten by my husband|violence at home")),
    "TR": NeedGroup(Text(N_("Torture")),
                    P_("needs", "tortured|torture")),
    "PG": NeedGroup(Text(N_("Pregnant or lactating")),
                    P_("needs", "pregnant|pregnancy|breastfeeding|expecting a baby|new baby|lactating")),
}
NEED_CODE = re.compile(r"(DS|SM|CR|ER|WR|SP|SC|FU|LP|SV|TR|PG)(-[A-Z0-9]{1,4})?")

SEX = ("F", "M", "X")


def normalise_number(text: str) -> str:
    """A registration number as typed or as imported, in the one form both are compared in:
    letters upper-cased, digits of any script as 0-9, and the spaces, dashes, dots and slashes
    people add or leave out removed ("mmr 17-0123" and "MMR170123" are the same number)."""
    kept = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isdecimal():
            kept.append(str(unicodedata.decimal(char)))
        elif char.isalpha() and char.isascii():
            kept.append(char.upper())
        elif char.isalnum():
            kept.append(char)
    return "".join(kept)


# --- who the conversation has proved to be --------------------------------------------------------

IDENTITY = "identity"  # the update flow's draft field: {"registration": id, "proved": bool}


def identity_of(registration_id: int, *, proved: bool) -> dict:
    return {"registration": registration_id, "proved": proved}


class NotProved(Exception):
    """A change was asked for before the person proved who they are (a bug in a flow: no step
    before the proof leads to a change)."""


def proved_registration(draft) -> int:
    """The registration this conversation proved to be, for everything that reads or changes it;
    right details waiting for their one-time code are not proof."""
    found = draft.get(IDENTITY) or {}
    if not found.get("proved"):
        raise NotProved
    return found["registration"]


# --- dates of birth -----------------------------------------------------------------------------

DAY, MONTH, YEAR = "day", "month", "year"
_PRECISION_RANK = {YEAR: 0, MONTH: 1, DAY: 2}
_SEPARATORS = re.compile(r"\s*[-/.,\s]\s*")


@dataclass(frozen=True)
class DateOfBirth:
    """A date of birth known to `precision`: "1990-04-17" (day), "1990-04" (month), "1990" (year)."""

    value: str
    precision: str

    def at(self, precision: str) -> str | None:
        """This date as the record holds it at `precision`, or None when it says less than that
        (a year alone cannot prove a full date)."""
        if _PRECISION_RANK[self.precision] < _PRECISION_RANK[precision]:
            return None
        return self.value[:{YEAR: 4, MONTH: 7, DAY: 10}[precision]]


def _digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def read_date_of_birth(text: str) -> DateOfBirth | None:
    """A date of birth as people write it: 17-04-1990, 17/4/1990, 17.4.1990, 1990-04-17, 4/1990,
    1990, in any script's digits. Day first, as in Myanmar and Bangladesh; a US-style 4/17/1990
    is read as the 17th of April only because no month is 17."""
    parts = [part for part in _SEPARATORS.split(_digits(text.strip())) if part]
    if not parts or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    numbers = [int(part) for part in parts]
    if len(parts) == 1 and len(parts[0]) == 4:
        return _checked(numbers[0], None, None)
    if len(parts) == 2:
        month, year = (numbers[1], numbers[0]) if len(parts[0]) == 4 else (numbers[0], numbers[1])
        return _checked(year, month, None) if len(str(year)) == 4 else None
    if len(parts) == 3:
        if len(parts[0]) == 4:
            year, month, day = numbers
        elif len(parts[2]) == 4:
            day, month, year = numbers
            if month > 12 >= day:
                day, month = month, day
        else:
            return None
        return _checked(year, month, day)
    return None


def _checked(year: int, month: int | None, day: int | None) -> DateOfBirth | None:
    if not 1880 <= year <= 2100:
        return None
    if month is None:
        return DateOfBirth(f"{year:04d}", YEAR)
    if not 1 <= month <= 12:
        return None
    if day is None:
        return DateOfBirth(f"{year:04d}-{month:02d}", MONTH)
    if not 1 <= day <= 31:  # before date(), which overflows on a day of twenty digits
        return None
    try:
        return DateOfBirth(date(year, month, day).isoformat(), DAY)
    except ValueError:
        return None


def read_recorded_date_of_birth(value: str) -> DateOfBirth | None:
    """A date of birth as the import file holds it: YYYY-MM-DD, YYYY-MM or YYYY."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value)
    if not match:
        return None
    year, month, day = (int(group) if group else None for group in match.groups())
    return _checked(year, month, day)


# What the person is told once a caseworker has decided (by SMS to the number on record, or on
# Telegram): never the values, which someone else holding the phone could read.
OUTCOME_APPROVED = Text(N_("The registration office accepted the update you sent. Thank you."))
OUTCOME_REJECTED = Text(N_("The registration office could not accept the update you sent. "
                           "You can ask them why at the office."))
