"""What /healthz checks about the store beyond "it answers": that a write still reaches it, and,
for an SQLite file, that its disk is writable with room to spare. A read-only or full disk still
answers reads, so a read alone would report "ok" while every message fails."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from storage import db_failures
from storage.db import is_sqlite
from storage.models import HealthProbe

MIB = 1024 * 1024


def record_write(session: Session, now: datetime) -> None:
    """Rewrite the probe row (recreating it if it went missing). The caller commits: only a
    commit proves that the write reached the disk (SQLite writes its log at COMMIT)."""
    updated = session.execute(update(HealthProbe).where(HealthProbe.id == 1)
                              .values(checked_at=now, writes=HealthProbe.writes + 1)).rowcount
    if not updated:
        session.add(HealthProbe(id=1, checked_at=now, writes=1))
        session.flush()


def read_only_reason(session: Session) -> str | None:
    """Why a PostgreSQL server would refuse writes (a standby, or read-only by default); None
    when it takes them, and always None on SQLite (its write probe tells)."""
    if is_sqlite(session):
        return None
    in_recovery, read_only = session.execute(
        text("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")).one()
    if in_recovery:
        return "database is read-only: the server is a standby (in recovery)"
    if read_only == "on":
        return "database is read-only"
    return None


def disk_reason(engine: Engine, min_free_mb: int) -> str | None:
    """For an SQLite file: a read-only file system, or less than `min_free_mb` MiB free beside
    the file. None when all is well, and for PostgreSQL (whose disk is the server's)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    try:
        stats = os.statvfs(Path(database).parent)
    except OSError:
        return "database directory is missing or unreadable"
    if stats.f_flag & os.ST_RDONLY:
        return "database is read-only: its file system is mounted read-only"
    # f_bavail, not f_bfree: blocks reserved for the superuser are not the service's to count on.
    free_mb = stats.f_bavail * stats.f_frsize // MIB
    if free_mb < min_free_mb:
        return f"disk almost full: {free_mb} MiB free"
    return None


def failure_reason(engine: Engine, error: SQLAlchemyError, timeout: float) -> str:
    """What went wrong, for the log and /healthz: `db_failures.reason`, made precise when an
    SQLite file could not be opened or written (SQLite says only "read-only" or "I/O error"):
    its file system mounted read-only, or the file or its directory not writable."""
    reason = db_failures.reason(error, timeout)
    if db_failures.about_the_file(error):
        return disk_reason(engine, 0) or _unwritable(engine) or reason
    return reason


def _unwritable(engine: Engine) -> str | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database)
    # os.access: permissions as they apply to this process, and immutability, which binds root too.
    for what, candidate in (("file", path), ("directory", path.parent)):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            return f"database is read-only: its {what} cannot be written (permissions, or made immutable)"
    return None
