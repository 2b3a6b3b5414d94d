"""Validators for typed answers, by name (flows refer to them as strings).

A validator takes the person's text as typed (cleaned of invisible characters, not case-folded),
the engine context (for directory and registry look-ups) and the draft so far (read-only), and
returns `Valid(value)` or `Invalid(reason)`; the reason is shown before the question repeats.
Either may name a `goto` that replaces the step's own (a failed identity check starts again
from the registration number), and a `Valid` may set off `effects` (sending a one-time code) and
carry `notes`, said before the next question (what a receipt shows).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from i18n.normalise import match_key
from i18n.text import N_, Digits, Text
from intake.effects import AddAnswer, MarkRead, RequestChange, SendCode
from intake.followup import REPORT, case_notes, read_receipt
from intake.ports import IdentityCheck
from intake.registration import (
    IDENTITY, NEED_GROUPS, identity_of, normalise_number, proved_registration, read_date_of_birth,
)
from intake.targets import MENU


@dataclass(frozen=True)
class Valid:
    value: object
    goto: str | None = None
    effects: tuple = ()
    notes: tuple[Text, ...] = ()
    store: str | None = None  # the draft field it fills, when not the step's own


@dataclass(frozen=True)
class Invalid:
    reason: Text
    goto: str | None = None


def _has_words(text: str) -> bool:
    """True when the text holds at least one letter, digit or combining mark (not only emoji)."""
    return any(unicodedata.category(char)[0] in "LNM" for char in text)


def free_text(text: str, ctx=None, draft=None) -> Valid | Invalid:
    """Any answer in the person's own words; empty, blank or emoji-only answers are refused."""
    stripped = text.strip()
    if not _has_words(stripped):
        return Invalid(Text(N_("Please type your answer in words.")))
    return Valid(stripped)


TYPED_ORGANISATION_LIMIT = 200


def organisation(text: str, ctx, draft=None) -> Valid | Invalid:
    """An organisation of the directory, by name, acronym or alias, typos forgiven. A name it
    does not know is kept as typed (`organisation_typed`), and the person is asked whether to send
    it so (the report then goes to the PSEA Network)."""
    if not _has_words(text):
        return Invalid(Text(N_("We could not find that organisation. Check the name and type it again, "
                               "or choose below.")))
    match = ctx.directory.match_organisation(text)
    if match is None:
        typed = " ".join(text.split())
        if len(typed) > TYPED_ORGANISATION_LIMIT:
            return _shorter(TYPED_ORGANISATION_LIMIT)
        return Valid(typed, store="organisation_typed", goto="report.organisation_unlisted")
    return Valid(match)


def township(text: str, ctx, draft=None) -> Valid | Invalid:
    """A place of the gazetteer, by its English or Burmese name."""
    match = ctx.directory.match_township(text) if _has_words(text) else None
    if match is None:
        return Invalid(Text(N_("We could not find that place. Type it again, or choose below.")))
    return Valid(match)


def phone(text: str, ctx=None, draft=None) -> Valid | Invalid:
    """A phone number: an optional +, then 7 to 15 digits in any script; spaces and dashes allowed."""
    compact = "".join(ch for ch in text.strip() if ch not in " -().")
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isdecimal() or not 7 <= len(digits) <= 15:
        return Invalid(Text(N_("Please type a phone number with 7 to 15 digits.")))
    return Valid(("+" if plus else "") + "".join(str(unicodedata.decimal(ch)) for ch in digits))


# --- "update my details" ------------------------------------------------------------------------

MISMATCH = Text(N_("Those details do not match our records."))
NUMBER_AGAIN = "update.number"


def registration_number(text: str, ctx=None, draft=None) -> Valid | Invalid:
    """A registration number as people type it (spaces, dashes and case do not matter)."""
    number = normalise_number(text)
    if not 3 <= len(number) <= 32 or not any(char.isdigit() for char in number):
        return Invalid(Text(N_("Please type your registration number as it is on your document.")))
    return Valid(number)


def _wait(minutes: int) -> Invalid:
    return Invalid(Text(N_("Too many tries. Please wait {minutes} minutes, then try again."),
                        {"minutes": Digits(str(minutes))}), goto=MENU)


def identity(text: str, ctx, draft) -> Valid | Invalid:
    """The date of birth, checked with the registration number against the record: the same
    answer for an unknown number and a wrong date. From another number or channel, a one-time
    code to the number on record must prove it too."""
    born = read_date_of_birth(text)
    if born is None:
        return Invalid(Text(N_("Please type your date of birth like 17-04-1990 (day, month, year), "
                               "or only the year if that is all you know.")))
    check = ctx.registry.check_identity(draft["reg_number"], born)
    if check.outcome == "verified":
        return Valid(identity_of(check.registration_id, proved=True))
    if check.outcome == "code_needed":
        return Valid(identity_of(check.registration_id, proved=False), goto="update.code",
                     effects=(SendCode(check.registration_id, "identity"),))
    if check.outcome == "locked":
        return _wait(check.wait_minutes)
    if check.outcome == "no_phone":
        return Invalid(Text(N_("We cannot check who you are from here. Please write from the phone number "
                               "on record, or ask at the registration office.")), goto=MENU)
    if check.outcome == "inactive":
        return Invalid(Text(N_("This registration cannot be updated here. Please ask at the registration "
                               "office.")), goto=MENU)
    return Invalid(MISMATCH, goto=NUMBER_AGAIN)


def _code(ctx, purpose: str, text: str) -> IdentityCheck | Invalid:
    digits = "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())
    if len(digits) != 6:
        return Invalid(Text(N_("Please type the 6 digits of the code we sent.")))
    return ctx.registry.check_code(purpose, digits)


def _code_answer(check, again: str) -> Invalid | None:
    """The answer to a code that did not prove anything, or None when it did."""
    if isinstance(check, Invalid):
        return check
    if check.outcome == "verified":
        return None
    if check.outcome == "locked":
        return _wait(check.wait_minutes)
    if check.outcome == "expired":
        return Invalid(Text(N_("That code has expired or was used already. Let us start again.")), goto=again)
    return Invalid(Text(N_("That code is not right. Check the SMS and type it again.")))


def identity_code(text: str, ctx, draft) -> Valid | Invalid:
    """The code sent to the number on record: once it is right, the details are proved."""
    check = _code(ctx, "identity", text)
    refused = _code_answer(check, NUMBER_AGAIN)
    if refused:
        return refused
    if check.registration_id != draft[IDENTITY]["registration"]:  # a code for another record
        return Invalid(Text(N_("That code has expired or was used already. Let us start again.")), goto=NUMBER_AGAIN)
    return Valid(identity_of(check.registration_id, proved=True))


def new_phone(text: str, ctx, draft) -> Valid | Invalid:
    """The number a person changes to, with its country code (as providers and the records take
    it); a code sent to it proves it is theirs. Each code sent counts against the lockout."""
    outcome = phone(text)
    if isinstance(outcome, Invalid):
        return outcome
    if not outcome.value.startswith("+"):
        return Invalid(Text(N_("Please type the number with its country code, for example +95 9 ...")))
    registration = proved_registration(draft)
    allowed = ctx.registry.allow_code(registration)
    if allowed.outcome == "locked":
        return _wait(allowed.wait_minutes)
    return Valid(outcome.value, effects=(SendCode(registration, "new_phone", to=outcome.value),))


def new_phone_code(text: str, ctx, draft) -> Valid | Invalid:
    """The code sent to the new number: once it is right, the change goes to a caseworker."""
    refused = _code_answer(_code(ctx, "new_phone", text), "update.phone")
    return refused or Valid(True, effects=(RequestChange(proved_registration(draft), "phone", draft["new_phone"]),))


def township_change(text: str, ctx, draft) -> Valid | Invalid:
    outcome = township(text, ctx)
    if isinstance(outcome, Invalid):
        return outcome
    return Valid(outcome.value, effects=(RequestChange(proved_registration(draft), "township", outcome.value["pcode"]),))


ADDRESS_LIMIT = 100


def _shorter(limit: int) -> Invalid:
    """A text over `limit` characters is refused, saying the limit (never cut silently)."""
    return Invalid(Text(N_("Please make it shorter: at most {limit} letters."), {"limit": Digits(str(limit))}))


def address(text: str, ctx, draft) -> Valid | Invalid:
    """A short address line (village, ward, block, shelter number)."""
    outcome = free_text(text)
    if isinstance(outcome, Invalid):
        return outcome
    if len(outcome.value) > ADDRESS_LIMIT:
        return _shorter(ADDRESS_LIMIT)
    return Valid(outcome.value, effects=(RequestChange(proved_registration(draft), "address", outcome.value),))


def needs(text: str, ctx, draft) -> Valid | Invalid:
    """Needs in the person's own words, mapped to UNHCR's need groups by the words each group
    lists (in every offered language); what matches nothing still goes to a caseworker."""
    outcome = free_text(text)
    if isinstance(outcome, Invalid):
        return outcome
    codes = declared_needs(outcome.value, ctx)
    value = {"codes": codes, "words": outcome.value[:500]}
    return Valid(value, effects=(RequestChange(proved_registration(draft), "needs", value),))


def declared_needs(text: str, ctx) -> list[str]:
    """The need groups whose words the text contains. A word in a script written with spaces
    must stand alone ("ill" is not in "will"); in Myanmar script, written without spaces between
    words, it may stand anywhere."""
    key = match_key(text)
    return [code for code in NEED_GROUPS
            if any(_contains(key, word) for word in _need_words(code, ctx.translate, ctx.languages))]


@lru_cache(maxsize=64)
def _need_words(code: str, translate, languages: tuple[str, ...]) -> frozenset[str]:
    """The match keys of a need group's words in the offered languages (catalogs do not change
    while the process runs)."""
    group = NEED_GROUPS[code]
    words = set(group.words.msgid.split("|"))
    for lang in languages:
        words.update(translate(lang, group.words).split("|"))
    return frozenset(match_key(word) for word in words if word.strip())


def _contains(text: str, word: str) -> bool:
    if not word.isascii():
        return word in text
    return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text) is not None


def household(text: str, ctx, draft) -> Valid | Invalid:
    outcome = free_text(text)
    if isinstance(outcome, Invalid):
        return outcome
    value = {"words": outcome.value[:500]}
    return Valid(value, effects=(RequestChange(proved_registration(draft), "household", value),))


# --- "check a report" ----------------------------------------------------------------------------

def receipt(text: str, ctx, draft=None) -> Valid | Invalid:
    """A receipt number: its report's status and messages are said, those messages count as read,
    and the report's id (never the receipt) is kept while the flow is open. A mistyped receipt,
    an unknown one and a deleted report's get the same answer after the same work."""
    number = read_receipt(text)
    if number is None:
        return Invalid(Text(N_("Please type the 18 digits of your receipt number.")))
    check = ctx.followup.check_receipt(number)
    if check.outcome == "locked":
        return _wait(check.wait_minutes)
    if check.outcome == "busy":
        return Invalid(Text(N_("Too many receipt numbers were tried. Please wait {minutes} minutes, then try again."),
                            {"minutes": Digits(str(check.wait_minutes))}), goto=MENU)
    if check.outcome != "found":
        return Invalid(Text(N_("We found no report with that number. Check it and type it again.")))
    case = check.case
    read = (MarkRead(tuple(note.id for note in case.notes)),) if case.notes else ()
    return Valid(case.report_id, notes=case_notes(case), effects=read)


def reporter_answer(text: str, ctx, draft) -> Valid | Invalid:
    """What the reporter writes back, whole (a longer one is refused, saying the limit), for the
    organisations handling their report."""
    outcome = free_text(text)
    if isinstance(outcome, Invalid):
        return outcome
    if len(outcome.value) > ctx.followup.max_answer_length:
        return _shorter(ctx.followup.max_answer_length)
    return Valid(outcome.value, effects=(AddAnswer(draft[REPORT], outcome.value),))


VALIDATORS: dict[str, Callable[..., Valid | Invalid]] = {
    "free_text": free_text,
    "organisation": organisation,
    "township": township,
    "phone": phone,
    "registration_number": registration_number,
    "identity": identity,
    "identity_code": identity_code,
    "new_phone": new_phone,
    "new_phone_code": new_phone_code,
    "township_change": township_change,
    "address": address,
    "needs": needs,
    "household": household,
    "receipt": receipt,
    "reporter_answer": reporter_answer,
}
