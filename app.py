"""The intake service: `create_app(overrides=None)`; `python app.py` serves with the outbox worker
in-process (make run); gunicorn 'app:create_app()' (make serve)."""

from __future__ import annotations

import logging
import os
import sys
import threading

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

import config
from bot import health, limits
from bot.channels import simulator, telegram, twilio
from bot.commands import cli
from bot.http import install_security_headers, register_error_handlers
from bot.runtime import build_runtime, init_app
from portal import account, api, auth, pages, services


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app. `overrides` (setting names as in the environment) win over the environment
    (tests use them); bad settings raise `config.ConfigError` naming the setting."""
    app = Flask(__name__, instance_relative_config=True)
    settings = config.load(app.instance_path, overrides=overrides)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Webhook bodies are small; anything bigger is not from Twilio or Telegram.
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        # Flask-WTF's extra HTTPS check wants a Referer, which the portal's Referrer-Policy
        # (no-referrer) suppresses; the session-bound token, SameSite=Lax and the portal's
        # Sec-Fetch-Site check protect the forms instead.
        WTF_CSRF_SSL_STRICT=False,
        **{key: value for key, value in (overrides or {}).items() if key in config.FLASK_KEYS},
    )
    if settings.trusted_proxies:
        # Behind reverse proxies the client's address (rate limits, the simulator's "this machine
        # only") and scheme are the ones the proxies forward.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    try:
        runtime = build_runtime(settings)
    except ValueError as error:  # unknown language, unreadable data key
        raise config.ConfigError(str(error)) from None
    init_app(app, runtime)
    services.init_app(app, runtime)
    register_error_handlers(app, pages={pages.bp.name: pages.error_page})
    install_security_headers(app, settings.public_base_url)
    csrf = CSRFProtect(app)
    # Webhooks authenticate by signature, the simulator accepts only JSON and the API only GETs;
    # every form is CSRF-checked.
    for blueprint in (twilio.bp, telegram.bp, simulator.bp, api.bp):
        csrf.exempt(blueprint)
    for blueprint in (twilio.bp, telegram.bp, health.bp, simulator.bp, pages.bp, api.bp):
        app.register_blueprint(blueprint)
    _limit_unsigned_routes(app, settings)
    cli.register(app)
    return app


def _limit_unsigned_routes(app: Flask, settings: config.Settings) -> None:
    """Per-address and global limits on what anyone can post without a signature: passwords and
    TOTP codes (each try costs an Argon2 derivation), and simulator messages (each can file a
    report); and on the API, per address, per bearer token and for everyone."""
    limiter = limits.init_limits(app, settings)
    for endpoint in ("portal.login", "portal.totp", "portal.enrol"):
        limits.limit_posts(app, limiter, endpoint, settings.portal_login_limit, message=auth.THROTTLED,
                           on_breach=auth.throttled)
        limits.limit_posts(app, limiter, endpoint, settings.portal_login_global_limit, message=auth.BUSY,
                           on_breach=auth.busy, everyone_scope="portal-logins")
    limits.limit_posts(app, limiter, "portal.change_password", settings.portal_login_limit,
                       message=auth.THROTTLED, on_breach=account.password_throttled)
    limits.limit_posts(app, limiter, "simulator.message", settings.simulator_limit,
                       message="too many messages from this address; wait a minute, then try again")
    limits.limit_posts(app, limiter, "simulator.message", settings.simulator_global_limit,
                       message="the simulator is busy; wait a minute, then try again", everyone_scope="simulator")
    limits.limit_api(limiter, api.bp, settings, message="too many requests; wait as Retry-After says, then try again")


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
    except config.ConfigError as error:
        sys.exit(f"configuration error: {error}")
    settings = application.extensions["intake"].settings
    _say_where_the_simulator_is(settings)
    if settings.outbox_worker:
        worker = OutboxWorker(application.extensions["intake"])
        threading.Thread(target=worker.run, args=(threading.Event(),), name="outbox", daemon=True).start()
    application.run(host=settings.host, port=settings.port, threaded=True, request_handler=_QuietRequestHandler)


class _QuietRequestHandler(WSGIRequestHandler):
    """The try-it server's `Server:` header names the service, not Werkzeug's and Python's
    versions (which tell a prober what known flaws to try)."""

    def version_string(self) -> str:
        return "intake"


def _say_where_the_simulator_is(settings: config.Settings) -> None:
    log = logging.getLogger("app")
    if settings.simulator_enabled and not settings.simulator_local_only:
        log.warning("the simulator is open to anyone who can reach %s:%s (SIMULATOR_ENABLED=1): "
                    "it files real reports without a login", settings.host, settings.port)
    elif settings.simulator_enabled:
        log.info("simulator: http://%s:%s/simulator (this machine only)", settings.host, settings.port)
    elif settings.simulator_local_only:  # asked for with "auto", but HOST is not a loopback address
        log.info("the simulator is off: HOST %s is not a loopback address (SIMULATOR_ENABLED=1 turns it on)",
                 settings.host)


if __name__ == "__main__":
    main()
