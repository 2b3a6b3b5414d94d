"""`flask --app app telegram …`: register the webhook, or run without one by long polling."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask.cli import AppGroup

from bot.channels.telegram import CHANNEL, process_update, read_update
from bot.delivery.senders import PermanentError, TransientError
from bot.delivery.worker import OutboxWorker
from bot.http import describe
from bot.runtime import current_runtime

log = logging.getLogger(__name__)

telegram_group = AppGroup("telegram", help="The Telegram channel.")
ALLOWED_UPDATES = ["message", "callback_query"]
POLL_SECONDS = 25
ATTEMPTS_PER_UPDATE = 3


def _sender(runtime):
    sender = runtime.senders.get(CHANNEL)
    if sender is None:
        raise click.ClickException("TELEGRAM_BOT_TOKEN is not set")
    return sender


@telegram_group.command("set-webhook")
def set_webhook() -> None:
    """Point Telegram at PUBLIC_BASE_URL/webhooks/telegram with TELEGRAM_WEBHOOK_SECRET."""
    runtime = current_runtime()
    settings = runtime.settings
    if not settings.telegram_webhook_secret:
        raise click.ClickException("TELEGRAM_WEBHOOK_SECRET is not set: Telegram must prove itself to the webhook")
    url = f"{settings.public_base_url}/webhooks/telegram"
    if not url.startswith("https://"):
        raise click.ClickException(f"Telegram only calls https:// webhooks; PUBLIC_BASE_URL gives {url}. "
                                   "Without a public HTTPS address, use `flask --app app telegram poll`.")
    try:
        _sender(runtime).call("setWebhook", {"url": url, "secret_token": settings.telegram_webhook_secret,
                                             "allowed_updates": ALLOWED_UPDATES})
    except (TransientError, PermanentError) as error:
        raise click.ClickException(f"Telegram refused the webhook: {error}") from None
    click.echo(f"Telegram will send updates to {url}")


def poll(runtime, stop: threading.Event, once: bool = False) -> int:
    """Fetch updates by long polling and handle each like the webhook does, until `stop` is set
    (or after one batch with `once`). Returns how many updates were handled."""
    sender = _sender(runtime)
    sender.call("deleteWebhook", {"drop_pending_updates": False})  # getUpdates is refused while one is set
    offset, handled, failures = None, 0, 0
    while not stop.is_set():
        params = {"timeout": 0 if once else POLL_SECONDS, "allowed_updates": ALLOWED_UPDATES}
        if offset is not None:
            params["offset"] = offset
        try:
            updates = sender.call("getUpdates", params, timeout=POLL_SECONDS + 10)
            failures = 0
        except (TransientError, PermanentError) as error:
            failures += 1
            log.warning("getUpdates failed (%s); retrying", error)
            stop.wait(min(30, 2 ** failures))
            continue
        for update in updates:
            _handle_one(runtime, update)
            offset = update["update_id"] + 1
            handled += 1
        if once:
            if offset is not None:  # confirm the batch, or Telegram serves it again next time
                sender.call("getUpdates", {"offset": offset, "timeout": 0, "limit": 1})
            break
    return handled


def _handle_one(runtime, update: dict) -> None:
    """Handle an update, trying a few times; a poison update is logged and skipped rather than
    blocking every update after it (duplicates are recognised, so a retry is safe)."""
    parsed = read_update(update) if isinstance(update, dict) and isinstance(update.get("update_id"), int) else None
    if parsed is None:
        return  # not an update we can read: retrying would not help
    for attempt in range(1, ATTEMPTS_PER_UPDATE + 1):
        try:
            process_update(runtime, parsed)
            return
        except Exception as error:
            log.error("update %s failed (attempt %d): %s", update.get("update_id"), attempt, describe(error))
    log.error("update %s skipped after %d attempts", update.get("update_id"), ATTEMPTS_PER_UPDATE)


@telegram_group.command("poll")
@click.option("--once", is_flag=True, help="Handle what is waiting now, then exit.")
def poll_command(once: bool) -> None:
    """Run the bot without a public address: fetch updates by long polling (runs the outbox
    worker too, unless OUTBOX_WORKER=0)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = current_runtime()
    stop = threading.Event()
    if not once:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        if runtime.settings.outbox_worker:
            threading.Thread(target=OutboxWorker(runtime).run, args=(stop,), name="outbox", daemon=True).start()
    count = poll(runtime, stop, once=once)
    click.echo(f"handled {count} update(s)")
