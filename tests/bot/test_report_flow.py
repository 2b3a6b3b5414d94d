"""Anonymous reports end to end over POST /webhooks/twilio: the flow, routing, sealing,
notifications through a real SMTP server, escalation, and what the database keeps."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.delivery.worker import OutboxWorker
from storage import reports
from storage.models import Conversation, OutboxMessage, Referral, Report
from storage.sealing import SealError
from tests.conftest import Phone, twiml_messages
from tests.support import directory as d

ACCOUNT = ["A man from the distribution team asked me for sex in exchange for rice.",
           "It happened twice near the warehouse Zq9-unique."]
NUMBER = "+959450123987"


@pytest.fixture
def app(make_outbox_app):
    return d.with_directory(make_outbox_app())


@pytest.fixture
def phone(app):
    return Phone(app.test_client(), NUMBER)


def start_report(phone: Phone) -> str:
    phone.say("hello")
    phone.say("1")  # English
    return phone.say("1")[0]  # report a concern


def full_report(phone: Phone, organisation="Demo Relif Agency", where="Botahtaung", child="2",
                confirm="1", contact="1") -> list[str]:
    """Play a whole report; returns the last replies (the receipt)."""
    start_report(phone)
    phone.say("2")  # not in danger
    reply = phone.say(organisation)[0]
    if confirm is not None:
        assert reply.startswith("Is it ")
        phone.say(confirm)
    for part in ACCOUNT:
        assert phone.say(part)[0].startswith("Received. Send more")
    phone.say("1")  # finished
    phone.say("2")  # this month
    phone.say(where)
    phone.say("1")  # me
    phone.say(child)
    phone.say(contact)
    return phone.say("1")  # send


def run_worker(app) -> int:
    return OutboxWorker(app.extensions["intake"]).run_once()


def the(app, model):
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(model)).scalars().all()


def test_a_full_report_in_english_reaches_the_focal_point(app, phone, smtp_sink):
    first = start_report(phone)
    assert first == "Are you in danger right now?\n1. Yes\n2. No"
    phone.say("2")
    assert phone.say("demo relif agency") == ["Is it Demo Relief Agency (DRA)?\n1. Yes\n"
                                              "2. Yes, but do not send this to them\n3. No, I will type it again"]
    assert phone.say("1")[0].startswith("What happened? Write it in your own words.")
    assert phone.say("1")[0].startswith("Please tell us what happened first.")  # nothing written yet
    for part in ACCOUNT:
        phone.say(part)
    assert phone.say("1")[0].startswith("When did it happen?")
    assert phone.say("2")[0].startswith("Where did it happen?")
    assert phone.say("botataung")[0].startswith("Who was affected?")  # typo forgiven
    phone.say("1")
    phone.say("2")
    review = phone.say("1")[0]
    assert review == ("Please check:\nOrganisation: Demo Relief Agency (DRA)\nMessages about what happened: 2\n"
                      "When: This month\nWhere: Botahtaung\nWho was affected: Me\nAnyone under 18: No\n"
                      "Contact: No\n1. Send\n2. Change an answer\n3. Cancel")
    sent = phone.say("1")[0]
    assert sent.startswith("Sent. Your receipt number is ")
    receipt = sent.split("is ")[1].split(".")[0].replace(" ", "")
    assert len(receipt) == 12 and receipt.isdigit()

    [report] = the(app, Report)
    [referral] = the(app, Referral)
    assert referral.organisation_id == app.seeded.dra.id and report.route == "named"
    assert report.township_pcode == "MMR013017" and report.child_involved == "no" and not report.urgent
    assert (referral.ack_deadline - report.created_at).total_seconds() == 24 * 3600
    [conversation] = the(app, Conversation)
    assert conversation.state is None  # the draft is gone

    assert run_worker(app) == 2
    by_recipient = {mail.rcpt_tos[0]: mail for mail in smtp_sink.messages}
    assert set(by_recipient) == {d.DRA_YANGON_EMAIL, d.COORDINATOR_EMAIL}  # only the township's focal point
    notice = by_recipient[d.DRA_YANGON_EMAIL]
    assert notice.subject == f"[Community Feedback] New referral {referral.case_ref}"
    assert "Demo Relief Agency (DRA)" in notice.body and referral.case_ref in notice.body
    assert f"https://intake.example.org/portal/referrals/{referral.case_ref}" in notice.body
    summary = by_recipient[d.COORDINATOR_EMAIL]
    assert "Month: 2026-11" in summary.body and "Place: Botahtaung" in summary.body
    for mail in smtp_sink.messages:
        for part in ACCOUNT:
            assert part not in mail.body and "Zq9-unique" not in mail.body
        assert "sex" not in mail.body.lower() and NUMBER not in mail.body and receipt not in mail.body


def test_only_the_receiving_organisation_can_open_the_sealed_report(app, phone):
    full_report(phone)
    _, dra_key = d.key_holder(app, app.seeded.dra, "DRA")
    _, network_key = d.key_holder(app, app.seeded.network, "PSEAN", role="coordinator")
    content = d.read_the_referral(app, dra_key)
    assert content["account"] == "\n\n".join(ACCOUNT)
    assert "contact_how" not in content and "contact_number" not in content  # no consent, no contact details
    assert NUMBER not in str(content)
    with pytest.raises(SealError):  # the coordinators get the summary, never the account
        d.read_the_referral(app, network_key)


@pytest.mark.parametrize("organisation, confirm, route, receiver", [
    ("1", None, "unknown_organisation", "network"),  # "I don't know"
    ("Demo Relief", "2", "alternate_channel", "network"),  # named, but not to them
    ("EHP", "1", "named", "ehp"),
])
def test_routing_over_the_webhook(app, phone, organisation, confirm, route, receiver):
    start_report(phone)
    phone.say("2")
    phone.say(organisation)
    if confirm:
        phone.say(confirm)
    for part in ACCOUNT:
        phone.say(part)
    for answer in ("1", "2", "1", "1", "2", "1", "1"):  # finished, when, skip place, me, no child, no contact, send
        phone.say(answer)
    [report] = the(app, Report)
    [referral] = the(app, Referral)
    assert report.route == route
    assert referral.organisation_id == getattr(app.seeded, receiver).id


def test_a_child_involved_makes_it_urgent_with_a_shorter_deadline(app, phone, smtp_sink):
    full_report(phone, child="1")
    [report] = the(app, Report)
    [referral] = the(app, Referral)
    assert report.urgent and report.child_involved == "yes"
    assert (referral.ack_deadline - report.created_at).total_seconds() == 12 * 3600
    run_worker(app)
    notice = next(m for m in smtp_sink.messages if m.rcpt_tos[0] == d.DRA_YANGON_EMAIL)
    assert "Urgent: Yes" in notice.body


def test_notifications_go_to_every_channel_of_the_focal_point(app, phone, smtp_sink, fake_twilio):
    full_report(phone, organisation="EHP")
    with app.extensions["intake"].sessions() as session:
        channels = sorted(row.channel for row in session.execute(
            select(OutboxMessage).where(OutboxMessage.purpose == "notification")).scalars())
    assert channels == ["email", "email", "sms", "telegram"]  # EHP's three + the coordinator's summary
    run_worker(app)
    [sms] = fake_twilio.delivered
    assert sms.to == d.EHP_PHONE and "new referral R-" in sms.body and ACCOUNT[0] not in sms.body


def test_unacknowledged_referrals_escalate_daily_until_acknowledged(app, phone, clock, smtp_sink):
    full_report(phone)
    runtime = app.extensions["intake"]
    worker = OutboxWorker(runtime)
    worker.run_once()
    before = len(smtp_sink.messages)
    clock.advance(hours=23)
    assert worker.escalate() == 0
    clock.advance(hours=2)
    assert worker.escalate() == 1
    assert worker.escalate() == 0  # not twice for the same day
    worker.run_once()
    escalations = [m for m in smtp_sink.messages[before:] if "Overdue referral" in m.subject]
    assert [m.rcpt_tos[0] for m in escalations] == [d.COORDINATOR_EMAIL]
    clock.advance(days=1)
    assert worker.escalate() == 1
    with runtime.sessions() as session:
        referral = session.execute(select(Referral)).scalar_one()
        assert referral.escalations == 2
        reports.acknowledge(session, referral, user_id=None, now=clock())
        session.commit()
    clock.advance(days=3)
    assert worker.escalate() == 0


def test_danger_shows_the_emergency_lines(app, phone):
    start_report(phone)
    reply = phone.say("1")[0]
    assert reply.startswith("If you need help now, contact:\nPolice (demo): 199\nWomen's helpline (demo)")
    assert "Which organisation does the person you are reporting work for?" in reply


def test_change_an_answer_returns_to_the_review(app, phone):
    start_report(phone)
    for answer in ("2", "1", *ACCOUNT, "1", "2", "Sittwe", "1", "2", "1"):
        phone.say(answer)
    assert phone.say("2")[0].startswith("Which answer do you want to change?\n1. Organisation")
    assert phone.say("3")[0].startswith("When did it happen?")  # When
    review = phone.say("1")[0]
    assert review.startswith("Please check:") and "When: This week" in review and "Where: Sittwe" in review
    phone.say("2")
    phone.say("1")  # organisation
    phone.say("EHP")
    review = phone.say("1")[0]  # confirm → straight back to the review
    assert "Organisation: Example Health Partners (EHP)" in review
    phone.say("1")
    [referral] = the(app, Referral)
    assert referral.organisation_id == app.seeded.ehp.id


@pytest.mark.parametrize("ending, reply", [("3", "Cancelled. Nothing was sent."),
                                           ("exit", "Ended. This conversation was deleted.")])
def test_cancel_or_quick_exit_discard_the_draft(app, phone, ending, reply):
    start_report(phone)
    for answer in ("2", "1", *ACCOUNT, "1", "2", "1", "1", "2", "1"):  # … skip place, me, no child, no contact
        phone.say(answer)
    assert phone.say(ending) == [reply]
    assert the(app, Report) == [] and the(app, OutboxMessage) == []
    [conversation] = the(app, Conversation)
    assert conversation.state is None


def test_contact_on_this_number_is_sealed_in_the_report_only(app, phone):
    start_report(phone)
    for answer in ("2", "1", *ACCOUNT, "1", "2", "1", "1", "2", "2"):  # … contact: yes
        phone.say(answer)
    assert "Contact: On this number" in phone.say("1")[0]  # "on this number" leads to the review
    phone.say("1")
    _, network_key = d.key_holder(app, app.seeded.network, "PSEAN", role="coordinator")
    content = d.read_the_referral(app, network_key)  # "I don't know" went to the network
    assert content["contact_how"] == "this_number" and content["contact_number"] == NUMBER


def test_without_a_directory_reports_are_not_available_yet(make_app):
    phone = Phone(make_app().test_client())
    phone.say("hi")
    phone.say("1")
    assert phone.say("1")[0].startswith("This is not available yet.")


def test_a_retried_send_files_one_report_and_repeats_no_receipt(app, phone):
    """The answer that carries the receipt is never stored (with the server's secrets it would
    open the report), so a retry of "Send" files nothing more and is answered with nothing."""
    start_report(phone)
    for answer in ("2", "1", *ACCOUNT, "1", "2", "1", "1", "2", "1"):
        phone.say(answer)
    first = phone.send("1", sid="SMsend00000000000000000000000000001")
    again = phone.send("1", sid="SMsend00000000000000000000000000001")
    assert b"receipt number" in first.data
    assert again.status_code == 200 and twiml_messages(again) == []
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(func.count()).select_from(Report)).scalar_one() == 1


def test_an_smtp_outage_delays_report_notifications_and_loses_none(app, clock, smtp_sink):
    smtp_sink.stop()
    for number in ("+959450000001", "+959450000002", "+959450000003"):
        full_report(Phone(app.test_client(), number))
    worker = OutboxWorker(app.extensions["intake"])
    worker.run_once()  # every e-mail fails: the relay is down
    with app.extensions["intake"].sessions() as session:
        statuses = {row.status for row in session.execute(
            select(OutboxMessage).where(OutboxMessage.channel == "email")).scalars()}
    assert statuses == {"pending"} and smtp_sink.messages == []
    smtp_sink.start()
    for _ in range(4):
        clock.advance(minutes=10)
        worker.run_once()
    delivered = [(m.rcpt_tos[0], m.subject) for m in smtp_sink.messages]
    assert len(delivered) == 6 == len(set(delivered))  # 3 referrals + 3 summaries, each exactly once
    assert sum(1 for to, _ in delivered if to == d.DRA_YANGON_EMAIL) == 3
    worker.run_once()
    assert len(smtp_sink.messages) == 6
