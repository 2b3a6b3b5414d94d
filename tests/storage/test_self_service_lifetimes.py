"""Lifetimes of what "update my details" keeps, applied by the worker's purge: unanswered and
rejected changes, one-time codes, failed identity checks. Approved changes stay (the export)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.delivery.worker import OutboxWorker
from storage import changes, self_service
from storage.models import IdentityAttempt, OneTimeCode, Registration, RegistrationChange
from tests.support.registrations import register


def count(session, model, *where) -> int:
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_the_purge_applies_each_lifetime(make_app, clock):
    app = make_app(PENDING_CHANGE_DAYS="180", REJECTED_CHANGE_DAYS="30", IDENTITY_LOCKOUT_MINUTES="30")
    runtime = app.extensions["intake"]
    registration_id = register(app)
    start = clock()
    with runtime.transaction() as session:
        registration = session.get(Registration, registration_id)
        for status, age_days in (("pending", 181), ("pending", 179), ("rejected", 31), ("rejected", 29),
                                 ("approved", 400)):
            change = changes.request_change(session, runtime.vault, registration, kind="education", old_value="PRIM",
                                            new_value="HIGH", channel="sms", language="en", reply_to=None,
                                            now=start - timedelta(days=age_days))
            change.status = status
            if status != "pending":
                change.decided_at = start - timedelta(days=age_days)
        self_service.issue_code(session, runtime.vault, registration_id=registration_id, purpose="identity",
                                sender_key="a" * 64, now=start - timedelta(minutes=11), minutes=10)
        self_service.issue_code(session, runtime.vault, registration_id=registration_id, purpose="identity",
                                sender_key="b" * 64, now=start, minutes=10)
        for digest, when in ((b"old", start - timedelta(minutes=31)), (b"new", start)):
            rows = self_service.lock_attempts(session, [("sender", digest)], when)
            self_service.count_failure(rows, when, self_service.Lockout(5, 30))

    counts = OutboxWorker(runtime).purge()
    assert (counts["unanswered_changes"], counts["rejected_changes"], counts["one_time_codes"],
            counts["identity_attempts"]) == (1, 1, 1, 1)
    with runtime.sessions() as session:
        assert count(session, RegistrationChange) == 3
        assert count(session, RegistrationChange, RegistrationChange.status == "approved") == 1
        assert count(session, OneTimeCode) == 1 and count(session, IdentityAttempt) == 1


def test_a_lock_outlives_the_purge_until_it_ends(make_app, clock):
    app = make_app(IDENTITY_LOCKOUT_MINUTES="30")
    runtime = app.extensions["intake"]
    with runtime.transaction() as session:
        rows = self_service.lock_attempts(session, [("number", b"n")], clock())
        for _ in range(5):
            self_service.count_failure(rows, clock(), self_service.Lockout(5, 30))
    clock.advance(minutes=29)
    OutboxWorker(runtime).purge()
    with runtime.transaction() as session:
        rows = self_service.lock_attempts(session, [("number", b"n")], clock())
        assert self_service.minutes_locked(rows, clock()) == 1
