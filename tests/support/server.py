"""The real server in a child process (`python app.py`, what `make run` starts, or any other
command), for tests that need real concurrency: threads, sockets, the Argon2 cost of the real
parameters (the in-process tests lower it), and a process that can hang."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
# A cold start imports ICU, the Zawgyi model and the models; gunicorn's workers each do it. On a
# loaded 2-core machine that took more than 15 s once, so the wait is generous (it ends as soon
# as /healthz answers).
START_SECONDS = 45


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def output_of(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def running(command: list[str], env: dict, log_path: Path) -> Iterator[subprocess.Popen]:
    """Start `command` in the repository with `env`, output to `log_path`; always stop it (its
    whole process group: SIGTERM, then SIGKILL if that does not do)."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)


def serve_app(env: dict, log_path: Path):
    """`python app.py` as `make run` starts it (after migrations, which the caller applies)."""
    return running([sys.executable, "app.py"], env, log_path)


def wait_until_healthy(base_url: str, process, log_path: Path) -> dict:
    """Poll /healthz until it answers 200 (bounded); fail with the server's output otherwise."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{output_of(log_path)}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet
        if time.monotonic() > deadline:
            pytest.fail(f"/healthz did not answer 200 within {START_SECONDS} s:\n{output_of(log_path)}")
        time.sleep(0.1)  # polling interval, not synchronisation: the loop checks the real state
