""""Update my details" on Telegram: a chat is never the number on record, so a code by SMS always
proves who is writing; the outcome will come back to the chat; the flow's messages are wiped."""

from __future__ import annotations

import pytest

from tests.bot.test_update_details import codes_sent
from tests.support.directory import with_directory
from tests.support.registrations import PHONE, queued_changes, register
from tests.support.telegram_chat import CHAT, Person, buttons, telegram_settings
from tests.support.telegram_updates import UpdateFactory


@pytest.fixture
def person(make_app, telegram, fake_twilio, clock):
    app = with_directory(make_app(TWILIO_API_BASE_URL=fake_twilio.url, **telegram_settings(telegram)))
    register(app)
    person = Person(app.test_client(), telegram, UpdateFactory(telegram, clock=clock))
    person.app = app
    return person


def press(person: Person, replies: list[dict], label: str) -> list[dict]:
    """Press the button "N. label" under the last reply that has it."""
    reply = next(r for r in reversed(replies) if any(b.endswith(f". {label}") for b in buttons(r)))
    return person.press(reply, next(n for n, b in enumerate(buttons(reply), 1) if b.endswith(f". {label}")))


def test_on_telegram_a_code_by_sms_proves_the_person_and_the_outcome_returns_to_the_chat(person, telegram,
                                                                                         fake_twilio):
    replies = person.say("hello")
    if any("1. English" in buttons(reply) for reply in replies):
        replies = press(person, replies, "English")
    replies = press(person, replies, "Update my details")
    person.say("MMR-17-000123")
    replies = person.say("17-04-1990")
    assert "6-digit code" in replies[-1]["text"]
    [code] = codes_sent(fake_twilio, PHONE)
    replies = press(person, person.say(code), "Education")
    replies = press(person, replies, "University")
    assert "caseworker will check" in replies[0]["text"]
    [change] = queued_changes(person.app)
    assert change["reply_to"] == {"channel": "telegram", "address": str(CHAT)}
    assert change["channel"] == "telegram"

    press(person, replies, "I have finished")
    left = [m.get("text") or "" for m in telegram.chat_messages(CHAT)]
    assert telegram.deleted().get(CHAT), "the flow's messages are wiped from the chat when it ends"
    assert not any(code in text or "MMR-17" in text or "1990" in text for text in left)
