"""`flask --app app tokens create|list|revoke`: bearer tokens for the coordinators' API.

A token is printed once, when it is made; the database keeps only a keyed digest of it, so a lost
token cannot be shown again: revoke it and make another. Making and revoking one is audited (by
its number, never its name, which may name a person).
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import AppGroup

from bot.runtime import current_runtime
from storage import api_tokens
from storage.audit_log import audit

tokens_group = AppGroup("tokens", help="Bearer tokens for the coordinators' API (/api/v1).")


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "-"


@tokens_group.command("create")
@click.option("--name", required=True, help="What or who the token is for (say, the network's reporting sheet).")
def tokens_create(name: str) -> None:
    """Make a token and print it, once."""
    runtime = current_runtime()
    now = runtime.clock()
    with runtime.transaction() as session:
        try:
            row, token = api_tokens.issue(session, runtime.vault, name=name, now=now)
        except api_tokens.TokenError as error:
            raise click.UsageError(str(error)) from None
        audit(session, now=now, action="api_token_create", detail=f"token {row.id}")
    click.echo(f"Token {row.id} ({row.name}); it is shown only this once:")
    click.echo(token)
    click.echo("Send it as the header  Authorization: Bearer <token>")


@tokens_group.command("list")
def tokens_list() -> None:
    """Every token: its number, name, when it was made, last used and revoked, and when it expires
    (API_TOKEN_DAYS after it was made: the purge then deletes it)."""
    runtime = current_runtime()
    lifetime = timedelta(days=runtime.settings.api_token_days)  # then the purge deletes it
    with runtime.transaction() as session:
        rows = api_tokens.all_tokens(session)
        lines = [f"{row.id}\t{row.name}\tcreated {_when(row.created_at)}\tlast used {_when(row.last_used_at)}\t"
                 + (f"revoked {_when(row.revoked_at)}" if row.revoked_at else "live")
                 + f"\texpires {_when(row.created_at + lifetime)}" for row in rows]
    click.echo("\n".join(lines) if lines else "No tokens.")


@tokens_group.command("revoke")
@click.argument("token_id", metavar="NUMBER", type=click.IntRange(min=1))
def tokens_revoke(token_id: int) -> None:
    """Revoke token NUMBER (from `tokens list`) for good."""
    runtime = current_runtime()
    now = runtime.clock()
    with runtime.transaction() as session:
        row, revoked = api_tokens.revoke(session, token_id, now)
        if row is None:
            raise click.ClickException(f"there is no token {token_id} (see `tokens list`)")
        if revoked:
            audit(session, now=now, action="api_token_revoke", detail=f"token {row.id}")
    click.echo(f"Token {token_id} is revoked" + ("." if revoked else f" (since {_when(row.revoked_at)})."))
