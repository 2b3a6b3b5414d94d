"""The report flow as people try it (issue 12, point 5), through the webhooks: the area's
emergency lines once the place is known, danger making the referral urgent and flagged, an
organisation the directory does not list kept as typed (sealed) and sent to the PSEA Network,
the quick exit forgetting the language, a cut message said so, Cancel asking once, the end saying
what happens next, who can read the account, and no "this number" where there is none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.delivery.worker import OutboxWorker
from storage.models import Conversation, EmergencyContact, Referral, Report
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import Player, Sms, Telegram
from tests.support.portal import PortalUser
from tests.support.telegram_chat import Person, telegram_settings
from tests.support.telegram_updates import UpdateFactory

NUMBER = "+959450123987"
PASSWORD = "a long password!"  # tests.support.directory.key_holder's
GENERAL = "If you need help now, contact:\nPolice (demo): 199\nWomen's helpline (demo): 09 000 000 000"
AREA = ["Botahtaung shelter (demo): 0000-13", "Yangon women's line (demo): 0000-1"]


@pytest.fixture
def app(make_outbox_app):
    app = d.with_directory(make_outbox_app())
    with app.extensions["intake"].sessions() as session:  # lines for a township and for its state
        session.add_all([EmergencyContact(area="MMR013", language="en", text=AREA[1]),
                         EmergencyContact(area="MMR013017", language="en", text=AREA[0]),
                         EmergencyContact(area="MMR013017", language="my", text="ဗိုလ်တထောင် (နမူနာ)"),
                         EmergencyContact(area="MMR013", language="en", text="Police (demo): 199")])  # seen
        session.commit()
    return app


@pytest.fixture
def phone(app):
    return Phone(app.test_client(), NUMBER)


def reporter(phone: Phone, language: str = "en", greeting: str = "hello", **answers) -> Player:
    return Player(Sms(phone), language=language, greeting=greeting,
                  answers={"organisation": "Demo Relief Agency", "where": "Botahtaung", **answers})


def the(app, model):
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(model)).scalars().all()


def open_the_referral(app, organisation, acronym: str, role: str = "focal_point") -> tuple[str, dict]:
    """The referral's page as a key holder of `organisation` sees it, and its sealed content."""
    user, key = d.key_holder(app, organisation, acronym, role=role)
    portal = PortalUser(app.test_client())
    portal.login(user.email, PASSWORD)
    [referral] = the(app, Referral)
    response = portal.client.get(f"/portal/referrals/{referral.case_ref}")
    assert response.status_code == 200
    return response.get_data(as_text=True), d.read_the_referral(app, key)


# ---- 1. the area's emergency lines, once the place is known -----------------------------------

def test_in_danger_the_places_own_lines_follow_the_place(app, phone):
    player = reporter(phone, danger="yes")
    player.play(until="danger")
    assert player.move().text.startswith(GENERAL)  # danger first, and the general lines at once
    player.play(until="where")
    after_place = player.move()
    assert after_place.raw == [  # the township's line, then its state's; the police line was seen
        "If you need help now, contact:\n" + "\n".join(AREA) + "\nWho was affected?\n1. Me\n2. Someone else"]
    assert player.position == "report.affected"


def test_not_in_danger_or_a_place_without_lines_goes_straight_on(app, phone):
    player = reporter(phone, danger="no")
    player.play(until="where")
    assert player.move().raw == ["Who was affected?\n1. Me\n2. Someone else"]

    other = reporter(Phone(app.test_client(), "+959450000222"), danger="yes", where="Sittwe")
    other.play(until="where")
    assert other.move().raw == ["Who was affected?\n1. Me\n2. Someone else"]  # Sittwe has none


# ---- 2. danger makes the referral urgent, flagged to the focal point --------------------------

def test_danger_makes_the_referral_urgent_and_the_focal_point_sees_why(app, phone, smtp_sink):
    reporter(phone, danger="yes", child="no").play()
    [report] = the(app, Report)
    [referral] = the(app, Referral)
    assert report.urgent and report.child_involved == "no"
    urgent_hours = app.extensions["intake"].settings.urgent_ack_deadline_hours
    assert (referral.ack_deadline - report.created_at).total_seconds() == urgent_hours * 3600
    OutboxWorker(app.extensions["intake"]).run_once()
    notice = next(mail for mail in smtp_sink.messages if mail.rcpt_tos[0] == d.DRA_YANGON_EMAIL)
    assert "Urgent: Yes" in notice.body and "danger" not in notice.body.lower()  # no content leaves
    page, content = open_the_referral(app, app.seeded.dra, "DRA")
    assert content["danger"] == "yes"
    assert 'id="danger-flag"' in page and "The reporter said they were in danger when reporting." in page
    assert '<strong class="urgent" id="in-danger">In danger</strong>' in page


def test_not_in_danger_is_not_urgent_and_not_flagged(app, phone):
    reporter(phone, danger="no", child="no").play()
    [report] = the(app, Report)
    assert not report.urgent
    page, _ = open_the_referral(app, app.seeded.dra, "DRA")
    assert "danger-flag" not in page and "in-danger" not in page


# ---- 3. an organisation the directory does not list --------------------------------------------

TYPED = "Rakhine  Womens Union"


def test_an_unlisted_organisation_is_kept_as_typed_sealed_and_reaches_the_network(app, phone):
    player = reporter(phone, organisation=TYPED, where="skip")
    player.play(until="organisation")
    assert player.move().raw == [
        "We could not find Rakhine Womens Union in our list. Send the name as you typed it?\n"
        "1. Yes, send it as I typed it\n2. No, I will type it again\n3. I don't know"]
    assert player.move().text.startswith("Only the people handling your report can read what you write.\n"
                                         "What happened?")
    review = player.play(until="review").text
    assert "Organisation: Rakhine Womens Union (not in our list)" in review
    player.play()

    [report] = the(app, Report)
    [referral] = the(app, Referral)
    assert referral.organisation_id == app.seeded.network.id and report.route == "unlisted_organisation"
    assert report.named_organisation_id is None
    page, content = open_the_referral(app, app.seeded.network, "PSEAN", role="coordinator")
    assert content["organisation_typed"] == "Rakhine Womens Union"  # sealed: no clear column has it
    assert "<dt>Organisation as typed</dt><dd><span class=\"text\">Rakhine Womens Union</span></dd>" in page
    assert "Organisation not in the directory: sent to the PSEA Network" in page


def test_a_name_typed_again_and_found_files_no_typed_name(app, phone):
    player = reporter(phone, organisation=[TYPED, "DRA"], organisation_unlisted="retype", where="skip")
    player.play(until="organisation_confirm")
    player.play()
    [report] = the(app, Report)
    assert report.route == "named" and report.named_organisation_id == app.seeded.dra.id
    _, dra_key = d.key_holder(app, app.seeded.dra, "DRA")
    assert "organisation_typed" not in d.read_the_referral(app, dra_key)


def test_an_unlisted_name_then_i_dont_know_files_no_typed_name(app, phone):
    reporter(phone, organisation=TYPED, organisation_unlisted="unknown", where="skip").play()
    [report] = the(app, Report)
    assert report.route == "unknown_organisation"
    _, network_key = d.key_holder(app, app.seeded.network, "PSEAN", role="coordinator")
    assert "organisation_typed" not in d.read_the_referral(app, network_key)


# ---- 4. the quick exit forgets the language too -------------------------------------------------

def test_after_the_quick_exit_the_next_hello_is_a_first_contact(app, phone):
    newcomer = Phone(app.test_client(), "+959450000999").say("hello")
    player = reporter(phone, language="my", greeting="hi")
    player.play(until="language.choose")
    player.move()  # Burmese chosen
    player.play(until="account")
    assert phone.say("exit") == ["ပြီးပါပြီ။ ဒီမှာ ပြောထားတာတွေကို ဖျက်လိုက်ပါပြီ။"]  # said in their language
    conversation = max(the(app, Conversation), key=lambda c: c.turns)  # the newcomer's had one turn
    assert conversation.language is None and conversation.state is None and conversation.last_active_at is None
    assert phone.say("hello") == newcomer  # as to someone who never wrote


# ---- 5. a cut message is said so ------------------------------------------------------------------

LONG = ("Word " * 420).strip()  # 2,099 characters


def test_a_2100_character_account_over_whatsapp_is_kept_whole(app):
    """A WhatsApp message runs to 4,096 characters, as a Telegram one does: the account is kept."""
    whatsapp = Phone(app.test_client(), "whatsapp:" + NUMBER)
    account = LONG + "!"
    assert len(account) == 2100
    player = Player(Sms(whatsapp), answers={"organisation": "unknown", "where": "skip", "account": [account]})
    player.play(until="account")
    assert player.move().raw == ["Received. Send more, or choose below when you have finished.\n1. I have finished"]
    player.play()
    _, network_key = d.key_holder(app, app.seeded.network, "PSEAN", role="coordinator")
    assert d.read_the_referral(app, network_key)["account"] == account


def test_a_2100_character_sms_is_told_what_was_kept_and_the_rest_can_follow(app, phone):
    """Twilio hands on an SMS of at most 1,600 characters; whatever the engine is given past
    MAX_INBOUND_CHARS is cut, and the person is told how much was kept."""
    account = LONG + "!"
    player = reporter(phone, organisation="unknown", where="skip", account=[account, account[1600:], "done"])
    player.play(until="account")
    assert player.move().raw == [
        "Your message was too long. We kept the first 1600 characters. Please send the rest in another message.\n"
        "Received. Send more, or choose below when you have finished.\n1. I have finished"]
    player.play()
    _, network_key = d.key_holder(app, app.seeded.network, "PSEAN", role="coordinator")
    assert d.read_the_referral(app, network_key)["account"] == (account[:1600].strip() + "\n\n"
                                                                + account[1600:].strip())


def test_the_simulator_says_so_too(app):
    client = app.test_client()
    for text in ("hello", "1"):
        client.post("/simulator/messages", json={"text": text, "style": "sms"})
    client.post("/simulator/messages", json={"text": "1", "style": "sms"})  # report
    client.post("/simulator/messages", json={"text": "2", "style": "sms"})  # not in danger
    client.post("/simulator/messages", json={"text": "I don't know", "style": "sms"})
    reply = client.post("/simulator/messages", json={"text": LONG, "style": "sms"}).get_json()["replies"]
    assert reply[0]["text"].startswith("Your message was too long. We kept the first 1600 characters.")


def test_a_short_message_is_not_said_to_be_cut(app, phone):
    player = reporter(phone, organisation="unknown")
    player.play(until="account")
    assert phone.say(LONG[:1600])[0].startswith("Received.")


# ---- 6. Cancel asks once ----------------------------------------------------------------------

def test_cancel_asks_once_and_no_goes_back_to_the_review(app, phone):
    player = reporter(phone, organisation="unknown", where="skip")
    review = player.play(until="review").raw[-1]
    assert phone.say("3") == ["Cancel and delete this report?\n1. Yes, delete it\n2. No, go back"]
    assert phone.say("2") == [review]  # back to the review as it was
    assert phone.say("cancel") == ["Cancel and delete this report?\n1. Yes, delete it\n2. No, go back"]
    assert phone.say("yes") == ["Cancelled. Nothing was sent."]
    assert the(app, Report) == []
    [conversation] = the(app, Conversation)
    assert conversation.state is None


# ---- 10. no "on this number" where the channel carries none ------------------------------------

CONTACT_HOW = "How may they contact you?"


def test_sms_offers_this_number(app, phone):
    player = reporter(phone, organisation="unknown", where="skip", contact="yes")
    assert player.play(until="contact_how").raw == [
        f"{CONTACT_HOW}\n1. On this number\n2. On another number\n3. Only through my receipt number"]


@pytest.fixture
def telegram_app(make_app, telegram):
    return d.with_directory(make_app(**telegram_settings(telegram)))


def test_telegram_offers_this_chat_not_this_number_and_files_the_chat(telegram_app, telegram, clock):
    person = Person(telegram_app.test_client(), telegram, UpdateFactory(telegram, clock=clock))
    player = Player(Telegram(person), answers={"organisation": "unknown", "where": "skip", "contact": "yes"})
    player.play(until="contact_how")
    assert [label for _, label in player.reply.options] == [
        "In this chat", "On another number", "Only through my receipt number"]
    review = player.move().text  # "In this chat" (the choice "this_number": where they wrote from)
    assert "Contact: In this chat" in review
    player.play()
    _, network_key = d.key_holder(telegram_app, telegram_app.seeded.network, "PSEAN", role="coordinator")
    content = d.read_the_referral(telegram_app, network_key)
    assert content["contact_how"] == "this_number" and content["channel"] == "telegram"
    assert content["contact_number"] == str(person.chat)  # the organisation can write to the chat


def test_the_simulators_telegram_mode_offers_neither(app):
    client = app.test_client()
    texts = ["hello", "1", "1", "2", "I don't know", "It happened.", "done", "1", "skip", "1", "2"]
    for text in texts:
        replies = client.post("/simulator/messages", json={"text": text, "style": "telegram"}).get_json()["replies"]
    assert replies[-1]["text"] == "May the organisation contact you about this?"
    [reply] = client.post("/simulator/messages", json={"text": "2", "style": "telegram"}).get_json()["replies"]
    assert reply["text"] == CONTACT_HOW
    assert [label for _, label in reply["buttons"]] == ["1. On another number", "2. Only through my receipt number"]
