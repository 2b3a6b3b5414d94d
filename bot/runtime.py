"""The composition root: builds the long-lived objects once per process, gives Flask views one
database session per request (closed at teardown), and holds the one unit of work that commits."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery.senders import configured_senders
from config import Settings
from i18n.catalogs import Catalogs
from i18n.languages import guess, offered, own_name
from i18n.render import Renderer
from intake.engine import Context
from intake.flows import KEYWORDS
from storage.crypto import Vault, load_or_create_data_key
from storage.db import make_engine, make_session_factory


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Runtime:
    """Everything a request, a CLI command or the worker needs, built from the settings."""

    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    catalogs: Catalogs
    renderer: Renderer
    context: Context
    clock: Callable[[], datetime]

    @cached_property
    def senders(self) -> dict:
        """Channel -> sender, built once per process: one long-lived HTTP client per provider."""
        return configured_senders(self.settings)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work in a session of its own (the worker, commands, one inbound message)."""
        with self.sessions() as session, unit_of_work(session):
            yield session

    def close(self) -> None:
        self.db.dispose()


_AFTER_COMMIT = "intake.after_commit"


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    """Commit once when the block ends normally, roll back if it raises; then run what the block
    asked for with `after_commit` (sending what it queued, which must see committed rows). The
    one place that commits (after GlobaLeaks' `transact`)."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.info.pop(_AFTER_COMMIT, None)
        session.rollback()
        raise
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once the current unit of work has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def build_runtime(settings: Settings) -> Runtime:
    """Create the runtime; raises `UnknownLanguageError` for a LANGUAGES entry with no catalog."""
    catalogs = Catalogs()
    languages = offered(settings.languages, catalogs.shipped)
    db = make_engine(settings.database_url, timeout=settings.database_timeout_seconds)
    return Runtime(
        settings=settings,
        db=db,
        sessions=make_session_factory(db),
        vault=Vault(load_or_create_data_key(settings.data_key_file), settings.secret_key),
        catalogs=catalogs,
        renderer=Renderer(catalogs, languages, KEYWORDS),
        context=Context(
            languages=languages,
            translate=catalogs.translate,
            language_names={code: own_name(code) for code in languages},
            service_name=settings.service_name,
            timeout=timedelta(minutes=settings.conversation_timeout_minutes),
            guess_language=partial(guess, offered=languages, translate=catalogs.translate),
        ),
        clock=settings.clock or utcnow,
    )


def init_app(app: Flask, runtime: Runtime) -> None:
    """Attach the runtime to the app and close each request's session at teardown."""
    app.extensions["intake"] = runtime

    @app.teardown_appcontext
    def _close_session(_error):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()  # rolls back anything read outside a transaction()


def current_runtime() -> Runtime:
    return current_app.extensions["intake"]


def db_session() -> Session:
    """This request's session (created on first use); what it reads outside `transaction()` is
    rolled back at teardown."""
    if "db_session" not in g:
        g.db_session = current_runtime().sessions()
    return g.db_session


@contextmanager
def transaction() -> Iterator[Session]:
    """This request's unit of work, on its session (what the request already loaded, such as the
    login, stays usable inside)."""
    with unit_of_work(db_session()) as session:
        yield session
