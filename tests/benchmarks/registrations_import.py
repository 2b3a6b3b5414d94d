"""Benchmark: `flask --app app registrations import` of a generated file (100,000 rows by default),
a first import and a re-import of the same file (every row unchanged), beside the floor: a plain
bulk insert of the same rows, unsealed, into a one-table schema. Prints a table; asserts nothing.

    .venv/bin/python tests/benchmarks/registrations_import.py [--rows 100000]
        [--postgres-server postgresql+psycopg://root@127.0.0.1:5432/postgres] [--no-postgres]

SQLite runs on fresh files in a temporary folder. PostgreSQL runs in a database of its own,
`bench_registrations` (dropped and created again each run), on the server of --postgres-server
(default: the server of TEST_DATABASE_URL, if set). The file is the same on every run (seeded):
households of one to seven people sharing a group number, names in Burmese, Karen and Latin
script, dates of birth known to the day, the month or the year, phones for most, needs for some,
and townships from the demo gazetteer, which is imported first.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.demo import DEMO_DIR  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.registration_import import HEADER  # noqa: E402

PG_DATABASE = "bench_registrations"
SEED = 20261201
GIVEN = ["Aung", "Kyaw", "Zaw", "Htet", "Min", "Thant", "Naing", "Hla", "Mya", "Thida", "Ei", "Nandar", "Su",
         "Khin", "Moe", "Saw", "Naw", "Paw", "Lwin", "Win", "Tun", "Soe", "Nyein", "Phyu", "Sandar",
         "အောင်", "ကျော်", "ဇော်", "လှ", "မြ", "သီတာ", "စန္ဒာ", "ခင်", "မိုး", "ဝင်း", "ထွန်း", "စိုး",
         "ကညီ", "ပီၤ", "ဖီ", "Brang", "Seng", "Lu", "Hkawn", "Ja", "Sai", "Nang", "Kham"]
FAMILY = ["", "", "", "", "", "Maung", "Lahpai", "Marip", "Hpaugyi", "Sein", "Paw", "Oo"]
PREFIX = ["", "", "U ", "Daw ", "Ko ", "Ma ", "Saw ", "Naw ", "ဦး", "ဒေါ်"]


def generate(path: Path, rows: int, townships: list[str]) -> None:
    """A deterministic registrations file of `rows` rows."""
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        written, group = 0, 0
        while written < rows:
            group += 1
            township = rng.choice(townships)
            language = rng.choice(["my", "my", "my", "en", "kac", "ksw", "shn", ""])
            for _member in range(min(rng.randint(1, 7), rows - written)):
                written += 1
                year = rng.randint(1940, 2025)
                precision = rng.random()
                if precision < 0.8:
                    dob = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                elif precision < 0.9:
                    dob = f"{year}-{rng.randint(1, 12):02d}"
                else:
                    dob = str(year)
                needs = rng.sample(["DS", "SM", "SM-1", "CR", "ER", "WR", "SP", "SC", "FU", "LP", "SV", "TR", "PG"],
                                   k=rng.choice([0, 0, 0, 0, 1, 1, 2]))
                writer.writerow([
                    f"MMR-{17 + written % 8}-{written:07d}", f"G-{group:06d}",
                    rng.choice(PREFIX) + " ".join(rng.sample(GIVEN, k=rng.randint(1, 3))), rng.choice(FAMILY),
                    dob, rng.choice("FFMMX" if rng.random() < 0.02 else "FM"),
                    f"+959{rng.randint(200000000, 799999999)}" if rng.random() < 0.7 else "",
                    township if rng.random() < 0.95 else "",
                    rng.choice(["", "NONE", "PRIM", "PRIM", "MIDL", "HIGH", "VOC", "UNIV", "MON", "OTH"]),
                    rng.choice(["", "FARM", "DAYL", "DAYL", "TRADE", "SKILL", "CARE", "STUD", "NONE", "OTH"]),
                    ";".join(needs), language, "active" if rng.random() < 0.95 else "inactive",
                ])


def demo_townships() -> list[str]:
    with (DEMO_DIR / "townships.csv").open(encoding="utf-8") as handle:
        return [row["pcode"] for row in csv.DictReader(handle)]


# --- the import through the command ---------------------------------------------------------------

def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_imports(database_url: str, csv_path: Path, workdir: Path) -> list[tuple[str, float, str, float]]:
    """(run, seconds, summary line, the process's peak RSS so far) of a first import and a
    re-import of the same file."""
    upgrade(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                      "DATA_KEY_FILE": str(workdir / "data.key"), "PUBLIC_BASE_URL": "https://bench.example.org"})
    runner = app.test_cli_runner()
    gazetteer = runner.invoke(args=["gazetteer", "import", str(DEMO_DIR / "townships.csv")])
    assert gazetteer.exit_code == 0, gazetteer.output
    runs = []
    for name in ("first import", "re-import (unchanged)"):
        started = time.perf_counter()
        result = runner.invoke(args=["registrations", "import", str(csv_path)])
        elapsed = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        runs.append((name, elapsed, result.stdout.splitlines()[-1].strip(), max_rss_mib()))
    app.extensions["intake"].close()
    return runs


# --- the floor: the same rows, unsealed, in one plain table ---------------------------------------

def time_plain_insert(database_url: str, csv_path: Path, chunk: int = 2000) -> float:
    metadata = MetaData()
    table = Table("plain_registrations", metadata, Column("id", Integer, primary_key=True),
                  *(Column(name, String(250)) for name in HEADER))
    engine = make_engine(database_url, timeout=None)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    started = time.perf_counter()
    with engine.begin() as connection, csv_path.open(encoding="utf-8", newline="") as handle:
        batch = []
        for row in csv.DictReader(handle):
            batch.append(row)
            if len(batch) == chunk:
                connection.execute(insert(table), batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


# --- the databases --------------------------------------------------------------------------------

def fresh_postgres_database(server_url: str) -> str:
    """Drop and create PG_DATABASE on the server; return its URL."""
    server = make_url(server_url)
    admin = make_engine(server.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return server.set(database=PG_DATABASE).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres-server", default=os.environ.get("TEST_DATABASE_URL"),
                        help="any URL on the PostgreSQL server to use (its database is not touched)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-registrations-"))
    csv_path = workdir / "registrations.csv"
    started = time.perf_counter()
    generate(csv_path, args.rows, demo_townships())
    print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 2**20:.1f} MiB) in "
          f"{time.perf_counter() - started:.1f} s; {os.cpu_count()} cores")

    targets = [("SQLite", lambda name: f"sqlite:///{workdir / name}.sqlite3")]
    if args.postgres_server and not args.no_postgres:
        url = fresh_postgres_database(args.postgres_server)
        targets.append(("PostgreSQL", lambda name: url))
    table = []
    for kind, url_for in targets:
        for name, seconds, said, rss in time_imports(url_for("intake"), csv_path, workdir):
            table.append((kind, f"registrations import: {name}", seconds, said, rss))
        seconds = time_plain_insert(url_for("plain"), csv_path)
        table.append((kind, "floor: plain bulk insert, unsealed, one table", seconds, "", max_rss_mib()))
    width = max(len(row[1]) for row in table)
    print(f"\n| database   | {'run'.ljust(width)} | seconds | rows/s  | peak RSS so far |")
    print(f"|------------|-{'-' * width}-|---------|---------|-----------------|")
    for kind, name, seconds, _said, rss in table:
        print(f"| {kind.ljust(10)} | {name.ljust(width)} | {seconds:7.1f} | {args.rows / seconds:7,.0f} "
              f"| {rss:11.0f} MiB |")
    print()
    for kind, name, _seconds, said, _rss in table:
        if said:
            print(f"{kind}, {name}: {said}")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other work on the machine "
          "slows the scrypt phase)")


if __name__ == "__main__":
    main()
