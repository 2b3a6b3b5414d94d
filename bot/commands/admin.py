"""The operator's commands (the README lists them): `directory import`, `gazetteer import`, `emergency
import`, `users create|grant|totp`, `demo load` and `audit verify`.

They print plain messages, never tracebacks: exit status 1 when the request cannot be done (a file
with problems, an unknown organisation, a wrong recovery key), 2 when the command line is wrong.
Staff contact details are printed only where the operator asked for them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import pyotp
from flask import current_app
from flask.cli import AppGroup

from bot.runtime import current_runtime
from storage import accounts, audit_log, demo, directory, sealing
from storage.accounts import KEY_HOLDING_ROLES, AccountError
from storage.csv_import import ImportRejected
from storage.directory import import_directory
from storage.gazetteer import import_emergency_contacts, import_townships
from storage.logins import TOTP_PURPOSE
from storage.models import Organisation, User

directory_group = AppGroup("directory", help="The focal-point directory.")
gazetteer_group = AppGroup("gazetteer", help="The townships people can name.")
emergency_group = AppGroup("emergency", help="Emergency contacts shown to people in danger.")
users_group = AppGroup("users", help="Portal accounts.")
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
    now = current_runtime().clock()
    result = _import(path, lambda session, data: import_directory(session, data, now=now))
    click.echo(f"Imported {path.name}:")
    click.echo(f"  organisations: {result.organisations_new} new, {result.organisations_updated} updated, "
               f"{result.organisations_unchanged} unchanged")
    click.echo(f"  contacts: {result.contacts_new} new, {result.contacts_updated} updated, "
               f"{result.contacts_unchanged} unchanged, {result.contacts_deactivated} deactivated")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    _show_recovery_keys(result.recovery_keys)


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


# --- users ------------------------------------------------------------------------------------

def _stdin_line(what: str) -> str:
    # sys.stdin itself, read line by line: a second wrapper around the same input would miss
    # what the first one buffered (the recovery key after the password).
    line = sys.stdin.readline()
    if not line:
        raise click.UsageError(f"expected the {what} on standard input")
    return line.rstrip("\r\n")


def _organisation(session, acronym: str) -> Organisation:
    organisation = directory.organisation_by_acronym(session, acronym)
    if organisation is not None:
        return organisation
    raise click.ClickException(f"no organisation has the acronym {acronym!r} (see `directory import`)")


def _user(session, email: str) -> User:
    user = accounts.find_user(session, email)
    if user is None:
        raise click.ClickException(f"no account for {email}")
    return user


@users_group.command("create")
@click.option("--email", required=True, help="The login: an e-mail address.")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option("--org", "acronym", help="The organisation's acronym (required for focal_point and coordinator).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--recovery-key-stdin", is_flag=True,
              help="Read the organisation's recovery key from the next line of standard input and give "
                   "the new account the organisation's key at once.")
def users_create(email: str, role: str, acronym: str | None, password_stdin: bool, recovery_key_stdin: bool) -> None:
    """Create a portal account."""
    if recovery_key_stdin and role not in KEY_HOLDING_ROLES:
        raise click.UsageError(f"only {' and '.join(KEY_HOLDING_ROLES)} accounts hold an organisation's key")
    if password_stdin:
        password = _stdin_line("password")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    recovery_key = _stdin_line("recovery key").strip() if recovery_key_stdin else None
    runtime = current_runtime()
    now = runtime.clock()
    with runtime.transaction() as session:
        organisation = _organisation(session, acronym) if acronym else None
        try:
            user = accounts.create_user(session, email=email, role=role, password=password,
                                        organisation=organisation, now=now)
            if recovery_key is not None:
                accounts.grant_with_recovery_key(session, organisation, user, recovery_key, now)
        except AccountError as error:
            raise click.ClickException(str(error)) from None
        except sealing.SealError:
            raise click.ClickException(f"that is not {organisation.acronym}'s recovery key; "
                                       "no account was created") from None
    click.echo(f"Created {role} account {user.email}" + (f" ({organisation.acronym})." if organisation else "."))
    if recovery_key is not None:
        click.echo(f"{user.email} holds {organisation.acronym}'s key and can read its reports.")
    elif role in KEY_HOLDING_ROLES:
        click.echo(f"{user.email} cannot read {organisation.acronym}'s reports yet: give access with "
                   f"{organisation.acronym}'s recovery key:")
        click.echo(f"  flask --app app users grant --email {user.email} --recovery-key-stdin")


@users_group.command("grant")
@click.option("--email", required=True)
@click.option("--recovery-key-stdin", is_flag=True, help="Read the recovery key from standard input.")
def users_grant(email: str, recovery_key_stdin: bool) -> None:
    """Grant an account its organisation's key.

    The organisation's recovery key opens it; the account can then read the organisation's reports."""
    runtime = current_runtime()
    with runtime.transaction() as session:
        user = _user(session, email)
        if user.role not in KEY_HOLDING_ROLES or user.organisation_id is None:
            raise click.ClickException(f"{user.email} has the role {user.role}: only "
                                       f"{' and '.join(KEY_HOLDING_ROLES)} accounts hold an organisation's key")
        organisation = session.get(Organisation, user.organisation_id)
    # Asked with no transaction open: one would hold SQLite's one write lock (every webhook waits
    # behind it) for as long as the person takes to type.
    if recovery_key_stdin:
        recovery_key = _stdin_line("recovery key").strip()
    else:
        recovery_key = click.prompt(f"{organisation.acronym}'s recovery key", hide_input=True).strip()
    with runtime.transaction() as session:
        user, organisation = session.merge(user), session.merge(organisation)
        already = accounts.has_grant(session, user, organisation)
        try:
            accounts.grant_with_recovery_key(session, organisation, user, recovery_key, runtime.clock())
        except sealing.SealError:
            raise click.ClickException(f"that is not {organisation.acronym}'s recovery key; nothing changed") from None
    if already:
        click.echo(f"{user.email} already holds {organisation.acronym}'s key.")
    else:
        click.echo(f"{user.email} now holds {organisation.acronym}'s key and can read its reports.")


@users_group.command("totp")
@click.option("--email", required=True)
def users_totp(email: str) -> None:
    """Turn on TOTP (a second login step) for an account.

    Prints the otpauth:// link to add to the user's authenticator app."""
    runtime = current_runtime()
    secret = pyotp.random_base32()
    with runtime.transaction() as session:
        user = _user(session, email)
        replaced = user.totp_secret is not None
        user.totp_secret = runtime.vault.seal(secret.encode(), TOTP_PURPOSE)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=runtime.settings.service_name)
    click.echo(f"TOTP is on for {user.email}: after the password, the portal asks for a 6-digit code.")
    if replaced:
        click.echo("This replaces the previous authenticator entry, which no longer works.")
    click.echo("Add this to the user's authenticator app (as a QR code, or paste it):")
    click.echo(uri)
    click.echo(f"Or type the key by hand: {' '.join(secret[i:i + 4] for i in range(0, len(secret), 4))}")


# --- demo -------------------------------------------------------------------------------------

@demo_group.command("load")
def demo_load() -> None:
    """Load the demo directory, gazetteer, emergency contacts and portal accounts into a database
    with no organisations; otherwise load nothing and show the saved demo accounts."""
    runtime = current_runtime()
    path = Path(current_app.instance_path) / DEMO_ACCOUNTS_FILE
    with runtime.transaction() as session:
        loaded = demo.load(session, now=runtime.clock())
        if loaded is None:
            click.echo("The database already has organisations: no demo data loaded.")
            if path.exists():
                click.echo(f"Demo accounts saved in {path}:")
                click.echo(path.read_text(encoding="utf-8"), nl=False)
            return
        listing = _demo_listing(loaded.accounts, runtime.settings.public_base_url)
        # Written before the commit: accounts whose passwords were lost would be useless.
        _write_private(path, listing)
    click.echo(f"Demo data loaded: {loaded.townships.new} townships, {loaded.emergency.new} emergency contacts, "
               f"{loaded.directory.organisations_new} organisations, {loaded.directory.contacts_new} contacts.")
    click.echo(f"Demo accounts (saved in {path}):")
    click.echo(listing, nl=False)
    _show_recovery_keys(loaded.directory.recovery_keys)


def _demo_listing(demo_accounts: list[demo.DemoAccount], base_url: str) -> str:
    rows = [("role", "organisation", "email", "password")]
    rows += [(a.role, a.organisation or "-", a.email, a.password) for a in demo_accounts]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["DEMO ONLY: fictional organisations and random passwords. Never use them for real reports.",
             f"Log in at {base_url}/portal/login", ""]
    lines += ["  " + "  ".join(value.ljust(width) for value, width in zip(row, widths)) + "  " + row[3]
              for row in rows]
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # a file left from an earlier run keeps its old mode otherwise


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain: exit 0 when intact, else 1 naming the first broken entry."""
    with current_runtime().transaction() as session:
        verdict = audit_log.verify(session)
    if verdict.broken_at is not None:
        click.echo(f"audit log broken at entry {verdict.broken_at}: it, or one just before it, was edited, "
                   f"deleted or moved ({verdict.entries} entries before it hold)", err=True)
        raise SystemExit(1)
    if verdict.head_mismatch:
        click.echo(f"audit log broken at its end: all {verdict.entries} entries hold, but the newest ones "
                   "were removed (the head names another last entry)", err=True)
        raise SystemExit(1)
    click.echo(f"audit log intact: {verdict.entries} entries; head {verdict.head.hex()} "
               "(note it elsewhere: a later check must extend it)")
