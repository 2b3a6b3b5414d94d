"""The intake service: `create_app(config=None)`; `python app.py` serves with the outbox worker
in-process; `app:app` for gunicorn (`gunicorn 'app:app'`)."""

from __future__ import annotations

import logging
import os
import sys
import threading

from flask import Flask
from flask_wtf.csrf import CSRFProtect

import config as settings
from bot import health, limits
from bot.channels import simulator, telegram, twilio
from bot.commands import cli
from bot.http import register_error_handlers
from bot.runtime import build_runtime, init_app
from portal import auth, pages


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` overrides the environment (tests use it); bad settings raise
    `config.ConfigError` naming the setting."""
    app = Flask(__name__, instance_relative_config=True)
    values = settings.load(app.instance_path, overrides=config)
    app.config.update(values)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=values["PUBLIC_BASE_URL"].startswith("https://"),
        # Flask-WTF's extra HTTPS check wants a Referer, which the portal's Referrer-Policy
        # (no-referrer) suppresses; the session-bound token, SameSite=Lax and the portal's
        # Sec-Fetch-Site check protect the forms instead.
        WTF_CSRF_SSL_STRICT=False,
    )
    try:
        runtime = build_runtime(app.config)
    except ValueError as error:  # unknown language, unreadable data key
        raise settings.ConfigError(str(error)) from None
    init_app(app, runtime)
    register_error_handlers(app)
    csrf = CSRFProtect(app)
    # Webhooks authenticate by signature and the simulator accepts only JSON; every form is CSRF-checked.
    for blueprint in (twilio.bp, telegram.bp, simulator.bp):
        csrf.exempt(blueprint)
    for blueprint in (twilio.bp, telegram.bp, health.bp, simulator.bp, pages.bp):
        app.register_blueprint(blueprint)
    _limit_unsigned_routes(app)
    cli.register(app)
    return app


def _limit_unsigned_routes(app: Flask) -> None:
    """Per-address limits on what anyone can post without a signature: passwords and TOTP codes
    (each try costs an Argon2 derivation), and simulator messages (each can file a report)."""
    limiter = limits.init_limits(app)
    for endpoint in ("portal.login", "portal.totp"):
        limits.limit_posts(app, limiter, endpoint, app.config["PORTAL_LOGIN_LIMIT"], message=auth.THROTTLED,
                           on_breach=auth.throttled)
    limits.limit_posts(app, limiter, "simulator.message", app.config["SIMULATOR_LIMIT"],
                       message="too many messages from this address; wait a minute, then try again")


def __getattr__(name: str):
    """`app:app` (gunicorn, `flask --app app`) builds the app on first access, not at import,
    so that tests can import `create_app` without reading the environment."""
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)


def main() -> None:
    """Serve on HOST:PORT with the outbox worker in a background thread."""
    from bot.delivery.worker import OutboxWorker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        # The try-it server: the simulator is on by default, but only on a loopback address.
        application = create_app({"SIMULATOR_ENABLED": os.environ.get("SIMULATOR_ENABLED") or "auto"})
    except settings.ConfigError as error:
        sys.exit(f"configuration error: {error}")
    _say_where_the_simulator_is(application.config)
    if application.config["OUTBOX_WORKER"]:
        worker = OutboxWorker(application.extensions["intake"])
        threading.Thread(target=worker.run, args=(threading.Event(),), name="outbox", daemon=True).start()
    application.run(host=application.config["HOST"], port=application.config["PORT"], threaded=True)


def _say_where_the_simulator_is(config: dict) -> None:
    log = logging.getLogger("app")
    if config["SIMULATOR_ENABLED"] and not config["SIMULATOR_LOCAL_ONLY"]:
        log.warning("the simulator is open to anyone who can reach %s:%s (SIMULATOR_ENABLED=1): "
                    "it files real reports without a login", config["HOST"], config["PORT"])
    elif config["SIMULATOR_ENABLED"]:
        log.info("simulator: http://%s:%s/simulator (this machine only)", config["HOST"], config["PORT"])
    elif os.environ.get("SIMULATOR_ENABLED") is None:
        log.info("the simulator is off: HOST %s is not a loopback address (SIMULATOR_ENABLED=1 turns it on)",
                 config["HOST"])


if __name__ == "__main__":
    main()
