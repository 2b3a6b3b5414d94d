"""The operator's look at the outbox (`outbox failed`, `outbox retry`): the messages given up on,
as metadata only (never a recipient or what a message says), and queueing them again once the
cause is fixed. Only staff notifications keep what is needed to be sent again; replies to
reporters are wiped when they fail (`storage.outbox`)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bot.runtime import current_runtime
from storage import outbox
from storage.audit_log import audit


@click.command("failed")
@with_appcontext
def outbox_failed() -> None:
    """The messages the outbox gave up on, newest first."""
    with current_runtime().transaction() as session:
        rows = outbox.failed(session)
    if not rows:
        click.echo("No message has failed.")
        return
    for row in rows:
        last = f"{row.last_attempt_at:%Y-%m-%d %H:%M} UTC" if row.last_attempt_at else "never"
        again = "can be retried" if row.retryable else "content wiped, cannot be retried"
        click.echo(f"{row.id:>6}  {row.channel:<8}  {row.purpose:<12}  {row.attempts} attempt(s)  queued "
                   f"{row.created_at:%Y-%m-%d %H:%M} UTC  last {last}  {again}")
        click.echo(f"        last error: {row.last_error or '-'}")
    click.echo(f"{len(rows)} failed message(s); `outbox retry --id N` or `--all` queues them again.")


@click.command("retry")
@click.option("--id", "ids", type=int, multiple=True, help="A failed message's id (may be given more than once).")
@click.option("--all", "every", is_flag=True, help="Every failed message that can be retried.")
@with_appcontext
def outbox_retry(ids: tuple[int, ...], every: bool) -> None:
    """Queue failed messages again; the worker sends them with a fresh count of attempts."""
    if bool(ids) == every:
        raise click.UsageError("give --id N (one or more) or --all")
    runtime = current_runtime()
    with runtime.transaction() as session:
        queued = outbox.retry(session, runtime.clock(), None if every else list(ids))
        if queued:
            audit(session, now=runtime.clock(), action="outbox_retry",
                  detail=("messages " + ", ".join(map(str, queued)))[:200] + "; by the operator")
    left = sorted(set(ids) - set(queued))
    click.echo(f"{len(queued)} message(s) queued again" + (f": {', '.join(map(str, queued))}." if queued else "."))
    if left:
        click.echo(f"not queued (no such failed message, or its content was wiped): {', '.join(map(str, left))}",
                   err=True)
        raise SystemExit(1)


COMMANDS = (outbox_failed, outbox_retry)
