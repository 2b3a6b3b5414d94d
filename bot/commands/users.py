"""The operator's account commands (the README lists them): `users create|grant|totp|list|disable|
enable|reset`.

Every account logs in with a password and a TOTP code. `users create` and `users reset` turn TOTP
on and print the otpauth:// URI for the person's authenticator app (as `users totp` does); an
account made on the admin page sets it up at its first login instead. They print plain messages,
never tracebacks: exit status 1 when the request cannot be done, 2 when the command line is wrong.
Changes are audited by account id (the operator's own entries have no user).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from bot.runtime import current_runtime
from storage import accounts, directory, sealing, totp
from storage.accounts import KEY_HOLDING_ROLES, AccountError
from storage.audit_log import audit
from storage.models import Organisation, User

users_group = AppGroup("users", help="Portal accounts.")


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


def _new_totp(runtime, user: User) -> str:
    """Give `user` a fresh TOTP secret; returns it (inside the caller's transaction)."""
    secret = totp.new_secret()
    totp.store(user, runtime.vault, secret)
    return secret


def _show_totp(runtime, email: str, secret: str) -> None:
    click.echo("Add this to the user's authenticator app (as a QR code, or paste it):")
    click.echo(totp.provisioning_uri(secret, email, runtime.settings.service_name))
    click.echo(f"Or type the key by hand: {totp.grouped(secret)}")


@users_group.command("create")
@click.option("--email", required=True, help="The login: an e-mail address.")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option("--org", "acronym", help="The organisation's acronym (required for focal_point and coordinator).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--recovery-key-stdin", is_flag=True,
              help="Read the organisation's recovery key from the next line of standard input and give "
                   "the new account the organisation's key at once.")
def users_create(email: str, role: str, acronym: str | None, password_stdin: bool, recovery_key_stdin: bool) -> None:
    """Create a portal account, with TOTP on (its otpauth:// URI is printed)."""
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
        secret = _new_totp(runtime, user)
        audit(session, now=now, action="account_created", detail=f"account {user.id}, {role}; by the operator")
    click.echo(f"Created {role} account {user.email}" + (f" ({organisation.acronym})." if organisation else "."))
    if recovery_key is not None:
        click.echo(f"{user.email} holds {organisation.acronym}'s key and can read its reports.")
    elif role in KEY_HOLDING_ROLES:
        click.echo(f"{user.email} cannot read {organisation.acronym}'s reports yet: a colleague who holds "
                   f"{organisation.acronym}'s key gives it on the portal's Access page, or you do, with "
                   f"{organisation.acronym}'s recovery key:")
        click.echo(f"  flask --app app users grant --email {user.email} --recovery-key-stdin")
    click.echo("TOTP is on: after the password, the portal asks for a 6-digit code.")
    _show_totp(runtime, user.email, secret)


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
    """Turn on TOTP (a second login step) for an account, or give it a new authenticator entry.

    Prints the otpauth:// link to add to the user's authenticator app."""
    runtime = current_runtime()
    with runtime.transaction() as session:
        user = _user(session, email)
        replaced = user.totp_secret is not None
        secret = _new_totp(runtime, user)
    click.echo(f"TOTP is on for {user.email}: after the password, the portal asks for a 6-digit code.")
    if replaced:
        click.echo("This replaces the previous authenticator entry, which no longer works.")
    _show_totp(runtime, user.email, secret)


@users_group.command("list")
def users_list() -> None:
    """Every account: role, organisation, TOTP, active, key, last login."""
    runtime = current_runtime()
    with runtime.transaction() as session:
        rows = [(a.user.email, a.user.role, a.organisation or "-", "on" if a.user.totp_secret else "at next login",
                 "yes" if a.user.active else "disabled",
                 "-" if a.user.role not in KEY_HOLDING_ROLES else ("yes" if a.holds_key else "NOT YET"),
                 f"{a.user.last_login_at:%Y-%m-%d %H:%M} UTC" if a.user.last_login_at else "never")
                for a in accounts.list_accounts(session)]
    if not rows:
        click.echo("No accounts yet (users create).")
        return
    header = ("email", "role", "org", "totp", "active", "key", "last login")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def _set_active(email: str, active: bool) -> None:
    runtime = current_runtime()
    with runtime.transaction() as session:
        user = _user(session, email)
        changed = accounts.set_active(session, user, active)
        if changed:
            audit(session, now=runtime.clock(), action="account_enabled" if active else "account_disabled",
                  detail=f"account {user.id}; by the operator")
    state = "enabled" if active else "disabled (and logged out everywhere)"
    click.echo(f"{user.email} is {state}." if changed else f"{user.email} was {state} already.")


@users_group.command("disable")
@click.option("--email", required=True)
def users_disable(email: str) -> None:
    """Disable an account: it cannot log in, and its sessions end at once."""
    _set_active(email, False)


@users_group.command("enable")
@click.option("--email", required=True)
def users_enable(email: str) -> None:
    """Enable a disabled account again."""
    _set_active(email, True)


@users_group.command("reset")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input instead of "
                                                      "generating one.")
def users_reset(email: str, password_stdin: bool) -> None:
    """A forgotten password or a lost authenticator: a new password and TOTP secret (printed).

    The account gets a new key pair, so the organisation key it held is gone: a colleague who holds
    it gives it again on the portal's Access page, or `users grant` with the recovery key."""
    password = _stdin_line("password") if password_stdin else accounts.new_password()
    runtime = current_runtime()
    with runtime.transaction() as session:
        user = _user(session, email)
        try:
            removed = accounts.reset(session, user, password)
        except AccountError as error:
            raise click.ClickException(str(error)) from None
        secret = _new_totp(runtime, user)
        audit(session, now=runtime.clock(), action="account_reset",
              detail=f"account {user.id}; {removed} key grant(s) removed; by the operator")
        organisation = session.get(Organisation, user.organisation_id) if user.organisation_id else None
    click.echo(f"{user.email} is reset and logged out everywhere.")
    if not password_stdin:
        click.echo(f"New password (shown only now): {password}")
    if removed:
        click.echo(f"The reset took away {organisation.acronym}'s key: a colleague who holds it gives it again on "
                   f"the portal's Access page, or: flask --app app users grant --email {user.email} "
                   "--recovery-key-stdin")
    click.echo("TOTP has a new secret; the old authenticator entry no longer works.")
    _show_totp(runtime, user.email, secret)
