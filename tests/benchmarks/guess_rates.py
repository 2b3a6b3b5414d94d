"""Benchmark: how many guesses a minute the abuse limits let through, per route, from one address
and from many, against the real server (`python app.py`, the default limits, real Argon2 cost).
Prints a table; asserts nothing.

    .venv/bin/python tests/benchmarks/guess_rates.py [--seconds 60] [--addresses 20]

Each scenario tries as fast as it can for --seconds (a client told to wait, by a 429 or by the
portal's hold after wrong passwords, waits as told when that is within the run: the best an
attacker can do). "checked" counts the tries the service judged (a wrong password, a wrong
code, a wrong receipt or bearer token), "refused" the 429s. Client addresses are set with
X-Forwarded-For (TRUSTED_PROXIES=1), one count each; the per-address scenarios run together,
then the global ones (each limit's count for everyone is its own, but the per-address runs
would eat into it). Unknown emails are held exactly like real accounts, so no account is needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.migrate import upgrade  # noqa: E402
from tests.support.portal import csrf_token  # noqa: E402
from tests.support.server import free_port, serve_app, wait_until_healthy  # noqa: E402

TIMEOUT = 30


class Client:
    """One client address: a browser with its cookie and CSRF token."""

    def __init__(self, base_url: str, address: str):
        self.base_url, self.session = base_url, requests.Session()
        self.session.headers["X-Forwarded-For"] = address
        self._token = None

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.session.get(f"{self.base_url}/portal/login", timeout=TIMEOUT).text)
        return self._token

    def login(self, email: str) -> requests.Response:
        return self.session.post(f"{self.base_url}/portal/login", allow_redirects=False, timeout=TIMEOUT,
                                 data={"csrf_token": self.token(), "email": email, "password": "a wrong guess 123"})

    def simulator(self) -> requests.Response:
        self.session.cookies.clear()  # a new simulated sender each time
        return self.session.post(f"{self.base_url}/simulator/messages", json={"text": "hello"}, timeout=TIMEOUT)

    def api(self, token: str) -> requests.Response:
        return self.session.get(f"{self.base_url}/api/v1/counts", headers={"Authorization": f"Bearer {token}"},
                                timeout=TIMEOUT)


def numbered(try_with):
    """A try function that gives `try_with` a fresh number each time (another email, token)."""
    count = iter(range(10**9))
    return lambda: try_with(next(count))


def hammer(try_once, seconds: float, counts: dict, lock: threading.Lock) -> None:
    """Try until the run ends, waiting out a Retry-After that ends within it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            response = try_once()
        except requests.RequestException:  # the server too busy to answer in time: an outcome too
            with lock:
                counts["timeouts"] += 1
            continue
        with lock:
            counts["refused" if response.status_code == 429 else "checked"] += 1
        wait = int(response.headers.get("Retry-After", 0))
        if wait:
            if time.monotonic() + wait >= end:
                return
            time.sleep(wait)


def run_scenarios(scenarios: dict, seconds: float) -> dict:
    """{name: [try functions, one per client]} -> {name: counts}, all clients at once."""
    results, lock, threads = {}, threading.Lock(), []
    for name, tries in scenarios.items():
        results[name] = {"checked": 0, "refused": 0, "timeouts": 0, "clients": len(tries)}
        for try_once in tries:
            threads.append(threading.Thread(target=hammer, args=(try_once, seconds, results[name], lock), daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 4 * TIMEOUT)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--addresses", type=int, default=20, help="clients in the 'many addresses' runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        upgrade(url)
        port = free_port()
        env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), DATABASE_URL=url,
                   SECRET_KEY="bench-secret-key-" + "g" * 32, DATA_KEY_FILE=str(workdir / "data.key"),
                   PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", OUTBOX_WORKER="0", SIMULATOR_ENABLED="1",
                   TRUSTED_PROXIES="1")
        for name in [name for name in env if name.endswith("_LIMIT") or name.startswith("PORTAL_LOCKOUT")]:
            del env[name]  # the defaults, whatever this shell has set
        log = workdir / "server.log"
        base = f"http://127.0.0.1:{port}"
        with serve_app(env, log) as process:
            wait_until_healthy(base, process, log)
            one = {name: Client(base, f"198.51.100.{n + 1}") for n, name in enumerate(
                ["login one", "login many", "simulator", "api"])}
            per_address = {
                "/portal/login, one address, one email": [lambda: one["login one"].login("focal@example.org")],
                "/portal/login, one address, many emails": [
                    numbered(lambda n: one["login many"].login(f"x{n}@example.org"))],
                "/simulator/messages, one address": [one["simulator"].simulator],
                "/api/v1, one address (wrong tokens)": [numbered(lambda n: one["api"].api(f"guess-{n}"))],
            }
            many = [Client(base, f"203.0.113.{n + 1}") for n in range(args.addresses)]
            simulators = [Client(base, f"192.0.2.{n + 1}") for n in range(args.addresses)]
            api_callers = [Client(base, f"2001:db8:{n + 1:x}::1") for n in range(args.addresses)]
            everyone = {
                f"/portal/login, {args.addresses} addresses": [
                    numbered(lambda n, c=c: c.login(f"y{n}.{id(c)}@example.org")) for c in many],
                f"/simulator/messages, {args.addresses} addresses": [c.simulator for c in simulators],
                f"/api/v1, {args.addresses} addresses": [
                    numbered(lambda n, c=c: c.api(f"guess-{id(c)}-{n}")) for c in api_callers],
            }
            rows = run_scenarios(per_address, args.seconds) | run_scenarios(everyone, args.seconds)
    scale = 60 / args.seconds
    print(f"{'route and clients':<46} {'checked':>8} {'refused':>8} {'timeouts':>9} {'checked per minute':>19}")
    for name, row in rows.items():
        print(f"{name:<46} {row['checked']:>8} {row['refused']:>8} {row['timeouts']:>9} "
              f"{row['checked'] * scale:>19.0f}")
    print("(a run whose 'many addresses' login row has no refusals was bound by the CPU, not by the limit)")


if __name__ == "__main__":
    main()
