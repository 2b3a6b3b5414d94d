"""POST /webhooks/twilio end to end: signatures from Twilio's own validator, TwiML checked."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.channels.layout import MAX_SMS_BODY, split_body
from storage.models import Conversation, InboundMessage
from tests.conftest import PUBLIC_BASE_URL, TWILIO_TOKEN, Phone, twiml_messages

MENU_EN = "Community Feedback. What would you like to do?\n1. Report a concern\n2. Update my details\n" \
          "3. Check a report\n4. Change language"


def conversation_row(app, channel="sms") -> Conversation:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(Conversation).where(Conversation.channel == channel)).scalar_one()


def test_twilio_validator_matches_the_published_vector():
    """Guards our reading of Twilio's scheme (the vector from twilio-python's own tests)."""
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert RequestValidator("12345").compute_signature(url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_whole_conversation_in_english(phone):
    first = phone.say("Hello")
    assert first == ["Choose your language:\n1. English\n2. မြန်မာ"]
    assert phone.say("1") == [MENU_EN]
    assert phone.say("2") == ["This is not available yet. Please try again later.\n" + MENU_EN]
    assert phone.say("help")[0].startswith("MENU: main menu. BACK: go back.")
    assert phone.say("exit") == ["Ended. This conversation was deleted."]
    # the language is forgotten with the rest: the next person holding the phone gets a first contact
    assert phone.say("hi") == ["Choose your language:\n1. English\n2. မြန်မာ"]


def test_whole_conversation_in_burmese(phone):
    # Burmese script in the first message: Burmese at once, without the language question.
    menu = phone.say("မင်္ဂလာပါ")[0]
    assert menu.startswith("Community Feedback။ ဘာလုပ်လိုပါသလဲ။\n၁. တိုင်ပြောမယ်")  # Myanmar digits
    assert phone.say("ထွက်") == ["ပြီးပါပြီ။ ဒီမှာ ပြောထားတာတွေကို ဖျက်လိုက်ပါပြီ။"]


def test_signature_over_the_public_url_is_accepted_behind_a_proxy(client, phone):
    # The test client talks to http://localhost/; Twilio signed https://intake.example.org/...
    assert client.application.extensions["intake"].settings.public_base_url == PUBLIC_BASE_URL
    assert phone.send("hi").status_code == 200


def test_query_string_is_part_of_the_signed_url(client):
    params = {"MessageSid": "SM1", "From": "+95900000001", "Body": "hi"}
    signed_url = f"{PUBLIC_BASE_URL}/webhooks/twilio?source=mpt"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(signed_url, params)
    ok = client.post("/webhooks/twilio?source=mpt", data=params, headers={"X-Twilio-Signature": signature})
    assert ok.status_code == 200
    tampered = client.post("/webhooks/twilio?source=other", data=params,
                           headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", None])
def test_forged_or_missing_signature_is_refused(app, client, signature):
    phone = Phone(client)
    params = phone.params("hi")
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = client.post("/webhooks/twilio", data=params, headers=headers)
    assert response.status_code == 403
    assert "Signature" in response.get_json()["error"]
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(func.count()).select_from(Conversation)).scalar_one() == 0


def test_signature_with_another_token_or_url_is_refused(client):
    wrong_token = Phone(client, token="not-the-token")
    assert wrong_token.send("hi").status_code == 403
    phone = Phone(client)
    params = phone.params("hi")
    local = RequestValidator(TWILIO_TOKEN).compute_signature("http://localhost/webhooks/twilio", params)
    assert phone.post(params, signature=local).status_code == 403


def test_tampered_body_is_refused(client):
    phone = Phone(client)
    params = phone.params("1")
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(phone.url, params)
    params["Body"] = "2"
    assert phone.post(params, signature=signature).status_code == 403


def test_unconfigured_twilio_answers_503(make_app):
    app = make_app(TWILIO_AUTH_TOKEN=None)
    response = Phone(app.test_client()).send("hi")
    assert response.status_code == 503
    assert "TWILIO_AUTH_TOKEN" in response.get_json()["error"]


@pytest.mark.parametrize("missing, reason", [("From", "From"), ("MessageSid", "MessageSid")])
def test_missing_required_parameter_is_a_400_with_the_reason(client, missing, reason):
    phone = Phone(client)
    params = phone.params("hi")
    del params[missing]
    response = phone.post(params)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]


def test_missing_body_is_an_empty_message(phone):
    phone.say("hi")
    phone.say("1")
    response = phone.send(None)
    assert response.status_code == 200
    assert twiml_messages(response)[0].startswith("Please reply with one of the numbers below.")


@pytest.mark.parametrize("body", ["", "   \n\t ", "🙏🙏🙏", "\u200b"])
def test_empty_whitespace_or_emoji_body_reprompts(phone, body):
    phone.say("hi")
    phone.say("1")
    reply = phone.say(body)
    assert reply == ["Please reply with one of the numbers below.\n" + MENU_EN]


def test_ten_thousand_characters_are_accepted_and_truncated(app, phone):
    phone.say("hi")
    phone.say("1")
    reply = phone.say("က" * 10_000)
    assert reply[0].startswith("Please reply with one of the numbers below.")
    assert conversation_row(app).turns == 3


def test_invalid_utf8_percent_escapes_are_a_400(client):
    body = b"MessageSid=SM1&From=%2B95900000001&Body=%FF%FEhello"
    response = client.post("/webhooks/twilio", data=body, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "anything"})
    assert response.status_code == 400
    assert "UTF-8" in response.get_json()["error"]


def test_retried_message_sid_gets_the_same_answer_without_advancing(app, phone):
    phone.say("hi")
    first = phone.send("2", sid="SMretry0000000000000000000000000001")
    before = conversation_row(app)
    retry = phone.send("2", sid="SMretry0000000000000000000000000001")
    after = conversation_row(app)
    assert retry.status_code == 200 and retry.data == first.data
    assert after.turns == before.turns and after.state == before.state
    assert after.language == "my"


def test_media_message_gets_text_only_answer(phone):
    phone.say("hi")
    phone.say("1")
    reply = phone.say("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                      MediaContentType0="image/jpeg")
    assert reply == ["We can only read text. Please type your answer.\n" + MENU_EN]


def test_whatsapp_sender_is_its_own_channel(app, client):
    sms, whatsapp = Phone(client, "+959400000002"), Phone(client, "whatsapp:+959400000002")
    sms.say("hi")
    sms.say("1")
    assert whatsapp.say("hi")[0].startswith("Choose your language:")
    assert conversation_row(app, "whatsapp").turns == 1
    assert conversation_row(app, "sms").turns == 2


def test_two_senders_have_separate_conversations(client):
    alice, bob = Phone(client, "+959400000010"), Phone(client, "+959400000011")
    alice.say("hi")
    alice.say("1")
    assert bob.say("hi")[0].startswith("Choose your language:")
    assert alice.say("help")[0].startswith("MENU: main menu.")


def test_concurrent_messages_from_one_sender_are_processed_one_after_the_other(app, monkeypatch):
    """The first message is held inside its engine step (its transaction open, the conversation
    locked) until the test has seen the second message reach the conversation lock and stay
    there, out of the engine. Every wait is bounded: a missing lock fails the test, never hangs it."""
    from intake import engine
    from storage import conversations

    wait = 10  # seconds, for things that must happen
    hold = 1  # seconds the second message must stay out while the first is open (under the
    # 4-5 s database lock timeouts of the default DATABASE_TIMEOUT_SECONDS)
    phone = Phone(app.test_client())
    phone.say("hi")
    phone.say("1")
    start_turns = conversation_row(app).turns
    real_lock, real_step = conversations.lock_conversation, engine.step
    events = {(name, what): threading.Event() for name in ("first", "second")
              for what in ("locking", "locked", "stepping")}
    release_first = threading.Event()
    order = []

    def lock_conversation(*args, **kwargs):
        name = threading.current_thread().name
        events[name, "locking"].set()
        conversation = real_lock(*args, **kwargs)
        events[name, "locked"].set()
        return conversation

    def step(state, inbound, ctx):
        name = threading.current_thread().name
        order.append(name)
        events[name, "stepping"].set()
        if name == "first" and not release_first.wait(3 * wait):
            raise AssertionError("the test never released the first message")
        return real_step(state, inbound, ctx)

    monkeypatch.setattr(conversations, "lock_conversation", lock_conversation)
    monkeypatch.setattr(engine, "step", step)
    results, errors = {}, {}

    def send(body):
        name = threading.current_thread().name
        try:  # one test client per thread: a client is not safe to share between threads
            results[name] = Phone(app.test_client(), phone.number).send(body)
        except BaseException as error:  # reported by the test below, not lost in the thread
            errors[name] = error

    first = threading.Thread(target=send, args=("2",), name="first", daemon=True)
    second = threading.Thread(target=send, args=("1",), name="second", daemon=True)
    try:
        first.start()
        assert events["first", "stepping"].wait(wait), "the first message never reached the engine"
        second.start()
        assert events["second", "locking"].wait(wait), "the second message never reached the lock"
        assert not events["second", "stepping"].wait(hold), \
            "the second message entered the engine while the first one held the conversation"
        assert not events["second", "locked"].is_set() and second.is_alive()  # it waits at the lock
    finally:
        release_first.set()
        first.join(wait)
        second.join(wait)
    assert not first.is_alive() and not second.is_alive(), "a message was still being processed"
    assert not errors, errors
    assert order == ["first", "second"]
    assert all(r.status_code == 200 for r in results.values()), {k: r.data for k, r in results.items()}
    assert all("not available yet" in twiml_messages(r)[0] for r in results.values())
    assert conversation_row(app).turns == start_turns + 2  # no lost update
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(func.count()).select_from(InboundMessage)).scalar_one() == 4


def test_get_and_oversized_requests_get_clear_errors(client):
    response = client.get("/webhooks/twilio")
    assert response.status_code == 405 and "error" in response.get_json()
    huge = urlencode({"From": "+959", "Body": "x" * (2 * 1024 * 1024)})
    response = client.post("/webhooks/twilio", data=huge, content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 413 and "error" in response.get_json()


def test_long_replies_are_split_under_twilios_limit():
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(40))
    bodies = split_body(text)
    assert len(bodies) > 1 and all(len(body) <= MAX_SMS_BODY for body in bodies)
    assert "\n".join(bodies) == text
    assert split_body("y" * 3500) == ["y" * 1600, "y" * 1600, "y" * 300]


def test_an_overlong_message_sid_is_a_400(client):
    phone = Phone(client)
    response = phone.send("hi", sid="SM" + "a" * 100)
    assert response.status_code == 400 and "MessageSid" in response.get_json()["error"]


@pytest.mark.parametrize("sid", ["SM\x00" + "a" * 30, "SM" + "a" * 30 + "\x00", "SM a", "SM-1", "SMä" + "1" * 30])
def test_a_message_sid_that_is_not_letters_and_digits_is_a_400(client, sid):
    """A NUL gave a 500 on PostgreSQL (which cannot store one); nothing but Twilio's alphabet."""
    response = Phone(client).send("hi", sid=sid)
    assert response.status_code == 400 and "MessageSid" in response.get_json()["error"]


# Every character that str.isdigit() accepts but int() refuses (superscripts, circled and
# Ethiopic digits...): each once gave a 500.
NOT_DECIMAL_DIGITS = [chr(c) for c in range(0x110000) if chr(c).isdigit() and not chr(c).isdecimal()]


def test_digits_int_refuses_are_answered_with_a_reprompt_never_a_500(app, phone):
    assert len(NOT_DECIMAL_DIGITS) == 128
    phone.say("hi")
    for text in [*NOT_DECIMAL_DIGITS, "1²", "①②", "፩"]:
        replies = phone.say(text)  # asserts a 200 TwiML answer
        assert replies and "1" in replies[-1]  # the language question again, with its numbers
    assert phone.say("1")[0].startswith("Community Feedback.")  # and a real 1 still works


def test_the_same_message_sid_from_another_number_gets_nothing_of_the_first(app, client):
    """Provider ids are never shared between senders: a copy from another number is a replay.
    It is answered with nothing (not the first sender's stored reply) and advances no one."""
    first, other = Phone(client, "+959450000001"), Phone(client, "+959450000002")
    first.say("hi")
    original = first.send("1", sid="SMshared000000000000000000000000001")
    assert twiml_messages(original)[0].startswith("Community Feedback.")
    replayed = other.send("1", sid="SMshared000000000000000000000000001")
    assert replayed.status_code == 200 and twiml_messages(replayed) == []
    with app.extensions["intake"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 2
        turns = {row.turns for row in session.scalars(select(Conversation))}
    assert turns == {2, 0}  # the other number's conversation did not move


def test_a_captured_request_replayed_after_the_answer_is_forgotten_is_still_recognised(app, phone, clock):
    """Twilio's signatures never expire: a signed request copied off the wire and posted again
    days later must not advance the conversation (the answer is long gone; the digest is not)."""
    from bot.delivery.worker import OutboxWorker

    phone.say("hi")
    captured = phone.params("1")
    assert twiml_messages(phone.post(captured))[0].startswith("Community Feedback.")
    phone.say("menu")
    clock.advance(days=30)
    OutboxWorker(app.extensions["intake"]).purge()
    before = conversation_row(app)
    assert twiml_messages(phone.post(captured)) == []
    after = conversation_row(app)
    assert (after.turns, after.state) == (before.turns, before.state)
