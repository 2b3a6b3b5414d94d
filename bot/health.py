"""`GET /healthz`: is the database answering, and is anything stuck in the outbox?"""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime import current_runtime
from storage.models import OutboxMessage

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    runtime = current_runtime()
    try:
        with runtime.sessions() as session:
            session.execute(text("SELECT 1"))
            pending = session.execute(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status.in_(("pending", "sending")))).scalar_one()
            failed = session.execute(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.status == "failed")).scalar_one()
    except SQLAlchemyError as error:
        response = jsonify({"status": "error", "database": type(error).__name__})
        response.status_code = 503
        return response
    return jsonify({"status": "ok", "database": "ok", "outbox_pending": pending, "outbox_failed": failed})
