"""Hostile input at both webhooks and the simulator, property-based (hypothesis): random and
malformed fields, JSON, encodings and sizes, signed the way the providers sign (Twilio's own
RequestValidator, Telegram's secret token) so that they reach the conversation, plus tries
without a signature. Every answer is a 200 (a reply or a re-prompt) or a clear 4xx, never a 5xx,
and after every example the database holds nothing half-written (tests/support/fuzz.py).

`make test` runs the "ci" profile (a fixed, small number of examples); `make fuzz` twenty times
as many. The counts tried per target are printed at the end of the run."""

from __future__ import annotations

import json
import secrets
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from tests.conftest import PUBLIC_BASE_URL, TWILIO_TOKEN, twiml_messages
from tests.support import directory as d
from tests.support import fuzz
from tests.support.fuzz import assert_clear_answer, assert_consistent, hostile_text, json_values
from tests.support.telegram_chat import SECRET, telegram_settings
from tests.support.telegram_updates import UpdateFactory

TWILIO_URL = f"{PUBLIC_BASE_URL}/webhooks/twilio"
NUMBERS = ["+959450001111", "+959450002222", "whatsapp:+959450003333"]
# What a person answers at most steps: menu numbers, yes and no, in English and Burmese.
ANSWERS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "yes", "no", "ဟုတ်", "မဟုတ်", "report", "START",
           "STOP", "HELP", "skip", "Botahtaung", "SAVE", "I don't know", "၁", "၂"]
HIGH_LIMITS = {"SIMULATOR_LIMIT": "100000 per minute"}


@pytest.fixture
def directory_app(make_app):
    return d.with_directory(make_app(**HIGH_LIMITS))


# --- Twilio ---------------------------------------------------------------------------------------

message_sids = st.one_of(st.from_regex(r"\A(SM|MM)[0-9a-f]{32}\Z"), hostile_text(40))
bodies = st.one_of(st.sampled_from(ANSWERS), hostile_text(2000))
twilio_params = st.fixed_dictionaries(
    {"From": st.one_of(st.sampled_from(NUMBERS), hostile_text(30)), "MessageSid": message_sids,
     "To": st.just("+15005550006")},
    optional={"Body": bodies, "NumMedia": st.one_of(st.sampled_from(["0", "1", "3", "-1", "99", "x"]),
                                                    hostile_text(10)),
              "MediaUrl0": hostile_text(80), "MediaContentType0": st.sampled_from(
                  ["image/jpeg", "audio/ogg", "application/pdf", "", "image/", "text/plain; charset=x"]),
              "AccountSid": st.just("AC" + "0" * 32), "SmsMessageSid": message_sids},
).flatmap(lambda known: st.dictionaries(hostile_text(20), hostile_text(50), max_size=3).map(
    lambda extra: {**extra, **known}))


def post_twilio(client, params: dict, *, signed: str = "valid"):
    """Post form fields as Twilio does; `signed`: "valid", "wrong" or "none"."""
    signature = {"valid": RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, params),
                 "wrong": "bm90IGEgc2lnbmF0dXJl", "none": None}[signed]
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post("/webhooks/twilio", data=urlencode(params), headers=headers,
                       content_type="application/x-www-form-urlencoded")


def check_twilio(response) -> None:
    assert_clear_answer(response, target="twilio webhook")
    if response.status_code == 200:
        twiml_messages(response)  # well-formed TwiML


@given(conversation=st.lists(st.tuples(st.sampled_from(NUMBERS[:2]), bodies), min_size=1, max_size=8))
@fuzz.examples(0.6)
def test_twilio_conversations_of_hostile_answers_never_fail(directory_app, conversation):
    """Whole conversations: plausible answers mixed with hostile text, from two phones, each
    message signed, so the flows (language, report, receipt, self-service) go deep."""
    client = directory_app.test_client()
    for number, body in conversation:
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
                  "From": number, "To": "+15005550006", "NumMedia": "0", "Body": body}
        response = post_twilio(client, params)
        check_twilio(response)
        assert response.status_code == 200, response.data  # a signed, well-formed message is answered
    assert_consistent(directory_app)


@given(params=twilio_params, signed=st.sampled_from(["valid", "valid", "valid", "wrong", "none"]))
def test_twilio_malformed_fields_get_a_reply_or_a_clear_4xx(directory_app, params, signed):
    response = post_twilio(directory_app.test_client(), params, signed=signed)
    check_twilio(response)
    if signed != "valid":
        assert response.status_code in (400, 403)
    assert_consistent(directory_app)


@given(raw=st.binary(max_size=400), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
     "multipart/form-data; boundary=x", "application/json", "text/plain", ""]))
def test_twilio_raw_bodies_and_encodings_get_a_clear_answer(directory_app, raw, content_type):
    """Bytes that are no form at all, percent-encoded bytes that are no UTF-8, in any content type."""
    client = directory_app.test_client()
    for body in (raw, ("From=%2B959450001111&MessageSid=SM" + "0" * 32 + "&Body=" + quote_from_bytes(raw)).encode()):
        response = client.post("/webhooks/twilio", data=body, content_type=content_type or None,
                               headers={"X-Twilio-Signature": "x"})
        check_twilio(response)
    assert_consistent(directory_app)


def test_twilio_sizes_at_and_over_the_limit(directory_app):
    """A body just under the 1 MiB limit is read (and answered); one over it is a 413 that says why."""
    client = directory_app.test_client()
    params = {"MessageSid": "SM" + "1" * 32, "From": NUMBERS[0], "To": "+15005550006",
              "Body": "x" * (1024 * 1024 - 400)}
    check_twilio(post_twilio(client, params))
    params["Body"] += "x" * 1000
    response = post_twilio(client, params)
    check_twilio(response)
    assert response.status_code == 413 and "1 MiB" in response.get_json()["error"]
    assert_consistent(directory_app)


# --- Telegram -------------------------------------------------------------------------------------

@pytest.fixture
def telegram_app_fast(make_app, telegram):
    return d.with_directory(make_app(**telegram_settings(telegram), **HIGH_LIMITS))


def _paths(value, prefix=()):
    """Every path into a JSON value (dict keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


def _replace(value, path, new):
    """`value` with the part at `path` replaced by `new` (or removed, for _DELETE)."""
    if not path:
        return new
    value = value.copy()
    if new is _DELETE and len(path) == 1:
        del value[path[0]]
        return value
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


_DELETE = object()


@st.composite
def telegram_updates(draw, factory: UpdateFactory):
    """A real update (a message, a command, a button, a photo, a voice note, a member change, an
    edit) with hostile text, then up to three of its fields replaced by random JSON or deleted."""
    chat = draw(st.sampled_from([5550001, 5550002, -4001, -1001234567890]))
    text = draw(st.one_of(st.sampled_from(ANSWERS), hostile_text(1000)))
    kind = draw(st.sampled_from(["message", "command", "callback", "photo", "voice", "sticker", "location",
                                 "document", "contact", "member", "edited"]))
    private = chat > 0
    if kind == "message" or not private and kind not in ("member",):
        update = factory.message(chat, text) if private else group_message(factory, chat, text)
    elif kind == "command":
        update = factory.command(chat, draw(st.sampled_from(["start", "help", "stop", "cancel", text[:30] or "x"])),
                                 draw(st.one_of(st.none(), hostile_text(64))))
    elif kind == "callback":
        update = factory.callback_query(chat, draw(st.one_of(st.sampled_from(ANSWERS), hostile_text(64))))
    elif kind == "photo":
        update = factory.photo(chat, draw(st.one_of(st.none(), hostile_text(200))))
    elif kind == "voice":
        update = factory.voice(chat, draw(st.integers(-5, 10_000)))
    elif kind == "sticker":
        update = factory.sticker(chat)
    elif kind == "location":
        update = factory.location(chat, draw(st.floats(-1000, 1000)), draw(st.floats(-1000, 1000)))
    elif kind == "document":
        update = factory.document(chat, draw(hostile_text(40)) or "x")
    elif kind == "contact":
        update = factory.contact(chat, draw(hostile_text(30)))
    elif kind == "member":
        update = factory.my_chat_member(chat)
    else:
        update = factory.edited_message(chat, 1, text)
    for _ in range(draw(st.integers(0, 3))):
        paths = list(_paths(update))[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        update = _replace(update, path, draw(st.one_of(st.just(_DELETE), json_values)))
    return update


def group_message(factory: UpdateFactory, chat: int, text: str) -> dict:
    update = factory.message(5550009, text)
    update["message"]["chat"] = {"id": chat, "type": "group" if chat > -10 ** 12 else "supergroup", "title": "t"}
    return update


def check_telegram(response, *, secret: bool) -> None:
    assert_clear_answer(response, target="telegram webhook")
    if secret:
        assert response.status_code == 200, response.data  # past the secret, Telegram gets a 200
    else:
        assert response.status_code == 403


@given(data=st.data(), secret=st.sampled_from([True, True, True, True, False]))
def test_telegram_hostile_updates_are_answered_or_ignored(telegram_app_fast, telegram, data, secret):
    factory = UpdateFactory(telegram)
    client = telegram_app_fast.test_client()
    for _ in range(data.draw(st.integers(1, 4))):
        update = data.draw(telegram_updates(factory))
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET} if secret else {}
        check_telegram(client.post("/webhooks/telegram", json=update, headers=headers), secret=secret)
    assert_consistent(telegram_app_fast)


def test_telegram_a_button_press_with_a_forged_language_code_is_answered(telegram_app_fast, telegram):
    """Found by the fuzzer: a callback query whose from.language_code was no string (a number)
    raised AttributeError in choosing the language of the "earlier question" notice (a 500)."""
    factory = UpdateFactory(telegram)
    client = telegram_app_fast.test_client()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for language_code in (7, ["en"], {"x": 1}, None, "my-MM"):
        update = factory.callback_query(5550001, "stale0:1")
        update["callback_query"]["from"]["language_code"] = language_code
        check_telegram(client.post("/webhooks/telegram", json=update, headers=headers), secret=True)
    assert_consistent(telegram_app_fast)


def test_telegram_media_with_a_forged_mime_type_is_answered(telegram_app_fast, telegram):
    """Found by the fuzzer: a voice note, audio or document whose mime_type was no string raised
    AttributeError in media.audio_type (a 500)."""
    factory = UpdateFactory(telegram)
    client = telegram_app_fast.test_client()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for build, kind in ((lambda: factory.voice(5550001), "voice"), (lambda: factory.document(5550001), "document")):
        for mime_type in (3, ["audio/ogg"], {"a": 1}, True):
            update = build()
            update["message"][kind]["mime_type"] = mime_type
            check_telegram(client.post("/webhooks/telegram", json=update, headers=headers), secret=True)
    assert_consistent(telegram_app_fast)


@given(body=st.one_of(json_values.map(json.dumps).map(str.encode), st.binary(max_size=300),
                      st.just(b"[" * 5000 + b"]" * 5000), st.just(b'{"update_id": 1e400}'),
                      st.just(b'{"update_id": 9007199254740993, "message": {}}'),
                      st.just('{"update_id": 5, "message": {"text": "\\ud800"}}'.encode())),
       content_type=st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-16"]))
def test_telegram_bodies_that_are_no_update_get_a_clear_answer(telegram_app_fast, body, content_type):
    response = telegram_app_fast.test_client().post("/webhooks/telegram", data=body, content_type=content_type,
                                                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    check_telegram(response, secret=True)
    assert_consistent(telegram_app_fast)


def test_telegram_a_body_over_the_limit_is_a_413_that_says_why(telegram_app_fast):
    update = UpdateFactory().message(5550001, "x" * (1024 * 1024))
    response = telegram_app_fast.test_client().post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert_clear_answer(response, target="telegram webhook")
    assert response.status_code == 413 and "1 MiB" in response.get_json()["error"]


# --- the simulator --------------------------------------------------------------------------------

@given(calls=st.lists(st.tuples(
    st.sampled_from(["message", "message", "message", "reset", "raw"]),
    st.one_of(st.fixed_dictionaries({"text": st.one_of(st.sampled_from(ANSWERS), hostile_text(600))},
                                    optional={"style": st.sampled_from(["sms", "telegram", "whatsapp", "", None]),
                                              "session": hostile_text(40),
                                              "button": st.one_of(st.from_regex(r"\A[a-z0-9]{0,8}:[0-9]{1,4}\Z"),
                                                                  hostile_text(20), json_values),
                                              }).flatmap(lambda known: st.dictionaries(
                  hostile_text(10), json_values, max_size=2).map(lambda extra: {**extra, **known})),
              json_values),
    st.binary(max_size=200)), min_size=1, max_size=6))
@fuzz.examples(0.6)
def test_simulator_hostile_messages_get_a_reply_or_a_clear_4xx(directory_app, calls):
    client = directory_app.test_client()
    for kind, payload, raw in calls:
        if kind == "reset":
            response = client.post("/simulator/reset", json=payload)
        elif kind == "raw":
            response = client.post("/simulator/messages", data=raw, content_type="application/json")
        else:
            response = client.post("/simulator/messages", json=payload)
        assert_clear_answer(response, target="simulator")
    for method, path in (("GET", "/simulator"), ("GET", "/simulator/messages")):
        assert_clear_answer(client.open(path, method=method), target="simulator")
    assert_consistent(directory_app)
