"""The PSEA Network's monthly summary: one row per referral of the reports received in a month, in
the fields the UN system-wide SEA data publish per allegation (entity, category, incident date,
status, perpetrators' number and gender, victims' gender and age category).

What and when, never who or where: no case reference (the row number is the summary's own), no
place, no date finer than a month, nothing of the report's content. What the service does not
collect (the perpetrators, the victims' number and gender, the entity's type for an aid
organisation) is "unknown", so the rows keep the tracker's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.models import Organisation, Referral, Report

UNKNOWN = "unknown"
CATEGORY = {"sexual_exploitation": "Sexual exploitation", "sexual_abuse": "Sexual abuse", "other": "Other"}
STATUS = {
    "received": "Received",
    "acknowledged": "Acknowledged",
    "preliminary_assessment": "Preliminary assessment",
    "under_investigation": "Under investigation",
    "substantiated": "Substantiated",
    "not_substantiated": "Not substantiated",
    "closed_other": "Closed (other)",
    "referred": "Referred to another entity",
}
# The reporter said whether anyone affected was under 18.
AGE_CATEGORY = {"yes": "Child (under 18)", "no": "Adult"}


@dataclass(frozen=True)
class SummaryRow:
    row: int
    month_reported: str
    entity: str
    entity_type: str
    category: str
    incident_date: str
    status: str
    closed_month: str
    perpetrators_number: str
    perpetrators_gender: str
    victims_number: str
    victims_gender: str
    victims_age_category: str
    urgent: str
    referred_from: str

    def values(self) -> list[str]:
        return [str(getattr(self, name)) for name in FIELDS]


# The columns, in order: the CSV's header and the API's field names.
FIELDS = tuple(field.name for field in fields(SummaryRow))


def incident_date(period: str, month_reported: str) -> str:
    """When it happened, as precisely as the reporter said, relative to the month reported: this
    week or this month -> that month, this year -> the year, earlier -> before that year."""
    year = month_reported[:4]
    return {"this_week": month_reported, "this_month": month_reported, "this_year": year,
            "earlier": f"before {year}"}.get(period, UNKNOWN)


def monthly_summary(session: Session, month: str) -> list[SummaryRow]:
    """The rows for the reports received in `month` (YYYY-MM), in the order the referrals were
    made; a case referred on has a row at each organisation, the later one saying where from."""
    source = aliased(Referral)
    source_organisation = aliased(Organisation)
    rows = session.execute(
        select(Referral, Report, Organisation, source_organisation.acronym)
        .join(Report, Report.id == Referral.report_id)
        .join(Organisation, Organisation.id == Referral.organisation_id)
        .outerjoin(source, source.id == Referral.referred_from_id)
        .outerjoin(source_organisation, source_organisation.id == source.organisation_id)
        .where(Report.received_month == month)
        .order_by(Referral.created_at, Referral.id))
    return [SummaryRow(
        row=number, month_reported=report.received_month, entity=organisation.acronym,
        entity_type="PSEA Network" if organisation.is_network else UNKNOWN,
        category=CATEGORY.get(referral.category, UNKNOWN),
        incident_date=incident_date(report.incident_period, report.received_month),
        status=STATUS.get(referral.status, referral.status),
        closed_month=f"{referral.closed_at:%Y-%m}" if referral.closed_at else "",
        perpetrators_number=UNKNOWN, perpetrators_gender=UNKNOWN, victims_number=UNKNOWN, victims_gender=UNKNOWN,
        victims_age_category=AGE_CATEGORY.get(report.child_involved, UNKNOWN),
        urgent="yes" if report.urgent else "no", referred_from=referred_from or "")
        for number, (referral, report, organisation, referred_from) in enumerate(rows, start=1)]
