"""Setting TOTP up at a first login (or the first after a reset), before any session is given.

After the right password an account without TOTP is shown a fresh secret: as a QR code (an
inline SVG, drawn by segno: the portal's CSP allows no `data:` image), as an otpauth:// link, and
in letters to type. Only a code from it makes the secret the account's and completes the login,
so an authenticator that was never set up cannot lock anyone out.

Until then the secret lives in the browser's signed cookie, sealed with the server's data key
(so the cookie does not show it) and tied to this login's pending row (so a cookie of another
login cannot bring its own). Nothing is written to the account before the code is right.
"""

from __future__ import annotations

import base64
import binascii

import segno
from flask import redirect, render_template, session, url_for
from markupsafe import Markup

from portal.auth import code_error, finish_code_step, pending_login, start_again
from portal.blueprint import bp
from portal.services import services
from storage import logins, totp
from storage.crypto import DecryptionError
from storage.request_scope import db_session

_COOKIE = "portal_enrol"
_PURPOSE = "portal.totp_enrolment"


def qr_code(uri: str) -> Markup:
    """The URI as a QR code, an <svg> element for the page. segno draws the code as one path;
    the data is in the shape only, never as text, so nothing in it needs escaping."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, svgclass="qr", lineclass=None)
    return Markup(svg)  # noqa: S704 segno's own markup: the data is drawn, never written as text


def _candidate(row_id: str) -> str:
    """This pending login's secret-to-be: the one already shown (a reload shows the same code
    the person may have scanned), else a new one, remembered in the cookie."""
    vault = services().vault
    kept = session.get(_COOKIE)
    if isinstance(kept, dict) and kept.get("row") == row_id:
        try:
            return vault.open(base64.b64decode(kept.get("secret") or "", validate=True), _PURPOSE).decode()
        except (DecryptionError, binascii.Error, ValueError):
            pass  # made under another data key, or tampered with: start with a new one
    secret = totp.new_secret()
    session[_COOKIE] = {"row": row_id, "secret": base64.b64encode(vault.seal(secret.encode(), _PURPOSE)).decode()}
    return secret


def _page(user, secret: str, *, error: str | None = None, status: int = 200):
    uri = totp.provisioning_uri(secret, user.email, services().settings.service_name)
    return render_template("portal/enrol.html", email=user.email, uri=uri, qr=qr_code(uri),
                           secret=totp.grouped(secret), error=error), status


@bp.get("/login/enrol")
def enrol_form():
    pending = pending_login(db_session(), services().clock())
    if pending is None:
        return start_again()
    row, _cookie_key, user = pending
    if user.totp_secret is not None:  # set up already (in another tab): just the code
        return redirect(url_for("portal.totp_form"))
    return _page(user, _candidate(row.id))


@bp.post("/login/enrol")
def enrol():
    return finish_code_step(
        lambda db, row, user, code, digest, **checking: logins.enrol_totp(db, user, _candidate(row.id), code, digest,
                                                                          **checking),
        lambda row, user, outcome, wait: _page(user, _candidate(row.id), error=code_error(outcome, wait), status=401),
        detail="TOTP set up")
