"""Per-client rate limits, with Flask-Limiter: the routes anyone can reach without a signature
(the portal's login steps, the web simulator) answer 429 with a reason once one address asks too
often. The counts live in RATELIMIT_STORAGE_URI (in-process by default; Redis to share them
between processes and hosts). The address is the request's, as `app.create_app` reads it
through TRUSTED_PROXIES, so behind a proxy the limit falls on the person and not on the proxy.
"""

from __future__ import annotations

from typing import Callable

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from config import Settings


def init_limits(app: Flask, settings: Settings) -> Limiter:
    """A limiter for this app (each app its own counts)."""
    return Limiter(get_remote_address, app=app, storage_uri=settings.ratelimit_storage_uri,
                   strategy="moving-window", headers_enabled=True)


def limit_posts(app: Flask, limiter: Limiter, endpoint: str, limits: str, *, message: str,
                on_breach: Callable | None = None) -> None:
    """Limit POSTs to an already registered endpoint; past the limit the answer is a 429 with
    `message` (or whatever `on_breach` renders) and a Retry-After header."""
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = limiter.limit(limits, methods=["POST"], error_message=message,
                                                 on_breach=on_breach)(view)
