"""Aggregate, non-identifying referral counts for coordinators: what and when, never content.

Everything here is computed from clear routing columns (organisation, received month, status,
urgency, child involved, acknowledgement deadline); nothing is decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from storage.models import Organisation, Referral, Report


@dataclass(frozen=True)
class CountRow:
    """Referrals of one organisation, received in one month, in one status."""

    organisation: str
    month: str
    status: str
    referrals: int
    urgent: int
    child_involved: int
    overdue: int


def referral_counts(session: Session, now: datetime) -> list[CountRow]:
    """Counts per organisation × received month × status, newest month first. A referral is
    overdue when it is still unacknowledged after its deadline."""

    def how_many(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    overdue = and_(Referral.acknowledged_at.is_(None), Referral.ack_deadline < now)
    rows = session.execute(
        select(Organisation.acronym, Report.received_month, Referral.status, func.count(Referral.id),
               how_many(Report.urgent.is_(True)), how_many(Report.child_involved == "yes"), how_many(overdue))
        .join(Report, Report.id == Referral.report_id)
        .join(Organisation, Organisation.id == Referral.organisation_id)
        .group_by(Organisation.acronym, Report.received_month, Referral.status)
        .order_by(Report.received_month.desc(), Organisation.acronym, Referral.status))
    return [CountRow(acronym, month, status, int(total), int(urgent), int(child), int(late))
            for acronym, month, status, total, urgent, child, late in rows]
