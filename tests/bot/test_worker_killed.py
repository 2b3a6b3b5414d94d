"""A delivery worker killed with SIGKILL in the middle of a delivery: the real `flask --app app
outbox work` in a child process, sending an SMS to a fake Twilio that holds the request open, and
`kill -9` while the request is in flight. Nothing runs after the signal: no `finally`, no rollback
by the worker, no attempt written down. What is proved:

- The message is not lost: its lease runs out and a restarted worker sends it; not before, so
  that a send that might still be under way is never doubled while its lease holds.
- "Once" means one message accepted by the provider, when the provider acts only once it answers
  (a request whose client is gone by then is dropped): the fake then sees two requests and
  exactly one accepted delivery.
- When the provider acted before the kill (it accepted the message, only its answer was lost), no
  worker can know that: Twilio's Messages API takes no idempotency key, so the restarted worker's
  copy is a second SMS. The outbox says so: the killed attempt is written down as "interrupted"
  (the provider may have it), beside the copy's "sent". (E-mail copies carry the Message-ID of
  the first, which mail clients recognise: tests/bot/test_outbox_leases.py.)

The lease (LEASE, five minutes) is made to run out by moving it back in the database, not by
waiting five minutes; the restarted worker runs on the real clock."""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from config import ENVIRONMENT_NAMES
from storage import outbox
from storage.models import DeliveryAttempt, OutboxMessage
from tests.conftest import TWILIO_TOKEN
from tests.support.fake_twilio import FakeTwilio
from tests.support.server import output_of, running

RECIPIENT = "+959450002222"
BODY = "Your report has been received."
WAIT = 30  # seconds: bound on each wait for the child process


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
def fake_twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def runtime(make_app, fake_twilio):
    return make_app(CLOCK=utc_now, TWILIO_API_BASE_URL=fake_twilio.url).extensions["intake"]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", "outbox", "work"]


def worker_environment(runtime, fake_twilio) -> dict:
    settings = runtime.settings
    env = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT_NAMES}
    env.update(DATABASE_URL=settings.database_url, SECRET_KEY=settings.secret_key,
               DATA_KEY_FILE=str(settings.data_key_file), TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
               TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_FROM_NUMBER=settings.twilio_from_number,
               TWILIO_API_BASE_URL=fake_twilio.url, PUBLIC_BASE_URL="https://intake.example.org",
               PYTHONUNBUFFERED="1")
    return env


def queue_sms(runtime) -> int:
    with runtime.sessions() as session:
        outbox.enqueue(session, runtime.vault, dedupe_key="notify:killed", channel="sms", purpose="notification",
                       recipient=RECIPIENT, payload={"body": BODY}, now=runtime.clock())
        session.commit()
        return session.scalars(select(OutboxMessage.id)).one()


def the_row(runtime) -> OutboxMessage:
    with runtime.sessions() as session:
        return session.scalars(select(OutboxMessage)).one()


def outcomes(runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)))


def wait_for(condition, what: str, process, log_path) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}) before {what}:\n{output_of(log_path)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {WAIT} s:\n{output_of(log_path)}")
        time.sleep(0.05)  # polling the real state, bounded above


def run_out_the_lease(runtime, outbox_id: int) -> None:
    """What five minutes of waiting would do: the lease ends in the past."""
    with runtime.sessions() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id)
                        .values(locked_until=utc_now() - timedelta(seconds=1)))
        session.commit()


def kill_mid_delivery(runtime, fake_twilio, tmp_path, acts: str) -> int:
    """Start the worker, let it send the queued SMS into the held request, kill -9 it there;
    returns the outbox id."""
    outbox_id = queue_sms(runtime)
    fake_twilio.hold(acts)
    log_path = tmp_path / "worker-1.log"
    with running(worker_command(), worker_environment(runtime, fake_twilio), log_path) as worker:
        wait_for(fake_twilio.holding_one.is_set, "request to the provider", worker, log_path)
        os.killpg(worker.pid, signal.SIGKILL)
        assert worker.wait(WAIT) == -signal.SIGKILL
    fake_twilio.release()  # the provider answers now, to a client that is gone
    wait_for(lambda: len(fake_twilio.requests) == 1, "held request ending", None, log_path)
    row = the_row(runtime)
    assert (row.status, row.attempts, row.provider_ref) == ("sending", 1, None)  # the lease holds it
    assert outcomes(runtime) == []  # the killed worker wrote nothing down
    return outbox_id


def restart_and_deliver(runtime, fake_twilio, tmp_path, outbox_id: int) -> None:
    """Restart the worker: nothing while the lease holds; sent once it has run out."""
    log_path = tmp_path / "worker-2.log"
    with running(worker_command(), worker_environment(runtime, fake_twilio), log_path) as worker:
        wait_for(lambda: "outbox worker started" in output_of(log_path), "start", worker, log_path)
        time.sleep(2.5)  # longer than one idle poll (2 s): it looked, and left the leased message alone
        assert len(fake_twilio.requests) == 1
        assert the_row(runtime).status == "sending"
        run_out_the_lease(runtime, outbox_id)
        wait_for(lambda: the_row(runtime).status == "sent", "delivery after the lease ran out", worker, log_path)
        time.sleep(2.5)  # another poll: nothing more goes out
    assert "Traceback" not in output_of(log_path)


def test_killed_mid_delivery_the_message_is_sent_once_after_a_restart(runtime, fake_twilio, tmp_path):
    """The provider acts only when it answers: the killed worker's request is dropped."""
    outbox_id = kill_mid_delivery(runtime, fake_twilio, tmp_path, acts="on_answer")
    assert fake_twilio.delivered == []  # the provider dropped the request of the killed worker

    restart_and_deliver(runtime, fake_twilio, tmp_path, outbox_id)

    [delivered] = fake_twilio.delivered
    assert (delivered.to, delivered.body) == (RECIPIENT, BODY)
    assert [request.status for request in fake_twilio.requests] == [0, 201]
    row = the_row(runtime)
    assert (row.status, row.attempts, row.provider_ref) == ("sent", 2, delivered.sid)
    assert outcomes(runtime) == ["interrupted", "sent"]


def test_killed_after_the_provider_accepted_the_copy_is_written_down_as_possible(runtime, fake_twilio,
                                                                                 tmp_path):
    """The provider acted before the kill: the restart's copy is a second SMS, and the outbox
    records the first attempt as interrupted, the only trace any worker can have of it."""
    outbox_id = kill_mid_delivery(runtime, fake_twilio, tmp_path, acts="on_receipt")
    [first] = fake_twilio.delivered  # accepted, though the worker never heard so

    restart_and_deliver(runtime, fake_twilio, tmp_path, outbox_id)

    first_again, copy = fake_twilio.delivered
    assert first_again == first
    assert (copy.to, copy.body) == (first.to, first.body) == (RECIPIENT, BODY)
    row = the_row(runtime)
    assert (row.status, row.attempts, row.provider_ref) == ("sent", 2, copy.sid)
    assert outcomes(runtime) == ["interrupted", "sent"]
