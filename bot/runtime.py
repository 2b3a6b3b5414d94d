"""The runtime: the long-lived objects a process needs (settings, database, keys, catalogs, the
engine's context, the senders), built once from the settings. `app.py` builds it and hands the
portal what the portal needs; the bot's views reach it with `current_runtime()`."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, partial
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator

from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.casework.transfers import notify_referred_on
from bot.delivery.senders import configured_senders
from config import Settings
from i18n.catalogs import Catalogs
from i18n.languages import guess, offered, own_name
from i18n.render import Renderer
from intake.engine import Context
from intake.flows import KEYWORDS
from storage import audit_log, request_scope
from storage.crypto import Vault, load_or_create_data_key
from storage.db import make_engine, make_session_factory
from storage.unit_of_work import unit_of_work


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

    def notify_referral(self, session: Session, referral, *, now: datetime) -> int:
        """Tell the organisation a case was referred on to (the portal calls this)."""
        return notify_referred_on(session, self, referral, now=now)

    def close(self) -> None:
        self.db.dispose()


def build_runtime(settings: Settings) -> Runtime:
    """Create the runtime; raises `UnknownLanguageError` for a LANGUAGES entry with no catalog."""
    catalogs = Catalogs()
    languages = offered(settings.languages, catalogs.shipped)
    db = make_engine(settings.database_url, timeout=settings.database_timeout_seconds)
    vault = Vault(load_or_create_data_key(settings.data_key_file), settings.secret_key)
    sessions = make_session_factory(db)
    audit_log.configure(sessions, vault.audit_key)
    return Runtime(
        settings=settings,
        db=db,
        sessions=sessions,
        vault=vault,
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
    """Attach the runtime to the app, with one database session per request."""
    app.extensions["intake"] = runtime
    request_scope.init_app(app, runtime.sessions)


def current_runtime() -> Runtime:
    return current_app.extensions["intake"]
