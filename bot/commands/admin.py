"""The operator's commands (the README lists them): `directory import|list|export`, `gazetteer import`,
`emergency import`, `demo load` and `audit verify|show`; the `users` group is `bot.commands.users`.

They print plain messages, never tracebacks: exit status 1 when the request cannot be done (a file
with problems, an unknown organisation, a wrong recovery key), 2 when the command line is wrong.
Staff contact details are printed only where the operator asked for them.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from bot.commands.users import users_group
from bot.runtime import current_runtime
from storage import audit_log, demo, directory_listing
from storage.csv_import import ImportRejected, spreadsheet_safe
from storage.directory import import_directory
from storage.gazetteer import import_emergency_contacts, import_townships

directory_group = AppGroup("directory", help="The focal-point directory.")
gazetteer_group = AppGroup("gazetteer", help="The townships people can name.")
emergency_group = AppGroup("emergency", help="Emergency contacts shown to people in danger.")
demo_group = AppGroup("demo", help="Demo data for trying the service.")
audit_group = AppGroup("audit", help="The tamper-evident audit log.")
GROUPS = (directory_group, gazetteer_group, emergency_group, users_group, demo_group, audit_group)

CSV_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
DEMO_ACCOUNTS_FILE = "demo-accounts.txt"


# --- imports ----------------------------------------------------------------------------------

def _import(path: Path, do_import):
    """Run one import in its own transaction: commit when the file is good; otherwise print every
    problem to stderr and exit 1 with nothing written."""
    runtime = current_runtime()
    with runtime.transaction() as session:
        try:
            result = do_import(session, path.read_bytes())
        except ImportRejected as rejected:
            for problem in rejected.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{path.name}: {len(rejected.problems)} problem(s); nothing was imported.", err=True)
            raise SystemExit(1) from None
    return result


@directory_group.command("import")
@click.argument("path", metavar="FILE.csv", type=CSV_FILE)
def directory_import(path: Path) -> None:
    """Load or update organisations and their focal points from FILE.csv."""
    runtime = current_runtime()
    now, languages = runtime.clock(), runtime.catalogs.shipped

    def do_import(session, data):
        imported = import_directory(session, data, now=now, languages=languages)
        return imported, directory_listing.cannot_open(session)

    result, cannot_open = _import(path, do_import)
    click.echo(f"Imported {path.name}:")
    click.echo(f"  organisations: {result.organisations_new} new, {result.organisations_updated} updated, "
               f"{result.organisations_unchanged} unchanged")
    click.echo(f"  contacts: {result.contacts_new} new, {result.contacts_updated} updated, "
               f"{result.contacts_unchanged} unchanged, {result.contacts_deactivated} deactivated")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    _warn_cannot_open(cannot_open)
    _show_recovery_keys(result.recovery_keys)


def _warn_cannot_open(cannot_open: list[directory_listing.CannotOpen]) -> None:
    for item in cannot_open:
        click.echo(f"warning: {item}", err=True)
    if cannot_open:
        click.echo("  (create their accounts with `users create`; an account without the key gets it from a "
                   "colleague on the portal's Access page, or `users grant`)", err=True)


@directory_group.command("list")
def directory_list() -> None:
    """Organisations, their contacts, and who has a portal account that can open referrals."""
    with current_runtime().transaction() as session:
        listing = directory_listing.listing(session)
        cannot_open = directory_listing.cannot_open(session)
    if not listing:
        click.echo("The directory is empty (directory import).")
    for listed in listing:
        organisation = listed.organisation
        network = "  [PSEA Network]" if organisation.is_network else ""
        click.echo(f"{organisation.acronym}  {organisation.name}{network}")
        for entry in listed.contacts:
            contact = entry.contact
            reached = ", ".join(way for way in (contact.email, contact.phone, contact.telegram_chat_id) if way)
            if entry.blocker is None:
                state = f"account {entry.account.email}, holds the key"
            else:
                state = f"CANNOT OPEN REFERRALS: {entry.blocker}"
            inactive = "" if contact.active else " (no longer in the directory)"
            click.echo(f"  {contact.role:<11}  {contact.name}{inactive}  <{reached}>  townships {contact.townships}"
                       f"  languages {contact.languages or '-'}")
            if contact.active:
                click.echo(f"               {state}")
    _warn_cannot_open(cannot_open)


@directory_group.command("export")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), metavar="FILE",
              help="Write the CSV to FILE (readable by its owner only) instead of standard output.")
def directory_export(output: Path | None) -> None:
    """The directory as CSV, in the `directory import` format (spreadsheet-safe)."""
    with current_runtime().transaction() as session:
        rows = list(directory_listing.export_rows(session))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    if output is None:
        click.echo(out.getvalue(), nl=False)
        return
    _write_private(output, out.getvalue())
    click.echo(f"{len(rows) - 1} contact(s) written to {output}", err=True)


@gazetteer_group.command("import")
@click.argument("path", metavar="FILE.csv", type=CSV_FILE)
def gazetteer_import(path: Path) -> None:
    """Load or update townships (pcode,state_pcode,state_name_en,name_en,name_my)."""
    result = _import(path, import_townships)
    click.echo(f"Imported {path.name}:")
    click.echo(f"  townships: {result.new} new, {result.updated} updated, {result.unchanged} unchanged")


@emergency_group.command("import")
@click.argument("path", metavar="FILE.csv", type=CSV_FILE)
def emergency_import(path: Path) -> None:
    """Replace the emergency contacts of each area in FILE.csv (area,language,text)."""
    result = _import(path, import_emergency_contacts)
    click.echo(f"Imported {path.name}:")
    click.echo(f"  emergency contacts: {result.new} new, {result.unchanged} unchanged, {result.removed} removed")


def _show_recovery_keys(recovery_keys: dict[str, str]) -> None:
    if not recovery_keys:
        return
    click.echo("")
    click.echo("!" * 78)
    click.echo("RECOVERY KEYS of the new organisations. They are shown now, ONCE, and stored nowhere.")
    click.echo("Write each one down and keep it OFFLINE (on paper, in a safe), away from this server.")
    click.echo("A recovery key gives an organisation's first portal user access to its reports, and is")
    click.echo("the only way back in if every user of the organisation loses their password:")
    click.echo("  flask --app app users create --email E --role focal_point --org ACRONYM \\")
    click.echo("      --password-stdin --recovery-key-stdin    (password, then recovery key, one per line)")
    click.echo("!" * 78)
    width = max(len(acronym) for acronym in recovery_keys)
    for acronym, key in recovery_keys.items():
        click.echo(f"  {acronym.ljust(width)}  {key}")
    click.echo("")


# --- demo -------------------------------------------------------------------------------------

@demo_group.command("load")
def demo_load() -> None:
    """Load the demo directory, gazetteer, emergency contacts and portal accounts into a database
    with no organisations; otherwise load nothing and say where the demo accounts were saved
    (their passwords are printed once, when they are made: not on every `make run` again)."""
    runtime = current_runtime()
    path = Path(current_app.instance_path) / DEMO_ACCOUNTS_FILE
    with runtime.transaction() as session:
        loaded = demo.load(session, now=runtime.clock(), languages=runtime.catalogs.shipped)
        if loaded is None:
            click.echo("The database already has organisations: no demo data loaded.")
            if path.exists():
                click.echo(f"The demo accounts and their passwords are in {path} (readable only by its owner).")
            return
        listing = _demo_listing(loaded.accounts, runtime.settings.public_base_url)
        # Written before the commit: accounts whose passwords were lost would be useless.
        _write_private(path, listing)
    click.echo(f"Demo data loaded: {loaded.townships.new} townships, {loaded.emergency.new} emergency contacts, "
               f"{loaded.directory.organisations_new} organisations, {loaded.directory.contacts_new} contacts.")
    click.echo(f"Demo accounts (saved in {path}):")
    click.echo(listing, nl=False)
    _warn_cannot_open(loaded.cannot_open)
    _show_recovery_keys(loaded.directory.recovery_keys)


def _demo_listing(demo_accounts: list[demo.DemoAccount], base_url: str) -> str:
    rows = [("role", "organisation", "email", "password")]
    rows += [(a.role, a.organisation or "-", a.email, a.password) for a in demo_accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["DEMO ONLY: fictional organisations and random passwords. Never use them for real reports.",
             f"Log in at {base_url}/portal/login (the first login of each account sets up its authenticator "
             "app: TOTP)", ""]
    lines += ["  " + "  ".join(value.ljust(width) for value, width in zip(row, widths)) + "  " + row[3]
              for row in rows]
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # before a byte is written: a file that was there keeps its old mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain: exit 0 when intact, else 1 naming the first broken entry."""
    with current_runtime().transaction() as session:
        verdict = audit_log.verify(session)
    if verdict.anchor_forged:
        click.echo(f"audit log broken at its start: the record of where it begins after {verdict.purged} purged "
                   "entries was not written by this server (entries may have been deleted from the start)", err=True)
        raise SystemExit(1)
    if verdict.broken_at is not None:
        click.echo(f"audit log broken at entry {verdict.broken_at}: it, or one just before it, was edited, "
                   f"deleted or moved ({verdict.entries} entries before it hold)", err=True)
        raise SystemExit(1)
    if verdict.head_mismatch:
        click.echo(f"audit log broken at its end: all {verdict.entries} entries hold, but the newest ones "
                   "were removed (the head names another last entry)", err=True)
        raise SystemExit(1)
    purged = (f" (after {verdict.purged} older entries purged at the end of their lifetime, up to entry "
              f"{verdict.anchor_id})" if verdict.anchor_id is not None else "")
    click.echo(f"audit log intact: {verdict.entries} entries{purged}; head {verdict.head.hex()} "
               "(note it elsewhere: a later check must extend it)")


@audit_group.command("show")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True,
              help="How many of the newest entries to show.")
def audit_show(limit: int) -> None:
    """The newest audit entries (oldest of them first), then whether the chain holds."""
    with current_runtime().transaction() as session:
        shown = audit_log.latest(session, page_size=limit)
        verdict = audit_log.verify(session)
    for entry in reversed(shown.entries):
        who = "-" if entry.user_id is None else shown.emails.get(entry.user_id, f"#{entry.user_id}")
        referral = "" if entry.referral_id is None else f"  referral {entry.referral_id}"
        click.echo(f"{entry.id:>6}  {entry.at:%Y-%m-%d %H:%M:%S} UTC  {who}  {entry.action}{referral}"
                   + (f"  {entry.detail}" if entry.detail else ""))
    click.echo(f"{len(shown.entries)} of {shown.total} entries shown; "
               + ("the chain holds." if verdict.intact else "THE CHAIN IS BROKEN: run `audit verify`."))
