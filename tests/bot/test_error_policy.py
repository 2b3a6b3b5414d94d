"""One error policy for every entry point: a bug is logged without content and answered 500 on
both webhooks (so Twilio and Telegram try again), nothing of the failed message is kept, and the
retry is handled once; a body we cannot read is still a plain 200 on Telegram."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from intake import engine
from storage.models import Conversation, InboundMessage
from tests.support.telegram_chat import CHAT, Person, telegram_settings
from tests.support.telegram_updates import UpdateFactory

SECRET_TEXT = "my neighbour Qz9-private"


def count(app, model) -> int:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def failing_once(monkeypatch):
    """The engine raises on the next message only (a bug that a redeploy, or luck, gets past)."""
    real_step, calls = engine.step, []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(SECRET_TEXT)
        return real_step(*args, **kwargs)

    monkeypatch.setattr(engine, "step", step)
    return calls


def test_a_bug_on_the_twilio_webhook_is_a_500_and_the_retry_is_answered(app, phone, failing_once, caplog):
    caplog.set_level(logging.INFO)
    params = phone.params(SECRET_TEXT)
    response = phone.post(params)
    assert response.status_code == 500 and response.get_json() == {"error": "internal error; please retry"}
    assert count(app, InboundMessage) == 0 and count(app, Conversation) == 0  # rolled back whole
    assert "RuntimeError" in caplog.text and SECRET_TEXT not in caplog.text and phone.number not in caplog.text

    retried = phone.post(params)  # Twilio retries with the same MessageSid
    assert retried.status_code == 200 and count(app, InboundMessage) == 1


def test_a_bug_on_the_telegram_webhook_is_a_500_and_the_retry_is_answered_once(make_app, telegram, clock,
                                                                             failing_once, caplog):
    app = make_app(**telegram_settings(telegram))
    person = Person(app.test_client(), telegram, UpdateFactory(telegram, clock=clock))
    caplog.set_level(logging.INFO)
    update = person.updates.message(CHAT, SECRET_TEXT)
    response = person.post(update)
    assert response.status_code == 500
    assert count(app, InboundMessage) == 0 and telegram.sent_messages() == []
    assert SECRET_TEXT not in caplog.text and str(CHAT) not in caplog.text

    assert person.post(update).status_code == 200
    assert person.post(update).status_code == 200  # Telegram may deliver it twice more
    assert len(telegram.sent_messages()) == 1 and count(app, InboundMessage) == 1


def test_an_update_without_a_chat_is_ignored_with_200_not_a_500(make_app, telegram, clock):
    app = make_app(**telegram_settings(telegram))
    person = Person(app.test_client(), telegram, UpdateFactory(telegram, clock=clock))
    response = person.post({"update_id": 7, "message": {"message_id": 1, "date": 1, "text": "hi"}})
    assert response.status_code == 200 and response.get_json()["ok"] is False
