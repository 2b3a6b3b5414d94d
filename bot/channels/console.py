"""`flask --app app chat`: a conversation with the engine in the terminal, through the same
inbox and storage as the webhooks (channel "console", a new pseudonymous sender each run)."""

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import with_appcontext

from bot.channels.inbox import receive
from bot.channels.layout import as_text
from i18n.render import Rendered
from intake.messages import Inbound
from storage.conversations import lock_conversation

CHANNEL = "console"


def _show(reply: Rendered, style: str) -> str:
    if style == "sms":
        return as_text(reply)
    buttons = "  ".join(f"[{reply.number(number)}: {label}]" for number, label in reply.options)
    return "\n".join([*reply.paragraphs, buttons] if buttons else reply.paragraphs)


def chat(runtime, style: str, lang: str | None, lines, echo) -> None:
    """Run a conversation: read lines from `lines`, write answers with `echo`."""
    sender_key = runtime.vault.sender_key(CHANNEL, secrets.token_urlsafe(16))
    if lang:
        with runtime.transaction() as session:
            lock_conversation(session, CHANNEL, sender_key, runtime.clock()).language = lang
    echo(f"{runtime.settings.service_name} ({style}). Type a message; Ctrl-D ends.")
    for line in lines:
        inbound = Inbound(channel=CHANNEL, sender_key=sender_key, text=line.rstrip("\n"),
                          received_at=runtime.clock())
        handled = receive(runtime, inbound)
        for reply in handled.replies:
            echo(_show(reply, style))
            echo("")


@click.command("chat")
@click.option("--channel", "style", type=click.Choice(["sms", "telegram"]), default="sms",
              help="How replies are laid out: numbered lines (sms) or buttons (telegram).")
@click.option("--lang", default=None, help="Start in this language (a code from LANGUAGES).")
# A plain click command added to app.cli gets an app context only when run through the `flask`
# FlaskGroup; with_appcontext (what AppGroup gives `db` and `outbox`) makes it work when invoked
# from app.cli directly too, as app.test_cli_runner() and embedding scripts do.
@with_appcontext
def chat_command(style: str, lang: str | None) -> None:
    """Talk to the engine in the terminal."""
    from bot.runtime import current_runtime

    runtime = current_runtime()
    if lang is not None and lang not in runtime.context.languages:
        raise click.BadParameter(f"{lang!r} is not offered; choose from {', '.join(runtime.context.languages)}",
                                 param_hint="--lang")
    chat(runtime, style, lang, sys.stdin, click.echo)
