"""`python app.py`, the real entry point `make run` uses, in a child process: it serves on HOST:PORT
after `flask db upgrade`, answers /healthz and the simulator, stops on SIGTERM, and refuses to start
on a bad setting with a message that names it."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
START_SECONDS = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server_env(tmp_path) -> dict:
    """The environment of a fresh deployment in tmp_path (nothing written to instance/)."""
    env = dict(os.environ)  # already cleared of the service's settings by tests/conftest.py
    env.update({
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "DATA_KEY_FILE": str(tmp_path / "data.key"),
        "SECRET_KEY": "serve-test-secret-key-" + "s" * 32,
        "OUTBOX_WORKER": "1",
        "SIMULATOR_ENABLED": "1",  # as `make run` sets it
        "PYTHONUNBUFFERED": "1",
    })
    return env


def output_of(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def served(server_env, tmp_path):
    """Migrate with `flask db upgrade`, start `python app.py`; yields (base URL, process).
    The process is always terminated, and killed if SIGTERM does not stop it."""
    upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=REPO,
                             env=server_env, capture_output=True, text=True, timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "database is up to date" in upgrade.stdout

    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=server_env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{server_env['PORT']}", process, log_path
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_until_healthy(base_url: str, process, log_path: Path) -> dict:
    """Poll /healthz until it answers 200 (bounded); fail with the server's output otherwise."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"app.py exited with {process.returncode}:\n{output_of(log_path)}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet
        if time.monotonic() > deadline:
            pytest.fail(f"/healthz did not answer 200 within {START_SECONDS} s:\n{output_of(log_path)}")
        time.sleep(0.1)  # polling interval, not synchronisation: the loop checks the real state


def test_app_py_serves_health_and_the_simulator_then_stops_on_sigterm(served):
    base_url, process, log_path = served
    health = wait_until_healthy(base_url, process, log_path)
    assert health["status"] == "ok" and health["database"] == "ok"

    with urllib.request.urlopen(f"{base_url}/simulator", timeout=5) as response:
        assert response.status == 200
        assert "simulator" in response.read().decode("utf-8")

    # A conversation through the real server, with the session cookie a browser would keep.
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def say(text: str) -> str:
        request = urllib.request.Request(f"{base_url}/simulator/messages", method="POST",
                                         data=json.dumps({"text": text, "style": "sms"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with opener.open(request, timeout=5) as response:
            return json.load(response)["replies"][0]["text"]

    assert say("hello").startswith("Choose your language:")
    assert "1. Report a concern" in say("1")

    process.terminate()
    try:
        returncode = process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("app.py did not stop within 10 s of SIGTERM")
    assert returncode in (0, -signal.SIGTERM)
    with pytest.raises(ConnectionRefusedError):  # nothing left behind serving the port
        socket.create_connection(("127.0.0.1", int(base_url.rsplit(":", 1)[1])), timeout=2).close()
    assert "outbox worker started" in output_of(log_path)  # OUTBOX_WORKER=1 ran it in-process


def test_app_py_refuses_an_unknown_language_quickly(server_env):
    server_env["LANGUAGES"] = "en,xx"
    # Quickly: the timeout fails the test if app.py starts serving instead of exiting.
    result = subprocess.run([sys.executable, "app.py"], cwd=REPO, env=server_env,
                            capture_output=True, text=True, timeout=START_SECONDS)
    assert result.returncode != 0
    assert "xx" in result.stderr and "LANGUAGES" in result.stderr
    assert "Traceback" not in result.stderr  # a message for the operator, not a crash
