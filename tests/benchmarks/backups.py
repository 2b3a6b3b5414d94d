"""Benchmark: `backup`, `restore` and `keys rotate` on a database of 10,000 reports (by default),
10,000 conversations half-way through a report, 10,000 registration records and an audit entry per
report, on SQLite and PostgreSQL. Prints a table; asserts only that each command succeeded.

    .venv/bin/python tests/benchmarks/backups.py [--reports 10000]
        [--postgres-server postgresql+psycopg://root@127.0.0.1:5432/postgres] [--no-postgres]

PostgreSQL runs in databases of their own, `bench_backup_source` and `bench_backup_target`
(dropped and created again each run), on the server of --postgres-server (default: the server of
TEST_DATABASE_URL, if set).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from intake.registration import DETAIL_FIELDS  # noqa: E402
from storage import registrations, reports, sealing  # noqa: E402
from storage.audit_log import audit  # noqa: E402
from storage.backup_crypto import new_identity  # noqa: E402
from storage.conversations import STATE_PURPOSE  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Conversation, Registration  # noqa: E402
from tests.support.directory import seed_directory  # noqa: E402

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def fill(app, count: int) -> None:
    runtime = app.extensions["intake"]
    vault = runtime.vault
    with runtime.transaction() as session:
        seeded = seed_directory(session, NOW)
    batch = 500
    for start in range(0, count, batch):
        with runtime.transaction() as session:
            for i in range(start, min(count, start + batch)):
                receipt = sealing.ReceiptSecrets(secrets.token_hex(32), os.urandom(32))
                new = reports.NewReport(recipient_organisation_id=seeded.dra.id, route="direct",
                                        named_organisation_id=seeded.dra.id, incident_period="this_month",
                                        township_pcode="MMR012001", state_pcode="MMR012", child_involved="no",
                                        affected="self", urgent=False, contact_allowed=False, receipt=receipt,
                                        content={"account": f"report {i}: " + "words " * 60})
                reports.file_report(session, new, now=NOW, ack_deadline=NOW + timedelta(days=1))
                session.add(Conversation(channel="sms", sender_key=secrets.token_hex(32), language="en",
                                         state=vault.seal_json({"flow": "report", "step": "when",
                                                                "draft": {"account": ["x" * 200]}}, STATE_PURPOSE),
                                         last_active_at=NOW, turns=5, created_at=NOW))
                row = Registration(status="active")
                values = {name: "" for name in DETAIL_FIELDS} | {
                    "registration_number": f"MMR-26-{i:06d}", "given_name": "Aye", "family_name": "Chan",
                    "date_of_birth": "1990-04-17", "sex": "F", "phone": "", "township": "MMR013017",
                    "education": "PRIM", "occupation": "DAYL", "needs": "", "language": "en"}
                registrations.write_details(vault, row, values, NOW)
                session.add(row)
                audit(session, now=NOW, action="report_filed", detail=f"{i}")


def timed(app, *args: str) -> float:
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=list(args))
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    return elapsed


def run(kind: str, source_url: str, target_url: str, folder: Path, count: int) -> dict:
    identity = new_identity()
    identity_file = folder / f"{kind}-identity.txt"
    identity_file.write_text(identity.text())
    common = {"SECRET_KEY": "bench-secret-" + "z" * 32, "BACKUP_RECIPIENTS": identity.public, "LANGUAGES": "en,my"}
    upgrade(source_url)
    source = create_app({**common, "DATABASE_URL": source_url, "DATA_KEY_FILE": str(folder / f"{kind}-source.key")})
    started = time.perf_counter()
    fill(source, count)
    filled = time.perf_counter() - started
    output = folder / f"{kind}.backup"
    figures = {"fill": filled, "backup": timed(source, "backup", "--output", str(output)),
               "size": output.stat().st_size}
    target = create_app({**common, "DATABASE_URL": target_url, "DATA_KEY_FILE": str(folder / f"{kind}-target.key")})
    figures["restore"] = timed(target, "restore", "--input", str(output), "--identity", str(identity_file))
    figures["rotate"] = timed(source, "keys", "rotate")
    source.extensions["intake"].close()
    target.extensions["intake"].close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--postgres-server", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        rows.append(("SQLite", run("sqlite", f"sqlite:///{folder / 'source.sqlite3'}",
                                   f"sqlite:///{folder / 'target.sqlite3'}", folder, options.reports)))
        if options.postgres_server and not options.no_postgres:
            server = make_url(options.postgres_server)
            admin = make_engine(options.postgres_server, timeout=None, isolation_level="AUTOCOMMIT")
            names = ("bench_backup_source", "bench_backup_target")
            with admin.connect() as connection:
                for name in names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
            urls = [server.set(database=name).render_as_string(hide_password=False) for name in names]
            rows.append(("PostgreSQL", run("postgresql", *urls, folder, options.reports)))
            with admin.connect() as connection:
                for name in names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"{options.reports} reports, conversations, registrations and audit entries each; seconds, wall clock")
    print(f"{'database':<11} {'backup':>7} {'size MB':>8} {'restore':>8} {'rotate':>7}")
    for name, figures in rows:
        print(f"{name:<11} {figures['backup']:>7.1f} {figures['size'] / 1e6:>8.1f} {figures['restore']:>8.1f} "
              f"{figures['rotate']:>7.1f}")


if __name__ == "__main__":
    main()
