"""Small HTTP helpers shared by the webhooks, and the one error policy of every entry point: a
logged, content-free line; 503 when the database is busy or down; 500 for a bug (so Twilio and
Telegram try again later); a JSON reason, or the page a blueprint renders for its own routes."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Callable, Mapping

from flask import Flask, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from storage import db_failures, health_probe

log = logging.getLogger(__name__)


# What every answer carries unless its blueprint sets its own (the portal's pages and the
# simulator's allow their own files): nothing may frame it, sniff it, run it or learn where it was.
BASELINE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000"


def install_security_headers(app: Flask, public_base_url: str) -> None:
    """The baseline headers on every route (webhooks, health, the simulator, error answers),
    and HSTS when the service is reached over HTTPS (browsers then never try plain HTTP)."""
    headers = dict(BASELINE_HEADERS)
    if public_base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def _security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def describe(error: BaseException) -> str:
    """An exception for the log: its type and where it was raised, never its message (a
    database error quotes the row it failed on; a provider error may quote an address)."""
    if error.__traceback__ is None:
        return type(error).__name__
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__} at {'/'.join(Path(frame.filename).parts[-2:])}:{frame.lineno}"


def problem(status: int, reason: str):
    """A JSON error answer with the reason in plain words."""
    response = jsonify({"error": reason})
    response.status_code = status
    return response


def json_body():
    """The request's JSON value, or None when the body is not JSON (or is nested too deep for
    the parser: a thousand brackets raise RecursionError, which is no ValueError)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def too_large(app: Flask) -> str:
    """Why a request was refused with 413: the limits it went over (Werkzeug's own words only say
    "exceeds the capacity limit")."""
    total = app.config.get("MAX_CONTENT_LENGTH") or 0
    field = app.config.get("MAX_FORM_MEMORY_SIZE") or 0
    parts = app.config.get("MAX_FORM_PARTS") or 0
    return (f"the request is too large: this service accepts bodies of at most {_size(total)}"
            f" (form fields at most {_size(field)} each, at most {parts} fields)")


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit and limit % (1024 * 1024) == 0 else f"{limit:,} bytes"


ErrorPage = Callable[[int, str], object]


def register_error_handlers(app: Flask, pages: Mapping[str, ErrorPage] | None = None) -> None:
    """Give every failure a clear status; `pages` maps a blueprint's name to how it shows an
    unexpected error or an unavailable database to a person (the portal's HTML page). HTTP errors
    keep their status with a JSON reason (blueprints with pages handle those themselves)."""
    pages = dict(pages or {})

    def answer(status: int, reason: str):
        page = pages.get(request.blueprint or "")
        return page(status, reason) if page else problem(status, reason)

    @app.errorhandler(OperationalError)
    def _database_unavailable(error):
        # The kind in words an operator can act on (read-only, disk full, no answer in time...),
        # never the driver's message, which may name the host, the user or a row.
        runtime = app.extensions.get("intake")
        reason = (db_failures.reason(error, 0) if runtime is None else
                  health_probe.failure_reason(runtime.db, error, runtime.settings.database_timeout_seconds))
        log.error("database unavailable on %r: %s", request.path, reason)
        response = app.make_response(answer(503, "the database is busy or unavailable; retry shortly"))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code == 413:
            return problem(413, too_large(app))
        return problem(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # Flask's own handler would log the full message; a bug must not leak what people wrote.
        log.error("unexpected %s on %r", describe(error), request.path)  # repr: no forged log lines
        return answer(500, "internal error; please retry")
