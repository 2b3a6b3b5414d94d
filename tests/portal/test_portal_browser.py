"""The portal in a real browser (Debian's chromium, headless, through chromedriver): a focal point
logs in through the form, sees the list, opens a referral, reads it, acknowledges it and sees the
status change, with the real CSP, cookies and Fetch Metadata headers in play.

The browser, server and skip-or-fail fixtures are the simulator's (tests/bot/test_browser.py):
without chromium these tests skip, or fail under REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from tests.bot.test_browser import (  # noqa: F401  (fixtures are found by name)
    PNG_SIGNATURE, WAIT_SECONDS, browser_installed, driver, live_server, severe_console_messages,
)
from tests.portal.conftest import PASSWORD


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

    def log_in(self, email: str, password: str, lands_on: str) -> None:
        self.driver.get(f"{self.base_url}/portal/")
        self.wait_for_heading("Log in")
        self.driver.find_element(By.ID, "email").send_keys(email)
        self.driver.find_element(By.ID, "password").send_keys(password)
        self.screenshot("1-login")
        self.click_to_load(self.driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"), lands_on)

    def status_of(self, case_ref: str) -> str:
        row = self.driver.find_element(By.XPATH, f"//tbody/tr[th/a[normalize-space()='{case_ref}']]")
        return row.find_elements(By.TAG_NAME, "td")[-1].text


@pytest.mark.browser
def test_a_focal_point_reads_and_acknowledges_a_referral(live_server, driver, world, tmp_path):
    page = PortalPage(driver, live_server, tmp_path)
    case_ref = world.case_refs["SAVE"][1]
    account = world.accounts[case_ref]

    page.log_in(world.emails["save"], PASSWORD, lands_on="Referrals for SAVE organisation")
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

    page.click_to_load(driver.find_element(By.ID, "acknowledge"), "Referrals for SAVE organisation")
    assert f"Referral {case_ref} is acknowledged." in driver.find_element(By.CSS_SELECTOR, ".flash").text
    assert page.status_of(case_ref) == "Acknowledged"
    page.screenshot("4-acknowledged")

    page.click_to_load(driver.find_element(By.CSS_SELECTOR, "form.logout button"), "Log in")
    assert "You are logged out." in driver.find_element(By.CSS_SELECTOR, ".flash").text
    driver.get(f"{live_server}/portal/referrals/{case_ref}")
    page.wait_for_heading("Log in")
    # No CSP violation, script error or failed load anywhere on the way.
    assert severe_console_messages(driver) == []


@pytest.mark.browser
def test_a_coordinator_sees_counts_and_a_wrong_password_is_refused(live_server, driver, world, tmp_path):
    page = PortalPage(driver, live_server, tmp_path)
    page.log_in(world.emails["coord"], "not the password", lands_on="Log in")
    assert driver.find_element(By.CSS_SELECTOR, "[role=alert]").text == "Email or password is wrong"

    driver.find_element(By.ID, "password").send_keys(PASSWORD)  # the email stays filled in
    page.click_to_load(driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"),
                       "Referrals for PSEAN organisation")
    page.click_to_load(driver.find_element(By.LINK_TEXT, "Overview"), "Overview")
    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert rows == ["CARE 2026-11 Received 1 0 0 0", "PSEAN 2026-11 Received 1 0 0 0",
                    "SAVE 2026-11 Received 2 1 1 0"]
    assert all(account not in driver.page_source for account in world.accounts.values())
    page.screenshot("5-overview")
    # Chromium logs the refused login's 401 answer; nothing else may be logged.
    logged = severe_console_messages(driver)
    assert len(logged) == 1 and "/portal/login" in logged[0] and "401" in logged[0], logged
