"""One database session per Flask request, shared by the webhooks and the portal: created on
first use, closed at teardown (which rolls back whatever was only read), and `transaction()` for
the request's unit of work on that same session."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from storage.unit_of_work import unit_of_work

_SESSIONS = "intake.sessions"


def init_app(app: Flask, sessions: sessionmaker[Session]) -> None:
    app.extensions[_SESSIONS] = sessions

    @app.teardown_appcontext
    def _close_session(_error):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def db_session() -> Session:
    """This request's session; what it reads outside `transaction()` is rolled back at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[_SESSIONS]()
    return g.db_session


@contextmanager
def transaction() -> Iterator[Session]:
    """This request's unit of work, on its session (what the request already loaded, such as the
    login, stays usable inside)."""
    with unit_of_work(db_session()) as session:
        yield session
