"""Telling an organisation that a case was referred on to it (the portal's "Refer on"): the same
neutral notification a new referral sends, to its focal points covering the report's township
(or all of them), or to the Network's coordinators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.casework import notifications
from intake.routing import notified
from storage.directory_lookup import DirectoryLookup
from storage.models import Referral, Report


def notify_referred_on(session: Session, runtime, referral: Referral, *, now: datetime) -> int:
    """Queue the notifications for `referral`, just made by referring a case on; returns how
    many were queued (0: the organisation has nobody in the directory to tell)."""
    report = session.get(Report, referral.report_id)
    receiving = next(o for o in DirectoryLookup(session).organisations if o.id == referral.organisation_id)
    return notifications.notify_referral(
        session, runtime, notified(receiving, report.township_pcode), organisation=f"{receiving.name} ({receiving.acronym})",
        case_ref=referral.case_ref, urgent=report.urgent, deadline=referral.ack_deadline, now=now)
