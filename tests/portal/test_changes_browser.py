"""The caseworkers' queue in a real browser (Debian's chromium, headless, through chromedriver): a
caseworker logs in through the form, lands on the queue, ticks two changes, approves them, and
sees them gone, with the real CSP, cookies, CSRF token and Fetch Metadata headers in play.

The browser, server and skip-or-fail fixtures are the simulator's (tests/bot/test_browser.py):
without chromium these tests skip, or fail under REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from storage.registrations import open_details
from tests.bot.test_browser import (  # noqa: F401  (fixtures are found by name)
    browser_installed, driver, live_server, severe_console_messages,
)
from tests.portal.conftest import PASSWORD, totp_code
from tests.portal.test_changes import NEW_PHONE, change, needs, queue, record  # noqa: F401  (needs, queue: fixtures)
from tests.portal.test_portal_browser import PortalPage


def listed(driver) -> list[str]:
    return [row.get_attribute("id") for row in driver.find_elements(By.CSS_SELECTOR, "#changes tbody tr")]


@pytest.mark.browser
def test_a_caseworker_ticks_two_changes_approves_them_and_sees_them_gone(app, live_server, driver, world, queue,
                                                                         needs, tmp_path):
    page = PortalPage(driver, live_server, tmp_path)
    phone, education = queue.changes["phone"], queue.changes["education"]

    driver.get(f"{live_server}/portal/changes")
    page.wait_for_heading("Log in")  # and back to the queue after it
    driver.find_element(By.ID, "email").send_keys(world.emails["caseworker"])
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    page.click_to_load(driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"), "Security code")
    page.type_code(totp_code(app, world.emails["caseworker"]), "Changes to check")
    assert driver.current_url == f"{live_server}/portal/changes"
    assert len(listed(driver)) == 7
    phone_row = driver.find_element(By.ID, f"change-{phone}").text
    assert "Phone number" in phone_row and NEW_PHONE in phone_row and "MMR-17-0123" in phone_row
    assert "Middle → High school" in driver.find_element(By.ID, f"change-{education}").text
    page.screenshot("1-queue")

    driver.find_element(By.ID, f"tick-{phone}").click()
    # The kind's name is the checkbox's label: clicking the words ticks it too.
    driver.find_element(By.CSS_SELECTOR, f"label[for=tick-{education}]").click()
    assert driver.find_element(By.ID, f"tick-{education}").is_selected()
    page.screenshot("2-ticked")
    page.click_to_load(driver.find_element(By.ID, "approve"), "Changes to check")

    assert "Approved 2 changes." in driver.find_element(By.CSS_SELECTOR, ".flash").text
    remaining = listed(driver)
    assert len(remaining) == 5 and f"change-{phone}" not in remaining and f"change-{education}" not in remaining
    assert "5 changes waiting" in driver.find_element(By.CSS_SELECTOR, "#changes caption").text
    page.screenshot("3-approved")

    assert change(app, phone).status == change(app, education).status == "approved"
    details = open_details(app.extensions["intake"].vault, record(app, queue, "MMR-17-0123"))
    assert (details["phone"], details["education"]) == (NEW_PHONE, "HIGH")

    page.click_to_load(driver.find_element(By.LINK_TEXT, "Needs"), "Who needs what")
    assert driver.find_element(By.ID, "need-DS").text == "Disability 12 <3 0 hidden"
    page.screenshot("4-needs")
    # No CSP violation, script error or failed load anywhere on the way.
    assert severe_console_messages(driver) == []
