"""The coordinators' dashboard figures: referrals counted by organisation, month, category, status,
urgency and state; how long acknowledging and closing take; transfers; what is overdue now.

Everything is read from clear routing columns; no report is ever opened. Every breakdown a person
could be pointed at by goes through `storage.small_cells.protect_line` here, in one place, so the
page, its CSV and the API show the same figures hidden the same way. Two kinds of figure are given
exactly, because they identify nobody and are shown one by one anyway: what is overdue (the list of
overdue case references is the coordinators' to chase) and the selection's own total.

A selection is a range of months (the report's month received) and, if asked, one organisation.
Its size bounds the work: the median times are computed in Python over the durations of the
selection's referrals (two timestamps each, both databases alike), and a selection spans at most
MAX_MONTHS months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import Organisation, Referral, Report, Township
from storage.reports import CATEGORIES, STATUSES
from storage.small_cells import Cell, protect_line, total_cell

MAX_MONTHS = 60
OVERDUE_LIST_LIMIT = 500
# The breakdowns, in the order the page shows them.
DIMENSIONS = ("organisation", "month", "category", "status", "urgency", "state")
URGENCY = ("urgent", "not_urgent")


@dataclass(frozen=True)
class Selection:
    """Referrals whose report was received from `first_month` to `last_month` (YYYY-MM, both
    included), of one organisation when `organisation_id` is given."""

    first_month: str
    last_month: str
    organisation_id: int | None = None

    def months(self) -> list[str]:
        """Every month of the selection, oldest first."""
        year, month = map(int, self.first_month.split("-"))
        found = []
        while f"{year:04d}-{month:02d}" <= self.last_month:
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return found


@dataclass(frozen=True)
class Timing:
    """How quickly referrals were acknowledged and closed: how many were (cells, small ones
    hidden) and the median time, given only when at least the minimum number of durations make it."""

    acknowledged: Cell
    median_seconds_to_acknowledge: float | None
    closed: Cell
    median_seconds_to_close: float | None
    overdue_now: int


@dataclass(frozen=True)
class OverdueReferral:
    case_ref: str
    organisation: str  # acronym
    ack_deadline: datetime


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard shows for one selection, small counts already hidden."""

    selection: Selection
    minimum: int
    total: Cell
    breakdowns: dict[str, list[Cell]]  # dimension -> cells, keys as in `names`
    transfers_total: Cell
    transfers: list[Cell]  # keys: (from acronym, to acronym)
    timing: Timing  # of the whole selection
    timing_by_organisation: dict[str, Timing]  # acronym -> timing
    overdue_count: int
    overdue: list[OverdueReferral]  # oldest deadline first, at most OVERDUE_LIST_LIMIT
    organisation_names: dict[str, str]  # acronym -> name
    state_names: dict[str, str]  # state P-code -> name (a key None in a breakdown: no place given)


def _selected(selection: Selection) -> list:
    conditions = [Report.received_month >= selection.first_month, Report.received_month <= selection.last_month]
    if selection.organisation_id is not None:
        conditions.append(Referral.organisation_id == selection.organisation_id)
    return conditions


def _counts_by(session: Session, selection: Selection, column) -> dict:
    rows = session.execute(select(column, func.count(Referral.id))
                           .join(Report, Report.id == Referral.report_id)
                           .where(*_selected(selection)).group_by(column))
    return {key: int(count) for key, count in rows}


def _in_order(known: Iterable, counted: dict) -> list:
    """The keys a breakdown always shows, then any other key found in the data, sorted."""
    known = list(known)
    return known + sorted((key for key in counted if key not in known), key=lambda key: (key is None, str(key)))


def _organisations(session: Session, selection: Selection) -> dict[int, Organisation]:
    query = select(Organisation).order_by(Organisation.acronym)
    if selection.organisation_id is not None:
        query = query.where(Organisation.id == selection.organisation_id)
    return {organisation.id: organisation for organisation in session.execute(query).scalars()}


def state_names(session: Session) -> dict[str, str]:
    """State P-code -> the state's name, from the gazetteer."""
    return dict(session.execute(select(Township.state_pcode, func.min(Township.state_name_en))
                                .group_by(Township.state_pcode)).all())


def _breakdowns(session: Session, selection: Selection, organisations: dict[int, Organisation],
                states: dict[str, str], minimum: int) -> tuple[int, dict[str, list[Cell]]]:
    """The selection's total, and its breakdowns (each adds up to that total)."""
    by_organisation = _counts_by(session, selection, Referral.organisation_id)
    by_urgency = _counts_by(session, selection, Report.urgent)
    counted = {
        "organisation": {organisations[key].acronym: count for key, count in by_organisation.items()},
        "month": _counts_by(session, selection, Report.received_month),
        "category": _counts_by(session, selection, Referral.category),
        "status": _counts_by(session, selection, Referral.status),
        "urgency": {"urgent": by_urgency.get(True, 0), "not_urgent": by_urgency.get(False, 0)},
        "state": _counts_by(session, selection, Report.state_pcode),
    }
    always = {
        "organisation": [organisation.acronym for organisation in organisations.values()],
        "month": selection.months(),
        "category": CATEGORIES,
        "status": STATUSES,
        "urgency": URGENCY,
        "state": sorted(states, key=lambda pcode: (states[pcode].lower(), pcode)),
    }
    return sum(by_organisation.values()), {dimension: protect_line([(key, counted[dimension].get(key, 0))
                                     for key in _in_order(always[dimension], counted[dimension])], minimum)
            for dimension in DIMENSIONS}


def _transfers(session: Session, selection: Selection, organisations: dict[int, str],
               minimum: int) -> tuple[Cell, list[Cell]]:
    """Referrals made by referring a case on, per (from, to) organisation; with one organisation
    selected, those it referred on and those referred to it."""
    source = aliased(Referral)
    conditions = [Report.received_month >= selection.first_month, Report.received_month <= selection.last_month]
    if selection.organisation_id is not None:
        conditions.append(or_(Referral.organisation_id == selection.organisation_id,
                              source.organisation_id == selection.organisation_id))
    rows = session.execute(
        select(source.organisation_id, Referral.organisation_id, func.count(Referral.id))
        .join(source, source.id == Referral.referred_from_id)
        .join(Report, Report.id == Referral.report_id)
        .where(*conditions).group_by(source.organisation_id, Referral.organisation_id))
    pairs = sorted(((organisations[from_id], organisations[to_id]), int(count)) for from_id, to_id, count in rows)
    return total_cell(sum(count for _pair, count in pairs), minimum), protect_line(pairs, minimum)


def _median(durations: list[float], minimum: int) -> float | None:
    """The median, only when enough durations make it (the median of one is that case's time)."""
    return median(durations) if len(durations) >= max(minimum, 1) else None


def _timings(session: Session, selection: Selection, organisations: dict[int, Organisation],
             overdue: dict[int, int], minimum: int) -> tuple[Timing, dict[str, Timing]]:
    rows = session.execute(
        select(Referral.organisation_id, Referral.created_at, Referral.acknowledged_at, Referral.closed_at)
        .join(Report, Report.id == Referral.report_id)
        .where(*_selected(selection), or_(Referral.acknowledged_at.is_not(None), Referral.closed_at.is_not(None))))
    to_acknowledge: dict[int, list[float]] = {key: [] for key in organisations}
    to_close: dict[int, list[float]] = {key: [] for key in organisations}
    for organisation_id, created_at, acknowledged_at, closed_at in rows:
        if acknowledged_at is not None:
            to_acknowledge[organisation_id].append((acknowledged_at - created_at).total_seconds())
        if closed_at is not None:
            to_close[organisation_id].append((closed_at - created_at).total_seconds())
    keys = list(organisations)
    acknowledged = protect_line([(key, len(to_acknowledge[key])) for key in keys], minimum)
    closed = protect_line([(key, len(to_close[key])) for key in keys], minimum)
    everyone_acknowledged = [seconds for key in keys for seconds in to_acknowledge[key]]
    everyone_closed = [seconds for key in keys for seconds in to_close[key]]
    overall = Timing(total_cell(len(everyone_acknowledged), minimum), _median(everyone_acknowledged, minimum),
                     total_cell(len(everyone_closed), minimum), _median(everyone_closed, minimum),
                     sum(overdue.values()))
    by_organisation = {
        organisations[key].acronym: Timing(acknowledged[index], _median(to_acknowledge[key], minimum), closed[index],
                                           _median(to_close[key], minimum), overdue.get(key, 0))
        for index, key in enumerate(keys)}
    return overall, by_organisation


def _overdue_condition(now: datetime, organisation_id: int | None) -> list:
    conditions = [Referral.acknowledged_at.is_(None), Referral.ack_deadline < now]
    if organisation_id is not None:
        conditions.append(Referral.organisation_id == organisation_id)
    return conditions


def overdue_counts(session: Session, now: datetime, organisation_id: int | None = None) -> dict[int, int]:
    """Unacknowledged referrals past their deadline now, per organisation id (any month)."""
    rows = session.execute(select(Referral.organisation_id, func.count(Referral.id))
                           .where(*_overdue_condition(now, organisation_id)).group_by(Referral.organisation_id))
    return {key: int(count) for key, count in rows}


def overdue_referrals(session: Session, now: datetime, organisation_id: int | None = None,
                      limit: int = OVERDUE_LIST_LIMIT) -> list[OverdueReferral]:
    """Which referrals are overdue now, oldest deadline first: the case reference, the
    organisation and the deadline, nothing else."""
    rows = session.execute(
        select(Referral.case_ref, Organisation.acronym, Referral.ack_deadline)
        .join(Organisation, Organisation.id == Referral.organisation_id)
        .where(*_overdue_condition(now, organisation_id))
        .order_by(Referral.ack_deadline, Referral.id).limit(limit))
    return [OverdueReferral(case_ref, acronym, deadline) for case_ref, acronym, deadline in rows]


def figures(session: Session, selection: Selection, *, now: datetime, minimum: int) -> Figures:
    """The dashboard for `selection`, with counts under `minimum` hidden (see storage.small_cells)."""
    organisations = _organisations(session, selection)
    states = state_names(session)
    total, breakdowns = _breakdowns(session, selection, organisations, states, minimum)
    acronyms = dict(session.execute(select(Organisation.id, Organisation.acronym)).all())
    transfers_total, transfers = _transfers(session, selection, acronyms, minimum)
    overdue = overdue_counts(session, now, selection.organisation_id)
    timing, timing_by_organisation = _timings(session, selection, organisations, overdue, minimum)
    return Figures(
        selection=selection, minimum=minimum, total=total_cell(total, minimum), breakdowns=breakdowns,
        transfers_total=transfers_total, transfers=transfers, timing=timing,
        timing_by_organisation=timing_by_organisation, overdue_count=sum(overdue.values()),
        overdue=overdue_referrals(session, now, selection.organisation_id),
        organisation_names={organisation.acronym: organisation.name for organisation in organisations.values()},
        state_names=states)


def organisation_by_acronym(session: Session, acronym: str) -> Organisation | None:
    return session.execute(select(Organisation).where(Organisation.acronym == acronym)).scalar_one_or_none()


def organisation_acronyms(session: Session) -> list[str]:
    """Every organisation's acronym, for the filter."""
    return list(session.execute(select(Organisation.acronym).order_by(Organisation.acronym)).scalars())
