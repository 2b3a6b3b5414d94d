"""Fixtures for the channel adapters and the outbox: real provider stand-ins on loopback (an SMTP
sink, a fake Twilio REST API) and an app whose configured senders point at them."""

from __future__ import annotations

import pytest

from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import FakeTwilio
from tests.support.smtp_sink import SmtpSink


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
