""""Check a report" in the pure engine, with a stand-in for the `FollowUp` port: how a receipt is
read, what the reporter is told, what the conversation keeps, what it sets off."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.channels.layout import as_text
from i18n.catalogs import Catalogs
from i18n.render import Renderer
from i18n.sms import segments
from intake import engine
from intake.effects import AddAnswer, MarkRead, Wipe
from intake.flows import KEYWORDS, MENU
from intake.followup import OLD_RECEIPT_DIGITS, RECEIPT_DIGITS, SHORT_RECEIPT_DIGITS, STATUS_WORDS, read_receipt
from intake.messages import Inbound
from intake.ports import FollowUp, Note, ReceiptCheck, ReportCase
from intake.state import State
from storage import reports, sealing
from tests.intake.test_engine import Chat, at_menu, make_context

CATALOGS = Catalogs()
RECEIPT = "482109375566"
CASE = ReportCase(7, "under_investigation", (Note(31, "Which week was it?", date(2026, 11, 20)),))


class FakeFollowUp:
    """Knows one receipt; counts what it is asked."""

    available = True
    max_answer_length = 20

    def __init__(self, case: ReportCase = CASE, outcome: str | None = None):
        self.case, self.outcome, self.asked = case, outcome, []

    def check_receipt(self, receipt: str) -> ReceiptCheck:
        self.asked.append(receipt)
        if self.outcome:
            return ReceiptCheck(self.outcome, wait_minutes=25)
        return ReceiptCheck("found", case=self.case) if receipt == RECEIPT else ReceiptCheck("wrong")


def checking(port: FollowUp | None = None) -> Chat:
    chat = Chat(make_context(followup=port or FakeFollowUp()))
    at_menu(chat)
    chat.send("3")
    return chat


def test_the_fake_fits_the_port():
    assert isinstance(FakeFollowUp(), FollowUp) and not isinstance(object(), FollowUp)


@pytest.mark.parametrize("typed", [RECEIPT, "4821 0937 5566", "4821-0937-5566", "၄၈၂၁ ၀၉၃၇ ၅၅၆၆", "႔႘႒႑႐႙႓႗႕႕႖႖",
                                   "4821 ၀၉၃၇-5566"])
def test_a_receipt_in_any_digits_with_spaces_or_dashes(typed):
    assert read_receipt(typed) == RECEIPT
    assert sealing.receipt_secrets(typed, b"p" * 32, sealing.KdfParams(1, 1, 8)).lookup == \
        sealing.receipt_secrets(RECEIPT, b"p" * 32, sealing.KdfParams(1, 1, 8)).lookup  # as sealing reads it


def test_a_new_receipt_in_any_digits_and_the_lookup_sealing_reads():
    new = "482109375566123456"
    for typed in (new, "482 109 375 566 123 456", "၄၈၂-၁၀၉-၃၇၅-၅၆၆-၁၂၃-၄၅၆", "482109 375566 123456"):
        assert read_receipt(typed) == new
        assert sealing.receipt_lookup(typed, b"p" * 32) == sealing.receipt_lookup(new, b"p" * 32)


def test_a_16_digit_receipt_given_before_is_still_read_with_the_same_lookup():
    short = "4821093755661234"
    for typed in (short, "4821 0937 5566 1234", "၄၈၂၁-၀၉၃၇-၅၅၆၆-၁၂၃၄"):
        assert read_receipt(typed) == short
        assert sealing.receipt_lookup(typed, b"p" * 32) == sealing.receipt_lookup("482109" + "0" * 12, b"p" * 32)


@pytest.mark.parametrize("typed", ["48210937556", "4821093755661", "482109375566123", "48210937556612345", "4821093755661234567",
                                   "4821.0937.5566", "4821a0937b5566", "", "R-7KQ3MX"])
def test_what_is_not_a_receipt(typed):
    assert read_receipt(typed) is None


def test_the_receipt_length_and_the_statuses_are_the_storage_ones():
    assert (RECEIPT_DIGITS, SHORT_RECEIPT_DIGITS, OLD_RECEIPT_DIGITS) == \
        (sealing.RECEIPT_DIGITS, sealing.SHORT_RECEIPT_DIGITS, sealing.OLD_RECEIPT_DIGITS) == (18, 16, 12)
    assert set(STATUS_WORDS) == set(reports.STATUSES)


def test_without_the_port_the_branch_is_not_available():
    chat = Chat(make_context())
    at_menu(chat)
    assert chat.send("3").startswith("This is not available yet.")
    assert chat.state.position == MENU


def test_a_right_receipt_tells_the_status_and_the_messages_and_marks_them_read():
    port = FakeFollowUp()
    chat = checking(port)
    assert chat.state.position == "check.receipt" and chat.result.replies_sensitive
    reply = chat.send("၄၈၂၁ ၀၉၃၇ ၅၅၆၆")
    assert port.asked == [RECEIPT]  # the port is asked in ASCII digits
    assert reply == ("Your report is being investigated.\nMessages for you:\n20-11-2026: Which week was it?\n"
                     "Do you want to write to them?\n1. Answer or add information\n2. I have finished")
    assert chat.result.effects == (MarkRead((31,)),)
    assert chat.state.draft == {"report": 7}  # the report's id: never the receipt


def test_a_wrong_receipt_is_asked_again_and_a_held_one_goes_to_the_menu():
    chat = checking()
    assert chat.send("111122223333").startswith("We found no report with that number.")
    assert chat.state.position == "check.receipt"
    for outcome, words in (("locked", "Too many tries. Please wait 25 minutes"),
                           ("busy", "Too many receipt numbers were tried. Please wait 25 minutes")):
        chat = checking(FakeFollowUp(outcome=outcome))
        assert chat.send(RECEIPT).startswith(words)
        assert chat.state.position == MENU and Wipe() in chat.result.effects


def test_an_answer_is_passed_on_whole_or_refused_saying_the_limit():
    chat = checking()
    chat.send(RECEIPT)
    chat.send("1")
    assert chat.send("x" * 21).startswith("Please make it shorter: at most 20 letters.")
    assert chat.state.position == "check.answer" and chat.result.effects == ()
    assert chat.send("It was in March.") == "Thank you. Your message was passed on."
    assert chat.result.effects == (AddAnswer(7, "It was in March."), Wipe())
    assert chat.state.position is None and chat.state.draft == {}


def test_finishing_ends_and_wipes():
    chat = checking(FakeFollowUp(ReportCase(7, "received")))
    assert "There is no message for you." in chat.send(RECEIPT)
    assert chat.result.effects == ()  # nothing to mark read
    assert chat.send("done") == "Thank you. We have closed this for you."
    assert chat.result.effects == (Wipe(),) and chat.result.inbound_sensitive


T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("lang", CATALOGS.shipped)
@pytest.mark.parametrize("status", sorted(STATUS_WORDS))
def test_the_status_without_messages_and_the_next_question_fit_a_note_budget(lang, status):
    """As tests/i18n/test_sms_budget.py prices a note then a question: 2 GSM-7 or 5 UCS-2 segments."""
    ctx = make_context(languages=CATALOGS.shipped, followup=FakeFollowUp(ReportCase(7, status)))
    state = State(lang=lang, position="check.receipt", last_active=T0)
    result = engine.step(state, Inbound("sms", "k", RECEIPT, T0 + timedelta(minutes=1)), ctx)
    [outbound] = result.replies
    text = as_text(Renderer(CATALOGS, CATALOGS.shipped, KEYWORDS).render(lang, outbound))
    cost = segments(text)
    assert cost.count <= (2 if cost.encoding == "GSM-7" else 5), (lang, cost, text)
    if lang in ("en", "kac"):
        assert cost.encoding == "GSM-7", text
