"""The durable outbox and its worker (ARCHITECTURE.md principle 5), against real providers on loopback:
an SMTP sink and a fake Twilio REST API. An outage delays a message, never loses or doubles it;
every attempt is recorded; nothing identifying is left behind or logged."""

from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery.worker import LEASE, OutboxWorker
from storage import outbox
from storage.models import Conversation, DeliveryAttempt, InboundMessage, OutboxMessage
from tests.conftest import twiml_messages
from tests.support.smtp_sink import SmtpSink

FOCAL_POINT = "focal.point@agency.example"
PHONE = "+959450001111"
BURMESE = "ကျေးဇူးတင်ပါတယ်။ သင့်အကြောင်းကြားချက်ကို လက်ခံရရှိပါပြီ။"

# aiosmtpd logs the SMTP dialogue (addresses included) under "mail.log"; it plays the relay, so
# its log is not ours to police.
FAKE_LOGGERS = ("mail.log",)


def runtime_of(app):
    return app.extensions["intake"]


def queue(runtime, key: str, channel: str, recipient: str, payload: dict,
          purpose: str = "notification") -> None:
    """Enqueue one message in its own committed transaction, as a webhook or the portal would."""
    with runtime.sessions() as session:
        outbox.enqueue(session, runtime.vault, dedupe_key=key, channel=channel, purpose=purpose,
                       recipient=recipient, payload=payload, now=runtime.clock())
        session.commit()


def queue_email(runtime, key: str, to: str = FOCAL_POINT, subject: str = "New report R-1042",
                body: str = "A report was received. Sign in to the portal to read it.") -> None:
    queue(runtime, key, "email", to, {"subject": subject, "body": body})


def queue_sms(runtime, key: str, to: str = PHONE, body: str = BURMESE, channel: str = "sms") -> None:
    queue(runtime, key, channel, to, {"body": body}, purpose="reply")


def outbox_rows(runtime) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def outbox_row(runtime, key: str) -> OutboxMessage:
    with runtime.sessions() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()


def delivery_attempts(runtime) -> list[DeliveryAttempt]:
    with runtime.sessions() as session:
        return list(session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


def our_log(caplog) -> str:
    """Everything the service logged (messages and tracebacks), the fakes' own logs left out."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records
                     if not record.name.startswith(FAKE_LOGGERS))


def assert_wiped(row: OutboxMessage) -> None:
    assert row.recipient is None
    assert row.payload is None
    assert row.locked_until is None


# --- e-mail over SMTP ------------------------------------------------------------------------

def test_email_is_delivered_and_leaves_no_address_behind(make_outbox_app, smtp_sink, clock):
    app = make_outbox_app()
    runtime = runtime_of(app)
    queue_email(runtime, "report:1042:notify", subject="New report R-1042", body=BURMESE)

    [queued] = outbox_rows(runtime)
    assert queued.status == "pending" and queued.attempts == 0
    # Sealed at rest: neither the address nor the text is readable in the row.
    assert FOCAL_POINT.encode() not in queued.recipient
    assert BURMESE.encode() not in queued.payload

    clock.advance(seconds=3)
    assert OutboxWorker(runtime).run_once() == 1

    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == (FOCAL_POINT,)
    assert mail.message["To"] == FOCAL_POINT
    assert mail.mail_from == "intake@example.org" == mail.message["From"]
    assert mail.subject == "New report R-1042"
    assert mail.body.rstrip("\n") == BURMESE

    [row] = outbox_rows(runtime)
    assert row.status == "sent"
    assert row.sent_at == clock.now
    assert row.provider_ref == mail.message_id
    assert f"outbox-{row.id}" in row.provider_ref  # the same message is recognisable if resent
    assert row.attempts == 1
    assert row.last_error is None
    assert_wiped(row)

    [attempt] = delivery_attempts(runtime)
    assert (attempt.outbox_id, attempt.outcome, attempt.error) == (row.id, "sent", None)
    assert attempt.attempted_at == clock.now
    assert attempt.duration_ms >= 0


def test_smtp_outage_delays_with_backoff_and_every_message_arrives_once(
        make_outbox_app, smtp_sink, clock, caplog):
    caplog.set_level(logging.DEBUG)
    app = make_outbox_app(OUTBOX_BACKOFF_SECONDS=15, OUTBOX_BACKOFF_CAP_SECONDS=100)
    runtime = runtime_of(app)
    smtp_sink.stop()
    letters = {f"focal.point.{n}@agency{n}.example": (f"Report R-{n}", f"Confidential text number {n}")
               for n in range(4)}
    for number, (address, (subject, body)) in enumerate(letters.items()):
        queue_email(runtime, f"notify:{number}", to=address, subject=subject, body=body)
    worker = OutboxWorker(runtime)

    # 15 s, doubling on each failure, capped at OUTBOX_BACKOFF_CAP_SECONDS.
    for attempt, delay in enumerate([15, 30, 60, 100, 100], start=1):
        assert worker.run_once() == len(letters)
        for row in outbox_rows(runtime):
            assert row.status == "pending"
            assert row.attempts == attempt
            assert row.next_attempt_at == clock.now + timedelta(seconds=delay)
            assert row.locked_until is None
            assert row.recipient is not None and row.payload is not None  # kept for the next try
            assert row.last_error.startswith("smtp ")
        clock.advance(seconds=delay - 1)
        assert worker.run_once() == 0, "a message was retried before its backoff ran out"
        clock.advance(seconds=1)

    failures = delivery_attempts(runtime)
    assert len(failures) == 5 * len(letters)
    assert {attempt.outcome for attempt in failures} == {"retry"}
    errors = "\n".join(attempt.error for attempt in failures)
    assert errors.startswith("smtp ")
    for address, (subject, body) in letters.items():
        for secret in (address, subject, body):
            assert secret not in errors
            assert secret not in our_log(caplog)
    assert smtp_sink.messages == []

    smtp_sink.start()
    assert worker.run_once() == len(letters)
    received = smtp_sink.messages
    assert sorted(mail.rcpt_tos for mail in received) == sorted((address,) for address in letters)
    for mail in received:
        subject, body = letters[mail.rcpt_tos[0]]
        assert (mail.subject, mail.body.rstrip("\n")) == (subject, body)

    assert worker.run_once() == 0
    clock.advance(days=1)
    assert worker.run_once() == 0
    assert len(smtp_sink.messages) == len(letters)
    for row in outbox_rows(runtime):
        assert (row.status, row.attempts) == ("sent", 6)
        assert_wiped(row)
    assert [attempt.outcome for attempt in delivery_attempts(runtime)].count("sent") == len(letters)


@pytest.mark.parametrize(("reply", "outcome", "status"), [
    ("550 5.1.1 No such user here", "failed", "failed"),
    ("451 4.3.0 Mailbox temporarily unavailable", "retry", "pending"),
])
def test_smtp_refusal_is_permanent_only_for_5xx(make_outbox_app, smtp_sink, clock, reply, outcome,
                                                status):
    runtime = runtime_of(make_outbox_app())
    smtp_sink.refuse_recipients = reply
    queue_email(runtime, "notify:refused")

    assert OutboxWorker(runtime).run_once() == 1

    row = outbox_row(runtime, "notify:refused")
    assert row.status == status and row.attempts == 1
    assert reply[:3] in row.last_error and FOCAL_POINT not in row.last_error
    [attempt] = delivery_attempts(runtime)
    assert attempt.outcome == outcome
    assert row.recipient is not None  # a notification given up is kept, sealed, for an operator's retry
    assert smtp_sink.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # loopback
@pytest.mark.parametrize(("login", "code"), [
    ({"SMTP_USER": "intake", "SMTP_PASSWORD": "wrong"}, 535),  # credentials refused
    ({}, 530),  # no credentials for a relay that requires them
])
def test_wrong_smtp_credentials_keep_mail_queued_until_fixed(make_app, clock, login, code):
    with SmtpSink(credentials=("intake", "s3cret")) as relay:
        settings = {"SMTP_HOST": relay.host, "SMTP_PORT": relay.port, "SMTP_FROM": "intake@example.org"}
        runtime = runtime_of(make_app(**settings, **login))
        queue_email(runtime, "notify:auth")

        assert OutboxWorker(runtime).run_once() == 1
        row = outbox_row(runtime, "notify:auth")
        assert (row.status, row.attempts) == ("pending", 1), "a configuration error lost the message"
        assert row.last_error == f"smtp {code}"
        assert row.recipient is not None and row.payload is not None
        assert relay.messages == []

        # The operator fixes SMTP_USER / SMTP_PASSWORD; the message goes out.
        fixed = runtime_of(make_app(**settings, SMTP_USER="intake", SMTP_PASSWORD="s3cret"))
        clock.advance(hours=1)
        assert OutboxWorker(fixed).run_once() == 1
        assert [mail.rcpt_tos for mail in relay.messages] == [(FOCAL_POINT,)]
        assert outbox_row(runtime, "notify:auth").status == "sent"


# --- SMS and WhatsApp through the Twilio REST API ---------------------------------------------

def test_sms_is_delivered_through_the_twilio_api(make_outbox_app, fake_twilio, clock):
    app = make_outbox_app()
    runtime = runtime_of(app)
    queue_sms(runtime, "reply:sms:SM1:0", to=PHONE, body=BURMESE)

    assert OutboxWorker(runtime).run_once() == 1

    [request] = fake_twilio.requests
    assert request.status == 201
    assert (request.to, request.from_, request.body) == (PHONE, app.extensions["intake"].settings.twilio_from_number, BURMESE)
    assert request.account == app.extensions["intake"].settings.twilio_account_sid
    assert request.password == app.extensions["intake"].settings.twilio_auth_token
    assert request.path == f"/2010-04-01/Accounts/{request.account}/Messages.json"

    row = outbox_row(runtime, "reply:sms:SM1:0")
    assert row.status == "sent" and row.sent_at == clock.now
    assert row.provider_ref == request.sid
    assert row.provider_ref.startswith("SM")
    assert_wiped(row)
    assert [attempt.outcome for attempt in delivery_attempts(runtime)] == ["sent"]


def test_whatsapp_is_sent_from_the_whatsapp_address_of_the_number(make_outbox_app, fake_twilio):
    app = make_outbox_app()
    runtime = runtime_of(app)
    queue_sms(runtime, "reply:whatsapp:SM2:0", to="whatsapp:+959450002222", body="Thank you.",
              channel="whatsapp")

    assert OutboxWorker(runtime).run_once() == 1

    [request] = fake_twilio.delivered
    assert request.to == "whatsapp:+959450002222"
    assert request.from_ == "whatsapp:" + app.extensions["intake"].settings.twilio_from_number
    assert request.body == "Thank you."
    assert outbox_row(runtime, "reply:whatsapp:SM2:0").provider_ref == request.sid


def test_invalid_number_fails_for_good_after_one_attempt(make_outbox_app, fake_twilio, clock, caplog):
    caplog.set_level(logging.DEBUG)
    runtime = runtime_of(make_outbox_app())
    number = "+95900000001"
    queue_sms(runtime, "reply:sms:SM3:0", to=number, body=BURMESE)
    fake_twilio.fail(400, code=21211, message="The 'To' number +95900000001 is not a valid phone number.")

    assert OutboxWorker(runtime).run_once() == 1

    row = outbox_row(runtime, "reply:sms:SM3:0")
    assert (row.status, row.attempts, row.sent_at, row.provider_ref) == ("failed", 1, None, None)
    assert_wiped(row)
    assert "400" in row.last_error and "21211" in row.last_error
    [attempt] = delivery_attempts(runtime)
    assert attempt.outcome == "failed"
    assert [request.to for request in fake_twilio.requests] == [number]

    errors = [record for record in caplog.records
              if record.name == "bot.delivery.worker" and record.levelno == logging.ERROR]
    assert len(errors) == 1 and str(row.id) in errors[0].getMessage()
    logged = our_log(caplog)
    assert number not in logged and number.lstrip("+") not in logged
    assert BURMESE not in logged and attempt.error and number not in attempt.error

    fake_twilio.succeed()
    clock.advance(days=1)
    assert OutboxWorker(runtime).run_once() == 0
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 429, 401])  # 401: credentials an operator can fix
def test_transient_twilio_errors_are_retried(make_outbox_app, fake_twilio, clock, status):
    runtime = runtime_of(make_outbox_app(OUTBOX_BACKOFF_SECONDS=15))
    queue_sms(runtime, "reply:sms:SM4:0")
    fake_twilio.fail(status, times=1)
    worker = OutboxWorker(runtime)

    assert worker.run_once() == 1
    row = outbox_row(runtime, "reply:sms:SM4:0")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == clock.now + timedelta(seconds=15)
    assert str(status) in row.last_error and PHONE not in row.last_error
    assert row.recipient is not None

    clock.advance(seconds=15)
    assert worker.run_once() == 1
    [request] = fake_twilio.delivered
    row = outbox_row(runtime, "reply:sms:SM4:0")
    assert (row.status, row.attempts, row.provider_ref) == ("sent", 2, request.sid)
    assert [attempt.outcome for attempt in delivery_attempts(runtime)] == ["retry", "sent"]
    assert [request.status for request in fake_twilio.requests] == [status, 201]


def test_twilio_unreachable_is_retried_until_it_is_back(make_outbox_app, fake_twilio, clock):
    runtime = runtime_of(make_outbox_app())
    queue_sms(runtime, "reply:sms:SM5:0")
    fake_twilio.stop()
    worker = OutboxWorker(runtime)

    assert worker.run_once() == 1
    row = outbox_row(runtime, "reply:sms:SM5:0")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("twilio ")

    fake_twilio.start()
    clock.advance(seconds=runtime.settings.outbox_backoff_seconds)
    assert worker.run_once() == 1
    assert [request.to for request in fake_twilio.delivered] == [PHONE]
    assert outbox_row(runtime, "reply:sms:SM5:0").status == "sent"


def test_gives_up_after_max_attempts_of_transient_failures(make_outbox_app, fake_twilio, clock, caplog):
    caplog.set_level(logging.INFO)
    runtime = runtime_of(make_outbox_app(OUTBOX_MAX_ATTEMPTS=3))
    queue_sms(runtime, "reply:sms:SM6:0")
    fake_twilio.fail(503)
    worker = OutboxWorker(runtime)

    for _ in range(3):
        assert worker.run_once() == 1
        clock.advance(hours=2)  # beyond any backoff

    row = outbox_row(runtime, "reply:sms:SM6:0")
    assert (row.status, row.attempts) == ("failed", 3)
    assert_wiped(row)
    assert [attempt.outcome for attempt in delivery_attempts(runtime)] == ["retry", "retry", "failed"]
    assert len(fake_twilio.requests) == 3
    assert [record.levelno for record in caplog.records if record.name == "bot.delivery.worker"] == [
        logging.INFO, logging.INFO, logging.ERROR]

    fake_twilio.succeed()
    assert worker.run_once() == 0
    assert fake_twilio.delivered == []


# --- queueing, leases, channels without a sender -----------------------------------------------

def test_enqueue_is_idempotent_on_the_dedupe_key(make_outbox_app, smtp_sink, clock):
    runtime = runtime_of(make_outbox_app())
    with runtime.sessions() as session:
        for _ in range(2):
            outbox.enqueue(session, runtime.vault, dedupe_key="notify:report:7", channel="email",
                           purpose="notification", recipient=FOCAL_POINT,
                           payload={"subject": "First", "body": "first"}, now=clock())
        session.commit()
    queue_email(runtime, "notify:report:7", subject="Second", body="second")  # a retried cause

    assert len(outbox_rows(runtime)) == 1
    worker = OutboxWorker(runtime)
    assert worker.run_once() == 1
    assert [mail.subject for mail in smtp_sink.messages] == ["First"]

    queue_email(runtime, "notify:report:7")  # even once sent and wiped, the key still holds
    clock.advance(hours=1)
    assert worker.run_once() == 0
    assert len(smtp_sink.messages) == 1
    assert len(outbox_rows(runtime)) == 1
    assert len(delivery_attempts(runtime)) == 1


def test_a_dead_workers_lease_runs_out_and_the_message_is_then_delivered(make_outbox_app, smtp_sink,
                                                                         clock):
    runtime = runtime_of(make_outbox_app())
    queue_email(runtime, "notify:lease")
    with runtime.sessions() as session:  # a worker claims the message, then dies before sending
        claimed = outbox.claim_next(session, runtime.vault, clock(), {"email"}, LEASE)
        session.commit()
    assert (claimed.recipient, claimed.attempts) == (FOCAL_POINT, 1)
    row = outbox_row(runtime, "notify:lease")
    assert row.status == "sending" and row.locked_until == clock.now + LEASE

    worker = OutboxWorker(runtime)
    assert worker.run_once() == 0
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert worker.run_once() == 0, "a leased message was taken before its lease ran out"
    assert smtp_sink.messages == []

    clock.advance(seconds=2)
    assert worker.run_once() == 1
    assert [mail.rcpt_tos for mail in smtp_sink.messages] == [(FOCAL_POINT,)]
    row = outbox_row(runtime, "notify:lease")
    assert (row.status, row.attempts) == ("sent", 2)
    # The dead worker's claim is written down as interrupted when its lease is taken over.
    assert [attempt.outcome for attempt in delivery_attempts(runtime)] == ["interrupted", "sent"]
    assert worker.run_once() == 0


def test_a_worker_back_after_its_lease_ran_out_cannot_undo_the_delivery(make_outbox_app, smtp_sink,
                                                                         clock):
    runtime = runtime_of(make_outbox_app())
    queue_email(runtime, "notify:stalled")
    stall = smtp_sink.hold_next("451 4.4.2 Timeout waiting for data")
    stalled = threading.Thread(target=OutboxWorker(runtime).run_once)
    stalled.start()  # this worker freezes mid-send, its lease running out
    try:
        assert stall.arrived.wait(timeout=10)
        clock.advance(seconds=LEASE.total_seconds() + 1)
        worker = OutboxWorker(runtime)
        assert worker.run_once() == 1  # another worker takes the message over and delivers it
        assert outbox_row(runtime, "notify:stalled").status == "sent"
    finally:
        stall.release()  # the frozen worker wakes up to a failed send, and records it
        stalled.join(timeout=10)
    assert not stalled.is_alive()

    row = outbox_row(runtime, "notify:stalled")
    assert (row.status, row.attempts) == ("sent", 2)
    assert_wiped(row)
    # The take-over (interrupted), the delivery, and the stalled worker's late report of its try.
    assert sorted(attempt.outcome for attempt in delivery_attempts(runtime)) == ["interrupted", "retry", "sent"]
    clock.advance(hours=1)
    assert worker.run_once() == 0
    assert [mail.rcpt_tos for mail in smtp_sink.messages] == [(FOCAL_POINT,)]


@pytest.mark.parametrize(("channel", "unset"), [("email", "SMTP_HOST"), ("sms", "TWILIO_ACCOUNT_SID")])
def test_a_channel_without_a_sender_keeps_its_messages_waiting(make_outbox_app, smtp_sink, fake_twilio,
                                                               clock, channel, unset):
    runtime = runtime_of(make_outbox_app(**{unset: None}))
    if channel == "email":
        queue_email(runtime, "waiting")
    else:
        queue_sms(runtime, "waiting")
    worker = OutboxWorker(runtime)
    assert channel not in worker.senders

    assert worker.run_once() == 0
    clock.advance(days=3)
    assert worker.run_once() == 0
    row = outbox_row(runtime, "waiting")
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.recipient is not None and row.payload is not None
    assert delivery_attempts(runtime) == []

    # Once the operator configures the provider, the message goes out.
    configured = runtime_of(make_outbox_app())
    assert OutboxWorker(configured).run_once() == 1
    received = [mail.rcpt_tos[0] for mail in smtp_sink.messages] + [sent.to for sent in fake_twilio.delivered]
    assert received == [FOCAL_POINT if channel == "email" else PHONE]
    assert (outbox_row(runtime, "waiting").status, outbox_row(runtime, "waiting").attempts) == ("sent", 1)


# --- replies to an SMS, queued by the webhook --------------------------------------------------

class TestSmsRepliesThroughTheOutbox:
    """SMS_REPLY_MODE=outbox: the webhook answers an empty TwiML and the worker sends the replies."""

    @pytest.fixture
    def app(self, make_outbox_app):
        return make_outbox_app(SMS_REPLY_MODE="outbox")

    @staticmethod
    def twiml_messages(response) -> list[str]:
        assert response.status_code == 200, response.data
        root = ET.fromstring(response.data)
        assert root.tag == "Response"
        return [element.text or "" for element in root.findall("Message")]

    def test_the_reply_goes_out_through_twilio_and_a_retry_queues_nothing(
            self, app, phone, make_app, fake_twilio):
        runtime = runtime_of(app)
        # What the same message gets as an inline answer, from a fresh conversation.
        inline_phone = type(phone)(make_app().test_client(), number="+959450009999")
        expected = inline_phone.say("hello")
        assert expected and all(name in expected[0] for name in runtime.context.language_names.values())

        sid = "SM" + "5" * 32
        assert self.twiml_messages(phone.send("hello", sid=sid)) == []
        # Delivered at once after the commit, through the outbox and Twilio's REST API.
        assert [request.body for request in fake_twilio.delivered] == expected
        assert {request.to for request in fake_twilio.delivered} == {phone.number}
        assert {request.from_ for request in fake_twilio.delivered} == {app.extensions["intake"].settings.twilio_from_number}

        assert self.twiml_messages(phone.send("hello", sid=sid)) == []  # Twilio retried
        assert OutboxWorker(runtime).run_once() == 0
        assert len(fake_twilio.requests) == len(expected)
        assert len(outbox_rows(runtime)) == len(expected)


# --- several workers ---------------------------------------------------------------------------

@pytest.mark.parametrize("runtimes", ["one runtime", "two runtimes"])
def test_concurrent_workers_deliver_every_message_exactly_once(make_outbox_app, smtp_sink, fake_twilio,
                                                               runtimes):
    first = runtime_of(make_outbox_app())
    second = first if runtimes == "one runtime" else runtime_of(make_outbox_app())
    emails = {f"fp{n}@agency.example" for n in range(20)}
    phones = {f"+9594500{n:05d}" for n in range(10)}
    for address in sorted(emails):
        queue_email(first, f"notify:{address}", to=address)
    for number in sorted(phones):
        queue_sms(first, f"reply:{number}", to=number)

    workers = [OutboxWorker(first), OutboxWorker(second)]
    warm, start = threading.Barrier(len(workers)), threading.Barrier(len(workers))
    attempted = [0] * len(workers)
    failures = []

    def work(index: int) -> None:
        try:
            # Both database connections open before the race, so neither worker starts late.
            connection = workers[index].runtime.db.raw_connection()
            warm.wait(timeout=10)
            connection.close()
            start.wait(timeout=10)
            while count := workers[index].run_once():
                attempted[index] += count
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    assert sum(attempted) == len(emails) + len(phones)
    received = [mail.rcpt_tos[0] for mail in smtp_sink.messages]
    assert sorted(received) == sorted(emails)  # each once: no duplicates, none missing
    texted = [request.to for request in fake_twilio.requests]
    assert sorted(texted) == sorted(phones)
    rows = outbox_rows(first)
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}
    attempts = delivery_attempts(first)
    assert len(attempts) == len(rows) and {attempt.outcome for attempt in attempts} == {"sent"}


# --- purge -------------------------------------------------------------------------------------

def test_purge_expires_silent_drafts_and_forgets_old_message_ids(app, phone, clock):
    runtime = runtime_of(app)
    timeout = runtime.context.timeout
    window = timedelta(days=runtime.settings.replay_window_days)
    REPLY_RETENTION = timedelta(minutes=runtime.settings.stored_reply_minutes)
    # Four people write at different times before the purge.
    starts = {"+959450000001": window + timedelta(days=1),
              "+959450000002": timeout + timedelta(minutes=1),
              "+959450000003": REPLY_RETENTION + timedelta(minutes=1),
              "+959450000004": REPLY_RETENTION - timedelta(minutes=1)}
    purge_at = clock.now + max(starts.values())
    sids = {}
    for number, age in sorted(starts.items(), key=lambda item: item[1], reverse=True):
        clock.now = purge_at - age
        phone.number = number
        sids[number] = phone.params("hello")
        phone.post(sids[number])
    clock.now = purge_at

    with runtime.sessions() as session:
        before = {conversation.id: conversation.state for conversation in session.scalars(
            select(Conversation).order_by(Conversation.id))}  # ids in the order people wrote
    assert len(before) == 4 and all(state is not None for state in before.values())

    purged = OutboxWorker(runtime).purge()
    # The first began past the conversations' lifetime too: once its draft ended, its row went.
    assert {kind: count for kind, count in purged.items() if count} == {
        "expired_conversations": 2, "stored_replies": 3, "handled_messages": 1, "idle_conversations": 1}

    with runtime.sessions() as session:
        after = list(session.scalars(select(Conversation).order_by(Conversation.id)))
        assert [conversation.state is None for conversation in after] == [True, False, False]
        assert after[2].state == before[after[2].id]
        # Past the reply retention a handled message keeps only its digest and day...
        kept = session.execute(select(InboundMessage.conversation_id, InboundMessage.received_at,
                                      InboundMessage.reply)).all()
        linked = [row for row in kept if row[0] is not None]
        assert [row[0] for row in linked] == [after[2].id] and linked[0][2] is not None
        assert len(kept) == 3 and all(row == (None, None, None) for row in kept if row[0] is None)

    # ...enough to recognise a replay: the same signed request again advances nothing.
    assert twiml_messages(phone.post(sids["+959450000003"])) == []
    # Past the replay window it is forgotten (and would be handled as new).
    assert twiml_messages(phone.post(sids["+959450000001"])) != []

    assert not any(OutboxWorker(runtime).purge().values())


class _Exploding:
    """A sender with a bug: raises something that is neither transient nor permanent."""

    def send(self, outbox_id, recipient, payload):
        raise KeyError(f"subject missing for {recipient}: {payload}")


def test_an_unexpected_sender_error_is_recorded_retried_and_finally_failed(make_app, clock, caplog):
    from bot.delivery.worker import OutboxWorker
    from storage import outbox as outbox_store
    from storage.models import DeliveryAttempt, OutboxMessage

    app = make_app(OUTBOX_MAX_ATTEMPTS="2")
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        outbox_store.enqueue(session, runtime.vault, dedupe_key="bug", channel="email", purpose="test",
                             recipient="fp@example.org", payload={"body": "secret body"}, now=clock())
        session.commit()
    worker = OutboxWorker(runtime, senders={"email": _Exploding()})
    assert worker.run_once() == 1
    clock.advance(hours=1)
    assert worker.run_once() == 1
    with runtime.sessions() as session:
        row = session.query(OutboxMessage).one()
        errors = [a.error for a in session.query(DeliveryAttempt).order_by(DeliveryAttempt.id)]
    assert row.status == "failed" and row.recipient is None
    assert errors == ["unexpected KeyError", "unexpected KeyError"]
    assert "secret body" not in caplog.text and "fp@example.org" not in caplog.text


def test_an_undecryptable_row_is_failed_and_does_not_block_the_queue(make_app, clock):
    from bot.delivery.worker import OutboxWorker
    from storage import outbox as outbox_store
    from storage.models import OutboxMessage

    app = make_app()
    runtime = app.extensions["intake"]
    sent = []

    class Recorder:
        def send(self, outbox_id, recipient, payload):
            sent.append(recipient)
            return "ref"

    with runtime.sessions() as session:
        for key in ("damaged", "fine"):
            outbox_store.enqueue(session, runtime.vault, dedupe_key=key, channel="email", purpose="test",
                                 recipient=f"{key}@example.org", payload={"body": "b"}, now=clock())
        session.commit()
        damaged = session.query(OutboxMessage).filter_by(dedupe_key="damaged").one()
        damaged.recipient = b"\x01" + bytes(40)
        session.commit()
    OutboxWorker(runtime, senders={"email": Recorder()}).run_once()
    with runtime.sessions() as session:
        statuses = {row.dedupe_key: row.status for row in session.query(OutboxMessage)}
    assert sent == ["fine@example.org"]
    assert statuses == {"damaged": "failed", "fine": "sent"}
