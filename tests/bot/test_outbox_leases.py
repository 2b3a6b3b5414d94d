"""Leases and Message-IDs of the outbox (issue 8, point 5), against the real SMTP sink and the real
database: a relay slower than a batch's lease must not make several workers send the same e-mail
twice, and a copy sent again after a crash mid-send must carry the Message-ID of the first."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import config

from bot.delivery import worker
from bot.delivery.senders import PROVIDER_TIMEOUT_SECONDS, SmtpSender
from bot.delivery.worker import BATCH, LEASE, OutboxWorker
from storage import outbox
from storage.models import DeliveryAttempt, OutboxMessage

MESSAGES = 40
WORKERS = 3
SHORT_LEASE = timedelta(seconds=1)  # stands in for LEASE, so that the test takes seconds
RELAY_SECONDS = 0.15  # per message: one send fits a lease many times, a batch of BATCH does not
FINAL = {"sent", "failed"}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def queue_emails(runtime, count: int, ordering_keys: tuple[str | None, ...] = (None,)) -> list[int]:
    """Queue `count` e-mails in one committed transaction, the n-th with ordering key
    `ordering_keys[n % len(ordering_keys)]`; returns their outbox ids."""
    with runtime.sessions() as session:
        for number in range(count):
            outbox.enqueue(session, runtime.vault, dedupe_key=f"notify:{number}", channel="email",
                           purpose="notification", recipient=f"fp{number}@agency.example",
                           payload={"subject": f"Report R-{number}", "body": "Sign in to read it."},
                           now=runtime.clock(), ordering_key=ordering_keys[number % len(ordering_keys)])
        session.commit()
        return list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def rows(runtime) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def attempts(runtime) -> list[DeliveryAttempt]:
    with runtime.sessions() as session:
        return list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


def race(runtime, workers: int) -> tuple[int, float]:
    """Run `workers` OutboxWorkers in threads until every message is sent or failed; returns how
    many attempts they reported in all, and the seconds it took."""
    done = threading.Event()
    attempted = Counter()
    failures = []

    def work(index: int) -> None:
        # Like OutboxWorker.run (without its purge): keep polling until every message is final,
        # so a worker that finds nothing now can still take over a lease that runs out later.
        worker = OutboxWorker(runtime)
        try:
            while not done.is_set():
                count = worker.run_once()
                attempted[index] += count
                if not count:
                    done.wait(0.02)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(workers)]
    for thread in threads:
        thread.start()
    try:
        deadline = started + 60
        while time.monotonic() < deadline and not all(row.status in FINAL for row in rows(runtime)):
            time.sleep(0.05)
    finally:
        done.set()  # each worker finishes what it holds (a whole batch, on the old code), then stops
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    return sum(attempted.values()), time.monotonic() - started


@pytest.fixture
def slow_relay(smtp_sink, monkeypatch):
    """The SMTP sink taking RELAY_SECONDS per message, and a lease that one send fits in many
    times but a whole batch of sends does not."""
    monkeypatch.setattr(worker, "LEASE", SHORT_LEASE)
    assert BATCH * RELAY_SECONDS > 2 * SHORT_LEASE.total_seconds() > 10 * RELAY_SECONDS
    smtp_sink.delay_seconds = RELAY_SECONDS
    return smtp_sink


def test_the_lease_is_longer_than_a_providers_own_timeout():
    assert LEASE > timedelta(seconds=PROVIDER_TIMEOUT_SECONDS)


def test_workers_racing_over_a_slow_relay_send_each_email_once(make_outbox_app, slow_relay):
    runtime = make_outbox_app(CLOCK=utc_now).extensions["intake"]  # real time: leases run out alone
    ids = queue_emails(runtime, MESSAGES)

    attempted, elapsed = race(runtime, WORKERS)

    received = slow_relay.messages
    # Every e-mail has its own recipient: counted that way, a copy is found whatever its Message-ID.
    copies = Counter(mail.rcpt_tos for mail in received)
    duplicates = sum(copies.values()) - len(copies)
    assert duplicates == 0, f"{duplicates} of {MESSAGES} e-mails sent twice ({elapsed:.1f} s)"
    assert Counter(mail.message_id for mail in received) == Counter(
        f"<outbox-{id_}@example.org>" for id_ in ids)  # each once, none missing
    assert attempted == MESSAGES
    assert {(row.status, row.attempts) for row in rows(runtime)} == {("sent", 1)}
    assert [attempt.outcome for attempt in attempts(runtime)] == ["sent"] * MESSAGES
    # Faster than one worker alone: the workers shared the queue rather than waiting on each other.
    assert elapsed < MESSAGES * RELAY_SECONDS


def test_racing_workers_send_one_conversations_messages_one_at_a_time_in_order(make_outbox_app,
                                                                               slow_relay):
    runtime = make_outbox_app(CLOCK=utc_now).extensions["intake"]
    conversations, each = ("sender-key-a", "sender-key-b", "sender-key-c"), 4
    # Queued one conversation after the other: free workers would take three of the first at once.
    ids = queue_emails(runtime, len(conversations) * each,
                       ordering_keys=tuple(key for key in conversations for _ in range(each)))

    attempted, _ = race(runtime, WORKERS)

    assert attempted == len(ids)
    arrived = {mail.message_id: mail for mail in slow_relay.messages}
    assert len(arrived) == len(ids)
    for start in range(0, len(ids), each):
        sent = [arrived[f"<outbox-{id_}@example.org>"] for id_ in ids[start:start + each]]
        for earlier, later in zip(sent, sent[1:]):
            assert earlier.accepted <= later.started, "one conversation's messages overlapped"


def test_deliver_sends_a_conversations_messages_in_order_and_holds_them_behind_a_failure(
        make_outbox_app, smtp_sink, clock):
    runtime = make_outbox_app().extensions["intake"]
    ids = queue_emails(runtime, 3, ordering_keys=("sender-key-a",))
    worker = OutboxWorker(runtime)

    smtp_sink.refuse_recipients = "451 4.3.0 Try again later"
    assert worker.deliver(ids) == 1  # the first is tried; the two behind it wait for it
    assert [(row.status, row.attempts) for row in rows(runtime)] == [("pending", 1), ("pending", 0),
                                                                     ("pending", 0)]

    smtp_sink.refuse_recipients = None
    clock.advance(hours=1)
    assert worker.deliver(ids) == 3  # one call: each goes as soon as the one before it is sent
    assert [mail.message_id for mail in smtp_sink.messages] == [f"<outbox-{id_}@example.org>" for id_ in ids]
    assert [(row.status, row.attempts) for row in rows(runtime)] == [("sent", 2), ("sent", 1), ("sent", 1)]


class ProcessDied(BaseException):
    """The worker process ends here: nothing after it runs, nothing catches it."""


class DiesAfterTheRelayAccepted:
    """The real SMTP sender, in a process that dies once the relay has taken the message and
    before the worker can write the attempt down."""

    def __init__(self, sender: SmtpSender):
        self.sender = sender

    def send(self, outbox_id: int, recipient: str, payload: dict) -> str:
        self.sender.send(outbox_id, recipient, payload)
        raise ProcessDied


def test_a_copy_sent_again_after_a_crash_mid_send_has_the_same_message_id(make_outbox_app, smtp_sink,
                                                                           clock):
    runtime = make_outbox_app(SMTP_FROM="PSEA intake <intake@example.org>").extensions["intake"]
    [id_] = queue_emails(runtime, 1)
    crashing = OutboxWorker(runtime, senders={"email": DiesAfterTheRelayAccepted(runtime.senders["email"])})
    with pytest.raises(ProcessDied):
        crashing.run_once()
    [row] = rows(runtime)
    assert (row.status, row.attempts) == ("sending", 1)  # nothing recorded: the lease holds it
    assert attempts(runtime) == []

    # Another process (a restarted worker, its own runtime) takes the message once the lease ran out.
    clock.advance(seconds=LEASE.total_seconds() + 1)
    restarted = make_outbox_app(SMTP_FROM="PSEA intake <intake@example.org>").extensions["intake"]
    assert OutboxWorker(restarted).run_once() == 1

    first, again = smtp_sink.messages
    assert first.message_id == again.message_id == f"<outbox-{id_}@example.org>"
    assert first.rcpt_tos == again.rcpt_tos and first.subject == again.subject
    [row] = rows(runtime)
    assert (row.status, row.attempts, row.provider_ref) == ("sent", 2, first.message_id)
    # The first try, which the crash left unrecorded, is written down when its lease is taken over.
    assert [attempt.outcome for attempt in attempts(runtime)] == ["interrupted", "sent"]


@pytest.mark.parametrize(("sender", "domain"), [("PSEA intake <intake@example.org>", "example.org"),
                                              ("intake", "intake.local")])
def test_the_message_id_depends_only_on_the_outbox_id(smtp_sink, sender, domain, tmp_path):
    smtp = SmtpSender(config.load(tmp_path, environ={"SMTP_HOST": smtp_sink.host, "SMTP_PORT": str(smtp_sink.port),
                                                     "SMTP_FROM": sender}))
    payload = {"subject": "Report", "body": "Sign in to read it."}

    first = smtp.send(7, "a@agency.example", payload)
    time.sleep(0.02)  # make_msgid's time part changes every 10 ms
    again = smtp.send(7, "b@agency.example", {"subject": "Other", "body": "other"})
    other = smtp.send(8, "a@agency.example", payload)

    assert first == again == f"<outbox-7@{domain}>"
    assert other == f"<outbox-8@{domain}>"
    assert [mail.message_id for mail in smtp_sink.messages] == [first, again, other]
