"""A client-side deadline for every PostgreSQL round trip.

PostgreSQL's own `statement_timeout` cancels a slow statement, but it cannot help when the server
or the network is frozen: the kernel keeps acknowledging, no answer ever comes, and libpq has no
client-side query timeout. A webhook would then wait for ever while Twilio gives up after 15 s.

So one daemon thread watches every round trip in flight (statements, the pool's pre-ping, COMMIT,
ROLLBACK). When one outlives its deadline the thread shuts the connection's socket down; the
blocked call returns at once with an OperationalError, and SQLAlchemy throws that pooled
connection away (the socket is dead). The error is marked, so that `exceeded()` can tell a
deadline from other failures.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

_MARK = "intake_deadline_exceeded"


class Watchdog:
    """Cuts off connections whose current round trip outlived its deadline. One thread for the
    whole process, started on first use; idle (no wake-ups) while nothing is in flight."""

    def __init__(self) -> None:
        self._reset()
        # A forked child (gunicorn workers) inherits this object but not its thread.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._condition = threading.Condition()
        self._armed: dict[int, tuple[float, int, int]] = {}  # id(connection) -> (deadline, fd, inode)
        self._fired: set[int] = set()
        self._wake_at: float | None = None
        self._thread: threading.Thread | None = None

    def arm(self, connection, seconds: float) -> None:
        """Start the clock for `connection` (a psycopg connection) before a round trip."""
        try:
            fd = connection.fileno()
            inode = os.fstat(fd).st_ino
        except Exception:  # already closed: the call will fail by itself, at once
            return
        deadline = time.monotonic() + seconds
        key = id(connection)
        with self._condition:
            self._armed[key] = (deadline, fd, inode)
            self._fired.discard(key)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="db-deadline", daemon=True)
                self._thread.start()
            if self._wake_at is None or deadline < self._wake_at:
                self._condition.notify()

    def disarm(self, connection) -> bool:
        """Stop the clock after the round trip; True when its deadline had passed and the
        connection was cut off."""
        key = id(connection)
        with self._condition:
            self._armed.pop(key, None)
            if key in self._fired:
                self._fired.discard(key)
                return True
            return False

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for key, (deadline, fd, inode) in list(self._armed.items()):
                    if deadline <= now:
                        # Under the lock: the owner is still blocked in its call (it disarms
                        # before closing anything), so `fd` is still its socket.
                        del self._armed[key]
                        self._fired.add(key)
                        _shut_down(fd, inode)
                self._wake_at = min((deadline for deadline, _fd, _inode in self._armed.values()), default=None)
                self._condition.wait(None if self._wake_at is None else max(0.0, self._wake_at - now))


def _shut_down(fd: int, inode: int) -> None:
    """Shut the socket down (both directions) without closing the owner's descriptor: the
    owner's blocked poll wakes up and reads end-of-file."""
    try:
        if os.fstat(fd).st_ino != inode:  # closed and reused in between: not ours any more
            return
        duplicate = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


WATCHDOG = Watchdog()


def exceeded(error: BaseException | None) -> bool:
    """True when `error`, or the driver error it wraps, comes from a round trip cut off at its
    deadline."""
    seen = 0
    while error is not None and seen < 5:
        if getattr(error, _MARK, False):
            return True
        error = getattr(error, "orig", None) or error.__cause__
        seen += 1
    return False


def _mark(error: BaseException) -> None:
    try:
        setattr(error, _MARK, True)
    except AttributeError:
        pass


def install(engine: Engine, seconds: float, watchdog: Watchdog = WATCHDOG) -> None:
    """Give every round trip of `engine` (a psycopg engine) a deadline of `seconds`."""

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(_conn, cursor, _statement, _parameters, _context, _executemany):
        watchdog.arm(cursor.connection, seconds)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(_conn, cursor, _statement, _parameters, _context, _executemany):
        watchdog.disarm(cursor.connection)

    @event.listens_for(engine, "handle_error")
    def _on_error(context):
        error = context.original_exception
        driver_connection = _driver_connection(context)
        if driver_connection is not None and watchdog.disarm(driver_connection):
            _mark(error)
        if exceeded(error):
            # The socket is dead: drop the connection. But when the pool's pre-ping is what timed
            # out, do not let the pool reconnect at once: a frozen server would keep the new
            # connection waiting for a whole connect timeout too. The checkout fails instead
            # (and still discards the connection); the next request connects afresh.
            context.is_disconnect = not context.is_pre_ping

    # Round trips that do not go through a cursor, hence through no event: the pre-ping, and
    # COMMIT / ROLLBACK (a rollback at the end of a request would otherwise hang the request).
    dialect = engine.dialect
    for name in ("do_ping", "do_commit", "do_rollback"):
        setattr(dialect, name, _guarded(getattr(dialect, name), watchdog, seconds))


def _driver_connection(context):
    """The psycopg connection a failed statement ran on, if any. (`context.cursor` would be the
    obvious way, but SQLAlchemy 2.1 leaves that attribute unset.)"""
    connection = context.connection
    if connection is None or connection.closed or connection.invalidated:
        return None
    return connection.connection.dbapi_connection


def _guarded(call, watchdog: Watchdog, seconds: float):
    @functools.wraps(call)
    def guarded(connection):
        driver_connection = getattr(connection, "dbapi_connection", connection)  # pool proxy or not
        watchdog.arm(driver_connection, seconds)
        try:
            result = call(connection)
        except BaseException as error:
            if watchdog.disarm(driver_connection):
                _mark(error)
            raise
        watchdog.disarm(driver_connection)
        return result

    return guarded
