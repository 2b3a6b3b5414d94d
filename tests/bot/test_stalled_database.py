"""A stalled PostgreSQL (the server or the network hung: connections open, nothing answering) costs
a webhook and /healthz a quick 503, within DATABASE_TIMEOUT_SECONDS, instead of a hang past the
15 s Twilio waits; once the database answers again the same app serves 200, without a restart.
A PostgreSQL that goes away (its connections cut in the middle of a conversation's message) costs
the same quick 503, writes nothing of that message, and the conversation carries on afterwards
from where it was, Twilio's retry of the failed message answered once.

The app reaches PostgreSQL through a relay on loopback that can freeze: bytes stop flowing both
ways while every socket stays open, which is what a frozen server looks like from the client; or
cut: every connection reset at once, and new ones reset as they arrive."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.models import Base, HealthProbe
from tests.conftest import TEST_DATABASE_URL, Phone, twiml_messages
from tests.support.directory import with_directory
from tests.support.stalling_proxy import StallingProxy

TIMEOUT = 2  # DATABASE_TIMEOUT_SECONDS here; a short one keeps the tests quick
BOUND = TIMEOUT + 2  # seconds: what "quick" means, well under Twilio's 15 s
HANG = 30  # a request still running after this long counts as hung

pytestmark = [
    pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL: set TEST_DATABASE_URL (CI does)"),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def stalled(database_url, make_app):
    """(app, relay): an app whose DATABASE_URL goes through a relay that can freeze."""
    real = make_url(database_url)
    with StallingProxy((real.host or "127.0.0.1", real.port or 5432)) as relay:
        proxied = real.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        yield make_app(DATABASE_URL=proxied, DATABASE_TIMEOUT_SECONDS=TIMEOUT), relay


def timed(call):
    """Run `call()` in a thread; (seconds it took, its result). Fails, rather than hanging the
    test run, when it has not returned after HANG seconds."""
    outcome = {}

    def run():
        try:
            outcome["result"] = call()
        except BaseException as error:  # handed back to the test below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(HANG)
    took = time.monotonic() - started
    assert not thread.is_alive(), f"no answer after {took:.0f} s: the request hangs"
    if "error" in outcome:
        raise outcome["error"]
    return took, outcome["result"]


def assert_quick_503(took: float, response) -> None:
    assert response.status_code == 503, response.data
    assert took < BOUND, f"answered after {took:.1f} s"


def test_webhook_and_healthz_answer_503_quickly_while_frozen_then_200(stalled):
    app, relay = stalled
    client = app.test_client()
    phone = Phone(client)
    assert phone.say("hello")  # the pool now holds a connection, which the freeze leaves open
    assert client.get("/healthz").status_code == 200

    relay.freeze()
    took, response = timed(lambda: phone.send("1"))
    assert_quick_503(took, response)
    assert response.headers["Retry-After"]
    took, response = timed(lambda: client.get("/healthz"))
    assert_quick_503(took, response)
    assert response.get_json() == {"status": "error", "database": f"database did not answer within {TIMEOUT} s"}
    # Nothing left in the pool now: a new connection, which must give up in time too.
    took, response = timed(lambda: client.get("/healthz"))
    assert_quick_503(took, response)

    relay.thaw()
    took, response = timed(lambda: phone.send("1"))
    assert response.status_code == 200, response.data
    assert twiml_messages(response)
    assert took < BOUND
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["status"] == "ok"


@pytest.mark.parametrize("moment", ["statement", "commit"])
def test_a_freeze_in_the_middle_of_a_webhook_costs_it_a_quick_503(stalled, moment):
    """Frozen after the request has begun: at a write (a statement in flight) or at COMMIT
    (a round trip that goes through no cursor)."""
    app, relay = stalled
    client = app.test_client()
    phone = Phone(client)
    assert phone.say("hello")

    armed = threading.Event()

    def freeze(*_args):
        if armed.is_set():
            armed.clear()
            relay.freeze()

    def freeze_at_a_write(_conn, _cursor, statement, *_args):
        if statement.startswith(("UPDATE", "INSERT")):
            freeze()

    engine = app.extensions["intake"].db
    if moment == "statement":
        event.listen(engine, "before_cursor_execute", freeze_at_a_write)
    else:
        event.listen(engine, "commit", freeze)
    armed.set()
    took, response = timed(lambda: phone.send("1"))
    assert_quick_503(took, response)
    assert not armed.is_set()  # the freeze did happen where it was meant to

    relay.thaw()
    response = phone.send("1")
    assert response.status_code == 200, response.data
    assert client.get("/healthz").status_code == 200


def everything_stored(database_url: str) -> dict[str, list[tuple]]:
    """Every row of every table (but the health probe's), read straight from the database, not
    through the relay: what a message wrote, committed, is in here."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
                    for table in Base.metadata.sorted_tables if table.name != HealthProbe.__tablename__}
    finally:
        engine.dispose()


def test_the_database_going_away_mid_conversation_costs_a_quick_503_and_nothing_else(database_url, stalled,
                                                                                     caplog):
    """Cut in the middle of a message (at its first write), then stalled while Twilio retries it:
    each try a quick 503 with Retry-After and nothing of it written; once the database is back,
    Twilio's retry (the same MessageSid) gets the next question of the same conversation, a second
    retry the same answer without advancing it, and the conversation goes on."""
    app, relay = stalled
    with_directory(app)  # a report needs organisations to go to
    client = app.test_client()
    phone = Phone(client)
    assert phone.say("hello")[0].startswith("Choose your language")
    assert "What would you like to do?" in phone.say("1")[0]
    before = everything_stored(database_url)

    cut_at_the_first_write = threading.Event()
    cut_at_the_first_write.set()

    def cut(_conn, _cursor, statement, *_args):
        if cut_at_the_first_write.is_set() and statement.startswith(("UPDATE", "INSERT")):
            cut_at_the_first_write.clear()
            relay.cut()  # this very statement goes out on a reset connection

    event.listen(app.extensions["intake"].db, "before_cursor_execute", cut)
    report_a_concern = phone.params("1")  # Twilio sends this same request again on each retry
    took, response = timed(lambda: phone.post(report_a_concern))
    assert not cut_at_the_first_write.is_set()  # the cut did happen in the middle of the message
    assert_quick_503(took, response)
    assert took < TIMEOUT  # a reset is known at once: no deadline is waited for
    print(f"\ncut mid-message: 503 after {took:.2f} s")
    assert response.headers["Retry-After"]
    took, response = timed(lambda: client.get("/healthz"))  # new connections are reset too
    assert_quick_503(took, response)

    first_logged = next(record.getMessage() for record in caplog.records if record.name == "bot.http")
    assert first_logged == ("database unavailable on '/webhooks/twilio': database connection lost (closed or "
                            "reset by the server or the network)")
    relay.restore()
    relay.freeze()  # back, but hanging: Twilio's retry waits on it
    took, response = timed(lambda: phone.post(report_a_concern))
    assert_quick_503(took, response)
    print(f"stalled: 503 after {took:.2f} s (DATABASE_TIMEOUT_SECONDS={TIMEOUT})")
    assert response.headers["Retry-After"]
    relay.thaw()
    assert everything_stored(database_url) == before  # nothing of the failed tries was kept

    took, response = timed(lambda: phone.post(report_a_concern))
    assert response.status_code == 200, response.data
    assert took < BOUND
    [answer] = twiml_messages(response)
    assert answer.startswith("Are you in danger right now?")  # the same conversation, its next question
    after = everything_stored(database_url)
    assert after != before

    again = phone.post(report_a_concern)  # a second retry of the same message: answered, not taken again
    assert again.status_code == 200
    assert twiml_messages(again) == [answer]
    assert everything_stored(database_url) == after
    assert "Which organisation" in phone.say("2")[-1]  # and the conversation goes on
    assert client.get("/healthz").status_code == 200
