"""An organisation's referrals as its focal points look for them: filtered by status, urgency,
lateness, township and month, found by case reference, a page at a time, and exported as
metadata. Nothing here opens a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from storage.models import Organisation, Referral, Report, User
from storage.reports import STATUSES

PAGE_SIZE = 50
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_PCODE = re.compile(r"[A-Z]{3}\d{3,9}")


class FilterError(ValueError):
    """A filter value that is not one of the allowed ones; the message names it."""


@dataclass(frozen=True)
class ReferralFilter:
    """What the list is narrowed to; empty fields narrow nothing."""

    status: str = ""
    urgent: str = ""  # "yes", "no" or ""
    overdue: bool = False
    township: str = ""  # a P-code
    month: str = ""  # YYYY-MM, the month received
    case_ref: str = ""  # the whole reference or its start, any case

    @classmethod
    def from_args(cls, args) -> "ReferralFilter":
        """Read a query string; FilterError for a value the form cannot have sent."""
        wanted = cls(status=args.get("status", "").strip(), urgent=args.get("urgent", "").strip(),
                     overdue=args.get("overdue", "") in ("1", "on", "yes"),
                     township=args.get("township", "").strip().upper(), month=args.get("month", "").strip(),
                     case_ref=args.get("q", "").strip().upper())
        if wanted.status and wanted.status not in STATUSES:
            raise FilterError("status")
        if wanted.urgent not in ("", "yes", "no"):
            raise FilterError("urgent")
        if wanted.month and not _MONTH.fullmatch(wanted.month):
            raise FilterError("month")
        if wanted.township and not _PCODE.fullmatch(wanted.township):
            raise FilterError("township")
        if len(wanted.case_ref) > 16:
            raise FilterError("q")
        return wanted

    def query_args(self) -> dict[str, str]:
        """The filter as query-string arguments (for links to other pages and the export)."""
        args = {"status": self.status, "urgent": self.urgent, "overdue": "1" if self.overdue else "",
                "township": self.township, "month": self.month, "q": self.case_ref}
        return {name: value for name, value in args.items() if value}


@dataclass(frozen=True)
class ListedReferral:
    referral: Referral
    report: Report
    assignee: str | None  # e-mail of the colleague it is assigned to
    referred_to: str | None  # acronym of the organisation it was referred on to
    referred_from: str | None  # acronym of the organisation it came from


def _select(organisation_id: int, wanted: ReferralFilter, now: datetime):
    onward, source = aliased(Referral), aliased(Referral)
    onward_org, source_org = aliased(Organisation), aliased(Organisation)
    query = (select(Referral, Report, User.email, onward_org.acronym, source_org.acronym)
             .join(Report, Report.id == Referral.report_id)
             .outerjoin(User, User.id == Referral.assigned_to)
             .outerjoin(onward, onward.referred_from_id == Referral.id)
             .outerjoin(onward_org, onward_org.id == onward.organisation_id)
             .outerjoin(source, source.id == Referral.referred_from_id)
             .outerjoin(source_org, source_org.id == source.organisation_id)
             .where(Referral.organisation_id == organisation_id))
    if wanted.status:
        query = query.where(Referral.status == wanted.status)
    if wanted.urgent:
        query = query.where(Report.urgent.is_(wanted.urgent == "yes"))
    if wanted.overdue:
        query = query.where(Referral.acknowledged_at.is_(None), Referral.ack_deadline < now)
    if wanted.township:
        query = query.where(Report.township_pcode == wanted.township)
    if wanted.month:
        query = query.where(Report.received_month == wanted.month)
    if wanted.case_ref:
        query = query.where(Referral.case_ref.startswith(wanted.case_ref, autoescape=True))
    return query


def count(session: Session, organisation_id: int, wanted: ReferralFilter, now: datetime) -> int:
    inner = _select(organisation_id, wanted, now).with_only_columns(Referral.id).subquery()
    return session.execute(select(func.count()).select_from(inner)).scalar_one()


def listed(session: Session, organisation_id: int, wanted: ReferralFilter, now: datetime, *,
           page: int = 1, page_size: int | None = PAGE_SIZE) -> list[ListedReferral]:
    """The referrals that match, newest first; one page of them, or all when `page_size` is None."""
    query = _select(organisation_id, wanted, now).order_by(Referral.created_at.desc(), Referral.id.desc())
    if page_size is not None:
        query = query.limit(page_size).offset((max(page, 1) - 1) * page_size)
    return [ListedReferral(*row) for row in session.execute(query)]


CSV_COLUMNS = ("case_ref", "received_at", "received_month", "status", "category", "urgent", "child_involved",
               "township_pcode", "state_pcode", "ack_deadline", "acknowledged_at", "closed_at", "assigned_to",
               "referred_from", "referred_to")


def csv_rows(rows: list[ListedReferral]):
    """The export's rows: routing metadata and what happened when, never what the report says."""
    def at(moment: datetime | None) -> str:
        return moment.isoformat(timespec="minutes") if moment else ""

    for row in rows:
        referral, report = row.referral, row.report
        yield (referral.case_ref, at(referral.created_at), report.received_month, referral.status,
               referral.category, "yes" if report.urgent else "no", report.child_involved,
               report.township_pcode or "", report.state_pcode or "", at(referral.ack_deadline),
               at(referral.acknowledged_at), at(referral.closed_at), row.assignee or "", row.referred_from or "",
               row.referred_to or "")
