"""The account page, for everyone logged in: the portal's language, the password, the TOTP status.

A password change re-wraps the account's private key under the new password (so the grants it
holds stay valid), after the current password is checked; both are Argon2 derivations, done
before the transaction opens. A wrong current password counts towards the lockout like a wrong
login, so a session left open cannot be used to guess it; the lock then ends every session. A
changed password ends the account's other sessions (a browser left logged in elsewhere).
"""

from __future__ import annotations

from flask import Response, flash, make_response, redirect, render_template, request, session, url_for

from i18n.languages import own_name
from portal import auth, i18n
from portal.blueprint import bp
from portal.current import current_login, login_required
from portal.i18n import _
from portal.services import services
from storage import accounts, logins, totp
from storage.audit_log import audit
from storage.models import Organisation
from storage.request_scope import db_session, transaction
from storage.sealing import SealError


def _weak(rule: str) -> str:
    """A strength rule's refusal, in the page's language."""
    return {
        "short": _("Choose a longer password: at least %(count)s characters. A few unrelated words make a "
                   "strong one that is easy to remember.", count=accounts.MIN_PASSWORD_LENGTH),
        "long": _("Choose a shorter password: at most %(count)s characters.", count=accounts.MAX_PASSWORD_LENGTH),
        "email": _("Choose a password that does not contain your e-mail address."),
        "one_character": _("Choose a password that is not one character repeated."),
    }[rule]


def account_page(*, password_error: str | None = None, language_error: str | None = None, status: int = 200):
    """The account page (with a form's error, if any)."""
    login = current_login()
    user = login.user
    organisation = db_session().get(Organisation, user.organisation_id) if user.organisation_id else None
    last_code = totp.step_start(user.totp_last_step) if user.totp_last_step is not None else None
    return render_template(
        "portal/account.html", user=user, organisation=organisation, last_code=last_code,
        languages=[(code, own_name(code)) for code in i18n.languages()], chosen=user.language,
        holds_key=login.organisation_key is not None, min_length=accounts.MIN_PASSWORD_LENGTH,
        password_error=password_error, language_error=language_error), status


def password_throttled(_limit) -> Response:
    """The account page, saying why, when one address posts password changes too often (nothing
    is checked, nothing counted)."""
    return make_response(*account_page(
        password_error=_("Too many attempts from your address. Wait a minute, then try again."), status=429))


@bp.get("/account")
@login_required
def account():
    return account_page()


@bp.post("/account/language")
@login_required
def choose_language():
    """Keep the account's portal language (empty: the browser's choice)."""
    chosen = request.form.get("language", "")
    if chosen and chosen not in i18n.languages():
        return account_page(language_error=_("Choose one of the languages listed."), status=400)
    with transaction():
        current_login().user.language = chosen or None
    i18n.use_language(i18n.choose_language(chosen or None))
    flash(_("The portal's language is saved."))
    return redirect(url_for("portal.account"))


@bp.post("/account/password")
@login_required
def change_password():
    """Check the current password, then re-wrap the key under the new one."""
    login, process = current_login(), services()
    current, new = request.form.get("current_password", ""), request.form.get("new_password", "")
    if new != request.form.get("new_password_again", ""):
        return account_page(password_error=_("The two new passwords are not the same. Nothing was changed."),
                            status=400)
    if new == current:
        return account_page(password_error=_("The new password is your current one. Nothing was changed."),
                            status=400)
    try:
        accounts.check_password_strength(new, email=login.user.email)
    except accounts.WeakPassword as weak:
        return account_page(password_error=_weak(weak.rule), status=400)
    user_id, known_hash = login.user.id, login.user.password_hash
    rewrapped = None
    if accounts.verify_password_hash(known_hash, current):
        try:
            rewrapped = accounts.rewrapped(login.user.wrapped_private_key, current, new)
        except SealError:  # the hash and the wrap disagree: the row was tampered with
            rewrapped = None
    now = process.clock()
    with transaction() as db:
        user = accounts.find_user_by_id(db, user_id, lock=True)
        if user.password_hash != known_hash:
            return account_page(password_error=_("Your password was changed meanwhile, in another session. "
                                                 "Nothing was changed here."), status=409)
        if rewrapped is None:
            # Counted with the logins from this address: someone who took over a session cannot
            # guess the password here faster than at the login.
            wait = logins.record_failure(db, auth.failure_digest(user.email), user, now=now,
                                         lockout=logins.Lockout.from_settings(process.settings),
                                         reason="wrong password at a password change")
            if wait:
                accounts.end_sessions(db, user)
                session.clear()
                flash(_("Too many wrong attempts: you are logged out everywhere.") + " " + auth.held_message(wait))
                return redirect(url_for("portal.login_form"))
            return account_page(password_error=_("Your current password is not right. Nothing was changed."),
                                status=400)
        user.wrapped_private_key, user.password_hash = rewrapped
        ended = accounts.end_sessions(db, user, keep=login.row.id)
        audit(db, now=now, action="password_changed", user_id=user.id, detail=f"{ended} other session(s) ended")
    flash(_("Your password is changed. Other browsers where you were logged in are logged out."))
    return redirect(url_for("portal.account"))
