"""What the portal needs from the process, given to it by `app.py` (the portal imports nothing of
the bot): the settings, the clock, the server's keys, the renderer for labels in the portal's
language, and a unit of work in a session of its own (for a read that must be over before the
slow password check begins), and the notifications of a case referred on."""

from __future__ import annotations

from datetime import datetime
from contextlib import AbstractContextManager
from typing import Callable, Protocol

from flask import Flask, current_app
from sqlalchemy.orm import Session

from config import Settings
from i18n.render import Renderer
from storage.crypto import Vault

_KEY = "portal.services"


class Services(Protocol):
    settings: Settings
    clock: Callable[[], datetime]
    renderer: Renderer
    vault: Vault

    def transaction(self) -> AbstractContextManager[Session]: ...

    def notify_referral(self, session: Session, referral, *, now: datetime) -> int:
        """Queue the notifications of a case referred on; how many (0: nobody to tell)."""


def init_app(app: Flask, services: Services) -> None:
    app.extensions[_KEY] = services


def services() -> Services:
    return current_app.extensions[_KEY]
