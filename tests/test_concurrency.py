"""Several people at once, through the real server (`python app.py`, threaded, as `make run`
starts it) with the real Argon2 cost: two reporters pressing Send together, two focal points
logging in together, a spray of wrong logins while SMS keeps arriving. Each of these once wedged
the process or lost messages (a concurrent Argon2 hang; password checks holding SQLite's lock)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time

import pytest
import requests
from argon2 import PasswordHasher

from storage import accounts, sealing
from tests.conftest import TWILIO_TOKEN
from tests.support import directory as d
from tests.support.http_clients import REQUEST_TIMEOUT, HttpPhone, portal_login
from tests.support.play import Sms, play_report
from tests.support.server import REPO, free_port, serve_app, wait_until_healthy

PASSWORD = "a long password for the portal"
# The report each phone plays up to its review; tests/support/play.py answers the other questions.
REPORT = {"organisation": "DRA", "where": "skip"}


@pytest.fixture
def real_costs(monkeypatch):
    """Accounts made here cost what production's cost (the suite lowers Argon2 elsewhere)."""
    monkeypatch.setattr(sealing, "DEFAULT_KDF", sealing.STRONG)
    monkeypatch.setattr(sealing, "RECEIPT_KDF", sealing.RECEIPT_STRONG)
    monkeypatch.setattr(accounts, "password_hasher", PasswordHasher())


@pytest.fixture
def server(make_app, database_url, tmp_path, real_costs):
    """The directory and two focal points (real password costs) in the test database, then the
    real server on it. Yields (base URL, app that seeded it, extra settings)."""
    app = d.with_directory(make_app())
    for organisation, acronym in ((app.seeded.dra, "DRA"), (app.seeded.ehp, "EHP")):
        runtime = app.extensions["intake"]
        with runtime.sessions() as session:
            user = accounts.create_user(session, email=f"fp@{acronym.lower()}.example.org", role="focal_point",
                                        password=PASSWORD, organisation=organisation, now=runtime.clock())
            accounts.grant_with_recovery_key(session, organisation, user, app.seeded.recovery[acronym],
                                             runtime.clock())
            session.commit()
    port, settings = free_port(), app.extensions["intake"].settings
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), DATABASE_URL=database_url,
               SECRET_KEY=settings.secret_key, DATA_KEY_FILE=settings.data_key_file,
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
               TWILIO_AUTH_TOKEN=TWILIO_TOKEN, OUTBOX_WORKER="0", LANGUAGES="en,my", PYTHONUNBUFFERED="1",
               # These tests are about locks, not limits: every wrong login is checked (Argon2 and all).
               PORTAL_LOGIN_LIMIT="100000 per minute", PORTAL_LOGIN_GLOBAL_LIMIT="100000 per minute",
               PORTAL_LOCKOUT_ATTEMPTS="100000")
    log_path = tmp_path / "server.log"
    with serve_app(env, log_path) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(base_url, process, log_path)
        yield base_url


def up_to_the_review(phone: HttpPhone) -> None:
    """A report answered up to its review, each message answered 200 (Sms checks it)."""
    play_report(Sms(phone), until="review", **REPORT)


def together(*calls):
    """Run the calls at the same moment on their own threads; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # a timeout is a result too: the test asserts on it
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_TIMEOUT + 5)
    return results


# In a child process: a derivation that hangs may hold the interpreter, so the test must be able
# to give up on the whole process.
EIGHT_AT_ONCE = """
import threading
from storage import sealing
receipts = [sealing.new_receipt() for _ in range(8)]
alone = sealing.receipt_secrets(receipts[0], b"p" * 32, sealing.STRONG, salt=b"s" * 16)
results = [None] * 8
def derive(i):
    results[i] = sealing.receipt_secrets(receipts[i], b"p" * 32, sealing.STRONG, salt=b"s" * 16)
threads = [threading.Thread(target=derive, args=(i,)) for i in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
assert results[0] == alone, "a derivation gave another result beside others"
assert len({result.wrap_key for result in results}) == 8
print("8 derivations done")
"""


def test_eight_derivations_at_once_all_finish_with_the_right_keys():
    try:
        result = subprocess.run([sys.executable, "-c", EIGHT_AT_ONCE], cwd=REPO, capture_output=True, text=True,
                                timeout=REQUEST_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"8 concurrent Argon2 derivations did not finish within {REQUEST_TIMEOUT} s (one alone: 0.1 s)")
    assert result.returncode == 0, result.stderr
    assert "8 derivations done" in result.stdout


def test_two_sends_and_two_logins_at_once_through_the_real_server(server):
    phones = [HttpPhone(server, "+959450000101"), HttpPhone(server, "+959450000102")]
    for phone in phones:
        up_to_the_review(phone)
    sends = together(*[lambda p=p: p.send("1") for p in phones])
    for answer in sends:
        assert isinstance(answer, requests.Response) and answer.status_code == 200, answer
        assert "Receipt number: " in answer.text

    logins = together(portal_login(server, "fp@dra.example.org", PASSWORD), portal_login(server, "fp@ehp.example.org", PASSWORD))
    for answer in logins:
        assert isinstance(answer, requests.Response) and answer.status_code == 302, answer
    # Nothing was left holding a lock: the next report and the next login go through too.
    later = HttpPhone(server, "+959450000103")
    up_to_the_review(later)
    assert "Receipt number: " in later.send("1").text
    assert portal_login(server, "fp@dra.example.org", PASSWORD)().status_code == 302


def test_a_spray_of_wrong_logins_loses_no_sms(server, database_url):
    """16 browsers guessing passwords as fast as the server answers, while 60 signed SMS arrive:
    every webhook is answered 200 (Twilio does not retry a messaging webhook: a 503 is a lost
    message)."""
    stop = threading.Event()
    guesses = []

    def spray(number):
        submit = portal_login(server, f"nobody{number}@example.org", "wrong password")
        while not stop.is_set():
            guesses.append(submit().status_code)

    sprayers = [threading.Thread(target=spray, args=(n,)) for n in range(16)]
    for thread in sprayers:
        thread.start()
    try:
        statuses, latencies = [], []
        while len(guesses) < 16:  # the spray is under way
            time.sleep(0.05)
        for number in range(60):  # one message every 100 ms or so, as a busy number gets them
            phone = HttpPhone(server, f"+95945001{number:04d}")
            started = time.monotonic()
            statuses.append(phone.send("hello").status_code)
            latencies.append(time.monotonic() - started)
            time.sleep(max(0.0, 0.1 - latencies[-1]))
    finally:
        stop.set()
        for thread in sprayers:
            thread.join(REQUEST_TIMEOUT + 5)
    print(f"\nspray on {database_url.split(':')[0]}: {len(guesses)} wrong logins; webhooks "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    assert len(guesses) >= 16 and set(guesses) == {401}
    assert statuses == [200] * 60
