"""A voice note sent on Telegram, played by the focal point in a real browser: the report is filed
through the webhook (the voice note fetched from the fake Bot API and sealed), then the focal
point logs in to the portal served over loopback and the page's <audio> element loads the sound
from the route that opens it, under the portal's real CSP (media from 'self').

The browser fixtures are the simulator's (tests/bot/test_browser.py): without chromium this test
skips, or fails under REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import secrets

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.bot.test_browser import (  # noqa: F401  (fixtures are found by name)
    WAIT_SECONDS, browser_installed, driver, live_server, severe_console_messages,
)
from tests.bot.test_media import only_case_ref, to_the_account, wav_with
from tests.portal.conftest import give_totp
from tests.portal.test_portal_browser import PortalPage
from tests.support import directory as d
from tests.support.portal import totp_code
from tests.support.telegram_chat import CHAT, Person, telegram_settings
from tests.support.telegram_updates import UpdateFactory

PASSWORD = "a long password!"  # tests.support.directory.key_holder's


@pytest.mark.browser
def test_the_focal_point_plays_a_telegram_voice_note_in_the_portal(make_app, telegram, clock, live_server, driver,
                                                                  tmp_path):
    webhook_app = d.with_directory(make_app(**telegram_settings(telegram)))
    person = Person(webhook_app.test_client(), telegram, UpdateFactory(telegram, clock=clock))
    player = to_the_account(person)
    seconds = 0.75
    person.send(person.updates.audio(CHAT, wav_with(b"PLAY-" + secrets.token_hex(8).encode(), seconds=seconds)))
    player.play()
    assert player.receipt
    d.key_holder(webhook_app, webhook_app.seeded.dra, "DRA")
    email = "focal_point@dra.example.org"
    give_totp(webhook_app, email)
    case_ref = only_case_ref(webhook_app)

    page = PortalPage(driver, live_server, tmp_path)
    page.log_in(email, PASSWORD, lands_on="Referrals for Demo Relief Agency", code=totp_code(webhook_app, email))
    driver.get(f"{live_server}/portal/referrals/{case_ref}")
    page.wait_for_heading(f"Referral {case_ref}")
    audio = driver.find_element(By.CSS_SELECTOR, "dl.report audio[controls]")
    # HAVE_METADATA or more: the browser fetched the sound through the route and read it.
    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.execute_script("return arguments[0].readyState", audio) >= 1, "the audio did not load")
    duration = driver.execute_script("return arguments[0].duration", audio)
    assert abs(duration - seconds) < 0.05
    assert driver.execute_script("return arguments[0].error", audio) is None
    page.screenshot("voice-note")
    assert severe_console_messages(driver) == []  # no CSP violation, no failed load
