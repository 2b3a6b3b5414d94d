"""Benchmark: the SMS webhook end to end (signature check, lock, engine, sealed state, TwiML),
and the engine alone. Prints figures; asserts nothing.

    .venv/bin/python tests/benchmarks/webhook.py [--messages 2000] [--database-url URL]

Without --database-url it runs on a fresh SQLite file (and on TEST_DATABASE_URL if set).
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from twilio.request_validator import RequestValidator  # noqa: E402

from app import create_app  # noqa: E402
from i18n.catalogs import Catalogs  # noqa: E402
from intake import engine  # noqa: E402
from intake.engine import Context  # noqa: E402
from intake.messages import Inbound  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.support.postgres import private_schema  # noqa: E402

TOKEN = "bench-token"
BASE = "https://bench.example.org"
# A realistic mix: greetings, menu choices, keywords, invalid answers.
SCRIPT = ["hello", "1", "2", "help", "xyz", "3", "menu", "4", "2", "1", "back", "1"]


def bench_webhook(database_url: str, messages: int, senders: int) -> dict:
    if database_url.startswith("postgresql"):  # never touch real tables
        with private_schema(database_url, "bench") as url:
            return _bench_webhook(url, messages, senders)
    return _bench_webhook(database_url, messages, senders)


def _bench_webhook(database_url: str, messages: int, senders: int) -> dict:
    upgrade(database_url)
    workdir = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": BASE,
                      "SECRET_KEY": "b" * 40, "DATA_KEY_FILE": os.path.join(workdir, "data.key")})
    client = app.test_client()
    validator = RequestValidator(TOKEN)
    url = f"{BASE}/webhooks/twilio"
    numbers = [f"+9594{n:08d}" for n in range(senders)]
    latencies = []
    tracemalloc.start()
    started = time.perf_counter()
    for index in range(messages):
        params = {"MessageSid": f"SM{secrets.token_hex(16)}", "From": numbers[index % senders],
                  "To": "+15005550006", "Body": SCRIPT[(index // senders) % len(SCRIPT)], "NumMedia": "0"}
        signature = validator.compute_signature(url, params)
        t0 = time.perf_counter()
        response = client.post("/webhooks/twilio", data=urlencode(params),
                               content_type="application/x-www-form-urlencoded",
                               headers={"X-Twilio-Signature": signature})
        latencies.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.data
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    app.extensions["intake"].close()
    latencies.sort()
    return {
        "messages": messages,
        "messages_per_second": messages / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
        "max_ms": latencies[-1] * 1000,
        "python_peak_mib": peak / 2**20,
    }


def bench_engine(steps: int) -> dict:
    catalogs = Catalogs()
    ctx = Context(languages=catalogs.shipped, translate=catalogs.translate,
                  language_names={code: code for code in catalogs.shipped})
    state = None
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    for index in range(steps):
        state = engine.step(state, Inbound("sms", "k", SCRIPT[index % len(SCRIPT)], now), ctx).state
    elapsed = time.perf_counter() - started
    return {"steps": steps, "microseconds_per_step": elapsed / steps * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--database-url", action="append")
    args = parser.parse_args()
    urls = args.database_url
    if not urls:
        urls = [f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"]
        if os.environ.get("TEST_DATABASE_URL"):
            urls.append(os.environ["TEST_DATABASE_URL"])
    print(f"engine alone: {bench_engine(20_000)['microseconds_per_step']:.0f} µs per step")
    for url in urls:
        kind = url.split(":", 1)[0]
        figures = bench_webhook(url, args.messages, args.senders)
        print(f"webhook on {kind}: {figures['messages']} messages from {args.senders} senders, "
              f"{figures['messages_per_second']:.0f} msg/s, p50 {figures['p50_ms']:.1f} ms, "
              f"p95 {figures['p95_ms']:.1f} ms, max {figures['max_ms']:.1f} ms, "
              f"Python heap peak {figures['python_peak_mib']:.1f} MiB")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
