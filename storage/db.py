"""Engines and sessions. The same code runs on SQLite (embedded default) and PostgreSQL.

SQLite needs two adjustments to behave like a server database under concurrent webhooks:

* WAL journal and a busy timeout, so readers do not block the writer and a second writer waits
  instead of failing at once;
* `BEGIN IMMEDIATE` for every transaction. pysqlite otherwise starts a transaction only at the
  first write, so two requests could both read a conversation and both write it back (a lost
  update). Taking the write lock at BEGIN serialises them, as `SELECT ... FOR UPDATE` does on
  PostgreSQL.

Every wait has a limit (`timeout`, DATABASE_TIMEOUT_SECONDS in the service), well under the 15 s
Twilio waits for a webhook: a stalled database must give a quick 503 that the provider retries,
not a request that hangs and whose late answer goes nowhere. On PostgreSQL that is the connect
timeout, the pool's wait, server-side statement and lock timeouts (set a little shorter, so that a
live server cancels cleanly and the connection survives), TCP keepalives and a user timeout for a
dead network, and `storage.db_deadline` for a server that is frozen but still acknowledged by its
kernel. On SQLite it is the busy timeout; `storage.db_failures` makes a read-only, full or lost
database file discard the connection, so that the service recovers by itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from storage import db_deadline, db_failures

DEFAULT_TIMEOUT_SECONDS = 5
# A transaction left idle is a client that vanished (or a command waiting for a person) while
# holding row locks that other people's messages wait for.
IDLE_IN_TRANSACTION_FACTOR = 12
SERVER_SHARE = 0.8  # of the timeout, for PostgreSQL's own statement and lock timeouts


def make_engine(url: str, timeout: float | None = DEFAULT_TIMEOUT_SECONDS, **kwargs) -> Engine:
    """Create an Engine for `url`, preparing SQLite files and pragmas where needed.

    `timeout` (seconds) bounds connecting, waiting for a pooled connection or a lock, and each
    statement. None lifts the limit on statements and locks, for migrations that may rewrite big
    tables; connecting still gives up after DEFAULT_TIMEOUT_SECONDS.

    Statement parameters are kept out of exception messages: a logged traceback must never carry
    what was being written."""
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    wait = DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout
    in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    if "poolclass" not in kwargs and not in_memory:  # only the default queue pool has a wait
        kwargs.setdefault("pool_timeout", wait)
    if parsed.get_backend_name() == "sqlite":
        if not in_memory:
            _create_private(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": wait}, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms=int(wait * 1000))
    else:
        connect_args = _postgresql_connect_args(parsed, timeout)
        connect_args.update(kwargs.pop("connect_args", {}))
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
        if timeout is not None:
            db_deadline.install(engine, timeout)
    db_failures.install(engine)
    return engine


def _create_private(path: Path) -> None:
    """Make a new SQLite file readable by its owner only, before SQLite creates it with the
    process's umask (typically world-readable). SQLite gives the WAL and shared-memory files
    the database file's own permissions, so they follow. An existing file is left as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


def _postgresql_connect_args(parsed, timeout: float | None) -> dict:
    wait = DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout
    args = {
        "connect_timeout": max(2, round(wait)),  # libpq's minimum is 2 s
        # A peer that stops acknowledging (a dead network) is given up after the timeout, and
        # an idle pooled connection to a vanished server is noticed within seconds.
        "tcp_user_timeout": int(wait * 1000),
        "keepalives": 1,
        "keepalives_idle": max(1, round(wait)),
        "keepalives_interval": 1,
        "keepalives_count": 3,
    }
    if timeout is not None:
        server_ms = max(1, int(timeout * SERVER_SHARE * 1000))
        settings = {
            "statement_timeout": server_ms,
            "lock_timeout": server_ms,
            "idle_in_transaction_session_timeout": int(timeout * IDLE_IN_TRANSACTION_FACTOR * 1000),
        }
        # connect_args replace the URL's own `options` (a search_path, say): keep both.
        given = parsed.query.get("options")
        given = " ".join(given) if isinstance(given, tuple) else given
        args["options"] = " ".join([*([given] if given else []),
                                    *(f"-c {name}={value}" for name, value in settings.items())])
    return args


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Hand transaction control to SQLAlchemy (the `begin` hook below) instead of pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted drafts are overwritten, not left in free pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views render after committing)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_sqlite(session_or_engine) -> bool:
    """True when the bound database is SQLite (a few statements differ)."""
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


def conflict_insert(session: Session, table):
    """An INSERT that can say ON CONFLICT, on either database (both dialects spell it alike)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def insert_ignoring_duplicates(session: Session, table, **values) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on either database (race-free get-or-create)."""
    session.execute(conflict_insert(session, table).values(**values).on_conflict_do_nothing())
