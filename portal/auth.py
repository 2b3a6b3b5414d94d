"""Logging in and out: email and password, then a TOTP code where the account has one.

At the password step the organisation key is opened with the password (the only moment it can
be) and kept in a portal session under a key that only the browser's cookie holds. An account
with TOTP gets a *pending* session first; only the right code turns it into a usable one.
"""

from __future__ import annotations

import logging

import re
from datetime import datetime, timedelta

from flask import Response, flash, make_response, redirect, render_template, request, session, url_for
from sqlalchemy.orm import Session

from portal.blueprint import bp
from portal.current import (
    PENDING_KEY, REFERRAL_ROLES, SESSION_KEY, cookie_secrets, current_login, home_for, remember,
)
from portal.services import services
from storage import logins, portal_sessions
from storage.audit_log import audit
from storage.models import Organisation, User
from storage.request_scope import db_session, transaction
from storage.sealing import public_key_of

LOGIN_FAILED = "Email or password is wrong"
CODE_WRONG = "That code is wrong. Type the code your authenticator app shows now."
THROTTLED = "Too many login attempts from your address. Wait a minute, then try again."
# Where a login may return to: portal pages only, never another site ("//evil.example").
# (Each segment ends in "/" or the string: no nested optional repeats, so no regex backtracking blow-up.)
_SAFE_NEXT = re.compile(r"/portal/(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]*")

log = logging.getLogger(__name__)


def _safe_next(value: str | None) -> str | None:
    return value if value and len(value) <= 200 and _SAFE_NEXT.fullmatch(value) else None


def _render_login(*, error: str | None = None, email: str = "", next_: str | None = None, status: int = 200):
    settings = services().settings
    return render_template("portal/login.html", error=error, email=email, next=next_,
                           attempts=settings.portal_lockout_attempts,
                           minutes=settings.portal_lockout_minutes), status


def throttled(_limit) -> Response:
    """The login page again, saying why, when one address tries too often (a 429, so a script
    sees it too). No password is checked and nothing is counted against any account."""
    body, _status = _render_login(error=THROTTLED, email=request.form.get("email", ""),
                                  next_=_safe_next(request.form.get("next")))
    return make_response(body, 429)


@bp.get("/login")
def login_form():
    if current_login() is not None:
        return redirect(home_for(current_login().user))
    return _render_login(next_=_safe_next(request.args.get("next")))


@bp.post("/login")
def login():
    process = services()
    now = process.clock()
    email, password = request.form.get("email", ""), request.form.get("password", "")
    next_ = _safe_next(request.form.get("next"))
    with process.transaction() as db:  # a short read, over before the slow checks begin
        credentials = logins.read_credentials(db, email)
    correct = logins.password_matches(credentials, password)
    # Only roles that read referrals ever hold the organisation key, even in memory.
    organisation_key = (logins.open_organisation_key(credentials, password)
                        if correct and credentials.role in REFERRAL_ROLES else None)
    with transaction() as db:
        user = logins.conclude(db, credentials, correct, now=now,
                               lockout=logins.Lockout.from_settings(process.settings))
        if user is None:  # the failure count and the audit entries are committed all the same
            # One answer, one status, for every reason: no telling which emails have accounts.
            return _render_login(error=LOGIN_FAILED, email=email, next_=next_, status=401)
        if user.totp_secret is None:
            return _complete_login(db, user, organisation_key, now, next_)
        issued = portal_sessions.start(db, user, organisation_key, now=now, lifetime=_lifetime(), pending=True)
    session.clear()
    remember(PENDING_KEY, issued)
    if next_:
        session["next"] = next_
    return redirect(url_for("portal.totp_form"))


def _lifetime() -> timedelta:
    return timedelta(hours=services().settings.portal_session_hours)


def _complete_login(db: Session, user: User, organisation_key: bytes | None, now: datetime,
                    next_: str | None):
    """Password (and code) accepted: open the session, and give the browser a fresh cookie
    (nothing from before the login survives). Inside the caller's transaction.

    No key is handed to anyone here: a grant made automatically at a colleague's login would go
    to any account that someone able to write to the database had slipped in. And a key that does
    not match the organisation's public key (which would mean the database was tampered with) is
    not used."""
    logins.record_success(user, now)
    detail = None
    if organisation_key is not None:
        organisation = db.get(Organisation, user.organisation_id)
        if public_key_of(organisation_key) != organisation.public_key:
            log.error("organisation %s: its public key does not match its private key", organisation.acronym)
            organisation_key, detail = None, "organisation key does not match its public key"
    issued = portal_sessions.start(db, user, organisation_key, now=now, lifetime=_lifetime())
    audit(db, now=now, action="login", user_id=user.id, detail=detail)
    session.clear()
    remember(SESSION_KEY, issued)
    return redirect(next_ or home_for(user))


def _pending_login(db: Session, now: datetime):
    """(row, cookie key, user) of the login waiting for its code, or None."""
    secrets_ = cookie_secrets(PENDING_KEY)
    row = None if secrets_ is None else portal_sessions.find(db, secrets_[0], now=now, pending=True)
    if row is None:
        return None
    return row, secrets_[1], db.get(User, row.user_id)


def _start_again():
    session.clear()
    flash("Your login has expired. Please log in again.")
    return redirect(url_for("portal.login_form"))


@bp.get("/login/totp")
def totp_form():
    if _pending_login(db_session(), services().clock()) is None:
        return _start_again()
    return render_template("portal/totp.html")


@bp.post("/login/totp")
def totp():
    process = services()
    now = process.clock()
    with transaction() as db:
        pending = _pending_login(db, now)
        if pending is None:
            secrets_ = cookie_secrets(PENDING_KEY)
            if secrets_ is not None:  # an expired login's row goes with it
                portal_sessions.forget(db, secrets_[0], pending=True)
            return _start_again()
        row, cookie_key, user = pending
        if not logins.check_totp(db, user, request.form.get("code", ""), vault=process.vault, now=now,
                                 lockout=logins.Lockout.from_settings(process.settings)):
            if user.locked_until is not None and now < user.locked_until:
                # Locked now: this half-finished login is over (the password is needed again).
                portal_sessions.end(db, row)
                session.clear()
                flash("Too many wrong attempts: the account is locked for a while. Try again later.")
                return redirect(url_for("portal.login_form"))
            return render_template("portal/totp.html", error=CODE_WRONG), 401
        organisation_key = portal_sessions.unlocked_key(row, cookie_key)
        next_ = _safe_next(session.get("next"))
        portal_sessions.end(db, row)
        return _complete_login(db, user, organisation_key, now, next_)


@bp.post("/logout")
def logout():
    """End the session (its row and its cookie); also cancels a login waiting for its code."""
    now = services().clock()
    login = current_login()
    with transaction() as db:
        if login is not None:
            audit(db, now=now, action="logout", user_id=login.user.id)
            portal_sessions.end(db, login.row)
        pending = _pending_login(db, now)
        if pending is not None:
            portal_sessions.end(db, pending[0])
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("portal.login_form"))
