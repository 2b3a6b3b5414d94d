""""Check a report" end to end over the real webhooks: a report filed over SMS, a message written
to its reporter by the organisation (with the key its portal user holds), then the reporter
checking with the receipt over SMS and Telegram, reading, answering; the throttle on wrong
receipts; and what is never kept (the receipt) or never run (a derivation while throttled, or
inside a transaction)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import delete, select

from bot.channels import inbox
from bot.delivery.worker import OutboxWorker
from storage import conversations, reporter_messages, reports, sealing
from storage.crypto import AlteredError
from storage.followup import EVERYONE
from storage.models import Conversation, IdentityAttempt, InboundMessage, Referral, Report, ReporterMessage
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import MYANMAR_DIGITS, Player, Sms
from tests.support.telegram_chat import CHAT, Person, buttons, telegram_settings
from tests.support.telegram_updates import UpdateFactory

NUMBER = "+959450123987"
# The report of test_report_flow.py's person: DRA, in Yangon (DRA's Yangon focal point is told).
REPORT = {"organisation": "Demo Relief Agency", "where": "Botahtaung"}
TO_REPORTER = "Thank you for telling us. Which week was it? Zq7-note"
ANSWER = "It was the week of the rice distribution. Zq8-answer"
RECEIPT_PROMPT = "Type your receipt number: the 18 digits you were given when you sent your report."
NEXT = "Do you want to write to them?\n1. Answer or add information\n2. I have finished"
WRONG = ("We found no report with that number. Check it and type it again.\n" + RECEIPT_PROMPT)
RECEIVED = "Your report was received. It is waiting for someone to look at it."


@pytest.fixture
def make(make_outbox_app, telegram):
    """Apps with the test directory, Telegram pointed at the fake; settings may be given."""
    return lambda **settings: d.with_directory(make_outbox_app(**telegram_settings(telegram), **settings))


@pytest.fixture
def app(make):
    return make()


@pytest.fixture
def derivations(monkeypatch) -> list[str]:
    """The receipt derivations the service runs (the real ones, counted)."""
    calls = []
    real = sealing.receipt_secrets

    def counted(receipt, pepper, params=None, **salt):
        calls.append(receipt)
        return real(receipt, pepper, params, **salt)

    monkeypatch.setattr(sealing, "receipt_secrets", counted)
    return calls


def file_report(app, number: str = NUMBER) -> str:
    """A report sent over SMS; returns its receipt number (ASCII digits)."""
    player = Player(Sms(Phone(app.test_client(), number)), answers=REPORT)
    player.play()
    return player.receipt


def write_to_reporter(app, text: str = TO_REPORTER, report_id: int | None = None) -> bytes:
    """DRA's focal point writes to the reporter, as the portal does; returns DRA's key."""
    user, key = d.key_holder(app, app.seeded.dra, "DRA")
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        referral = session.execute(select(Referral).where(Referral.organisation_id == app.seeded.dra.id)
                                   .order_by(Referral.id.desc()).limit(1)).scalar_one()
        report_key = reporter_messages.report_key_of(referral, key)
        reporter_messages.write_to_reporter(session, referral, report_key, text, author_id=user.id,
                                            now=runtime.clock())
        session.commit()
    return key


def at_receipt(phone: Phone) -> None:
    """From no conversation open to the receipt question (in English)."""
    if phone.say("hi")[0].startswith("Choose your language"):
        phone.say("1")
    assert phone.say("3") == [RECEIPT_PROMPT]


def rows(app, model, *where):
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(model).where(*where)).scalars().all()


def test_a_reporter_checks_over_sms_reads_the_message_and_answers(app, smtp_sink, clock):
    receipt = file_report(app)
    key = write_to_reporter(app)
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    assert phone.say(receipt) == [f"{RECEIVED}\nMessages for you:\n24-11-2026: {TO_REPORTER}\n{NEXT}"]
    [shown] = rows(app, ReporterMessage)
    assert shown.read_at == clock()  # read now, by the reporter

    assert phone.say("1") == ["Type your message. Only the people handling your report can read it."]
    assert phone.say(ANSWER) == ["Thank you. Your message was passed on."]
    [answer] = rows(app, ReporterMessage, ReporterMessage.direction == "in")
    assert reporter_messages.open_message(answer, private_key=key) == ANSWER  # the organisation's key opens it
    assert ANSWER.encode() not in answer.body
    with pytest.raises(AlteredError):  # and no other key does
        reporter_messages.open_message(answer, private_key=d.key_holder(app, app.seeded.ehp, "EHP")[1])

    # The focal point of the referral is told, with the case and the link, never the words.
    [referral] = rows(app, Referral)
    OutboxWorker(app.extensions["intake"]).run_once()
    [notice] = [m for m in smtp_sink.messages if "added information" in m.body]
    assert list(notice.rcpt_tos) == [d.DRA_YANGON_EMAIL]
    assert notice.subject == f"[Community Feedback] The reporter wrote on {referral.case_ref}"
    assert f"https://intake.example.org/portal/referrals/{referral.case_ref}" in notice.body
    assert ANSWER not in notice.body and "Zq8" not in notice.body
    assert phone.say("hi")[0].startswith("Community Feedback. What would you like to do?")  # ended


def test_a_check_without_messages_then_finished(app):
    receipt = file_report(app)
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    burmese = " ".join(receipt[i:i + 4] for i in range(0, len(receipt), 4)).translate(str.maketrans("0123456789", MYANMAR_DIGITS))
    assert phone.say(burmese) == [f"{RECEIVED}\nThere is no message for you.\n{NEXT}"]  # "၄၈၂၁ ၀၉၃၇ ၅၅၆၆"
    assert phone.say("2") == ["Thank you. We have closed this for you."]
    assert rows(app, ReporterMessage) == []


@pytest.mark.parametrize("status, words", [
    ("acknowledged", "Your report was received, and the people responsible for it have taken it up."),
    ("preliminary_assessment", "Your report is being looked at."),
    ("under_investigation", "Your report is being investigated."),
    ("not_substantiated", "The work on your report is finished and it is closed."),
    ("referred", "Your report was passed to the organisation responsible for it."),
])
def test_the_status_in_plain_words(app, status, words):
    receipt = file_report(app)
    with app.extensions["intake"].sessions() as session:
        session.execute(Referral.__table__.update().values(status=status))
        session.commit()
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    [reply] = phone.say(receipt)
    assert reply.startswith(words + "\n")
    assert "abuse" not in reply.lower() and "psea" not in reply.lower() and "substantiated" not in reply


def test_a_check_over_telegram_is_wiped_from_the_chat(app, telegram, clock):
    receipt = file_report(app)
    write_to_reporter(app)
    person = Person(app.test_client(), telegram, UpdateFactory(telegram, clock=clock))
    [language] = person.say("hello")
    [menu] = person.press(language, 1)
    assert buttons(menu)[2] == "3. Check a report"
    [question] = person.press(menu, 3)
    assert question["text"] == RECEIPT_PROMPT
    [status] = person.say(receipt)
    assert status["text"] == f"{RECEIVED}\nMessages for you:\n24-11-2026: {TO_REPORTER}\nDo you want to write to them?"
    assert buttons(status) == ["1. Answer or add information", "2. I have finished"]
    [done] = person.press(status, 2)
    assert done["text"] == "Thank you. We have closed this for you."
    remaining = [m.get("text", "") for m in telegram.chat_messages(CHAT)]
    assert receipt not in remaining and not any(TO_REPORTER in text for text in remaining)
    assert RECEIPT_PROMPT not in remaining
    assert any(text.startswith("Community Feedback. What would you like to do?") for text in remaining)
    assert rows(app, ReporterMessage)[0].read_at is not None


def test_a_wrong_an_unknown_and_a_deleted_receipt_get_the_same_answer_after_the_same_work(app, derivations):
    receipt = file_report(app)
    gone = file_report(app, "+959450123988")
    with app.extensions["intake"].sessions() as session:
        session.execute(delete(Report).where(Report.id == max(r.id for r in session.execute(select(Report)).scalars())))
        session.commit()
    mistyped = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)
    answers = []
    # mistyped (its lookup part finds the report, the rest is wrong), never given, deleted, and
    # a 16-digit and an old-format (12-digit) one never given
    for n, typed in enumerate((mistyped, "111222333444555666", gone, "1111222233334444", "111122223333")):
        phone = Phone(app.test_client(), f"+95945099900{n}")
        at_receipt(phone)
        before = len(derivations)
        answers.append(phone.say(typed))
        assert len(derivations) == before + 1  # one derivation each, no more, no less
    assert answers == [[WRONG]] * 5
    [everyone] = rows(app, IdentityAttempt, IdentityAttempt.subject == EVERYONE)
    assert everyone.failures == 5  # each counted


def _sharing_the_lookup_part(receipt: str) -> str:
    """Another receipt whose first six digits (its lookup part) are `receipt`'s."""
    rest = "0" * 12 if receipt[6:] != "0" * 12 else "1" * 12
    return receipt[:sealing.LOOKUP_DIGITS] + rest


def _checks(app, number: str, receipt: str) -> bool:
    phone = Phone(app.test_client(), number)
    at_receipt(phone)
    return phone.say(receipt)[0].startswith(RECEIVED)


class TakenDraws:
    """Every receipt drawn shares `first`'s lookup part until the service has seen it taken (each
    message draws one; the one that sends the report is the one that matters)."""

    def __init__(self, monkeypatch, first: str, *, blind: bool = False):
        self.taken, self.seen, self.checks, self.blind = _sharing_the_lookup_part(first), False, 0, blind
        self.derived = 0
        real_draw, real_taken, real_after = sealing.new_receipt, reports.receipt_taken, inbox._receipt_taken
        real_derive = sealing.receipt_secrets

        def draw():
            return real_draw() if self.seen else self.taken

        def receipt_taken(session, lookup):
            self.checks += 1
            if self.blind:
                return False  # as if the other message had not committed yet
            taken = real_taken(session, lookup)
            self.seen = self.seen or taken
            return taken

        def after_the_index_refused(runtime, lookup):
            self.blind = False  # what the inbox asks once the unique index has refused the insert
            return real_after(runtime, lookup)

        def derive(receipt, *args, **kwargs):
            self.derived += receipt == self.taken
            return real_derive(receipt, *args, **kwargs)

        monkeypatch.setattr(sealing, "new_receipt", draw)
        monkeypatch.setattr(sealing, "receipt_secrets", derive)
        monkeypatch.setattr(reports, "receipt_taken", receipt_taken)
        monkeypatch.setattr(inbox, "_receipt_taken", after_the_index_refused)


def test_a_receipt_drawn_with_a_taken_lookup_part_is_drawn_again_before_the_report_is_filed(app, monkeypatch):
    first = file_report(app)
    draws = TakenDraws(monkeypatch, first)
    second = file_report(app, "+959450123988")  # no 500: the report is sent, under a fresh number
    assert draws.seen and second not in (draws.taken, first) and second[:6] != first[:6]
    assert draws.derived == 0  # seen taken before its derivation
    assert len(rows(app, Report)) == 2
    assert _checks(app, "+959450000301", first) and _checks(app, "+959450000302", second)


def test_two_messages_drawing_the_same_lookup_part_at_once_end_with_two_receipts(app, monkeypatch):
    """The check before filing missed (another message filed meanwhile): the unique index on the
    lookup refuses the second, and that message is handled again under a fresh number."""
    first = file_report(app)
    draws = TakenDraws(monkeypatch, first, blind=True)
    second = file_report(app, "+959450123988")
    assert draws.seen and not draws.blind and draws.derived == 1  # filed, refused by the index, seen taken
    assert second not in (draws.taken, first) and second[:6] != first[:6]
    assert len(rows(app, Report)) == 2
    assert _checks(app, "+959450000301", first) and _checks(app, "+959450000302", second)


def test_a_format_that_is_not_a_receipt_is_asked_again_without_a_derivation(app, derivations):
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    before = len(derivations)
    for typed in ("12345", "4821 0937 55661", "482 109 375 566 123 45", "4821a0937b5566", "R-7KQ3MX"):
        [reply] = phone.say(typed)
        assert reply.startswith("Please type the 18 digits of your receipt number.\n")
        assert reply.endswith(RECEIPT_PROMPT)
    assert len(derivations) == before
    assert rows(app, IdentityAttempt) == []  # not a guess: not counted


def test_wrong_receipts_from_one_sender_wait_and_run_no_derivation(make, derivations, clock):
    app = make(RECEIPT_CHECK_ATTEMPTS="3", RECEIPT_CHECK_LOCKOUT_MINUTES="30")
    receipt = file_report(app)
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    assert phone.say("111122223333") == [WRONG]
    assert phone.say("111122223334") == [WRONG]
    [locked] = phone.say("111122223335")
    assert locked.startswith("Too many tries. Please wait 30 minutes, then try again.\n"
                             "Community Feedback. What would you like to do?")
    counted = len(derivations)
    assert phone.say("3") == [RECEIPT_PROMPT]
    [still] = phone.say(receipt)  # even the right one: nothing is derived while the sender waits
    assert still.startswith("Too many tries. Please wait 30 minutes")
    clock.advance(minutes=10)
    phone.say("3")
    assert phone.say(receipt)[0].startswith("Too many tries. Please wait 20 minutes")
    assert len(derivations) == counted
    other = Phone(app.test_client(), "+959450999111")  # another sender is not held back
    at_receipt(other)
    assert other.say(receipt)[0].startswith(RECEIVED)
    clock.advance(minutes=20)
    at_receipt(phone)
    assert phone.say(receipt)[0].startswith(RECEIVED)


def test_wrong_receipts_from_everyone_make_every_check_wait(make, derivations):
    app = make(RECEIPT_CHECK_GLOBAL_ATTEMPTS="2", RECEIPT_CHECK_LOCKOUT_MINUTES="60")
    receipt = file_report(app)
    first, second, third = (Phone(app.test_client(), f"+95945088800{n}") for n in range(3))
    at_receipt(first)
    assert first.say("111122223333") == [WRONG]
    at_receipt(second)
    [busy] = second.say("111122223334")
    assert busy.startswith("Too many receipt numbers were tried. Please wait 60 minutes, then try again.\n"
                           "Community Feedback. What would you like to do?")
    counted = len(derivations)
    at_receipt(third)
    assert third.say(receipt)[0].startswith("Too many receipt numbers were tried. Please wait 60 minutes")
    assert len(derivations) == counted


def test_a_too_long_answer_is_asked_again_saying_the_limit(app):
    receipt = file_report(app)
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    phone.say(receipt)
    phone.say("1")
    too_long = "x" * (reporter_messages.MAX_LENGTH + 1)
    assert phone.say(too_long) == ["Please make it shorter: at most 1000 letters.\n"
                                   "Type your message. Only the people handling your report can read it."]
    assert rows(app, ReporterMessage) == []
    assert phone.say("x" * reporter_messages.MAX_LENGTH) == ["Thank you. Your message was passed on."]
    [kept] = rows(app, ReporterMessage)
    assert len(reporter_messages.open_message(kept, private_key=write_key(app))) == reporter_messages.MAX_LENGTH


def write_key(app) -> bytes:
    return d.key_holder(app, app.seeded.dra, "DRA")[1]


def test_the_receipt_is_never_logged_nor_kept_in_the_conversation(app, caplog):
    caplog.set_level(logging.DEBUG)
    receipt = file_report(app)
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    spaced = " ".join(receipt[i:i + 4] for i in range(0, len(receipt), 4))
    phone.say(spaced)
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        conversation = session.execute(select(Conversation).where(Conversation.channel == "sms")).scalar_one()
        state = conversations.load_state(runtime.vault, conversation)
        report_id = session.execute(select(Report.id)).scalar_one()
        stored = [conversations.stored_replies(runtime.vault, row, conversation)
                  for row in session.execute(select(InboundMessage)).scalars()]
    assert state.position == "check.next" and state.draft == {"report": report_id}  # the id, nothing else
    for text in (json.dumps(state.to_json()), json.dumps(stored), caplog.text):
        assert receipt not in text and spaced not in text
    phone.say("2")
    with runtime.sessions() as session:
        assert session.execute(select(Conversation.state).where(Conversation.channel == "sms")).scalar_one() is None


def test_no_derivation_runs_inside_an_open_transaction(make, monkeypatch):
    """While a receipt is derived, the sender's conversation can be locked by another unit of work
    at once: no transaction holds it (on SQLite, not even the database's write lock). Both for
    sending a report and for checking one."""
    app = make(DATABASE_TIMEOUT_SECONDS="1")
    runtime = app.extensions["intake"]
    sender = runtime.vault.sender_key("sms", NUMBER)
    probes = []
    real = sealing.receipt_secrets

    def probing(receipt, pepper, params=None, **salt):
        with runtime.transaction() as session:  # times out (an error) if a transaction held the lock
            conversations.lock_conversation(session, "sms", sender, runtime.clock())
        probes.append("free")
        return real(receipt, pepper, params, **salt)

    monkeypatch.setattr(sealing, "receipt_secrets", probing)
    receipt = file_report(app)
    assert probes == ["free"]
    phone = Phone(app.test_client(), NUMBER)
    at_receipt(phone)
    assert phone.say(receipt)[0].startswith(RECEIVED)
    assert phone.say("hi") and probes == ["free", "free"]


class SimulatorVisitor:
    """A browser on the simulator (SMS style) from one client address; `drop_cookie` makes it a
    new simulated sender, as anyone can by clearing cookies."""

    def __init__(self, app, address: str):
        self.app, self.address = app, address
        self.drop_cookie()

    def drop_cookie(self) -> None:
        self.client = self.app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = self.address

    def say(self, text: str) -> list[str]:
        response = self.client.post("/simulator/messages", json={"text": text, "style": "sms"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return [reply["text"] for reply in response.get_json()["replies"]]


def test_wrong_receipts_through_the_simulator_count_per_address_whatever_the_cookie(make, derivations):
    """The simulator's sender is only a cookie: a new one each guess would be a new sender. The
    client's address counts as a sender too, so dropping the cookie buys no more guesses."""
    app = make(SIMULATOR_ENABLED="1", RECEIPT_CHECK_ATTEMPTS="2", RECEIPT_CHECK_LOCKOUT_MINUTES="30")
    receipt = file_report(app)
    guesser = SimulatorVisitor(app, "192.0.2.200")
    for guess in ("111122223333", "111122223334"):
        guesser.drop_cookie()
        at_receipt(guesser)
        [answer] = guesser.say(guess)
    assert answer.startswith("Too many tries. Please wait 30 minutes")
    counted = len(derivations)
    guesser.drop_cookie()
    at_receipt(guesser)
    assert guesser.say(receipt)[0].startswith("Too many tries. Please wait 30 minutes")
    assert len(derivations) == counted  # nothing derived while the address waits
    elsewhere = SimulatorVisitor(app, "192.0.2.201")
    at_receipt(elsewhere)
    assert elsewhere.say(receipt)[0].startswith(RECEIVED)
