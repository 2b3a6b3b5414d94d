"""Logging in and out: email and password, then a TOTP code. Every account has the code step:
every role reads something that must not leak (referrals, registration records, or, for admins,
the audit log, the outbox and every account), so a stolen password alone opens nothing.

At the password step the organisation key is opened with the password (the only moment it can
be) and kept in a portal session under a key that only the browser's cookie holds. The password
gives a *pending* session only; the right code turns it into a usable one. An account that has no
TOTP yet (new, or reset) sets it up first (`portal.enrol`), before it gets a session. A code is
good once: typed again, even within its 30 seconds, it is refused and the person told why.
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
from portal.i18n import _, gettext_noop, ngettext
from portal.services import services
from storage import logins, portal_sessions
from storage.audit_log import audit
from storage.models import Organisation, User
from storage.request_scope import db_session, transaction
from storage.sealing import public_key_of

# Also the limiter's message and the tests' expectations, so plain strings, translated when shown.
LOGIN_FAILED = gettext_noop("Email or password is wrong")
CODE_WRONG = gettext_noop("That code is wrong. Type the code your authenticator app shows now.")
THROTTLED = gettext_noop("Too many login attempts from your address. Wait a minute, then try again.")
BUSY = gettext_noop("The portal is receiving too many login attempts just now. Wait a minute, then try again.")
# Said to whoever is held back after wrong attempts from their address (with how long); an email
# that has no account is held the same way, so this tells nobody which emails have accounts.
HELD = gettext_noop("Too many wrong attempts from your address for this account. Wait %(wait)s, then try "
                    "again. Logging in from another device or network is not held back.")
# Where a login may return to: portal pages only, never another site ("//evil.example").
# (Each segment ends in "/" or the string: no nested optional repeats, so no regex backtracking blow-up.)
_SAFE_NEXT = re.compile(r"/portal/(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]*")

log = logging.getLogger(__name__)


def safe_next(value: str | None) -> str | None:
    """`value` if it is a portal page to return to after the login, else None."""
    return value if value and len(value) <= 200 and _SAFE_NEXT.fullmatch(value) else None


def _render_login(*, error: str | None = None, email: str = "", next_: str | None = None, status: int = 200):
    settings = services().settings
    return render_template("portal/login.html", error=error, email=email, next=next_,
                           attempts=settings.portal_lockout_attempts,
                           minutes=settings.portal_lockout_minutes), status


def wait_words(seconds: int) -> str:
    """A wait in the portal's language: seconds under two minutes, else minutes (rounded up)."""
    if seconds < 120:
        return ngettext("%(num)s second", "%(num)s seconds", seconds)
    return ngettext("%(num)s minute", "%(num)s minutes", -(-seconds // 60))


def held_message(seconds: int) -> str:
    return _(HELD, wait=wait_words(seconds))


def with_wait(page, seconds: int, *, status: int | None = None) -> Response:
    """`page` (a body and status) with Retry-After when this address must wait before its next try."""
    response = make_response(*page)
    if seconds:
        response.headers["Retry-After"] = str(seconds)
        if status is not None:
            response.status_code = status
    return response


def failure_digest(email: str) -> bytes:
    """The key of the failures from this request's address for `email` (storage.logins)."""
    return logins.failure_digest(services().vault, request.remote_addr, email)


def throttled(_limit) -> Response:
    """The login page again, saying why, when one address tries too often (a 429, so a script
    sees it too). No password is checked and nothing is counted against any account."""
    body, _status = _render_login(error=_(THROTTLED), email=request.form.get("email", ""),
                                  next_=safe_next(request.form.get("next")))
    return make_response(body, 429)


def busy(_limit) -> Response:
    """The login page again when everyone together tries too often (a flood from many
    addresses): a 429; no password is checked and nothing is counted against any account."""
    body, _status = _render_login(error=_(BUSY), email=request.form.get("email", ""),
                                  next_=safe_next(request.form.get("next")))
    return make_response(body, 429)


@bp.get("/login")
def login_form():
    if current_login() is not None:
        return redirect(home_for(current_login().user))
    return _render_login(next_=safe_next(request.args.get("next")))


@bp.post("/login")
def login():
    process = services()
    now = process.clock()
    email, password = request.form.get("email", ""), request.form.get("password", "")
    next_ = safe_next(request.form.get("next"))
    digest = failure_digest(email)
    with process.transaction() as db:  # a short read, over before the slow checks begin
        credentials = logins.read_credentials(db, email)
        held = logins.seconds_held(db, digest, now)
    if held:  # no password is checked while this address waits
        return with_wait(_render_login(error=held_message(held), email=email, next_=next_), held, status=429)
    correct = logins.password_matches(credentials, password)
    # Only roles that read referrals ever hold the organisation key, even in memory.
    organisation_key = (logins.open_organisation_key(credentials, password)
                        if correct and credentials.role in REFERRAL_ROLES else None)
    with transaction() as db:
        user, wait = logins.conclude(db, credentials, correct, digest, now=now,
                                     lockout=logins.Lockout.from_settings(process.settings))
        if user is None:  # the failure count and the audit entries are committed all the same
            # One answer, one status, for every reason: no telling which emails have accounts.
            error = f"{_(LOGIN_FAILED)} {held_message(wait)}" if wait else _(LOGIN_FAILED)
            return with_wait(_render_login(error=error, email=email, next_=next_, status=401), wait)
        issued = portal_sessions.start(db, user, organisation_key, now=now, lifetime=_lifetime(), pending=True)
        enrolling = user.totp_secret is None
    session.clear()
    remember(PENDING_KEY, issued)
    if next_:
        session["next"] = next_
    return redirect(url_for("portal.enrol_form" if enrolling else "portal.totp_form"))


def _lifetime() -> timedelta:
    return timedelta(hours=services().settings.portal_session_hours)


def complete_login(db: Session, user: User, organisation_key: bytes | None, now: datetime,
                   next_: str | None, *, detail: str | None = None):
    """Password and code accepted: open the session, and give the browser a fresh cookie
    (nothing from before the login survives). Inside the caller's transaction. `detail` goes
    with the login's audit entry (a first login that set TOTP up says so).

    No key is handed to anyone here: a grant made automatically at a colleague's login would go
    to any account that someone able to write to the database had slipped in. And a key that does
    not match the organisation's public key (which would mean the database was tampered with) is
    not used."""
    logins.record_success(user, now)
    logins.clear_failures(db, failure_digest(user.email))
    if organisation_key is not None:
        organisation = db.get(Organisation, user.organisation_id)
        if public_key_of(organisation_key) != organisation.public_key:
            log.error("organisation %s: its public key does not match its private key", organisation.acronym)
            mismatch = "organisation key does not match its public key"
            organisation_key, detail = None, f"{detail}; {mismatch}" if detail else mismatch
    issued = portal_sessions.start(db, user, organisation_key, now=now, lifetime=_lifetime())
    audit(db, now=now, action="login", user_id=user.id, detail=detail)
    session.clear()
    remember(SESSION_KEY, issued)
    return redirect(next_ or home_for(user))


def pending_login(db: Session, now: datetime):
    """(row, cookie key, user) of the login waiting for its code, or None."""
    secrets_ = cookie_secrets(PENDING_KEY)
    row = None if secrets_ is None else portal_sessions.find(db, secrets_[0], now=now, pending=True)
    if row is None:
        return None
    return row, secrets_[1], db.get(User, row.user_id)


def start_again(message: str | None = None):
    """Back to the login form, saying why (by default: the login waiting for its code expired)."""
    session.clear()
    flash(message or _("Your login has expired. Please log in again."))
    return redirect(url_for("portal.login_form"))


def no_pending_login(db: Session):
    """The answer to a code posted for a login that is not waiting (expired, or never begun);
    an expired login's row goes with it. Inside the caller's transaction."""
    secrets_ = cookie_secrets(PENDING_KEY)
    if secrets_ is not None:
        portal_sessions.forget(db, secrets_[0], pending=True)
    return start_again()


def after_refused_code(db: Session, row, outcome: str):
    """A code refused for good (the account was disabled or reset meanwhile): this half-finished
    login is over, and the password is needed again. Otherwise None: the caller asks for the
    code again (after the wait, if this address is held)."""
    if outcome != logins.REFUSED:
        return None
    portal_sessions.end(db, row)
    return start_again(_("This login cannot go on. Please log in again."))


def code_error(outcome: str, wait: int = 0) -> str:
    """What to tell someone whose code was WRONG, USED or HELD (and how long to wait, if held)."""
    if outcome == logins.HELD:
        return held_message(wait)
    if wait:
        return f"{code_error(outcome)} {held_message(wait)}"
    if outcome == logins.USED:
        return _("That code was used already: each code works once. Wait until your authenticator app "
                 "shows the next code (up to 30 seconds), then type that one.")
    return _(CODE_WRONG)


@bp.get("/login/totp")
def totp_form():
    pending = pending_login(db_session(), services().clock())
    if pending is None:
        return start_again()
    if pending[2].totp_secret is None:  # reset while the login waited: set it up again
        return redirect(url_for("portal.enrol_form"))
    return render_template("portal/totp.html")


def finish_code_step(check, refused_page, *, detail: str | None = None):
    """The second step of a login waiting for its code (the code step, or setting TOTP up):
    `check(db, row, user, code, digest, vault=, now=, lockout=)` says whether the code is right;
    `refused_page(row, user, outcome, wait)` answers a wrong one (a 429 with Retry-After when
    it was not checked because this address must wait); a right one completes the login."""
    process = services()
    now = process.clock()
    with transaction() as db:
        pending = pending_login(db, now)
        if pending is None:
            return no_pending_login(db)
        row, cookie_key, user = pending
        digest = failure_digest(user.email)
        outcome = check(db, row, user, request.form.get("code", ""), digest, vault=process.vault, now=now,
                        lockout=logins.Lockout.from_settings(process.settings))
        if outcome != logins.ACCEPTED:
            refused = after_refused_code(db, row, outcome)
            if refused is not None:
                return refused
            wait = logins.seconds_held(db, digest, now)
            return with_wait(refused_page(row, user, outcome, wait), wait,
                             status=429 if outcome == logins.HELD else None)
        organisation_key = portal_sessions.unlocked_key(row, cookie_key)
        next_ = safe_next(session.get("next"))
        portal_sessions.end(db, row)
        return complete_login(db, user, organisation_key, now, next_, detail=detail)


@bp.post("/login/totp")
def totp():
    return finish_code_step(
        lambda db, row, user, code, digest, **checking: logins.check_totp(db, user, code, digest, **checking),
        lambda row, user, outcome, wait: (render_template("portal/totp.html", error=code_error(outcome, wait)), 401))


@bp.post("/logout")
def logout():
    """End the session (its row and its cookie); also cancels a login waiting for its code."""
    now = services().clock()
    login = current_login()
    with transaction() as db:
        if login is not None:
            audit(db, now=now, action="logout", user_id=login.user.id)
            portal_sessions.end(db, login.row)
        pending = pending_login(db, now)
        if pending is not None:
            portal_sessions.end(db, pending[0])
    session.clear()
    flash(_("You are logged out."))
    return redirect(url_for("portal.login_form"))
