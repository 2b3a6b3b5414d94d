"""Benchmark: signed SMS webhooks against the real server (`python app.py`, threaded, real Argon2
cost) while browsers spray wrong passwords at the portal, beside the same webhooks with no spray.
Prints figures; asserts nothing.

    .venv/bin/python tests/benchmarks/login_spray.py [--messages 60] [--sprayers 16] [--database-url URL]

Without --database-url it runs on a fresh SQLite file (and on TEST_DATABASE_URL if set). The
login limit is lifted for the run: the figures are about locks, not about the limiter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.migrate import upgrade  # noqa: E402
from tests.support.http_clients import HttpPhone, portal_login  # noqa: E402
from tests.support.postgres import private_schema  # noqa: E402
from tests.support.server import free_port, serve_app, wait_until_healthy  # noqa: E402

TOKEN = "bench-token"


def _webhooks(base_url: str, messages: int) -> dict:
    """`messages` signed messages, about one every 100 ms; their outcome and latency."""
    statuses, latencies = [], []
    for number in range(messages):
        phone = HttpPhone(base_url, f"+95945002{number:04d}", token=TOKEN)
        started = time.monotonic()
        try:
            statuses.append(phone.send("hello").status_code)
        except Exception:  # a timeout is an outcome here
            statuses.append("timeout")
        latencies.append(time.monotonic() - started)
        time.sleep(max(0.0, 0.1 - latencies[-1]))
    latencies.sort()
    return {"failed": sum(status != 200 for status in statuses),
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
            "max_ms": latencies[-1] * 1000}


def _with_spray(base_url: str, messages: int, sprayers: int) -> dict:
    stop, guesses = threading.Event(), []

    def spray(number):
        submit = portal_login(base_url, f"nobody{number}@example.org", "wrong password")
        while not stop.is_set():
            try:
                guesses.append(submit().status_code)
            except Exception:
                guesses.append("timeout")

    threads = [threading.Thread(target=spray, args=(n,), daemon=True) for n in range(sprayers)]
    for thread in threads:
        thread.start()
    try:
        figures = _webhooks(base_url, messages)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    return figures | {"logins": len(guesses)}


def run(database_url: str, messages: int, sprayers: int, workdir: Path) -> list[tuple[str, dict]]:
    upgrade(database_url)
    port = free_port()
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), DATABASE_URL=database_url,
               SECRET_KEY="bench-secret-key-" + "b" * 32, DATA_KEY_FILE=str(workdir / "data.key"),
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", TWILIO_AUTH_TOKEN=TOKEN, OUTBOX_WORKER="0",
               SIMULATOR_ENABLED="0", PORTAL_LOGIN_LIMIT="1000000 per minute",
               PORTAL_LOGIN_GLOBAL_LIMIT="1000000 per minute", PORTAL_LOCKOUT_ATTEMPTS="1000000")
    log = workdir / f"server-{port}.log"
    with serve_app(env, log) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(base_url, process, log)
        return [("no spray", _webhooks(base_url, messages) | {"logins": 0}),
                (f"{sprayers} sprayers", _with_spray(base_url, messages, sprayers))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--sprayers", type=int, default=16)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        urls = [args.database_url] if args.database_url else (
            [f"sqlite:///{workdir / 'bench.sqlite3'}"] + ([os.environ["TEST_DATABASE_URL"]]
                                                          if os.environ.get("TEST_DATABASE_URL") else []))
        print(f"{'database':<12} {'run':<13} {'webhooks failed':>15} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'wrong logins':>13}")
        for url in urls:
            kind = url.split(":")[0].split("+")[0]
            if kind == "postgresql":
                with private_schema(url, "bench") as private:
                    rows = run(private, args.messages, args.sprayers, workdir)
            else:
                rows = run(url, args.messages, args.sprayers, workdir)
            for name, row in rows:
                print(f"{kind:<12} {name:<13} {row['failed']:>9}/{args.messages:<5} {row['p50_ms']:>8.0f} "
                      f"{row['p99_ms']:>8.0f} {row['max_ms']:>8.0f} {row['logins']:>13}")


if __name__ == "__main__":
    main()
