"""The simulator page in a real browser: Debian's chromium, headless, driven through chromedriver
against the app served over loopback HTTP by werkzeug in a background thread.

Without chromium or chromedriver these tests are skipped, unless REQUIRE_BROWSER=1 (CI), where
a missing browser is a failure: a skipped browser test there would hide a broken page.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.serving import make_server

from tests.support import directory as d

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 15
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHROMIUM_ARGUMENTS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--window-size=600,900",
)


def check_browser_installed(paths=(CHROMIUM, CHROMEDRIVER), environ=os.environ) -> None:
    """Skip (or fail, under REQUIRE_BROWSER=1) when chromium or chromedriver is missing."""
    missing = [str(path) for path in paths if not (path.is_file() and os.access(path, os.X_OK))]
    if missing:
        reason = (f"browser test needs {' and '.join(missing)} "
                  "(Debian packages: chromium, chromium-driver)")
        if environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def browser_installed():
    check_browser_installed()


@pytest.fixture
def live_server(browser_installed, make_app):
    """The app on a free loopback port, served by a threaded werkzeug server; yields its URL."""
    yield from _serve(make_app)


@pytest.fixture
def live_server_with_directory(browser_installed, make_app):
    """The same, with the test directory seeded (so that a report can be started)."""
    yield from _serve(make_app, d.with_directory)


def _serve(make_app, prepare=lambda app: app):
    served = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: served["app"](environ, start), threaded=True)
    try:
        base_url = f"http://127.0.0.1:{server.server_port}"
        # The public URL is the one the browser uses, so the session cookie is not marked Secure.
        served["app"] = prepare(make_app(PUBLIC_BASE_URL=base_url))
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield base_url
        finally:
            server.shutdown()
            thread.join(timeout=WAIT_SECONDS)
            assert not thread.is_alive(), "the live server did not stop"
    finally:
        server.server_close()


@pytest.fixture
def driver(browser_installed, tmp_path):
    """Headless chromium with a fresh profile. Both paths are given, so selenium-manager never
    runs (it would try to download a browser or driver)."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (*CHROMIUM_ARGUMENTS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    browser = webdriver.Chrome(service=service, options=options)
    try:
        browser.set_page_load_timeout(WAIT_SECONDS)
        yield browser
    finally:
        browser.quit()


class SimulatorPage:
    """What a person sees and does on /simulator."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url

    def open(self) -> "SimulatorPage":
        self.driver.get(f"{self.base_url}/simulator")
        self.wait(lambda d: d.find_element(By.ID, "text").is_displayed())
        return self

    def wait(self, condition, message: str = ""):
        return WebDriverWait(self.driver, WAIT_SECONDS).until(condition, message)

    def bot_bubbles(self):
        return self.driver.find_elements(By.CSS_SELECTOR, "#log .bubble.bot")

    def errors(self):
        return self.driver.find_elements(By.CSS_SELECTOR, "#log .error")

    def after(self, action):
        """Do `action`, then wait for the bot's answer (or an error line) and return the answer."""
        replies, errors = len(self.bot_bubbles()), len(self.errors())
        action()
        self.wait(lambda d: len(self.bot_bubbles()) > replies or len(self.errors()) > errors,
                  "no answer appeared")
        assert len(self.errors()) == errors, self.errors()[-1].text
        self.assert_like_a_chat_app()
        return self.bot_bubbles()[-1]

    def assert_like_a_chat_app(self) -> None:
        """The message box stays on screen and the chat shows the end of the newest answer
        (buttons included) without the person having to scroll."""
        layout = self.driver.execute_script("""
            const box = (element) => element.getBoundingClientRect();
            const log = document.getElementById("log");
            return {viewport: window.innerHeight, input: box(document.getElementById("text")),
                    log: box(log), newest: box(log.lastElementChild)};
        """)
        assert 0 <= layout["input"]["top"] and layout["input"]["bottom"] <= layout["viewport"], \
            f"the message box is off screen: {layout}"
        assert layout["log"]["top"] < layout["newest"]["bottom"] <= layout["log"]["bottom"] + 1, \
            f"the newest answer is not scrolled into view: {layout}"

    def send(self, text: str):
        def type_and_send():
            self.driver.find_element(By.ID, "text").send_keys(text)
            self.driver.find_element(By.ID, "send").click()
        return self.after(type_and_send)

    def press(self, bubble, label: str):
        """Click the button labelled `label` under a bot bubble."""
        button = next(b for b in bubble.find_elements(By.CSS_SELECTOR, ".buttons button") if b.text == label)
        return self.after(button.click)

    def channel(self, value: str) -> None:
        Select(self.driver.find_element(By.ID, "style")).select_by_value(value)


def button_labels(bubble) -> list[str]:
    return [button.text for button in bubble.find_elements(By.CSS_SELECTOR, ".buttons button")]


def message_text(bubble) -> str:
    """A bot bubble's text without its buttons' labels."""
    return bubble.parent.execute_script("return arguments[0].firstChild.textContent;", bubble)


def severe_console_messages(driver) -> list[str]:
    """Script errors and failed loads the page logged (the favicon the page never declares aside)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]]


@pytest.mark.browser
def test_a_conversation_as_sms_then_with_telegram_buttons(live_server_with_directory, driver, tmp_path):
    page = SimulatorPage(driver, live_server_with_directory).open()
    assert "simulator" in driver.title

    languages = page.send("hello")
    assert "Choose your language:" in languages.text
    assert "1. English" in languages.text and "2. မြန်မာ" in languages.text
    assert button_labels(languages) == []

    menu = page.send("1")
    assert "What would you like to do?" in menu.text
    assert "1. Report a concern" in menu.text
    assert button_labels(menu) == []

    page.channel("telegram")
    menu = page.send("menu")
    assert "What would you like to do?" in message_text(menu)
    assert "1. Report a concern" not in message_text(menu)
    # numbered as the Telegram webhook's buttons, so "reply with one of the numbers" can be followed
    assert button_labels(menu) == ["1. Report a concern", "2. Update my details", "3. Check a report",
                                   "4. Change language"]
    wrong = page.send("something else")
    assert message_text(wrong).startswith("Please reply with one of the numbers below.")
    assert button_labels(wrong) == button_labels(menu)

    languages = page.press(wrong, "4. Change language")
    assert "Choose your language:" in message_text(languages)
    assert button_labels(languages) == ["1. English", "2. မြန်မာ"]

    stale = page.press(menu, "1. Report a concern")  # the menu's button, after the menu was answered
    assert stale.text == "That button is from an earlier question."
    assert "Choose your language:" in message_text(page.send("help"))  # the language question still waits
    languages = page.bot_bubbles()[-1]

    burmese_menu = page.press(languages, "2. မြန်မာ")
    assert "ဘာလုပ်လိုပါသလဲ" in burmese_menu.text
    assert len(button_labels(burmese_menu)) == 4

    screenshot = tmp_path / "simulator.png"
    assert driver.save_screenshot(str(screenshot))
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    assert severe_console_messages(driver) == []


@pytest.mark.browser
def test_new_person_clears_the_chat_and_starts_over(live_server, driver):
    page = SimulatorPage(driver, live_server).open()
    page.send("hello")
    assert "What would you like to do?" in page.send("1").text

    driver.find_element(By.ID, "reset").click()
    page.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, "#log > *"), "the chat was not cleared")

    # A new person has not chosen a language: the first message asks again.
    assert "Choose your language:" in page.send("hello").text
    assert severe_console_messages(driver) == []


def test_a_missing_browser_skips_with_a_reason_naming_it(tmp_path):
    absent = tmp_path / "chromium"
    with pytest.raises(pytest.skip.Exception, match=f"needs {re.escape(str(absent))} .*chromium-driver"):
        check_browser_installed((absent, CHROMEDRIVER), environ={"REQUIRE_BROWSER": "0"})


def test_a_missing_browser_fails_under_require_browser(tmp_path):
    absent = tmp_path / "chromedriver"
    with pytest.raises(pytest.fail.Exception, match=f"REQUIRE_BROWSER=1 but .*{re.escape(str(absent))}"):
        check_browser_installed((absent,), environ={"REQUIRE_BROWSER": "1"})
