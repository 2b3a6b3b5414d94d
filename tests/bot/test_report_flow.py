"""Anonymous reports end to end over POST /webhooks/twilio: the flow, routing, sealing,
notifications through a real SMTP server, escalation, and what the database keeps."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.delivery.worker import OutboxWorker
from storage import reports
from storage.models import Conversation, OutboxMessage, Referral, Report
from storage.crypto import AlteredError
from tests.conftest import Phone, twiml_messages
from tests.support import directory as d
from tests.support.play import Player, Sms

ACCOUNT = ["A man from the distribution team asked me for sex in exchange for rice.",
           "It happened twice near the warehouse Zq9-unique."]
NUMBER = "+959450123987"


@pytest.fixture
def app(make_outbox_app):
    return d.with_directory(make_outbox_app())


@pytest.fixture
def phone(app):
    return Phone(app.test_client(), NUMBER)


# This module's report: the organisation typed with a typo, the account in two messages, a
# township in Yangon (DRA's Yangon focal point receives it); every other answer as play.py's.
ANSWERS = {"organisation": "Demo Relif Agency", "account": ACCOUNT, "where": "Botahtaung"}


def reporter(phone: Phone, **answers) -> Player:
    return Player(Sms(phone), answers={**ANSWERS, **answers})


def start_report(phone: Phone, **answers) -> Player:
    """Into the report, at its first question."""
    player = reporter(phone, **answers)
    player.play(until="danger")
    return player


def full_report(phone: Phone, **answers) -> list[str]:
    """Play a whole report (answers by step name over ANSWERS); returns the last replies (the receipt)."""
    player = reporter(phone, **answers)
    return player.play().raw


def run_worker(app) -> int:
    return OutboxWorker(app.extensions["intake"]).run_once()


def the(app, model):
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(model)).scalars().all()


def test_a_full_report_in_english_reaches_the_focal_point(app, phone, smtp_sink):
    player = start_report(phone, organisation="demo relif agency", account=["done", *ACCOUNT, "done"],
                          where="botataung")
    assert player.reply.raw == ["Are you in danger right now?\n1. Yes\n2. No"]
    assert player.play(until="organisation_confirm").raw == [
        "Is it Demo Relief Agency (DRA)?\n1. Yes\n2. Yes, but do not send this to them\n3. No, I will type it again"]
    assert player.play(until="account").raw == [  # who can read it, said with the question
        "Only the people handling your report can read what you write.\n"
        "What happened? Write it in your own words. You can send several messages.\n1. I have finished"]
    assert player.move().text.startswith("Please tell us what happened first.")  # nothing written yet
    assert player.play(until="when").text.startswith("When did it happen?")
    assert player.play(until="where").text.startswith("Where did it happen?")
    assert player.play(until="affected").text.startswith("Who was affected?")  # typo forgiven
    review = player.play(until="review").text
    assert review == ("Please check:\nOrganisation: Demo Relief Agency (DRA)\nMessages about what happened: 2\n"
                      "When: This month\nWhere: Botahtaung\nWho was affected: Me\nAnyone under 18: No\n"
                      "Contact: No\n1. Send\n2. Change an answer\n3. Cancel")
    sent = player.play().text
    assert sent.startswith("Thank you, it was sent. Receipt number: ")
    # what happens next, and how to check with the receipt (the menu's own words for it)
    assert sent.endswith('Keep it safe. It will be read soon. To check on it, send MENU and choose "Check a report".')
    receipt = sent.split("number: ")[1].split(".")[0].replace(" ", "")
    assert len(receipt) == 18 and receipt.isdigit() and receipt == player.receipt

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
    assert "Status: Received, at 24 Nov 2026, " in summary.body  # as it was when the mail was written
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
    # The coordinators get the summary, never the account: another key opens nothing (refused as
    # a key that is not this referral's, which a wrong key and a moved one look alike to).
    with pytest.raises(AlteredError):
        d.read_the_referral(app, network_key)


@pytest.mark.parametrize("organisation, confirm, route, receiver", [
    ("unknown", None, "unknown_organisation", "network"),  # "I don't know"
    ("Demo Relief", "avoid", "alternate_channel", "network"),  # named, but not to them
    ("EHP", "yes", "named", "ehp"),
])
def test_routing_over_the_webhook(app, phone, organisation, confirm, route, receiver):
    full_report(phone, organisation=organisation, organisation_confirm=confirm or [], where="skip")
    [report] = the(app, Report)
    [referral] = the(app, Referral)
    assert report.route == route
    assert referral.organisation_id == getattr(app.seeded, receiver).id


def test_a_child_involved_makes_it_urgent_with_a_shorter_deadline(app, phone, smtp_sink):
    full_report(phone, child="yes")
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
    player = start_report(phone, danger="yes")
    reply = player.play(until="organisation").raw[0]
    assert reply.startswith("If you need help now, contact:\nPolice (demo): 199\nWomen's helpline (demo)")
    assert "Which organisation does the person you are reporting work for?" in reply


def test_change_an_answer_returns_to_the_review(app, phone):
    player = reporter(phone, organisation=["unknown", "EHP"], where="Sittwe", review=["change", "change", "send"],
                      change=["when", "organisation"], when=["this_month", "this_week"])
    assert player.play(until="change").text.startswith("Which answer do you want to change?\n1. Organisation")
    assert player.move().text.startswith("When did it happen?")  # When
    review = player.move().text
    assert review.startswith("Please check:") and "When: This week" in review and "Where: Sittwe" in review
    player.play(until="organisation")  # change, organisation
    player.move()  # EHP
    review = player.move().text  # confirm → straight back to the review
    assert player.position == "report.review" and "Organisation: Example Health Partners (EHP)" in review
    player.play()
    [referral] = the(app, Referral)
    assert referral.organisation_id == app.seeded.ehp.id


@pytest.mark.parametrize("endings, reply", [(["3", "1"], "Cancelled. Nothing was sent."),
                                            (["exit"], "Ended. This conversation was deleted.")])
def test_cancel_or_quick_exit_discard_the_draft(app, phone, endings, reply):
    reporter(phone, organisation="unknown", where="skip").play(until="review")
    for ending in endings[:-1]:
        phone.say(ending)
    assert phone.say(endings[-1]) == [reply]
    assert the(app, Report) == [] and the(app, OutboxMessage) == []
    [conversation] = the(app, Conversation)
    assert conversation.state is None


def test_contact_on_this_number_is_sealed_in_the_report_only(app, phone):
    player = reporter(phone, organisation="unknown", where="skip", contact="yes", contact_how="this_number")
    player.play(until="contact_how")
    assert "Contact: On this number" in player.move().text  # "on this number" leads to the review
    assert player.position == "report.review"
    player.play()
    _, network_key = d.key_holder(app, app.seeded.network, "PSEAN", role="coordinator")
    content = d.read_the_referral(app, network_key)  # "I don't know" went to the network
    assert content["contact_how"] == "this_number" and content["contact_number"] == NUMBER


def test_without_a_directory_reports_are_not_available_yet(make_app):
    player = Player(Sms(Phone(make_app().test_client())), greeting="hi")
    player.play(until="menu.main")
    assert player.move().text.startswith("This is not available yet.")  # "Report a concern"


def test_a_retried_send_files_one_report_and_repeats_no_receipt(app, phone):
    """The answer that carries the receipt is never stored (with the server's secrets it would
    open the report), so a retry of "Send" files nothing more and is answered with nothing."""
    reporter(phone, organisation="unknown", where="skip").play(until="review")
    first = phone.send("1", sid="SMsend00000000000000000000000000001")
    again = phone.send("1", sid="SMsend00000000000000000000000000001")
    assert b"Receipt number: " in first.data
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
