"""Flask CLI commands: `db upgrade`, `outbox work`, `chat`, `purge` (the README lists them); the operator's
directory, gazetteer, account and demo commands are in `bot.commands.admin`."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from bot.channels.console import chat_command
from bot.commands import admin, backup, outbox_admin
from bot.commands.registrations import registrations_group
from bot.commands.telegram import telegram_group
from bot.commands.tokens import tokens_group
from bot.delivery.worker import OutboxWorker
from bot.runtime import current_runtime
from storage import migrate, resealing

db_group = AppGroup("db", help="Database schema.")
outbox_group = AppGroup("outbox", help="The delivery outbox.")


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    migrate.upgrade(current_runtime().settings.database_url)
    click.echo("database is up to date")


@outbox_group.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def outbox_work(once: bool) -> None:
    """Run the delivery worker until interrupted (SIGINT or SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = OutboxWorker(current_runtime())
    if once:
        click.echo(f"attempted {worker.run_once()} message(s)")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker.run(stop)


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete every record past its lifetime now (the worker does it every minute), print how
    many of each kind went, and write the counts to the audit log."""
    counts = OutboxWorker(current_runtime()).purge(record_always=True)
    width = max(len(name) for name in counts)
    for name, count in counts.items():
        click.echo(f"{name:<{width}}  {count}")
    click.echo(f"purged {sum(counts.values())} record(s) in all; the audit log has the counts")


@click.command("reseal")
@with_appcontext
def reseal() -> None:
    """Seal again, bound to its row, every value the data key protects (after migration 0018);
    the old format then opens nowhere among them. Prints counts, never content."""
    runtime = current_runtime()
    with runtime.transaction() as session:
        done = resealing.reseal(session, runtime.vault)
    for name, count in done.resealed.items():
        refused = done.refused[name]
        click.echo(f"{name}: {count} resealed" + (f", {refused} refused (altered: not resealed)" if refused else ""))


def register(app: Flask) -> None:
    for command in outbox_admin.COMMANDS:
        outbox_group.add_command(command)
    app.cli.add_command(db_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(chat_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(reseal)
    app.cli.add_command(telegram_group)
    app.cli.add_command(registrations_group)
    app.cli.add_command(tokens_group)
    for group in admin.GROUPS:
        app.cli.add_command(group)
    for command in backup.COMMANDS:
        app.cli.add_command(command)
