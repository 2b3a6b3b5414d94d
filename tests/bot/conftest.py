"""Fixtures for the channel adapters and the outbox: real provider stand-ins on loopback (an SMTP
sink, a fake Twilio REST API) and an app whose configured senders point at them."""

from __future__ import annotations

import pytest

from tests.support import directory as d
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio
from tests.support.smtp_sink import SmtpSink
from tests.support.telegram_chat import SECRET, Person, telegram_settings
from tests.support.telegram_updates import UpdateFactory

EVERY_LANGUAGE = ["en", "my", "kac", "ksw", "shn"]


@pytest.fixture
def smtp_sink():
    """A running SMTP relay on a free loopback port; `stop()`/`start()` play an outage."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def telegram(clock):
    """The Bot API on a free loopback port, on the test's clock."""
    with FakeTelegram(clock=clock) as fake:
        yield fake


@pytest.fixture
def fake_twilio():
    """Twilio's Messages API on a free loopback port; `fail(...)`, `stop()`/`start()` play outages."""
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def make_outbox_app(make_app, smtp_sink, fake_twilio):
    """An app (on each test database) whose e-mail and SMS senders deliver to the fakes.
    Extra config keys may be passed: `outbox_app(OUTBOX_MAX_ATTEMPTS=3)`."""

    def factory(**overrides):
        config = {"SMTP_HOST": smtp_sink.host, "SMTP_PORT": smtp_sink.port,
                  "SMTP_FROM": "intake@example.org", "TWILIO_API_BASE_URL": fake_twilio.url}
        config.update(overrides)
        return make_app(**config)

    return factory


@pytest.fixture
def telegram_app(make_app, telegram):
    """An app with the demo directory whose Telegram channel talks to the fake Bot API."""
    return d.with_directory(make_app(**telegram_settings(telegram)))


@pytest.fixture
def updates(telegram, clock):
    """Telegram updates as the Bot API would post them, on the test's clock."""
    return UpdateFactory(telegram, clock=clock)


@pytest.fixture
def person(app, telegram, updates):
    """Someone writing to the bot on Telegram, through the module's `app`."""
    return Person(app.test_client(), telegram, updates)


@pytest.fixture
def every_language_app(make_app):
    """An app offering every shipped language (English first), with the demo directory and its own
    fake Bot API (`app.telegram`)."""
    with FakeTelegram() as telegram:
        application = make_app(LANGUAGES=EVERY_LANGUAGE, TELEGRAM_BOT_TOKEN=telegram.token,
                               TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_API_BASE_URL=telegram.url)
        application.telegram = telegram
        yield d.with_directory(application)
