"""`GET /healthz`: 200 with outbox counts while the database answers, 503 (never a 500) when it
does not."""

from __future__ import annotations

import pytest

from app import create_app
from bot.delivery.senders import PermanentError
from bot.delivery.worker import OutboxWorker
from tests.conftest import TEST_DATABASE_URL, Phone

# Nothing listens on port 1: connections are refused at once.
UNREACHABLE_DATABASE_URL = "postgresql+psycopg://root@127.0.0.1:1/none"


@pytest.fixture
def app(make_app):
    """SMS replies go through the outbox here, so that a text message leaves something pending."""
    return make_app(SMS_REPLY_MODE="outbox")


class RefusingSender:
    """A provider that refuses every message for good (a fake, not a mock)."""

    def __init__(self):
        self.calls = 0

    def send(self, outbox_id, recipient, payload):
        self.calls += 1
        raise PermanentError("the number is not reachable")


def test_healthz_reports_ok_and_an_empty_outbox(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "outbox_pending": 0, "outbox_failed": 0}


def test_healthz_counts_pending_then_failed_outbox_messages(app, client, phone, clock):
    assert phone.say("hello") == []  # queued, not answered inline
    health = client.get("/healthz").get_json()
    # Tried at once against the unreachable test Twilio, so still pending, for a retry.
    assert (health["status"], health["outbox_pending"], health["outbox_failed"]) == ("ok", 1, 0)

    clock.advance(minutes=1)
    sender = RefusingSender()
    assert OutboxWorker(app.extensions["intake"], senders={"sms": sender}).run_once() == 1
    assert sender.calls == 1
    health = client.get("/healthz").get_json()
    assert (health["status"], health["outbox_pending"], health["outbox_failed"]) == ("ok", 0, 1)


@pytest.fixture
def unreachable_app(tmp_path):
    """An app whose database refuses connections (no TEST_DATABASE_URL needed)."""
    application = create_app({
        "DATABASE_URL": UNREACHABLE_DATABASE_URL,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATA_KEY_FILE": str(tmp_path / "data.key"),
        "SIMULATOR_ENABLED": "1",
        "TESTING": True,
    })
    yield application
    application.extensions["intake"].close()


def test_healthz_answers_503_when_the_database_is_unreachable(unreachable_app):
    response = unreachable_app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["database"] != "ok"
    # The answer says what failed without giving away where the database is or who logs in.
    assert "127.0.0.1" not in response.get_data(as_text=True)
    assert "root" not in response.get_data(as_text=True)


def test_a_conversation_answers_503_not_500_when_the_database_is_unreachable(unreachable_app):
    response = unreachable_app.test_client().post("/simulator/messages", json={"text": "hello"})
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "database" in response.get_json()["error"]


def test_healthz_really_writes_each_time(app, client):
    """Each probe changes its row: SQLite would skip an UPDATE that changes nothing, and such a
    probe would pass on a read-only disk."""
    from storage.models import HealthProbe

    def writes() -> int:
        with app.extensions["intake"].sessions() as session:
            row = session.get(HealthProbe, 1)  # (gone after a PostgreSQL test's TRUNCATE: recreated)
            return row.writes if row else 0

    before = writes()
    assert client.get("/healthz").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert writes() == before + 2


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_read_only_postgresql_is_unhealthy_and_messages_get_503(database_url, make_app):
    """As a standby, or a server set read-only, answers: reads work, every write fails."""
    assert "options=" in database_url  # (a private schema's search_path): one more option
    read_only = database_url + "%20-cdefault_transaction_read_only%3Don"
    app = make_app(DATABASE_URL=read_only)
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "database is read-only"}
    response = Phone(client).send("hello")
    assert response.status_code == 503, response.data  # not a 500: a retry may reach a writable primary
    assert response.headers["Retry-After"]
