"""The web simulator's JSON API (`POST /simulator/messages`, `POST /simulator/reset`): a real
conversation through the inbox, engine and database, laid out as SMS or as Telegram would, and a
clear 4xx with a reason for every malformed request."""

from __future__ import annotations

import pytest

from tests.support import directory as d

LANGUAGE_PROMPT = "Choose your language:"
MENU_PROMPT = "Community Feedback. What would you like to do?"
ENGLISH_MENU = ["1. Report a concern", "2. Update my details", "3. Check a report", "4. Change language"]


def say(client, text, style: str = "sms") -> list[dict]:
    """Send one message as the simulator page does; returns the replies of a 200 answer."""
    response = client.post("/simulator/messages", json={"text": text, "style": style})
    assert response.status_code == 200, response.get_data(as_text=True)
    replies = response.get_json()["replies"]
    assert replies, "every message gets an answer"
    return replies


def only(replies: list[dict]) -> dict:
    assert len(replies) == 1, replies
    return replies[0]


def labels(buttons) -> list[str]:
    """The buttons' labels, numbered as the Telegram webhook's are ("1. English")."""
    return [label for _, label in buttons]


def press(client, reply: dict, label: str) -> list[dict]:
    """Press the button `label` under `reply`, as the page does: its data, not a typed number."""
    [data] = [data for data, shown in reply["buttons"] if shown == label]
    response = client.post("/simulator/messages", json={"button": data, "style": "telegram"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["replies"]


def assert_problem(response, status: int) -> str:
    """A JSON error answer with the given status and a reason in words; returns the reason."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    reason = response.get_json()["error"]
    assert isinstance(reason, str) and reason.strip()
    return reason


def test_first_message_asks_for_the_language_then_1_gives_the_english_menu(client):
    first = only(say(client, "hello"))
    lines = first["text"].split("\n")
    assert lines[0] == LANGUAGE_PROMPT
    assert "1. English" in lines and "2. မြန်မာ" in lines
    assert first["buttons"] == []

    menu = only(say(client, "1"))
    assert menu["buttons"] == []
    assert menu["text"].split("\n") == [MENU_PROMPT, *ENGLISH_MENU]


def test_telegram_style_gives_numbered_buttons_and_text_without_the_numbered_lines(client):
    first = only(say(client, "hello", style="telegram"))
    assert labels(first["buttons"]) == ["1. English", "2. မြန်မာ"]  # numbered, as the webhook's
    assert LANGUAGE_PROMPT in first["text"].split("\n")
    assert "1. English" not in first["text"]

    menu = only(press(client, first, "1. English"))
    assert menu["text"] == MENU_PROMPT and labels(menu["buttons"]) == ENGLISH_MENU


def test_pressing_a_button_answers_its_question(client):
    say(client, "hello", style="telegram")
    menu = only(say(client, "1", style="telegram"))  # typing the number works too
    again = only(press(client, menu, "4. Change language"))
    assert LANGUAGE_PROMPT in again["text"]
    assert labels(again["buttons"]) == ["1. English", "2. မြန်မာ"]


def test_an_old_button_does_not_answer_the_current_question(make_app):
    """Like the Telegram webhook: a button carries its question's tag, and a press on one from an
    earlier question is refused with a word, not taken as an answer to the question now asked."""
    client = d.with_directory(make_app()).test_client()
    first = only(say(client, "hello", style="telegram"))
    menu = only(press(client, first, "1. English"))
    report = only(press(client, menu, "1. Report a concern"))
    assert report["text"] == "Are you in danger right now?"
    stale = only(press(client, menu, "3. Check a report"))  # the menu's button, pressed again
    assert stale == {"text": "That button is from an earlier question.", "buttons": [], "stale": True}
    still = only(press(client, report, "2. No"))  # the danger question was still waiting
    assert still["text"].startswith("Which organisation does the person you are reporting work for?")
    assert only(press(client, first, "2. မြန်မာ"))["stale"]  # the language question's, long gone


def test_a_button_that_is_not_one_the_simulator_showed_is_refused(client):
    say(client, "hello", style="telegram")
    for body in ({"button": "1", "style": "telegram"}, {"button": "abc:x", "style": "telegram"},
                 {"button": 1, "style": "telegram"}, {"button": "abc:1", "style": "sms"}):
        assert "button" in assert_problem(client.post("/simulator/messages", json=body), 400)


def test_telegram_style_never_asks_for_numbers_it_does_not_show(client):
    """A wrong answer gets "Please reply with one of the numbers below." over buttons that carry
    those numbers."""
    first = only(say(client, "hello", style="telegram"))
    menu = only(press(client, first, "1. English"))
    wrong = only(say(client, "not a number", style="telegram"))
    assert wrong["text"].startswith("Please reply with one of the numbers below.")
    assert labels(wrong["buttons"]) == ENGLISH_MENU and all(
        label.split(". ", 1)[0].isdigit() for label in labels(wrong["buttons"]))


def test_sms_text_is_the_telegram_text_plus_one_numbered_line_per_button(make_app):
    """The same conversation in both styles: only the layout of the options differs."""
    sms, telegram = make_app().test_client(), make_app().test_client()
    for text in ("hello", "1", "not a number"):
        sms_reply = only(say(sms, text, style="sms"))
        telegram_reply = only(say(telegram, text, style="telegram"))
        assert telegram_reply["buttons"], text
        assert sms_reply["buttons"] == []
        assert sms_reply["text"] == "\n".join([telegram_reply["text"], *labels(telegram_reply["buttons"])])


def test_switching_style_mid_conversation_keeps_the_conversation(client):
    say(client, "hello", style="sms")
    menu = only(say(client, "1", style="telegram"))
    assert menu["text"] == MENU_PROMPT and labels(menu["buttons"]) == ENGLISH_MENU


def test_the_page_offers_both_channels(client):
    response = client.get("/simulator")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "simulator" in page
    assert '<option value="sms">' in page and '<option value="telegram">' in page
    assert 'maxlength="1600"' in page  # MAX_INBOUND_CHARS, so the page cannot send what is cut


@pytest.mark.parametrize("body, content_type", [
    ("text=hello&style=sms", "application/x-www-form-urlencoded"),
    ("hello", "text/plain"),
    ('{"text": "hello"}', None),
])
def test_a_body_that_is_not_json_is_refused_with_415(client, body, content_type):
    response = client.post("/simulator/messages", data=body, content_type=content_type)
    assert "JSON" in assert_problem(response, 415)


@pytest.mark.parametrize("body", ['["hello"]', '"hello"', "42", "null", "{not json", "\xff\xfe",
                                  "[" * 100_000 + "]" * 100_000])  # too deep to parse: RecursionError
def test_json_that_is_not_an_object_is_refused_with_400(client, body):
    response = client.post("/simulator/messages", data=body.encode("latin-1"), content_type="application/json")
    assert "object" in assert_problem(response, 400)


@pytest.mark.parametrize("text", [1, None, ["hello"], {"text": "hello"}, True])
def test_text_that_is_not_a_string_is_refused_with_400(client, text):
    response = client.post("/simulator/messages", json={"text": text, "style": "sms"})
    assert "text" in assert_problem(response, 400)


@pytest.mark.parametrize("style", ["whatsapp", "", "SMS", None, ["sms"], 1])
def test_an_unknown_style_is_refused_with_400_naming_the_styles(client, style):
    response = client.post("/simulator/messages", json={"text": "hello", "style": style})
    reason = assert_problem(response, 400)
    assert "sms" in reason and "telegram" in reason


def test_a_body_over_the_size_limit_is_refused_with_413(client):
    response = client.post("/simulator/messages", json={"text": "x" * (2 * 1024 * 1024)})
    assert_problem(response, 413)


def test_refused_requests_do_not_start_a_conversation(client):
    client.post("/simulator/messages", json={"text": 1})
    client.post("/simulator/messages", json={"text": "hello", "style": "fax"})
    client.post("/simulator/messages", data="hello", content_type="text/plain")
    assert only(say(client, "1"))["text"].startswith(LANGUAGE_PROMPT)


def test_reset_makes_a_new_person_whose_next_message_starts_over(client):
    say(client, "hello")
    assert only(say(client, "1"))["text"].startswith(MENU_PROMPT)

    response = client.post("/simulator/reset", json={})
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}

    # A new person has no language yet: asked again (the old person would get the menu).
    assert only(say(client, "hello"))["text"].startswith(LANGUAGE_PROMPT)


def test_reset_without_json_is_refused_and_keeps_the_person(client):
    say(client, "hello")
    response = client.post("/simulator/reset", data="", content_type="text/plain")
    assert_problem(response, 415)
    assert only(say(client, "1"))["text"].startswith(MENU_PROMPT)


def test_two_browser_sessions_are_two_conversations(app):
    alice, bob = app.test_client(), app.test_client()
    say(alice, "hello")
    assert only(say(alice, "1"))["text"].startswith(MENU_PROMPT)

    assert only(say(bob, "hello"))["text"].startswith(LANGUAGE_PROMPT)
    assert "ဘာလုပ်လိုပါသလဲ" in only(say(bob, "2"))["text"]  # Bob chose Burmese

    # Each is still at their own menu, in their own language.
    alice_again = only(say(alice, "hi"))["text"].split("\n")
    assert alice_again[:2] == ["Please reply with one of the numbers below.", MENU_PROMPT]
    bob_again = only(say(bob, "hi"))["text"]
    assert "ဘာလုပ်လိုပါသလဲ" in bob_again and MENU_PROMPT not in bob_again


@pytest.mark.parametrize("method, path", [
    ("get", "/simulator"),
    ("post", "/simulator/messages"),
    ("post", "/simulator/reset"),
])
def test_simulator_disabled_answers_404(make_app, method, path):
    client = make_app(SIMULATOR_ENABLED="0").test_client()
    response = getattr(client, method)(path, json={"text": "hello", "style": "sms"} if method == "post" else None)
    assert_problem(response, 404)
    assert client.get("/healthz").status_code == 200  # the rest of the service still runs


def test_a_lone_surrogate_is_dropped_not_a_500(client):
    """A broken emoji half (a lone UTF-16 surrogate) cannot be stored as UTF-8: it is dropped."""
    for text in ("hello", "1", "1", "2", "1"):  # into the report's free-text account (no directory: menu)
        client.post("/simulator/messages", json={"text": text})
    response = client.post("/simulator/messages", data='{"text": "abc \\ud800 def \\u0000 ghi"}',
                           content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize("setting, host, on", [
    (None, "127.0.0.1", False),  # gunicorn, `make serve`: off unless asked for
    ("auto", "127.0.0.1", True),  # `make run` on a loopback address
    ("auto", "::1", True),
    ("auto", "0.0.0.0", False),  # `make run` on a public address
    ("auto", "203.0.113.5", False),
    ("1", "0.0.0.0", True),  # asked for explicitly
    ("0", "127.0.0.1", False),
])
def test_where_the_simulator_is_on(make_app, setting, host, on):
    client = make_app(SIMULATOR_ENABLED=setting, HOST=host).test_client()
    assert client.get("/simulator").status_code == (200 if on else 404)


@pytest.mark.parametrize("environ", [
    {"HTTP_X_FORWARDED_FOR": "203.0.113.9"},  # a reverse proxy on the same machine
    {"HTTP_FORWARDED": "for=203.0.113.9"},
    {"REMOTE_ADDR": "192.0.2.10"},  # another machine
])
def test_on_by_default_it_answers_only_browsers_on_the_machine_itself(make_app, environ):
    client = make_app(SIMULATOR_ENABLED="auto", HOST="127.0.0.1").test_client()
    client.environ_base.update(environ)
    response = client.post("/simulator/messages", json={"text": "hello"})
    assert "SIMULATOR_ENABLED=1" in assert_problem(response, 404)
    assert client.get("/simulator").status_code == 404


def test_one_address_sending_too_fast_is_told_to_wait(make_app):
    app = make_app(SIMULATOR_LIMIT="5 per minute")
    client = app.test_client()
    for _ in range(5):
        assert client.post("/simulator/messages", json={"text": "hello"}).status_code == 200
    refused = client.post("/simulator/messages", json={"text": "hello"})
    assert "wait a minute" in assert_problem(refused, 429) and int(refused.headers["Retry-After"]) > 0
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert other.post("/simulator/messages", json={"text": "hello"}).status_code == 200
