"""What one offline guess at a receipt costs, and what it tests, with the production parameters on
this machine. Prints a table and writes JSON (--json FILE); asserts nothing
(tests/storage/test_receipts.py holds the properties).

    .venv/bin/python tests/benchmarks/receipt_guess.py             # the table
    .venv/bin/python tests/benchmarks/receipt_guess.py --json out.json --rounds 5

An attacker holding the database and the server's secrets (`SECRET_KEY`, hence the pepper) runs
the derivation the server runs, as often as they like, on their own cores. For each candidate
parameter set it measures one derivation: wall time and CPU time (all of Argon2's lanes, so the
core-seconds an attacker pays), and the memory it needs. Then it shows what one guess tests:

* the receipts before (12 digits, one fixed salt): one derivation gives a lookup digest that is
  compared with every report's at once;
* the receipts now (18 digits; 16 between migration 0017 and this change): the first six digits
  name one report through a keyed digest (free for someone holding the pepper), and the
  derivation is salted with that report's own salt, so it is a guess at that report alone: the
  same guess derived for report A does not open report B even when it is B's receipt.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage import sealing  # noqa: E402
from storage.sealing import KdfParams  # noqa: E402

PEPPER = b"p" * 32
CANDIDATES = {
    "64 MiB, t=3, p=4 (the receipts before; passwords)": sealing.STRONG,
    "128 MiB, t=3, p=4 (receipts now; GlobaLeaks' memory)": sealing.RECEIPT_STRONG,
    "256 MiB, t=3, p=4": KdfParams(iterations=3, lanes=4, memory_kib=256 * 1024),
}
OLD_SPACE = 9 * 10 ** 11  # 12 digits, never starting with 0
SECRET_SPACE = 10 ** (sealing.RECEIPT_DIGITS - sealing.LOOKUP_DIGITS)  # what the lookup leaves secret


def _measure(params: KdfParams, rounds: int) -> dict:
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        sealing.receipt_secrets(sealing.new_receipt(), PEPPER, params, salt=sealing.new_receipt_salt())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"params": asdict(params),
            "wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
            "memory_mib": params.memory_kib / 1024}


def _what_one_guess_tests(reports: int) -> dict:
    """Counts, over `reports` reports of each kind, the reports one derivation is tried against."""
    fast = KdfParams(iterations=1, lanes=1, memory_kib=8 * 1024)  # same code; only counting here
    old = [sealing.receipt_secrets(f"{100000000000 + n:012d}", PEPPER, fast) for n in range(reports)]
    guess = sealing.receipt_secrets(f"{100000000000 + reports - 1:012d}", PEPPER, fast)
    old_tested = sum(1 for secrets in old if secrets.lookup == guess.lookup)
    old_compared = len(old)  # the guess's lookup is compared with every stored one: all are tested

    rows = []
    for n in range(reports):
        receipt = sealing.new_receipt()
        secrets = sealing.receipt_secrets(receipt, PEPPER, fast)
        key, _ = sealing.encrypt_content({"n": n})
        rows.append((receipt, secrets, sealing.wrap_for_receipt(key, secrets), key))
    target_receipt, target, target_wrap, target_key = rows[-1]
    opened = 0
    for receipt, secrets, wrap, _ in rows[:-1]:
        # B's own receipt, derived as a guess for the target (the target's salt): opens neither.
        guess = sealing.receipt_secrets(target_receipt, PEPPER, fast, salt=secrets.salt)
        for blob in (wrap, target_wrap):
            try:
                sealing.unwrap_with_receipt(blob, guess)
                opened += 1
            except sealing.SealError:
                pass
    right = sealing.receipt_secrets(target_receipt, PEPPER, fast, salt=target.salt)
    assert sealing.unwrap_with_receipt(target_wrap, right) == target_key
    return {"reports": reports, "old_scheme_reports_tested_per_guess": old_compared,
            "old_scheme_hits": old_tested,
            "new_scheme_reports_tested_per_guess": 1,
            "new_scheme_guesses_salted_for_another_report_that_opened_anything": opened}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reports", type=int, default=200, help="reports for 'what one guess tests'")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()

    measured = {name: _measure(params, args.rounds) for name, params in CANDIDATES.items()}
    production = measured[next(name for name, p in CANDIDATES.items() if p == sealing.RECEIPT_STRONG)]
    before = measured[next(name for name, p in CANDIDATES.items() if p == sealing.STRONG)]
    tests = _what_one_guess_tests(args.reports)
    figures = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine(),
                    "load_average": os.getloadavg()},
        "derivation": measured,
        "one_guess_tests": tests,
        "attacker_with_database_and_secrets": {
            "core_seconds_per_guess": production["cpu_s"],
            "guesses_per_report": SECRET_SPACE,
            "expected_core_seconds_per_report": SECRET_SPACE / 2 * production["cpu_s"],
            "before_expected_core_seconds_some_report_of_10000": OLD_SPACE / 10_000 / 2 * before["cpu_s"],
            "before_expected_core_seconds_one_chosen_report": OLD_SPACE / 2 * before["cpu_s"],
        },
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(f"{'parameters':<55} {'wall s':>7} {'CPU s':>7}")
    for name, row in measured.items():
        print(f"{name:<55} {row['wall_s']:>7.3f} {row['cpu_s']:>7.3f}")
    attacker = figures["attacker_with_database_and_secrets"]
    print(f"\none guess, receipts before: tried against all {tests['old_scheme_reports_tested_per_guess']} reports;"
          f" now: against 1 (guesses salted for another report that opened one: "
          f"{tests['new_scheme_guesses_salted_for_another_report_that_opened_anything']})")
    print(f"with the database and the server's secrets, now: {attacker['guesses_per_report']:.0e} guesses per "
          f"report, expected {attacker['expected_core_seconds_per_report']:.2e} core-seconds for any one report")
    print(f"before: {attacker['before_expected_core_seconds_some_report_of_10000']:.2e} core-seconds for some "
          f"report among 10,000; {attacker['before_expected_core_seconds_one_chosen_report']:.2e} for a chosen one")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
