"""The real entry points in child processes: `python app.py` (what `make run` starts) serves on
HOST:PORT after `flask db upgrade`, answers /healthz and the simulator, stops on SIGTERM, and
refuses to start on a bad setting with a message that names it; `make serve`, the deployment
command, runs gunicorn and the outbox worker with the simulator off."""

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

import pytest

from tests.support.server import (
    REPO, START_SECONDS, free_port, output_of, running, serve_app, wait_until_healthy,
)

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
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def served(server_env, tmp_path):
    """Migrate with `flask db upgrade`, start `python app.py`; yields (base URL, process, log)."""
    upgrade = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=REPO,
                             env=server_env, capture_output=True, text=True, timeout=60)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "database is up to date" in upgrade.stdout
    log_path = tmp_path / "server.log"
    with serve_app(server_env, log_path) as process:
        yield f"http://127.0.0.1:{server_env['PORT']}", process, log_path


def test_app_py_serves_health_and_the_simulator_then_stops_on_sigterm(served):
    base_url, process, log_path = served
    health = wait_until_healthy(base_url, process, log_path)
    assert health["status"] == "ok" and health["database"] == "ok"

    with urllib.request.urlopen(f"{base_url}/simulator", timeout=5) as response:
        assert response.status == 200
        assert "simulator" in response.read().decode("utf-8")
        assert response.headers["Server"] == "intake"  # no Werkzeug or Python version for probers

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


def test_make_serve_runs_gunicorn_and_the_worker_with_no_simulator(server_env, tmp_path):
    server_env["WORKERS"] = "2"
    log_path = tmp_path / "serve.log"
    with running(["make", "--no-print-directory", "serve"], server_env, log_path) as process:
        base_url = f"http://127.0.0.1:{server_env['PORT']}"
        assert wait_until_healthy(base_url, process, log_path)["status"] == "ok"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base_url}/simulator", timeout=5)
        assert refused.value.code == 404
        assert refused.value.headers["Server"] == "intake"  # not gunicorn's name
        deadline = time.monotonic() + START_SECONDS
        while "outbox worker started" not in output_of(log_path) and time.monotonic() < deadline:
            time.sleep(0.1)  # polling the log, bounded
        assert "outbox worker started" in output_of(log_path)
        assert "Booting worker" in output_of(log_path)  # gunicorn's
    assert process.returncode is not None  # stopped, worker and all
