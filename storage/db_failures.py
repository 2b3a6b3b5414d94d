"""What a database error means for the service: which errors put a connection out of use, and
how to say what went wrong in words an operator can act on.

SQLite caches, per connection, that its file could not be opened for writing: a connection opened
while the disk was read-only stays read-only after the disk is writable again. So errors that say
the file is read-only, full or unreachable throw the pooled connection away (SQLAlchemy's
"disconnect"), and the next request opens a fresh one; the service recovers without a restart.
A read-only PostgreSQL (a standby, or `default_transaction_read_only`) is treated the same way,
so that a reconnection can reach the new primary, and answered as unavailable (503), not as a bug.
"""

from __future__ import annotations

import os
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError

from storage import db_deadline

# Primary result codes (the low byte of the extended ones, e.g. SQLITE_IOERR_WRITE).
_SQLITE_OUT_OF_USE = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
_SQLITE_SHMSIZE = sqlite3.SQLITE_IOERR_SHMSIZE

_OPENED_READ_ONLY = "intake_opened_read_only"  # in a pooled connection's info

# SQLSTATEs.
_PG_READ_ONLY = "25006"  # read_only_sql_transaction
_PG_DISK_FULL = "53100"
_PG_TIMED_OUT = {"57014", "55P03"}  # query_canceled (statement_timeout), lock_not_available (lock_timeout)


def install(engine: Engine) -> None:
    """Make `engine` discard connections that the errors above leave unusable, and (SQLite)
    connections opened while the file could not be written, once it can be again."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        _reopen_when_writable(engine, engine.url.database)

    @event.listens_for(engine, "handle_error")
    def _out_of_use(context):
        error = context.original_exception
        if _sqlite_code(error) in _SQLITE_OUT_OF_USE:
            context.is_disconnect = True
        elif _sqlstate(error) == _PG_READ_ONLY:
            context.is_disconnect = True
            # psycopg files it under InternalError, which the error handlers would answer with a
            # 500; for the service it means "unavailable, retry", like any OperationalError.
            return OperationalError(context.statement, context.parameters, error, hide_parameters=True,
                                    connection_invalidated=True)
        return None


def _reopen_when_writable(engine: Engine, database: str) -> None:
    """A connection opened while the file was read-only (or its file system mounted read-only)
    reads well and so raises no error that would discard it, yet refuses every write for ever:
    the first write after the disk is writable again would still fail. It is noted when opened,
    and replaced at its next checkout once the file can be written."""

    def writable() -> bool:
        return os.access(database, os.W_OK)

    @event.listens_for(engine, "connect")
    def _note(_dbapi_connection, record):
        record.info[_OPENED_READ_ONLY] = os.path.exists(database) and not writable()

    @event.listens_for(engine, "checkout")
    def _replace(_dbapi_connection, record, _proxy):
        if record.info.get(_OPENED_READ_ONLY) and writable():
            raise DisconnectionError("opened while the database file was read-only")


def reason(error: SQLAlchemyError, timeout: float) -> str:
    """A short sentence for /healthz: what is wrong with the database. Never the driver's message,
    which may name the host, the user or a row."""
    original = getattr(error, "orig", None)
    code = _sqlite_code(original)
    state = _sqlstate(original)
    if db_deadline.exceeded(error) or state in _PG_TIMED_OUT or type(original).__name__ == "ConnectionTimeout":
        return f"database did not answer within {timeout:g} s"
    if code == sqlite3.SQLITE_READONLY or state == _PG_READ_ONLY:
        return "database is read-only"
    # A new connection on a full disk cannot grow its shared-memory file: the same trouble.
    if code == sqlite3.SQLITE_FULL or state == _PG_DISK_FULL or _sqlite_extended_code(original) == _SQLITE_SHMSIZE:
        return "database disk is full"
    if code == sqlite3.SQLITE_IOERR:
        return "database file cannot be read or written (disk I/O error): is its disk read-only, full or failing?"
    if code == sqlite3.SQLITE_CANTOPEN:
        return "database file cannot be opened: does its directory exist, and is it writable?"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"database stayed locked for more than {timeout:g} s"
    if isinstance(error, OperationalError) and error.connection_invalidated:
        return "database connection lost (closed or reset by the server or the network)"
    if isinstance(error, OperationalError):
        return f"database unavailable ({type(original).__name__ if original is not None else 'no connection'})"
    return f"database error ({type(error).__name__})"


def about_the_file(error: SQLAlchemyError) -> bool:
    """True when `error` says an SQLite file could not be opened or written, without saying why
    (the disk, the file's permissions, or the file made immutable: see health_probe)."""
    return _sqlite_code(getattr(error, "orig", None)) in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR,
                                                          sqlite3.SQLITE_CANTOPEN)


def _sqlite_extended_code(error) -> int | None:
    return getattr(error, "sqlite_errorcode", None) if isinstance(error, sqlite3.Error) else None


def _sqlite_code(error) -> int | None:
    extended = _sqlite_extended_code(error)
    return None if extended is None else extended & 0xFF


def _sqlstate(error) -> str | None:
    return getattr(error, "sqlstate", None) if error is not None else None
