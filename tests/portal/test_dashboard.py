"""The coordinators' dashboard, its CSV and the PSEA Network's monthly summary.

The seeded set (`seeded`) is written straight into the tables, each report sealed with a content
that holds a marker found nowhere else, on top of the `world` fixture's four reports filed the way
production files them. Covered: the counts (exactly, with the threshold at 1; hidden as the rule
says with the default 3), that no hidden count can be worked out from a total on the page or in
the CSV, timeliness medians, transfers and the overdue list, the monthly summary's rows, roles,
and that no report content (and no case reference but the overdue ones) appears anywhere.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from storage import accounts
from storage.models import AuditEntry, Organisation, Referral, Report, Township
from storage.reports import NewReport, file_report, new_case_ref
from storage.small_cells import HIDDEN, protect_line, total_cell
from tests.bot.test_browser import browser_installed, driver, live_server, severe_console_messages  # noqa: F401
from tests.portal.conftest import PASSWORD, totp_code
from tests.support.receipts import untaken_receipt
from tests.portal.test_portal_browser import PortalPage

MARKER = "Zq41-sealed-content-marker"
OCTOBER = datetime(2026, 10, 6, 8, 0, tzinfo=timezone.utc)

# (organisation, category, status, urgent, state, child, hours to acknowledge, days to close)
SEEDED = [
    ("SAVE", "sexual_exploitation", "under_investigation", False, "MMR013", "no", 2, None),  # 1
    ("SAVE", "sexual_exploitation", "under_investigation", False, "MMR013", "no", 4, None),  # 2
    ("SAVE", "sexual_exploitation", "under_investigation", False, "MMR013", "yes", 6, None),  # 3
    ("SAVE", "sexual_exploitation", "substantiated", False, "MMR013", "no", 8, 10),  # 4
    ("SAVE", "sexual_abuse", "acknowledged", True, "MMR013", "yes", 1, None),  # 5
    ("SAVE", "sexual_abuse", "referred", False, "MMR001", "no", 3, None),  # 6, referred on to CARE (13)
    ("CARE", "sexual_exploitation", "acknowledged", False, "MMR013", "no", 10, None),  # 7
    ("CARE", "sexual_exploitation", "acknowledged", False, "MMR013", "no", 20, None),  # 8
    ("CARE", "sexual_exploitation", "received", False, None, "no", None, None),  # 9
    ("CARE", "other", "received", False, "MMR013", "unknown", None, None),  # 10
    ("PSEAN", "unknown", "received", False, "MMR013", "no", None, None),  # 11
]


def text_of(response) -> str:
    return response.get_data(as_text=True)


@dataclass
class Seeded:
    """Case references by seeded number (1..11, 13 for the transfer), and the markers sealed."""

    case_refs: dict[int, str] = field(default_factory=dict)
    markers: list[str] = field(default_factory=list)

    @property
    def overdue(self) -> list[str]:
        return [self.case_refs[number] for number in (9, 10, 11, 13)]


def add_report(db, runtime, organisation, *, content: dict, month: str, created: datetime, urgent=False,
               state: str | None = "MMR013", child="no", period="this_month") -> tuple[Report, Referral]:
    """A report and its first referral as the storage layer files them, then given the month,
    place and flags asked for."""
    new = NewReport(recipient_organisation_id=organisation.id, route="named", named_organisation_id=organisation.id,
                    incident_period=period, township_pcode=None, state_pcode=state, child_involved=child,
                    affected="other", urgent=urgent, contact_allowed=False,
                    receipt=untaken_receipt(db, runtime.vault.receipt_pepper)[1], content=content)
    report, referral = file_report(db, new, now=created, ack_deadline=created + timedelta(hours=24))
    report.received_month = month
    return report, referral


def seed(app, world, *, marker: str = MARKER) -> Seeded:
    """The eleven October referrals above, and one more: number 6 referred on from SAVE to CARE."""
    runtime = app.extensions["intake"]
    seeded = Seeded()
    with runtime.sessions() as db:
        organisations = {row.acronym: row for row in db.execute(select(Organisation)).scalars()}
        db.add(Township(pcode="MMR001001", state_pcode="MMR001", state_name_en="Kachin", name_en="Myitkyina"))
        for number, (acronym, category, status, urgent, state, child, ack_hours, close_days) in enumerate(SEEDED, 1):
            created = OCTOBER + timedelta(days=number)
            content = {"account": [f"{marker}-{number} what happened, in the reporter's words"]}
            seeded.markers.append(content["account"][0])
            report, referral = add_report(db, runtime, organisations[acronym], content=content, month="2026-10",
                                          created=created, urgent=urgent, state=state, child=child)
            referral.category, referral.status = category, status
            if ack_hours is not None:
                referral.acknowledged_at = created + timedelta(hours=ack_hours)
            if close_days is not None:
                referral.closed_at = created + timedelta(days=close_days)
            seeded.case_refs[number] = referral.case_ref
            if number == 6:
                db.flush()
                transfer = Referral(case_ref=new_case_ref(db), report_id=report.id,
                                    organisation_id=organisations["CARE"].id, status="received",
                                    category="sexual_abuse", referred_from_id=referral.id,
                                    created_at=referral.acknowledged_at, escalations=0,
                                    ack_deadline=referral.acknowledged_at + timedelta(hours=24))
                db.add(transfer)
                db.flush()
                seeded.case_refs[13] = transfer.case_ref
        db.commit()
    return seeded


@pytest.fixture
def seeded(app, world) -> Seeded:
    return seed(app, world)


def table_of(page: str, table_id: str) -> dict[str, str]:
    """A two-column figures table: row heading -> figure (the total row included)."""
    table = page[page.index(f'<table id="{table_id}">'):]
    table = table[:table.index("</table>")]
    return {html.unescape(name): html.unescape(figure) for name, figure in
            re.findall(r'<th scope="row">([^<]*)</th><td class="number">([^<]*)</td>', table)}


def login(portal_user, world, name="coord"):
    portal_user.login(world.emails[name])


# --- counts -------------------------------------------------------------------------------------

@pytest.fixture
def app(make_app, request):
    """The app, with the settings a test asks for (`indirect` parametrisation)."""
    return make_app(**getattr(request, "param", {}))


@pytest.mark.parametrize("app", [{"DASHBOARD_MIN_CELL": "1"}], indirect=True)
def test_october_is_counted_exactly_when_nothing_is_hidden(client, world, portal_user, seeded):
    login(portal_user, world)
    page = text_of(client.get("/portal/dashboard?month=2026-10"))
    assert table_of(page, "figures-organisation") == {"CARE": "5", "PSEAN": "1", "SAVE": "6", "Total": "12"}
    assert table_of(page, "figures-category") == {"Sexual exploitation": "7", "Sexual abuse": "3", "Other": "1",
                                                  "Not known yet": "1", "Total": "12"}
    assert table_of(page, "figures-status") == {
        "Received": "4", "Acknowledged": "3", "Preliminary assessment": "0", "Under investigation": "3",
        "Closed: substantiated": "1", "Closed: not substantiated": "0", "Closed (other)": "0",
        "Referred to another entity": "1", "Total": "12"}
    assert table_of(page, "figures-urgency") == {"Urgent": "1", "Not urgent": "11", "Total": "12"}
    assert table_of(page, "figures-state") == {"Kachin": "2", "Yangon": "9", "No place given": "1", "Total": "12"}
    assert table_of(page, "figures-month") == {"2026-10": "12", "Total": "12"}
    assert re.search(r'<dd id="total">12</dd>', page) and re.search(r'<dd id="transfers-total">1</dd>', page)
    # SAVE acknowledged after 1, 2, 3, 4, 6 and 8 hours, CARE after 10 and 20: medians 3.5 and 15, 5 in all.
    assert '<dd id="median-acknowledge">5.0 hours</dd>' in page and '<dd id="median-close">10.0 days</dd>' in page
    timing = re.findall(r'<tr id="timing-\d+"><th scope="row">(\w+)</th>(.*?)</tr>', page, re.S)
    cells = {acronym: re.findall(r'<td class="number">([^<]*)</td>', rest) for acronym, rest in timing}
    assert cells == {"CARE": ["2", "15.0", "0", "—", "3"], "PSEAN": ["0", "—", "0", "—", "1"],
                     "SAVE": ["6", "3.5", "1", "10.0", "0"]}


def test_the_default_is_the_last_twelve_months_with_the_world_s_reports_in_november(client, world, portal_user,
                                                                                      seeded):
    login(portal_user, world)
    page = text_of(client.get("/portal/dashboard"))
    assert "Reports received from 2025-12 to 2026-11" in page
    months = table_of(page, "figures-month")
    assert list(months)[:2] == ["2025-12", "2026-01"] and len(months) == 13  # twelve months and the total
    # 16 referrals: 4 in November, 12 in October; no month under 3, so none is hidden.
    assert months["2026-11"] == "4" and months["2026-10"] == "12" and months["2026-09"] == "0"
    assert table_of(page, "figures-organisation") == {"CARE": "6", "PSEAN": "<3", "SAVE": HIDDEN, "Total": "16"}


def test_small_counts_are_hidden_and_each_breakdown_hides_its_largest_too(client, world, portal_user, seeded):
    login(portal_user, world)
    response = client.get("/portal/dashboard?month=2026-10")
    page = text_of(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert table_of(page, "figures-organisation") == {"CARE": "5", "PSEAN": "<3", "SAVE": HIDDEN, "Total": "12"}
    assert table_of(page, "figures-category") == {"Sexual exploitation": HIDDEN, "Sexual abuse": "3",
                                                  "Other": "<3", "Not known yet": "<3", "Total": "12"}
    assert table_of(page, "figures-status") == {
        "Received": HIDDEN, "Acknowledged": "3", "Preliminary assessment": "0", "Under investigation": "3",
        "Closed: substantiated": "<3", "Closed: not substantiated": "0", "Closed (other)": "0",
        "Referred to another entity": "<3", "Total": "12"}
    assert table_of(page, "figures-urgency") == {"Urgent": "<3", "Not urgent": HIDDEN, "Total": "12"}
    assert table_of(page, "figures-state") == {"Kachin": "<3", "Yangon": HIDDEN, "No place given": "<3",
                                               "Total": "12"}
    # One transfer, one case closed: both under 3, and no median of fewer than 3 times.
    assert '<dd id="transfers-total">&lt;3</dd>' in page
    assert "Not shown: fewer than 3 closed" in page and '<dd id="median-acknowledge">5.0 hours</dd>' in page
    timing = dict(re.findall(r'<tr id="timing-\d+"><th scope="row">(\w+)</th><td class="number">([^<]*)</td>', page))
    assert timing == {"CARE": "&lt;3", "PSEAN": "0", "SAVE": HIDDEN}
    assert "Counts under 3 are shown as &lt;3" in page


def breakdowns_of(page: str) -> dict[str, list[str]]:
    return {name: [figure for heading, figure in table_of(page, f"figures-{name}").items() if heading != "Total"]
            for name in ("organisation", "month", "category", "status", "urgency", "state")}


@pytest.mark.parametrize("query", ["month=2026-10", "month=2026-11", "", "organisation=CARE",
                                   "from=2026-10&to=2026-11&organisation=SAVE"])
def test_no_hidden_count_can_be_worked_out_from_the_total(client, world, portal_user, seeded, query):
    """Every breakdown adds up to the total shown: where one count is hidden, another is too, so
    that the total minus what is shown is never a single small count."""
    login(portal_user, world)
    page = text_of(client.get(f"/portal/dashboard?{query}"))
    total = re.search(r'<dd id="total">([^<]*)</dd>', page).group(1)
    for name, figures in breakdowns_of(page).items():
        hidden = [figure for figure in figures if not figure.isdigit()]
        assert len(hidden) != 1, (name, figures)
        if total.isdigit() and not hidden:
            assert sum(map(int, figures)) == int(total), name


def test_the_rule_itself():
    assert [cell.shown for cell in protect_line([("a", 5), ("b", 1), ("c", 9), ("d", 9), ("e", 0)], 3)] == \
        ["5", "<3", HIDDEN, "9", "0"]  # the first of the largest
    assert [cell.shown for cell in protect_line([("a", 5), ("b", 4)], 3)] == ["5", "4"]
    assert [cell.count for cell in protect_line([("a", 2), ("b", 2)], 3)] == [None, None]
    assert [cell.shown for cell in protect_line([("a", 2), ("b", 7)], 1)] == ["2", "7"]
    assert total_cell(2, 3).shown == "<3" and total_cell(2, 3).count is None and total_cell(0, 3).shown == "0"


def test_the_csv_has_the_pages_figures_hidden_the_same_way(client, world, portal_user, seeded):
    login(portal_user, world)
    response = client.get("/portal/dashboard.csv?month=2026-10")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="dashboard-2026-10.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(text_of(response))))
    assert rows[0] == ["section", "key", "name", "value"] and rows[1] == ["referrals", "", "", "12"]
    by = {(section, key): value for section, key, _name, value in rows[1:]}
    assert by[("organisation", "SAVE")] == HIDDEN and by[("organisation", "PSEAN")] == "<3"
    assert by[("organisation", "CARE")] == "5" and by[("category", "sexual_abuse")] == "3"
    assert by[("urgency", "urgent")] == "<3" and by[("state", "")] == "<3" and by[("state", "MMR013")] == HIDDEN
    assert by[("transfers", "")] == "<3" and by[("transfer", "SAVE>CARE")] == "<3"
    assert by[("median_hours_to_acknowledge", "")] == "5.0" and by[("median_hours_to_acknowledge", "CARE")] == ""
    assert by[("acknowledged", "CARE")] == "<3" and by[("overdue_now", "")] == "4"
    for section in ("organisation", "category", "status", "urgency", "state"):
        values = [value for (name, _key), value in by.items() if name == section]
        assert sum(not value.isdigit() for value in values) != 1, section
    named = client.get("/portal/dashboard.csv?from=2026-09&to=2026-10&organisation=CARE")
    assert named.headers["Content-Disposition"] == 'attachment; filename="dashboard-2026-09-2026-10-CARE.csv"'


# --- overdue, content, case references ---------------------------------------------------------

def test_the_overdue_list_names_case_references_and_nothing_else(client, world, portal_user, seeded):
    login(portal_user, world)
    page = text_of(client.get("/portal/dashboard?month=2026-10"))
    listed = re.findall(r'<tr><td class="case">(R-\w+)</td><td>(\w+)</td><td>([^<]*)</td></tr>', page)
    assert [(case_ref, acronym) for case_ref, acronym, _deadline in listed] == [
        (seeded.case_refs[number], acronym) for number, acronym in ((13, "CARE"), (9, "CARE"), (10, "CARE"),
                                                                    (11, "PSEAN"))]
    assert listed[1][2] == "16 Oct 2026, 08:00 (UTC)"
    assert "4 referrals have not been acknowledged by their deadline" in page
    others = set(seeded.case_refs.values()) - set(seeded.overdue)
    others |= {case_ref for refs in world.case_refs.values() for case_ref in refs}
    assert not [case_ref for case_ref in others if case_ref in page]
    care = text_of(client.get("/portal/dashboard?month=2026-10&organisation=CARE"))
    assert seeded.case_refs[11] not in care and seeded.case_refs[9] in care


def test_no_report_content_appears_anywhere(client, world, portal_user, seeded, clock):
    clock.advance(days=2)  # the world's November referrals are overdue too now
    login(portal_user, world)
    contents = [*seeded.markers, *world.accounts.values(), MARKER]
    for path in ("/portal/dashboard", "/portal/dashboard?month=2026-10", "/portal/dashboard?month=2026-11",
                 "/portal/dashboard.csv", "/portal/dashboard/monthly.csv?month=2026-10",
                 "/portal/dashboard/monthly.csv?month=2026-11"):
        body = text_of(client.get(path))
        assert not [content for content in contents if content in body], path


def test_pages_draw_charts_without_inline_style_or_script(client, world, portal_user, seeded):
    login(portal_user, world)
    response = client.get("/portal/dashboard?from=2025-12&to=2026-11")
    page = text_of(response)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert page.count("<svg ") == 7  # six breakdowns and the transfers
    assert " style=" not in page and "<style" not in page and "<script" not in page
    assert '<svg class="chart"' in page and 'aria-hidden="true"' in page
    assert 'href="/portal/dashboard.csv?from=2025-12&amp;to=2026-11"' in page
    assert 'href="/portal/dashboard">Dashboard</a>' in page


# --- the monthly summary ------------------------------------------------------------------------

def test_the_monthly_summary_has_a_row_per_referral_in_the_trackers_fields(app, client, world, portal_user, seeded):
    login(portal_user, world)
    response = client.get("/portal/dashboard/monthly.csv?month=2026-10")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="psea-monthly-summary-2026-10.csv"'
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    assert len(rows) == 12 and [row["row"] for row in rows] == [str(number) for number in range(1, 13)]
    assert list(rows[0]) == ["row", "month_reported", "entity", "entity_type", "category", "incident_date",
                             "status", "closed_month", "perpetrators_number", "perpetrators_gender",
                             "victims_number", "victims_gender", "victims_age_category", "urgent", "referred_from"]
    first = rows[0]
    assert first == {"row": "1", "month_reported": "2026-10", "entity": "SAVE", "entity_type": "unknown",
                     "category": "Sexual exploitation", "incident_date": "2026-10", "status": "Under investigation",
                     "closed_month": "", "perpetrators_number": "unknown", "perpetrators_gender": "unknown",
                     "victims_number": "unknown", "victims_gender": "unknown", "victims_age_category": "Adult",
                     "urgent": "no", "referred_from": ""}
    assert rows[2]["victims_age_category"] == "Child (under 18)" and rows[4]["urgent"] == "yes"
    assert rows[3]["status"] == "Substantiated" and rows[3]["closed_month"] == "2026-10"
    assert rows[5]["status"] == "Referred to another entity" and rows[5]["category"] == "Sexual abuse"
    transfer = rows[6]  # made when number 6 was acknowledged, before number 7 arrived
    assert transfer["entity"] == "CARE" and transfer["referred_from"] == "SAVE" and transfer["status"] == "Received"
    assert rows[10]["victims_age_category"] == "unknown" and rows[10]["category"] == "Other"
    assert rows[11]["entity"] == "PSEAN" and rows[11]["entity_type"] == "PSEA Network"
    body = text_of(response)
    assert not [case_ref for case_ref in seeded.case_refs.values() if case_ref in body]
    assert "MMR" not in body and "Kachin" not in body  # no place
    with app.extensions["intake"].sessions() as db:
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "export_monthly_summary")).scalar_one()
    assert entry.detail == "month 2026-10; 12 rows" and entry.user_id is not None

    november = list(csv.DictReader(io.StringIO(text_of(client.get("/portal/dashboard/monthly.csv?month=2026-11")))))
    assert sorted(row["entity"] for row in november) == ["CARE", "PSEAN", "SAVE", "SAVE"]
    assert {row["incident_date"] for row in november} == {"2026-11"}  # "this month", said in November


def test_downloads_are_spreadsheet_safe(app, client, world, portal_user, clock):
    runtime = app.extensions["intake"]
    with runtime.sessions() as db:
        organisation, _key = accounts.create_organisation(db, name="Formula", acronym="=HYPERLINK", now=clock())
        add_report(db, runtime, organisation, content={"account": [MARKER]}, month="2026-09",
                   created=datetime(2026, 9, 3, tzinfo=timezone.utc), period="earlier")
        db.commit()
    login(portal_user, world)
    summary = list(csv.DictReader(io.StringIO(text_of(client.get("/portal/dashboard/monthly.csv?month=2026-09")))))
    assert summary[0]["entity"] == "'=HYPERLINK" and summary[0]["incident_date"] == "before 2026"
    figures = text_of(client.get("/portal/dashboard.csv?month=2026-09"))
    assert "'=HYPERLINK" in figures and "\n=HYPERLINK" not in figures and ",=HYPERLINK" not in figures


# --- bad requests and roles ---------------------------------------------------------------------

@pytest.mark.parametrize("query, reason", [
    ("month=October", "as a month, YYYY-MM"),
    ("month=\u1042\u1040\u1042\u1046-\u1041\u1040", "as a month, YYYY-MM"),  # Myanmar digits
    ("to=0000-05", "as a month, YYYY-MM"),
    ("from=2026-11&to=2026-01", "The first month (2026-11) is after the last (2026-01)."),
    ("month=2026-10&from=2026-01", "either one month, or a range"),
    ("from=2020-01&to=2026-11", "at most 60 months"),
    ("organisation=NOBODY", "There is no organisation with that acronym."),
])
def test_a_filter_that_cannot_be_read_is_a_400_saying_why(client, world, portal_user, query, reason):
    login(portal_user, world)
    for path in ("/portal/dashboard", "/portal/dashboard.csv"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400 and reason in html.unescape(text_of(response)), path
    missing = client.get("/portal/dashboard/monthly.csv")
    assert missing.status_code == 400 and "Choose the month of the summary" in text_of(missing)
    assert client.get("/portal/dashboard/monthly.csv?month=2026-13").status_code == 400


@pytest.mark.parametrize("name", ["save", "care", "caseworker"])
def test_other_roles_are_refused(client, world, portal_user, name):
    login(portal_user, world, name)
    for path in ("/portal/dashboard", "/portal/dashboard.csv", "/portal/dashboard/monthly.csv?month=2026-11"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "does not give access to the dashboard" in text_of(response)
    assert 'href="/portal/dashboard"' not in text_of(client.get("/portal/account"))


def test_logged_out_goes_to_the_login_page(client, world):
    for path in ("/portal/dashboard", "/portal/dashboard.csv", "/portal/dashboard/monthly.csv?month=2026-11"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/portal/login?next=")


@pytest.mark.parametrize("name", ["coord", "admin"])
def test_coordinators_and_admins_land_on_the_dashboard(client, world, portal_user, name):
    assert portal_user.login(world.emails[name]).headers["Location"] == "/portal/dashboard"
    assert client.get("/portal/dashboard").status_code == 200


# --- in a real browser --------------------------------------------------------------------------

@pytest.mark.browser
def test_a_coordinator_lands_on_the_charts_with_nothing_refused_by_the_csp(app, live_server, driver, world, seeded,
                                                                            tmp_path):
    page = PortalPage(driver, live_server, tmp_path)
    page.log_in(world.emails["coord"], PASSWORD, lands_on="Referrals for PSEAN",
                code=totp_code(app, world.emails["coord"]))
    driver.get(f"{live_server}/portal/dashboard?from=2026-06&to=2026-11")
    page.wait_for_heading("Dashboard")
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    assert bars and max(bar.size["width"] for bar in bars) > 100
    assert driver.find_element(By.CSS_SELECTOR, "svg.chart rect.bar").value_of_css_property("fill") != "rgb(0, 0, 0)"
    assert all(marker not in driver.page_source for marker in seeded.markers)
    driver.set_window_size(1280, driver.execute_script("return document.body.scrollHeight"))
    page.screenshot("dashboard")  # the whole page, at a laptop's width
    assert severe_console_messages(driver) == []
