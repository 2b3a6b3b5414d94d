"""Shared fixtures: an app on a real, migrated database (SQLite always; PostgreSQL too when
TEST_DATABASE_URL is set), an injectable clock, and a phone that talks to the Twilio webhook with
signatures computed by Twilio's own RequestValidator."""

from __future__ import annotations

import os
import secrets
import shutil
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from app import create_app
from config import ENVIRONMENT_NAMES
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.support.postgres import private_schema

PUBLIC_BASE_URL = "https://intake.example.org"
TWILIO_TOKEN = "test-auth-token-0123456789"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the golden transcripts in tests/golden from the current behaviour")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in ENVIRONMENT_NAMES:  # every setting: a developer's own environment cannot leak in
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _fast_key_derivation(monkeypatch):
    """Same code paths, cheaper Argon2 parameters: the strong defaults cost ~0.2 s per derivation.
    (tests/storage/test_sealing.py checks the defaults themselves.)"""
    from argon2 import PasswordHasher

    from storage import accounts, sealing

    monkeypatch.setattr(sealing, "DEFAULT_KDF", sealing.KdfParams(iterations=1, lanes=1, memory_kib=8 * 1024))
    monkeypatch.setattr(sealing, "RECEIPT_KDF", sealing.KdfParams(iterations=1, lanes=1, memory_kib=8 * 1024))
    monkeypatch.setattr(accounts, "password_hasher", PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """An SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "intake.sqlite3"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url():
    """A private schema in the TEST_DATABASE_URL database, migrated once, dropped at the end."""
    with private_schema(TEST_DATABASE_URL) as url:
        upgrade(url)
        yield url


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    """A migrated, empty database of each kind under test."""
    if request.param == "sqlite":
        path = tmp_path / "intake.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def make_app(database_url, tmp_path, clock):
    """Build apps on the test database; overrides are config keys as the README lists them."""
    built = []

    def factory(**overrides):
        config = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "DATA_KEY_FILE": str(tmp_path / "data.key"),
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "TWILIO_FROM_NUMBER": "+15005550006",
            # Nothing listens here: a test that forgets the fake Twilio API can never reach the real one.
            "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
            "CLOCK": clock,
            "TESTING": True,
            # The languages most tests are written for; tests of the others set their own.
            "LANGUAGES": ["en", "my"],
            "SIMULATOR_ENABLED": "1",
        }
        config.update(overrides)
        application = create_app(config)
        built.append(application)
        return application

    yield factory
    for application in built:
        application.extensions["intake"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def twiml_messages(response) -> list[str]:
    """The <Message> bodies of a TwiML answer."""
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return [element.text or "" for element in root.findall("Message")]


class Phone:
    """A person texting the service: posts signed Twilio webhooks like Twilio does."""

    url = f"{PUBLIC_BASE_URL}/webhooks/twilio"

    def __init__(self, client, number: str = "+959450001111", token: str = TWILIO_TOKEN):
        self.client = client
        self.number = number
        self.token = token
        self.sent = 0

    def params(self, body: str | None, sid: str | None = None, **extra) -> dict:
        self.sent += 1
        params = {"MessageSid": sid or f"SM{secrets.token_hex(16)}", "AccountSid": "AC" + "0" * 32,
                  "From": self.number, "To": "+15005550006", "NumMedia": "0"}
        if body is not None:
            params["Body"] = body
        params.update(extra)
        return params

    def post(self, params: dict, signature: str | None = None):
        if signature is None:
            signature = RequestValidator(self.token).compute_signature(self.url, params)
        return self.client.post("/webhooks/twilio", data=urlencode(params),
                                content_type="application/x-www-form-urlencoded",
                                headers={"X-Twilio-Signature": signature})

    def send(self, body: str | None, sid: str | None = None, **extra):
        """Send one message; returns the HTTP response."""
        return self.post(self.params(body, sid, **extra))

    def say(self, body: str, **extra) -> list[str]:
        """Send one message and return the reply bodies (asserting a 200 TwiML answer)."""
        response = self.send(body, **extra)
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        return twiml_messages(response)


@pytest.fixture
def phone(client) -> Phone:
    return Phone(client)


def pytest_terminal_summary(terminalreporter):
    """The inputs the property-based tests tried, per target (tests/support/fuzz.py)."""
    import sys

    fuzz = sys.modules.get("tests.support.fuzz")
    if fuzz is not None and fuzz.TRIED:
        terminalreporter.section("hostile input tried")
        for line in fuzz.summary_lines():
            terminalreporter.write_line(line)
