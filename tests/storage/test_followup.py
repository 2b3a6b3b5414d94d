"""What a receipt shows of its report (storage.followup.case_of): which referral's status counts
once a case was referred on, and the messages, dated in the deployment's zone; and that the
throttle's rows are the self-service lockout's, purged by the same job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import reporter_messages, reports, sealing, self_service
from storage.followup import EVERYONE, SENDER, FollowUpLookup, ReceiptLimits, case_of
from storage.models import IdentityAttempt, Referral, Report
from tests.support import directory as d

PEPPER = b"p" * 32


@pytest.fixture
def filed(app, clock):
    """A report to DRA (its key and the report, opened with the receipt's secrets), in a session."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        seeded = d.seed_directory(session, clock())
        secrets = sealing.receipt_secrets("482109375566", PEPPER)
        report, referral = reports.file_report(session, reports.NewReport(
            recipient_organisation_id=seeded.dra.id, route="named", named_organisation_id=seeded.dra.id,
            incident_period="this_month", township_pcode=None, state_pcode=None, child_involved="no",
            affected="self", urgent=False, contact_allowed=False, receipt=secrets), now=clock(),
            ack_deadline=clock() + timedelta(hours=24))
        report_key = reports.open_with_receipt(report, secrets)
        yield session, seeded, report, referral, report_key


def refer_on(session, referral: Referral, organisation, *, keep_key: bool, status: str = "received") -> Referral:
    """The case referred on from `referral` to `organisation`, as the portal's transfer leaves it."""
    report = session.get(Report, referral.report_id)
    report_key = reports.open_with_receipt(report, sealing.receipt_secrets("482109375566", PEPPER))
    referral.status = "referred"
    if not keep_key:
        referral.sealed_key = None
    onward = Referral(case_ref=reports.new_case_ref(session), report_id=report.id, organisation_id=organisation.id,
                      sealed_key=None, status=status,
                      referred_from_id=referral.id, created_at=referral.created_at, ack_deadline=referral.ack_deadline,
                      escalations=0)
    session.add(onward)
    session.flush()
    onward.sealed_key = reports.seal_report_key(organisation.public_key, report_key, onward)
    return onward


def test_the_status_is_the_receiving_organisations(filed):
    session, _, report, referral, key = filed
    referral.status = "preliminary_assessment"
    assert case_of(session, report, key, "UTC").status == "preliminary_assessment"


@pytest.mark.parametrize("keep_key", [True, False])
def test_once_referred_on_the_status_is_the_organisation_holding_the_case(filed, keep_key):
    session, seeded, report, referral, key = filed
    refer_on(session, referral, seeded.ehp, keep_key=keep_key, status="under_investigation")
    assert case_of(session, report, key, "UTC").status == "under_investigation"


def test_referred_out_of_the_service_everywhere_says_passed_on(filed):
    session, seeded, report, referral, key = filed
    onward = refer_on(session, referral, seeded.ehp, keep_key=False)
    onward.status = "referred"
    assert case_of(session, report, key, "UTC").status == "referred"


def test_messages_are_dated_in_the_deployments_zone(filed, clock):
    session, _, report, referral, key = filed
    late = clock().replace(hour=20)  # 20:00 UTC is already the next day in Yangon
    reporter_messages.write_to_reporter(session, referral, key, "Hello", author_id=None, now=late)
    [note] = case_of(session, report, key, "Asia/Yangon").notes
    assert note.text == "Hello" and note.written_on == late.date() + timedelta(days=1)


def test_a_wrong_receipt_counts_on_the_lockout_rows_of_its_window(filed, app, clock):
    session, *_ = filed
    runtime = app.extensions["intake"]
    lookup = FollowUpLookup(session, runtime.vault, sender_key="s" * 64, now=clock(), zone="UTC",
                            limits=ReceiptLimits(per_sender=2, everyone=10, minutes=30),
                            secrets_for=lambda receipt: sealing.receipt_secrets(receipt, PEPPER))
    assert lookup.check_receipt("111122223333").outcome == "wrong"
    assert lookup.check_receipt("482109375566").outcome == "found"  # a right one clears nothing
    assert lookup.check_receipt("111122223334").outcome == "locked"
    rows = session.execute(select(IdentityAttempt)).scalars().all()
    assert sorted((row.subject, row.failures) for row in rows) == [(EVERYONE, 2), (SENDER, 2)]
    later = clock() + timedelta(minutes=31)  # the lock has passed, and the worker's purge takes them
    assert self_service.purge(session, later, pending_days=180, rejected_days=30,
                              lockout_minutes=30)["identity_attempts"] == 2
