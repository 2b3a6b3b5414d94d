"""What "check a report" tells a reporter, and how it reads a receipt number as people type it.

The status is said in plain words that say what it means for the person, never what the report
is about (someone else may read the phone): the organisations' UN terms are theirs, not the
reporter's. The three ways a case ends are one "closed" here.
"""

from __future__ import annotations

import unicodedata

from i18n.text import N_, Digits, Text
from intake.ports import Note, ReportCase

# The draft field that keeps the report (its id only: never the receipt nor its key) while the
# flow is open.
REPORT = "report"
# As many digits as a report's receipt has (storage.sealing.RECEIPT_DIGITS), and as the receipts
# given before had (sealing.SHORT_RECEIPT_DIGITS, sealing.OLD_RECEIPT_DIGITS), which still open
# their reports; a test holds them together, as intake cannot import storage.
RECEIPT_DIGITS = 18
SHORT_RECEIPT_DIGITS = 16
OLD_RECEIPT_DIGITS = 12
# What people put between the groups of digits when they copy a receipt ("482 109 375 566 123 456", "4821 0937 5566").
_SEPARATORS = {" ", "-"}

_CLOSED = Text(N_("The work on your report is finished and it is closed."))
STATUS_WORDS: dict[str, Text] = {
    "received": Text(N_("Your report was received. It is waiting for someone to look at it.")),
    "acknowledged": Text(N_("Your report was received, and the people responsible for it have taken it up.")),
    "preliminary_assessment": Text(N_("Your report is being looked at.")),
    "under_investigation": Text(N_("Your report is being investigated.")),
    "substantiated": _CLOSED,
    "not_substantiated": _CLOSED,
    "closed_other": _CLOSED,
    "referred": Text(N_("Your report was passed to the organisation responsible for it.")),
}


def read_receipt(text: str) -> str | None:
    """The receipt number in a reply, as ASCII digits: exactly 18 digits (or 16 or 12, a receipt
    given before) of any script (၁ == 1, as `storage.sealing.receipt_secrets` reads them), spaces and
    dashes between them allowed; anything else is None."""
    kept = [char for char in text if char not in _SEPARATORS]
    if len(kept) not in (RECEIPT_DIGITS, SHORT_RECEIPT_DIGITS, OLD_RECEIPT_DIGITS) or not all(char.isdecimal() for char in kept):
        return None
    return "".join(str(unicodedata.decimal(char)) for char in kept)


def _note(note: Note) -> Text:
    # Translators: {date} is the day the message was written (day-month-year), {message} its words.
    return Text(N_("{date}: {message}"), {"date": Digits(note.written_on.strftime("%d-%m-%Y")), "message": note.text})


def case_notes(case: ReportCase) -> tuple[Text, ...]:
    """What the reporter is told of their report: the status, then every message written to them."""
    status = STATUS_WORDS[case.status]
    if not case.notes:
        return status, Text(N_("There is no message for you."))
    return (status, Text(N_("Messages for you:")), *(_note(note) for note in case.notes))
