"""Self-service from end to end, as the registration office and a person live it: the office
imports its records; the person proves who they are over the Twilio webhook and asks to change
township and declares a need; a caseworker approves in a real browser; the worker tells the
person by SMS (the fake Twilio API); the export carries the change back; the person sees the new
township on record, then erases their details, after which their date of birth proves nothing
and the history stays without its values."""

from __future__ import annotations

import csv
import io

import pyotp
import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from bot.delivery.worker import OutboxWorker
from storage import accounts
from storage.demo import DEMO_DIR
from storage.models import RegistrationHistory
from tests.bot.test_browser import (  # noqa: F401  (fixtures are found by name)
    browser_installed, driver, live_server, severe_console_messages,
)
from tests.bot.test_update_details import CHOOSE, choose, prove
from tests.conftest import Phone
from tests.portal.test_portal_browser import PortalPage
from tests.support.registrations import PHONE

CASEWORKER, PASSWORD = "caseworker@registration.example.org", "a long caseworker password"
FILE = ("registration_number,group_number,given_name,family_name,date_of_birth,sex,phone,township,education,"
        "occupation,needs,language,status\n"
        f"MMR-17-000123,G-1,Aye,Chan Qv8,1990-04-17,F,{PHONE},MMR013017,PRIM,DAYL,,en,active\n"
        "MMR-17-000124,G-1,Mya,Chan,1992,F,,MMR013017,,,SM,my,active\n")


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.browser
def test_from_import_to_erasure(make_app, fake_twilio, live_server, driver, tmp_path):
    app = make_app(TWILIO_API_BASE_URL=fake_twilio.url)  # the same database as the live server's
    run(app, "gazetteer", "import", str(DEMO_DIR / "townships.csv"))
    (tmp_path / "registrations.csv").write_text(FILE)
    assert "2 new" in run(app, "registrations", "import", str(tmp_path / "registrations.csv")).output
    runtime = app.extensions["intake"]
    with runtime.transaction() as session:
        accounts.create_user(session, email=CASEWORKER, role="caseworker", password=PASSWORD, organisation=None,
                             now=runtime.clock())

    phone = Phone(app.test_client(), PHONE)
    replies = choose(phone, prove(phone), "Address")
    replies = phone.say("Sittwe")
    replies = choose(phone, phone.say("Ward 3, block 12"), "Needs")
    replies = phone.say("My son is sick and I cannot walk")
    assert "caseworker will look" in replies[0] and CHOOSE in replies[-1]
    choose(phone, replies, "I have finished")

    page = PortalPage(driver, live_server, tmp_path)
    driver.get(f"{live_server}/portal/changes")
    page.wait_for_heading("Log in")
    driver.find_element(By.ID, "email").send_keys(CASEWORKER)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    page.click_to_load(driver.find_element(By.CSS_SELECTOR, "form.stacked button[type=submit]"),
                       "Set up your security code")  # a new account sets its authenticator up first
    secret = driver.find_element(By.ID, "totp-secret").text.replace(" ", "")
    page.type_code(pyotp.TOTP(secret).at(runtime.clock()), "Changes to check")
    rows = driver.find_elements(By.CSS_SELECTOR, "#changes tbody tr")
    assert len(rows) == 3  # township, address, needs
    township_row = next(row for row in rows if "Sittwe" in row.text)
    assert "Botahtaung" in township_row.text and "MMR-17-000123" in township_row.text
    driver.find_element(By.ID, f"tick-{township_row.get_attribute('id').removeprefix('change-')}").click()
    page.click_to_load(driver.find_element(By.ID, "approve"), "Changes to check")
    assert "Approved 1 change" in driver.find_element(By.CSS_SELECTOR, ".flash").text
    assert severe_console_messages(driver) == []

    sent_before = len(fake_twilio.requests)
    OutboxWorker(runtime).run_once()
    [outcome] = fake_twilio.requests[sent_before:]
    assert outcome.to == PHONE and "accepted the update" in outcome.body
    assert "Sittwe" not in outcome.body and "MMR" not in outcome.body

    exported = run(app, "registrations", "export").stdout
    [row] = list(csv.DictReader(io.StringIO(exported)))
    assert (row["registration_number"], row["field"], row["old_value"], row["new_value"], row["channel"]) == (
        "MMR-17-000123", "township", "MMR013017", "MMR012001", "sms")

    replies = choose(phone, prove(phone), "See my data")
    assert "Township: Sittwe" in replies[0]
    replies = choose(phone, replies, "Erase my data")
    assert "erased" in choose(phone, replies, "Yes, erase them")[0]
    assert "do not match" in prove(Phone(app.test_client(), PHONE))[0]
    with runtime.sessions() as session:
        [history] = session.execute(select(RegistrationHistory)).scalars().all()
    assert history.field == "township" and history.old_value is None and history.new_value is None
