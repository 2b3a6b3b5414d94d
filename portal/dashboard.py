"""The coordinators' dashboard (`/portal/dashboard`), its CSV, and the PSEA Network's monthly summary.

Counts only, from clear columns (`storage.dashboard`): no report is opened, no content shown, small
counts hidden (`storage.small_cells`) the same way on the page, in the CSV and in the API. The only
case references shown are those of the referrals overdue now, with their organisation and deadline:
the coordinators' list to chase. The monthly summary has one row per referral in the UN
system-wide tracker's fields (`storage.monthly_summary`), with no case reference or place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import render_template, request

from portal import i18n
from portal.blueprint import bp
from portal.case_words import CATEGORY_WORDS, STATUS_WORDS
from portal.charts import Chart, bar_chart, column_chart
from portal.current import DASHBOARD_ROLES, current_login, role_required
from portal.downloads import csv_download
from portal.i18n import _, lazy_gettext
from portal.services import services
from storage import dashboard as dashboard_store
from storage.audit_log import audit
from storage.dashboard import DIMENSIONS, MAX_MONTHS, Figures, Selection
from storage.monthly_summary import FIELDS as SUMMARY_FIELDS
from storage.monthly_summary import SummaryRow, monthly_summary
from storage.request_scope import db_session, transaction
from storage.small_cells import Cell

_dashboard_pages = role_required(DASHBOARD_ROLES, lazy_gettext("the dashboard"))
MONTH = re.compile(r"(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])")  # YYYY-MM, 1900 to 2999 (ASCII digits)
EARLIEST_MONTH = "1900-01"
MAX_ACRONYM = 32
DEFAULT_MONTHS = 12

TITLES = {
    "organisation": lazy_gettext("By organisation"),
    "month": lazy_gettext("By month received"),
    "category": lazy_gettext("By category"),
    "status": lazy_gettext("By status"),
    "urgency": lazy_gettext("By urgency"),
    "state": lazy_gettext("By state or region"),
}
# The first column of each breakdown's table.
HEADINGS = {
    "organisation": lazy_gettext("Organisation"),
    "month": lazy_gettext("Month received"),
    "category": lazy_gettext("Category"),
    "status": lazy_gettext("Status"),
    "urgency": lazy_gettext("Urgency"),
    "state": lazy_gettext("State or region"),
}
URGENCY_WORDS = {"urgent": lazy_gettext("Urgent"), "not_urgent": lazy_gettext("Not urgent")}


class BadSelection(ValueError):
    """A filter that cannot be read; the message says why, in words for the person asking."""


@dataclass(frozen=True)
class Chosen:
    """The selection asked for, and how it was asked (to fill the filters in again)."""

    selection: Selection
    organisation: str | None  # acronym
    month: str | None  # when one month was asked for


def _month_argument(args, name: str) -> str | None:
    value = args.get(name) or None
    if value is not None and not MONTH.fullmatch(value):
        raise BadSelection(_("Give “%(name)s” as a month, YYYY-MM (for example 2026-11).", name=name))
    return value


def _index(month: str) -> int:
    """A month (YYYY-MM) as a number that counts months."""
    year, number = map(int, month.split("-"))
    return year * 12 + number - 1


def months_before(month: str, count: int) -> str:
    """The month `count` months before `month` (YYYY-MM)."""
    index = _index(month) - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def read_selection(args) -> Chosen:
    """The selection from a query string: `month`, or `from` and `to` (months, YYYY-MM; by default
    the last 12 months up to this one), and `organisation` (an acronym). Raises BadSelection."""
    month, first, last = (_month_argument(args, name) for name in ("month", "from", "to"))
    if month and (first or last):
        raise BadSelection(_("Give either one month, or a range from one month to another, not both."))
    if month:
        first = last = month
    last = last or f"{services().clock():%Y-%m}"
    # Not before the first month MONTH allows (the API describes its months so): "to=1900-01" alone
    # would otherwise start the range in 1899.
    first = first or max(months_before(last, DEFAULT_MONTHS - 1), EARLIEST_MONTH)
    if first > last:
        raise BadSelection(_("The first month (%(first)s) is after the last (%(last)s).", first=first, last=last))
    if _index(last) - _index(first) + 1 > MAX_MONTHS:
        raise BadSelection(_("Choose at most %(count)s months at a time.", count=MAX_MONTHS))
    acronym, organisation_id = read_organisation(args)
    return Chosen(Selection(first, last, organisation_id), acronym, month)


def read_organisation(args) -> tuple[str | None, int | None]:
    """The `organisation` asked for: (its acronym, its id), or (None, None) for all of them.
    Raises BadSelection."""
    acronym = args.get("organisation") or None
    if acronym is None:
        return None, None
    found = dashboard_store.organisation_by_acronym(db_session(), acronym) if len(acronym) <= MAX_ACRONYM else None
    if found is None:
        raise BadSelection(_("There is no organisation with that acronym."))
    return acronym, found.id


def read_month(args) -> str:
    """The `month` a monthly summary is asked for. Raises BadSelection."""
    month = _month_argument(args, "month")
    if month is None:
        raise BadSelection(_("Choose the month of the summary, as YYYY-MM (for example 2026-11)."))
    return month


@bp.context_processor
def _dashboard_context():
    return {"dashboard_roles": DASHBOARD_ROLES}


def figures_for(chosen: Chosen) -> Figures:
    return dashboard_store.figures(db_session(), chosen.selection, now=services().clock(),
                                   minimum=services().settings.dashboard_min_cell)


# --- what the page shows ------------------------------------------------------------------------

@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    heading: str
    rows: list[tuple[str, Cell]]  # (label, figure)
    chart: Chart


def label(figures: Figures, dimension: str, key) -> str:
    """A breakdown's key in words."""
    if dimension == "category":
        return str(CATEGORY_WORDS.get(key, key))
    if dimension == "status":
        return str(STATUS_WORDS.get(key, key))
    if dimension == "urgency":
        return str(URGENCY_WORDS[key])
    if dimension == "state":
        return figures.state_names.get(key, key) if key else _("No place given")
    return key  # an organisation's acronym, a month


def breakdowns(figures: Figures) -> list[Breakdown]:
    found = []
    for dimension in DIMENSIONS:
        rows = [(label(figures, dimension, cell.key), cell) for cell in figures.breakdowns[dimension]]
        chart = column_chart(rows) if dimension == "month" else bar_chart(rows)
        found.append(Breakdown(dimension, str(TITLES[dimension]), str(HEADINGS[dimension]), rows, chart))
    return found


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 1)


def _filters_page(chosen: Chosen | None, error: str | None = None):
    return {"chosen": chosen, "error": error, "acronyms": dashboard_store.organisation_acronyms(db_session()),
            "max_months": MAX_MONTHS}


@bp.get("/dashboard")
@_dashboard_pages
def dashboard():
    """Referrals counted by organisation, month, category, status, urgency and state; timeliness,
    transfers and what is overdue now, for a range of months (and an organisation)."""
    try:
        chosen = read_selection(request.args)
    except BadSelection as error:
        return render_template("portal/dashboard.html", figures=None, **_filters_page(None, str(error))), 400
    figures = figures_for(chosen)
    return render_template(
        "portal/dashboard.html", figures=figures, breakdowns=breakdowns(figures), hours=hours, days=days,
        transfer_chart=bar_chart([(f"{cell.key[0]} → {cell.key[1]}", cell) for cell in figures.transfers]),
        query=_query(chosen), **_filters_page(chosen))


def _query(chosen: Chosen) -> dict:
    """The query string that asks for `chosen` again (for the CSV link)."""
    if chosen.month:
        query = {"month": chosen.month}
    else:
        query = {"from": chosen.selection.first_month, "to": chosen.selection.last_month}
    return {**query, **({"organisation": chosen.organisation} if chosen.organisation else {})}


# --- downloads ----------------------------------------------------------------------------------

def _number(value: float | None) -> str:
    return "" if value is None else str(value)


def figure_rows(figures: Figures) -> list[list[str]]:
    """The dashboard's figures as (section, key, name, value) rows, hidden ones as on the page."""
    rows = [["section", "key", "name", "value"], ["referrals", "", "", figures.total.shown]]
    for dimension in DIMENSIONS:
        rows += [[dimension, cell.key or "", label(figures, dimension, cell.key), cell.shown]
                 for cell in figures.breakdowns[dimension]]
    rows.append(["transfers", "", "", figures.transfers_total.shown])
    rows += [["transfer", f"{source}>{target}", f"{source} → {target}", cell.shown]
             for cell in figures.transfers for source, target in [cell.key]]
    timings = [("", figures.timing), *figures.timing_by_organisation.items()]
    for key, timing in timings:
        rows += [["acknowledged", key, "", timing.acknowledged.shown],
                 ["median_hours_to_acknowledge", key, "", _number(hours(timing.median_seconds_to_acknowledge))],
                 ["closed", key, "", timing.closed.shown],
                 ["median_days_to_close", key, "", _number(days(timing.median_seconds_to_close))],
                 ["overdue_now", key, "", str(timing.overdue_now)]]
    return rows


def selection_name(chosen: Chosen) -> str:
    """A name for files of this selection ("2026-01-2026-11-SAVE")."""
    selection = chosen.selection
    months = selection.first_month if chosen.month else f"{selection.first_month}-{selection.last_month}"
    return months + (f"-{re.sub(r'[^A-Za-z0-9_-]', '_', chosen.organisation)}" if chosen.organisation else "")


@bp.get("/dashboard.csv")
@_dashboard_pages
def dashboard_csv():
    """The dashboard's figures as CSV, hidden the same way."""
    try:
        chosen = read_selection(request.args)
    except BadSelection as error:
        return _bad_request(error)
    i18n.use_source_language()  # the file's names are the same whoever downloads it
    header, *rows = figure_rows(figures_for(chosen))
    return csv_download(f"dashboard-{selection_name(chosen)}.csv", header, rows)


def summary_rows(month: str, *, user_id: int | None, token_id: int | None = None) -> list[SummaryRow]:
    """The monthly summary's rows; who took them (an account, or an API token) goes on the audit log."""
    with transaction() as db:
        rows = monthly_summary(db, month)
        audit(db, now=services().clock(), action="export_monthly_summary", user_id=user_id,
              detail=f"month {month}; {len(rows)} rows" + (f"; token {token_id}" if token_id else ""))
    return rows


def _bad_request(error: BadSelection):
    """A download asked for wrongly: the error page, saying why."""
    return render_template("portal/error.html", code=400, title=_("Bad request"), text=str(error)), 400


@bp.get("/dashboard/monthly.csv")
@_dashboard_pages
def monthly_csv():
    """The PSEA Network's monthly summary: one row per referral, in the UN tracker's fields."""
    try:
        month = read_month(request.args)
    except BadSelection as error:
        return _bad_request(error)
    rows = summary_rows(month, user_id=current_login().user.id)
    return csv_download(f"psea-monthly-summary-{month}.csv", SUMMARY_FIELDS, (row.values() for row in rows))
