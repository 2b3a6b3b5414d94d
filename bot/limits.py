"""Rate limits, with Flask-Limiter, per client address and for everyone together: on the routes
anyone can reach without a signature (the portal's login steps, the web simulator) and on the API
(per address, per bearer token and for everyone). Past a limit the answer is a 429 with a reason
and Retry-After. The counts live in RATELIMIT_STORAGE_URI (in-process by default; Redis to share
them between processes and hosts). The address is the request's, as `app.create_app` reads it
through TRUSTED_PROXIES, so behind a proxy the limit falls on the person and not on the proxy; an
IPv6 address counts as its /64 (`storage.logins.address_group`), all of which one subscriber holds.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Callable

from flask import Blueprint, Flask, g, request
from flask_limiter import Limiter

from config import Settings
from storage.logins import address_group


def client_address() -> str:
    """Whom a limit counts: the client's address (an IPv6 one as its /64)."""
    return address_group(request.remote_addr)


def everyone() -> str:
    """One count for every client together: what a flood from many addresses meets."""
    return "everyone"


def bearer_token() -> str:
    """The API token a request carries (a digest of it, never the token), for its own count."""
    return "token:" + hashlib.sha256(request.headers.get("Authorization", "").encode()).hexdigest()


def no_bearer_token() -> bool:
    return "Authorization" not in request.headers


def init_limits(app: Flask, settings: Settings) -> Limiter:
    """A limiter for this app (each app its own counts). Only a refusal carries Retry-After
    (Flask-Limiter's own headers would put one on every answer of a limited route, a success
    too, and over the portal's own wait after wrong passwords)."""
    app.after_request(_retry_after)
    return Limiter(client_address, app=app, storage_uri=settings.ratelimit_storage_uri,
                   strategy="moving-window", headers_enabled=False)


def _breached(on_breach: Callable | None) -> Callable:
    """`on_breach`, remembering first when the breached limit lets the next request through."""
    def breached(limit):
        g.limit_retry_after = max(1, math.ceil(limit.reset_at - time.time()))
        return on_breach(limit) if on_breach is not None else None
    return breached


def _retry_after(response):
    wait = g.get("limit_retry_after")
    if wait and response.status_code == 429:
        response.headers["Retry-After"] = str(wait)
    return response


def limit_posts(app: Flask, limiter: Limiter, endpoint: str, limits: str, *, message: str,
                on_breach: Callable | None = None, everyone_scope: str | None = None) -> None:
    """Limit POSTs to an already registered endpoint, per address (`limits`) or, given
    `everyone_scope`, for everyone together over all endpoints limited with that scope; past the
    limit the answer is a 429 with `message` (or whatever `on_breach` renders) and Retry-After."""
    view = app.view_functions[endpoint]
    if everyone_scope is None:
        limited = limiter.limit(limits, methods=["POST"], error_message=message, on_breach=_breached(on_breach))
    else:
        limited = limiter.shared_limit(limits, everyone_scope, key_func=everyone, methods=["POST"],
                                       error_message=message, on_breach=_breached(on_breach))
    app.view_functions[endpoint] = limited(view)


def limit_api(limiter: Limiter, blueprint: Blueprint, settings: Settings, *, message: str) -> None:
    """Every request to the API: API_LIMIT per address and per bearer token (a token used from
    many addresses is still one caller), API_GLOBAL_LIMIT for everyone."""
    limiter.limit(settings.api_limit, error_message=message, on_breach=_breached(None))(blueprint)
    limiter.limit(settings.api_limit, key_func=bearer_token, exempt_when=no_bearer_token, scope="api-token",
                  error_message=message, on_breach=_breached(None))(blueprint)
    limiter.limit(settings.api_global_limit, key_func=everyone, scope="api-everyone", error_message=message,
                  on_breach=_breached(None))(blueprint)
