"""`GET /healthz`: does the database answer and still take writes, has its disk room, and is
anything stuck in the outbox? 200 when all is well; 503 with a reason a person can act on when
messages would fail. Every database wait is bounded (DATABASE_TIMEOUT_SECONDS), so the answer
comes within that time even when the database is frozen."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime import current_runtime
from storage import health_probe, outbox

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    runtime = current_runtime()
    settings = runtime.settings
    # Checked first, and without writing: a full disk must not be pushed over the edge.
    reason = health_probe.disk_reason(runtime.db, settings.health_min_free_mb)
    if reason:
        return _unhealthy(reason)
    try:
        with runtime.transaction() as session:
            pending, failed = outbox.waiting_and_failed(session)
            reason = health_probe.read_only_reason(session)
            if reason:
                return _unhealthy(reason)
            health_probe.record_write(session, runtime.clock())
    except SQLAlchemyError as error:
        return _unhealthy(health_probe.failure_reason(runtime.db, error, settings.database_timeout_seconds))
    return jsonify({"status": "ok", "database": "ok", "outbox_pending": pending, "outbox_failed": failed})


def _unhealthy(reason: str):
    response = jsonify({"status": "error", "database": reason})
    response.status_code = 503
    return response
