"""Who is logged in: the portal session named by the cookie, checked on every request.

The signed Flask session cookie carries the session token and the cookie key K (see
`storage.portal_sessions`); the database row carries neither. A request is logged in only when the
row exists, has not expired, belongs to an active account, and K opens the key kept in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import abort, flash, g, redirect, request, session, url_for

from portal.display import words
from portal.i18n import _
from portal.services import services
from storage import portal_sessions
from storage.accounts import KEY_HOLDING_ROLES
from storage.models import PortalSession, User
from storage.request_scope import db_session, transaction
from storage.sealing import SealError

# Cookie entries: a complete login, and a login still waiting for its TOTP code.
SESSION_KEY = "portal"
PENDING_KEY = "portal_pending"

# Roles that read their own organisation's referrals (they hold its key) ...
REFERRAL_ROLES = KEY_HOLDING_ROLES
# ... roles that decide the changes people ask for to their registration records ...
CASEWORK_ROLES = ("caseworker", "admin")
# ... roles that see the counts of declared needs ...
NEEDS_ROLES = ("caseworker", "coordinator", "admin")
# ... roles that see the coordinators' dashboard and its API (counts only) ...
DASHBOARD_ROLES = ("coordinator", "admin")
# ... and the roles that manage accounts, the directory and the outbox.
ADMIN_ROLES = ("admin",)


@dataclass(frozen=True)
class Login:
    """A logged-in request: the account, its session row, and the organisation key it unlocked
    at login (None when the account had no grant yet)."""

    user: User
    row: PortalSession
    organisation_key: bytes | None


def cookie_secrets(name: str) -> tuple[str, bytes] | None:
    """(token, cookie key) from a cookie entry, or None when absent or malformed."""
    value = session.get(name)
    if not isinstance(value, dict) or not isinstance(value.get("token"), str):
        return None
    key = portal_sessions.decode_cookie_key(value.get("key") or "")
    return None if key is None else (value["token"], key)


def remember(name: str, issued: portal_sessions.Issued) -> None:
    """Put a new session's secrets in the cookie (and nowhere else)."""
    session[name] = {"token": issued.token, "key": issued.cookie_key_text()}


def current_login() -> Login | None:
    """This request's login, looked up once per request."""
    if "portal_login" not in g:
        g.portal_login = _load()
    return g.portal_login


def _load() -> Login | None:
    secrets_ = cookie_secrets(SESSION_KEY)
    if secrets_ is None:
        return None
    token, cookie_key = secrets_
    db = db_session()
    row = portal_sessions.find(db, token, now=services().clock())
    login = None if row is None else _usable(db, row, cookie_key)
    if login is None:
        # A getter only looks: `login_required` deletes the dead row and says the session ended.
        session.pop(SESSION_KEY, None)
        g.portal_session_ended = token
    return login


def _usable(db, row: PortalSession, cookie_key: bytes) -> Login | None:
    """The login a live row stands for; None when the account was deactivated since, or the
    cookie key is not the one this session was made with."""
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    try:
        return Login(user, row, portal_sessions.unlocked_key(row, cookie_key))
    except SealError:
        return None


def login_required(view):
    """Send anyone not logged in to the login page, coming back here afterwards."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_login() is None:
            ended = g.pop("portal_session_ended", None)
            if ended is not None:
                with transaction() as db:
                    portal_sessions.forget(db, ended)
                flash(_("Your session has ended. Please log in again."))
            return redirect(url_for("portal.login_form", next=request.path))
        return view(*args, **kwargs)

    return wrapper


def role_required(roles: tuple[str, ...], what):
    """403, naming the role and `what` it cannot reach (a `lazy_gettext` phrase), for accounts
    outside `roles`."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            role = current_login().user.role
            if role not in roles:
                abort(403, description=_("Your role (%(role)s) does not give access to %(what)s.",
                                         role=words(role).lower(), what=what))
            return view(*args, **kwargs)

        return wrapper

    return decorate


def home_for(user: User) -> str:
    """Where a user lands after logging in."""
    if user.role == "caseworker":
        return url_for("portal.changes")
    if user.role in DASHBOARD_ROLES:
        return url_for("portal.dashboard")
    return url_for("portal.index")
