"""Every kind of record has a lifetime (storage.lifetimes), applied by the worker's purge and by
`flask --app app purge`, on both databases, with the test's clock: a record just inside its
lifetime is kept, one just past it is gone with everything that hangs on it (no orphan); the
audit log's oldest entries go from the chain's start and `audit verify` still holds; the purge
is written to the audit log as counts, never content; an erased registration keeps only what
the erasure left."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update

from bot.delivery.worker import OutboxWorker
from storage import audit_log, self_service
from storage.lifetimes import years_before
from storage.models import (
    ApiToken, AuditEntry, AuditHead, Conversation, DeliveryAttempt, IdentityAttempt, MediaItem, OutboxMessage, Referral,
    ReferralEvent, Registration, RegistrationChange, RegistrationHistory, Report, ReporterMessage,
)
from tests.support.directory import with_directory
from tests.support.registrations import register

SECOND = timedelta(seconds=1)


def count(session, model, *where) -> int:
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def nonzero(counts: dict) -> dict:
    return {kind: number for kind, number in counts.items() if number}


def a_case(session, organisation_ids, now, *, closed=(), referred=()) -> tuple[int, list[int]]:
    """A report with one referral per organisation (in order: each referred on from the one before
    when its index is in `referred`), closed at the times `closed` gives by index; with a timeline
    event, a note, a message each way, a voice note, and an audit entry per referral."""
    report = Report(receipt_lookup=secrets.token_hex(16), route="organisation", received_month=now.strftime("%Y-%m"),
                    incident_period="this_week", child_involved="no", affected="self", urgent=False,
                    contact_allowed=False, content=b"sealed", receipt_wrap=b"wrapped", created_at=now)
    session.add(report)
    session.flush()
    referral_ids, previous = [], None
    for index, organisation_id in enumerate(organisation_ids):
        closed_at = dict(closed).get(index)
        status = "referred" if index in referred else ("not_substantiated" if closed_at else "acknowledged")
        referral = Referral(case_ref=f"R-{secrets.token_hex(3).upper()}", report_id=report.id,
                            organisation_id=organisation_id, sealed_key=b"k", status=status, created_at=now,
                            closed_at=closed_at, ack_deadline=now, escalations=0,
                            referred_from_id=previous)
        session.add(referral)
        session.flush()
        previous = referral.id
        referral_ids.append(referral.id)
        session.add_all([ReferralEvent(referral_id=referral.id, at=now, kind="status", value=status),
                         ReferralEvent(referral_id=referral.id, at=now, kind="note", note=b"sealed note"),
                         ReporterMessage(report_id=report.id, referral_id=referral.id, direction="out", body=b"x",
                                         created_at=now),
                         ReporterMessage(report_id=report.id, referral_id=referral.id, direction="in", body=b"y",
                                         created_at=now)])
        audit_log.audit(session, now=now, action="open_referral", referral_id=referral.id)
    session.add(MediaItem(id=secrets.token_hex(16), report_id=report.id, body=b"voice", created_at=now))
    session.flush()
    return report.id, referral_ids


def test_a_closed_case_goes_whole_after_its_lifetime_and_not_a_second_before(make_app, clock):
    app = with_directory(make_app(CLOSED_CASE_RETENTION_YEARS="7", AUDIT_RETENTION_YEARS="10"))
    runtime = app.extensions["intake"]
    dra, ehp = app.seeded.dra.id, app.seeded.ehp.id
    cutoff = years_before(clock(), 7)
    with runtime.transaction() as session:
        inside, _ = a_case(session, [dra], clock(), closed={0: cutoff + SECOND})
        past, past_referrals = a_case(session, [dra], clock(), closed={0: cutoff - SECOND})
        # Referred on, then closed long ago by the organisation it went to: the whole case goes.
        referred_past, referred_referrals = a_case(session, [dra, ehp], clock(), referred={0},
                                                   closed={1: cutoff - timedelta(days=400)})
        # One referral closed long ago, the other still open: the case is kept whole.
        half_open, _ = a_case(session, [dra, ehp], clock(), closed={0: cutoff - timedelta(days=400)})
        never_closed, _ = a_case(session, [ehp], clock())

    counts = OutboxWorker(runtime).purge()
    assert (counts["closed_cases"], counts["referrals"], counts["referral_events"], counts["reporter_messages"],
            counts["case_media_items"]) == (2, 3, 6, 6, 2)
    gone, kept = (past, referred_past), (inside, half_open, never_closed)
    gone_referrals = past_referrals + referred_referrals
    with runtime.sessions() as session:
        assert set(session.execute(select(Report.id)).scalars()) == set(kept)
        assert count(session, Referral, Referral.report_id.in_(gone)) == 0
        assert count(session, Referral) == 4
        # Nothing is left hanging on what went...
        assert count(session, ReferralEvent, ReferralEvent.referral_id.in_(gone_referrals)) == 0
        assert count(session, ReporterMessage, ReporterMessage.report_id.in_(gone)) == 0
        assert count(session, MediaItem, MediaItem.report_id.in_(gone)) == 0
        assert count(session, ReferralEvent) == 8 and count(session, ReporterMessage) == 8
        assert count(session, MediaItem) == 3
        # ...and the audit log still names the referrals it recorded (ids, not links), and holds.
        assert count(session, AuditEntry, AuditEntry.referral_id.in_(gone_referrals)) == 3
        assert audit_log.verify(session).intact
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output

    clock.now = clock.now + timedelta(seconds=2)  # the one just inside is now just past
    assert OutboxWorker(runtime).purge()["closed_cases"] == 1
    with runtime.sessions() as session:
        assert set(session.execute(select(Report.id)).scalars()) == {half_open, never_closed}


def write_entries(runtime, clock, ages: list[timedelta]) -> list[int]:
    start = clock()
    with runtime.transaction() as session:
        for number, age in enumerate(ages):
            audit_log.audit(session, now=start - age, action="open_referral", detail=f"entry {number}")
    with runtime.sessions() as session:
        return list(session.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars())


def test_old_audit_entries_go_from_the_start_and_the_chain_still_verifies(make_app, clock):
    app = make_app(AUDIT_RETENTION_YEARS="10")
    runtime = app.extensions["intake"]
    cutoff_age = clock() - years_before(clock(), 10)
    ids = write_entries(runtime, clock, [cutoff_age + timedelta(days=30), cutoff_age + SECOND,
                                         cutoff_age - SECOND, timedelta(days=1)])
    counts = OutboxWorker(runtime).purge()
    assert counts["audit_entries"] == 2
    with runtime.sessions() as session:
        left = list(session.execute(select(AuditEntry.id, AuditEntry.action).order_by(AuditEntry.id)))
        head = session.get(AuditHead, 1)
        assert head.anchor_id == ids[1] and head.purged == 2
    # The one just inside its lifetime and the newer one stay, then the purge's own entry.
    assert [row.id for row in left[:2]] == ids[2:] and [row.action for row in left] == [
        "open_referral", "open_referral", "purge"]
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 3 entries (after 2 older entries purged" in result.output

    # Later entries extend it; a second purge moves the anchor on, and it still holds.
    write_entries(runtime, clock, [timedelta(0)])
    clock.now += timedelta(seconds=2)
    assert OutboxWorker(runtime).purge()["audit_entries"] == 1
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

    # Deleting from the start by hand, or moving the anchor without the key, is seen.
    with runtime.sessions() as session:
        first, second = session.execute(select(AuditEntry.id, AuditEntry.chain).order_by(AuditEntry.id)
                                        .limit(2)).all()
        session.execute(AuditEntry.__table__.delete().where(AuditEntry.id == first.id))
        session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"broken at entry {second.id}" in result.output
    with runtime.sessions() as session:
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(anchor_id=first.id, anchor_chain=first.chain))
        session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "broken at its start" in result.output


def test_the_purge_command_prints_every_kind_and_audits_counts_only(make_app, clock):
    app = make_app()
    runtime = app.extensions["intake"]
    with runtime.transaction() as session:
        session.add(ApiToken(name="Network sheet of Daw Aye", token_digest=secrets.token_bytes(32),
                             created_at=clock() - timedelta(days=366)))
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    printed = dict(line.split() for line in result.output.splitlines()[:-1])
    assert printed["expired_api_tokens"] == "1" and printed["closed_cases"] == "0"
    for kind in ("audit_entries", "idle_conversations", "finished_outbox_messages", "one_time_codes",
                 "identity_attempts", "expired_portal_sessions", "handled_messages", "unanswered_changes"):
        assert printed[kind] == "0"
    again = app.test_cli_runner().invoke(args=["purge"])
    with runtime.sessions() as session:
        entries = list(session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
    assert [(entry.action, entry.detail) for entry in entries] == [("purge", "expired_api_tokens=1"),
                                                                   ("purge", "nothing")]
    assert again.exit_code == 0
    assert all(re.fullmatch(r"nothing|\w+=\d+( \w+=\d+)*", entry.detail) for entry in entries)
    assert "Daw Aye" not in str([entry.detail for entry in entries])
    # The worker's own purge writes nothing when nothing went.
    OutboxWorker(runtime).purge()
    with runtime.sessions() as session:
        assert count(session, AuditEntry) == 2


def test_each_short_lifetime_keeps_inside_and_deletes_past(make_app, clock):
    app = make_app(CONVERSATION_RETENTION_DAYS="365", OUTBOX_RETENTION_DAYS="2", API_TOKEN_DAYS="365")
    runtime = app.extensions["intake"]
    now = clock()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    with runtime.transaction() as session:
        for name, began in (("inside", today - timedelta(days=365)), ("past", today - timedelta(days=366))):
            session.add(Conversation(channel="sms", sender_key=name.ljust(64, "0"), language="my", turns=3,
                                     created_at=began))
            session.add(ApiToken(name=name, token_digest=secrets.token_bytes(32),
                                 created_at=now - timedelta(days=365) + (SECOND if name == "inside" else -SECOND)))
        session.add(Conversation(channel="sms", sender_key="open".ljust(64, "0"), state=b"sealed draft",
                                 last_active_at=now, turns=1, created_at=today - timedelta(days=900)))
        for name, queued in (("inside", now - timedelta(days=2) + SECOND), ("past", now - timedelta(days=2) - SECOND)):
            message = OutboxMessage(dedupe_key=name, channel="sms", purpose="reply", status="sent", attempts=1,
                                    next_attempt_at=queued, created_at=queued)
            session.add(message)
            session.flush()
            session.add(DeliveryAttempt(outbox_id=message.id, attempted_at=queued, outcome="sent", duration_ms=5))
        session.add(OutboxMessage(dedupe_key="waiting", channel="sms", purpose="reply", status="pending",
                                  attempts=0, next_attempt_at=now, created_at=now - timedelta(days=30)))

    counts = OutboxWorker(runtime).purge()
    assert nonzero(counts) == {"idle_conversations": 1, "expired_api_tokens": 1, "finished_outbox_messages": 1}
    with runtime.sessions() as session:
        assert {row.sender_key.rstrip("0") for row in session.execute(select(Conversation)).scalars()} == {
            "inside", "open"}
        assert list(session.execute(select(ApiToken.name)).scalars()) == ["inside"]
        assert set(session.execute(select(OutboxMessage.dedupe_key)).scalars()) == {"inside", "waiting"}
        assert count(session, DeliveryAttempt) == 1  # the attempts went with their message

    # A day on, the ones just inside are past; the open draft has ended, and its old row goes too.
    clock.now += timedelta(days=1)
    assert nonzero(OutboxWorker(runtime).purge()) == {"expired_conversations": 1, "idle_conversations": 2,
                                                      "expired_api_tokens": 1, "finished_outbox_messages": 1}
    with runtime.sessions() as session:
        assert count(session, DeliveryAttempt) == 0


def test_an_erased_record_keeps_only_what_its_erasure_left(make_app, clock):
    """The self-service erasure leaves the sealed number (for the export), its digest (an import
    never brings it back), the kind and time of each approved change: the purge, years on, keeps
    exactly that and never deletes the record."""
    app = make_app()
    runtime = app.extensions["intake"]
    registration_id = register(app)
    from storage import changes

    with runtime.transaction() as session:
        registration = session.get(Registration, registration_id)
        approved = changes.request_change(session, runtime.vault, registration, kind="education", old_value="PRIM",
                                          new_value="HIGH", channel="sms", language="en", reply_to=None, now=clock())
        approved.status, approved.decided_at = "approved", clock()
        session.add(RegistrationHistory(registration_id=registration_id, change_id=None, field="education",
                                        changed_at=clock(), old_value=b"old", new_value=b"new"))
        changes.request_change(session, runtime.vault, registration, kind="occupation", old_value="DAYL",
                               new_value="FARM", channel="sms", language="en", reply_to=None, now=clock())
        self_service.erase(session, registration, clock())
    clock.now += timedelta(days=365 * 20)
    OutboxWorker(runtime).purge()
    with runtime.sessions() as session:
        row = session.get(Registration, registration_id)
        assert row is not None and row.number and row.number_digest and row.erased_at is not None
        assert (row.details, row.dob_check, row.phone_key, row.township_pcode, row.status) == (
            None, None, None, None, "inactive")
        left = session.execute(select(RegistrationChange)).scalars().all()
        assert [(change.kind, change.status) for change in left] == [("education", "approved")]  # withdrawn: gone
        assert (left[0].old_value, left[0].new_value, left[0].reply_to) == (None, None, None)
        history = session.execute(select(RegistrationHistory)).scalars().all()
        assert [(entry.field, entry.old_value, entry.new_value) for entry in history] == [("education", None, None)]


def test_the_receipt_throttle_outlives_a_longer_window_than_the_identity_lockout(make_app, clock):
    """The receipt check counts wrong receipts per window of RECEIPT_CHECK_LOCKOUT_MINUTES, on the
    identity lockout's table: a row lives that long after its last failure, not the (shorter)
    identity lockout, or a purge in the middle of a window would forgive the failures so far."""
    from storage import followup

    app = make_app(IDENTITY_LOCKOUT_MINUTES="30", RECEIPT_CHECK_LOCKOUT_MINUTES="60")
    runtime = app.extensions["intake"]
    with runtime.transaction() as session:
        for digest, age in ((b"inside", 59), (b"past", 61)):
            when = clock() - timedelta(minutes=age)
            rows = self_service.lock_attempts(session, [(followup.SENDER, digest), ("sender", digest)], when)
            self_service.count_failure(rows, when, self_service.Lockout(5, 60))
    assert OutboxWorker(runtime).purge()["identity_attempts"] == 3
    with runtime.sessions() as session:
        left = session.execute(select(IdentityAttempt.subject, IdentityAttempt.digest)).all()
    assert left == [(followup.SENDER, b"inside")]
