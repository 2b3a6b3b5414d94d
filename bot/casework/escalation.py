"""Escalation of referrals nobody acknowledged in time: the coordinators are told when the
deadline passes, and again every day until someone acknowledges."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.casework import notifications
from intake.routing import network_of
from storage import reports
from storage.directory_lookup import DirectoryLookup

log = logging.getLogger(__name__)

REPEAT = timedelta(days=1)


def escalate_overdue(session: Session, runtime, now: datetime) -> int:
    """Queue an escalation for each overdue, unacknowledged referral; returns how many."""
    overdue = reports.overdue_referrals(session, now)
    if not overdue:
        return 0
    coordinators = network_of(DirectoryLookup(session).organisations).members("coordinator")
    for referral, organisation in overdue:
        referral.escalations += 1
        notifications.notify_escalation(session, runtime, coordinators,
                                        organisation=f"{organisation.name} ({organisation.acronym})",
                                        case_ref=referral.case_ref, deadline=referral.ack_deadline,
                                        round_=referral.escalations, now=now)
        # Daily from the deadline, not from when this job ran, so a late run does not drift.
        referral.next_escalation_at = max(referral.next_escalation_at + REPEAT, now + timedelta(minutes=1))
        log.info("referral %s overdue: escalation %d", referral.case_ref, referral.escalations)
    return len(overdue)
