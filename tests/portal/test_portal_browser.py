"""The portal in a real browser (Debian's chromium, headless, through chromedriver): a focal point
logs in through the form with the code, sees the list, opens a referral, reads it, acknowledges
it, works the case (status, category, a note, a message to the reporter, the reporter's answer)
and refers it on, with the real CSP, cookies and Fetch Metadata headers in play.

The browser, server and skip-or-fail fixtures are the simulator's (tests/bot/test_browser.py):
without chromium these tests skip, or fail under REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from storage import reporter_messages
from storage.models import Organisation, Referral, Report

from tests.bot.test_browser import (  # noqa: F401  (fixtures are found by name)
    PNG_SIGNATURE, WAIT_SECONDS, browser_installed, driver, live_server, severe_console_messages,
)
from tests.portal.conftest import PASSWORD, totp_code


class PortalPage:
    """What a focal point sees and does in the portal."""

    def __init__(self, driver, base_url: str, shots):
        self.driver = driver
        self.base_url = base_url
        self.shots = shots

    def wait_for_heading(self, text: str):
        WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: any(text in h.text for h in d.find_elements(By.TAG_NAME, "h1")), f"no heading {text!r}")

    def click_to_load(self, element, heading: str) -> None:
        """Click something that loads a new page, and wait until that page (not the old one,
        which may have the same heading) shows `heading`."""
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        # While the old document goes away chromedriver may also answer "node does not belong to
        # the document" instead of "stale"; both mean the same here, so keep polling.
        WebDriverWait(self.driver, WAIT_SECONDS, ignored_exceptions=(WebDriverException,)).until(
            staleness_of(old_page), "the page did not change")
        self.wait_for_heading(heading)

    def screenshot(self, name: str) -> None:
        path = self.shots / f"{name}.png"
        assert self.driver.save_screenshot(str(path))
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 1000

    def log_in(self, email: str, password: str, lands_on: str, code: str | None = None) -> None:
        """Fill in the login form; with `code`, the password is expected to be right and the code
        is typed on the page that asks for it next."""
        self.driver.get(f"{self.base_url}/portal/")
        self.wait_for_heading("Log in")
        self.driver.find_element(By.ID, "email").send_keys(email)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.screenshot("1-login")
        submit = self.driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]")
        if code is None:
            self.click_to_load(submit, lands_on)
            return
        self.click_to_load(submit, "Security code")
        self.type_code(code, lands_on)

    def type_code(self, code: str, lands_on: str) -> None:
        """On the page asking for the authenticator's code: type it and continue."""
        self.driver.find_element(By.ID, "code").send_keys(code)
        self.click_to_load(self.driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"), lands_on)

    def status_of(self, case_ref: str) -> str:
        row = self.driver.find_element(By.XPATH, f"//tbody/tr[th/a[normalize-space()='{case_ref}']]")
        return row.find_elements(By.TAG_NAME, "td")[3].text  # Received, Urgent, Acknowledge by, Status


@pytest.mark.browser
def test_a_focal_point_reads_and_acknowledges_a_referral(app, live_server, driver, world, tmp_path):
    page = PortalPage(driver, live_server, tmp_path)
    case_ref = world.case_refs["SAVE"][1]
    account = world.accounts[case_ref]

    page.log_in(world.emails["save"], PASSWORD, lands_on="Referrals for SAVE organisation",
                code=totp_code(app, world.emails["save"]))
    assert driver.current_url == f"{live_server}/portal/"
    listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "tbody th a")]
    assert sorted(listed) == sorted(world.case_refs["SAVE"])
    assert page.status_of(case_ref) == "Received"
    page.screenshot("2-list")

    page.click_to_load(driver.find_element(By.LINK_TEXT, case_ref), f"Referral {case_ref}")
    report = driver.find_element(By.CSS_SELECTOR, "dl.report").text
    assert account in report  # "<b>not bold</b>" shows as the characters the reporter typed
    assert "+95 9 4500 1234" in report
    assert driver.find_element(By.ID, "status").text == "Received"
    page.screenshot("3-referral")

    page.click_to_load(driver.find_element(By.ID, "acknowledge"), f"Referral {case_ref}")
    assert f"Referral {case_ref} is acknowledged." in driver.find_element(By.CSS_SELECTOR, ".flash").text
    assert driver.find_element(By.ID, "status").text == "Acknowledged"
    page.click_to_load(driver.find_element(By.LINK_TEXT, "← All referrals"), "Referrals for SAVE organisation")
    assert page.status_of(case_ref) == "Acknowledged"
    page.screenshot("4-acknowledged")

    page.click_to_load(driver.find_element(By.CSS_SELECTOR, "form.logout button"), "Log in")
    assert "You are logged out." in driver.find_element(By.CSS_SELECTOR, ".flash").text
    driver.get(f"{live_server}/portal/referrals/{case_ref}")
    page.wait_for_heading("Log in")
    # No CSP violation, script error or failed load anywhere on the way.
    assert severe_console_messages(driver) == []


@pytest.mark.browser
def test_a_coordinator_lands_on_the_dashboard_and_a_wrong_password_is_refused(app, live_server, driver, world, tmp_path):
    page = PortalPage(driver, live_server, tmp_path)
    page.log_in(world.emails["coord"], "not the password", lands_on="Log in")
    assert driver.find_element(By.CSS_SELECTOR, "[role=alert]").text == "Email or password is wrong"

    driver.find_element(By.ID, "password").send_keys(PASSWORD)  # the email stays filled in
    page.click_to_load(driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"), "Security code")
    page.type_code(totp_code(app, world.emails["coord"]), "Referrals for PSEAN organisation")  # asked for /portal/
    page.click_to_load(driver.find_element(By.LINK_TEXT, "Dashboard"), "Dashboard")
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert all(account not in driver.page_source for account in world.accounts.values())
    page.screenshot("5-dashboard")
    # Chromium logs the refused login's 401 answer; nothing else may be logged.
    logged = severe_console_messages(driver)
    assert len(logged) == 1 and "/portal/login" in logged[0] and "401" in logged[0], logged


def _choose(driver, select_id: str, value: str) -> None:
    Select(driver.find_element(By.ID, select_id)).select_by_value(value)


@pytest.mark.browser
def test_a_focal_point_works_a_case_through_to_referring_it_on(app, live_server, driver, world, tmp_path):
    """Sign in with the code; acknowledge; status, category and a note; write to the reporter;
    read the reporter's answer (markup and a script in it stay inert text); refer the case on."""
    page = PortalPage(driver, live_server, tmp_path)
    case_ref = world.case_refs["SAVE"][1]
    page.log_in(world.emails["save"], PASSWORD, "Referrals for SAVE organisation",
                code=totp_code(app, world.emails["save"]))
    page.click_to_load(driver.find_element(By.LINK_TEXT, case_ref), f"Referral {case_ref}")
    page.click_to_load(driver.find_element(By.ID, "acknowledge"), f"Referral {case_ref}")

    _choose(driver, "status-choice", "under_investigation")
    page.click_to_load(driver.find_element(By.ID, "set-status"), f"Referral {case_ref}")
    assert driver.find_element(By.ID, "status").text == "Under investigation"
    _choose(driver, "category-choice", "sexual_abuse")
    page.click_to_load(driver.find_element(By.ID, "set-category"), f"Referral {case_ref}")
    assert driver.find_element(By.ID, "category").text == "Sexual abuse"
    driver.find_element(By.ID, "note").send_keys("Spoke to the school head. Bz1")
    page.click_to_load(driver.find_element(By.ID, "add-note"), f"Referral {case_ref}")
    driver.find_element(By.ID, "message").send_keys("We are looking into it. Can we call you? Bz2")
    driver.find_element(By.ID, "send-out").click()  # the reporter agreed to be called
    page.click_to_load(driver.find_element(By.ID, "send-message"), f"Referral {case_ref}")
    page.screenshot("6-worked")
    timeline = driver.find_element(By.ID, "timeline").text
    for line in ("Receipt acknowledged", "Status set to Under investigation", "Category set to Sexual abuse",
                 "Spoke to the school head. Bz1", "Message written to the reporter",
                 "Message sent to the reporter's phone"):
        assert line in timeline, line

    # The reporter answers (over SMS in tests/bot/test_referral_life.py; here straight into storage).
    hostile = 'Yes, call after 6. <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    runtime = app.extensions["intake"]
    with runtime.sessions() as db:
        report = db.get(Report, db.execute(select(Referral.report_id).where(Referral.case_ref == case_ref)).scalar())
        reporter_messages.add_reporter_answer(db, report, hostile, now=runtime.clock())
        db.commit()
    driver.refresh()
    page.wait_for_heading(f"Referral {case_ref}")
    messages = driver.find_element(By.ID, "messages").text
    assert "Bz2" in messages and "also sent to their phone" in messages and hostile in messages
    assert driver.execute_script("return window.pwned === undefined")
    assert driver.find_elements(By.CSS_SELECTOR, "#messages img, #messages script") == []

    care = str(world_organisation_id(app, "CARE"))
    _choose(driver, "refer-to", care)
    page.click_to_load(driver.find_element(By.ID, "refer"), f"Referral {case_ref}")
    assert "did not keep access" in driver.find_element(By.CSS_SELECTOR, "main").text
    assert world.accounts[case_ref] not in driver.page_source
    page.screenshot("7-referred-on")
    assert severe_console_messages(driver) == []


def world_organisation_id(app, acronym: str) -> int:
    with app.extensions["intake"].sessions() as db:
        return db.execute(select(Organisation.id).where(Organisation.acronym == acronym)).scalar_one()
