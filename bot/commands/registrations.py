"""`flask --app app registrations import|export`: the registration system's records in, the
approved self-service changes out (the formats are in the README).

As with the other imports, a file with problems prints every one (`line N: column: reason`, never
the value of a personal column) and exits 1 with nothing imported. Nothing printed names a
person: the summary counts records, and the export's rows go only where the operator sends them.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import click
from flask.cli import AppGroup

from bot.commands.admin import CSV_FILE
from bot.runtime import current_runtime
from storage.csv_import import ImportRejected
from storage.registration_import import EXPORT_HEADER, approved_changes, import_registrations

registrations_group = AppGroup("registrations", help="Registration records of people of concern.")


@registrations_group.command("import")
@click.argument("path", metavar="FILE.csv", type=CSV_FILE)
@click.option("--deactivate-missing", is_flag=True,
              help="Mark inactive the records FILE.csv no longer lists (they are never deleted).")
def registrations_import(path: Path, deactivate_missing: bool) -> None:
    """Load or update registration records from FILE.csv."""
    runtime = current_runtime()
    started = time.perf_counter()
    try:
        result = import_registrations(runtime.transaction, runtime.vault, path.read_bytes(),
                                      languages=runtime.catalogs.shipped, now=runtime.clock(),
                                      deactivate_missing=deactivate_missing, progress=_progress)
    except ImportRejected as rejected:
        for problem in rejected.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{path.name}: {len(rejected.problems)} problem(s); nothing was imported.", err=True)
        raise SystemExit(1) from None
    elapsed = time.perf_counter() - started
    click.echo(f"Imported {path.name} in {elapsed:.1f} s:")
    click.echo(f"  registrations: {result.new} new, {result.updated} updated, {result.unchanged} unchanged, "
               f"{result.deactivated} deactivated, {result.erased_skipped} erased and skipped")
    if result.left_alone:
        click.echo(f"  {result.left_alone} active record(s) not in {path.name} were left as they are "
                   "(--deactivate-missing marks them inactive)")


def _on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def _progress(phase: str, total: int) -> Iterator:
    """A progress bar on stderr for one phase, only when a person is watching a terminal."""
    if not _on_terminal():
        yield lambda done: None
        return
    with click.progressbar(length=total, label=f"{phase:<9}", file=sys.stderr, show_pos=True) as bar:
        yield bar.update


@registrations_group.command("export")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Only changes decided on this day (UTC) or later.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), metavar="FILE",
              help="Write the CSV to FILE (readable by its owner only) instead of standard output.")
def registrations_export(since: datetime | None, output: Path | None) -> None:
    """The approved changes, oldest decision first, as CSV for the registration system."""
    runtime = current_runtime()
    with runtime.transaction() as session:
        rows = list(approved_changes(session, runtime.vault, since=since.date() if since else None))
    if output is None:
        _write_csv(sys.stdout, rows)
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # before a byte is written: a file that was there keeps its old mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        _write_csv(handle, rows)
    click.echo(f"{len(rows)} approved change(s) written to {output}", err=True)


def _write_csv(handle, rows: list[tuple[str, ...]]) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
