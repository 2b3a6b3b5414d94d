"""Small HTTP helpers shared by the webhooks: error answers that say why, never a 500."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def problem(status: int, reason: str):
    """A JSON error answer with the reason in plain words."""
    response = jsonify({"error": reason})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Give every failure a clear status: the database being busy or down is a 503 (providers
    retry those), HTTP errors keep their status with a JSON reason."""

    @app.errorhandler(OperationalError)
    def _database_unavailable(error):
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else "unknown")
        response = problem(503, "the database is busy or unavailable; retry shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return problem(error.code or 500, error.description or error.name)
