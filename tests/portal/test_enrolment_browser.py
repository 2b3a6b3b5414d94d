"""Setting TOTP up in a real browser (Debian's chromium, headless): the QR code is an inline SVG
that the portal's CSP lets through (no `data:` image, which `default-src 'self'` would block: tried,
Chromium refuses it and logs the violation), the key shown on the page works in an authenticator,
and the login lands on the referrals. And the admin and account pages load with nothing refused.

The browser, server and skip-or-fail fixtures are the simulator's (tests/bot/test_browser.py)."""

from __future__ import annotations

import pyotp
import pytest
from selenium.webdriver.common.by import By

from storage import accounts
from tests.bot.test_browser import (  # noqa: F401  (fixtures are found by name)
    browser_installed, driver, live_server, severe_console_messages,
)
from tests.portal.conftest import PASSWORD, totp_code
from tests.portal.test_portal_browser import PortalPage


@pytest.mark.browser
def test_a_new_focal_point_scans_the_code_and_logs_in(app, live_server, driver, world, clock, tmp_path):
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        organisation = session.get(accounts.Organisation,
                                   accounts.find_user(session, world.emails["save"]).organisation_id)
        accounts.create_user(session, email="first.login@example.org", role="focal_point", password=PASSWORD,
                             organisation=organisation, now=clock())
        session.commit()
    page = PortalPage(driver, live_server, tmp_path)
    page.log_in("first.login@example.org", PASSWORD, lands_on="Set up your security code")
    qr = driver.find_element(By.CSS_SELECTOR, "figure.qr svg.qr")
    assert qr.size["width"] >= 150 and qr.size["height"] == qr.size["width"]  # drawn, square
    assert driver.find_elements(By.TAG_NAME, "img") == []
    assert driver.find_element(By.ID, "otpauth-link").get_attribute("href").startswith("otpauth://totp/")
    page.screenshot("enrol")
    secret = driver.find_element(By.ID, "totp-secret").text.replace(" ", "")
    page.type_code(pyotp.TOTP(secret).at(clock()), "Referrals for SAVE organisation")
    # No CSP violation (an inline style or a data: image would be one), no script error.
    assert severe_console_messages(driver) == []


@pytest.mark.browser
def test_the_admin_and_account_pages_load_cleanly(app, live_server, driver, world, tmp_path):
    page = PortalPage(driver, live_server, tmp_path)
    driver.get(f"{live_server}/portal/admin/")
    page.wait_for_heading("Log in")  # and back to the admin pages after it
    driver.find_element(By.ID, "email").send_keys(world.emails["admin"])
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    page.click_to_load(driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"), "Security code")
    page.type_code(totp_code(app, world.emails["admin"]), "Accounts")
    for link, heading in (("Directory", "Directory"), ("Outbox", "Messages the outbox"), ("Audit log", "Audit log"),
                          ("Your account", "Your account"), ("Accounts", "Accounts")):
        page.click_to_load(driver.find_element(By.LINK_TEXT, link), heading)
    page.screenshot("account")
    assert severe_console_messages(driver) == []
