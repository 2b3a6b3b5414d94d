"""The portal blueprint and what every portal response shares: security headers, a check that
form posts come from the portal itself, HTML error pages, and the template context."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal import display, i18n
from portal.i18n import _, lazy_gettext
from portal.current import REFERRAL_ROLES, current_login, home_for
from portal.services import services

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates",
               static_folder="static")

SECURITY_HEADERS = {
    # No inline script or style anywhere; forms post only to this site; no framing.
    "Content-Security-Policy": ("default-src 'self'; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Frame-Options": "DENY",
    # Case references are in URLs: never hand them to another site.
    "Referrer-Policy": "no-referrer",
    # Decrypted reports must not stay in browser or proxy caches.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
# Sec-Fetch-Site values of a post made from a portal page (or typed by hand).
_OWN_SITE = ("same-origin", "none")

ERROR_TEXT = {
    400: (lazy_gettext("Bad request"), lazy_gettext("The request could not be understood. Go back and try again.")),
    403: (lazy_gettext("Not allowed"), lazy_gettext("Your account does not give access to this page.")),
    # The same words whether a referral belongs to another organisation or does not exist.
    404: (lazy_gettext("Not found"), lazy_gettext("There is nothing here, or it is not yours to see.")),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This page cannot be used that way.")),
    413: (lazy_gettext("Too large"),
          lazy_gettext("What you sent is too large for this form (at most 1 MB in all, 500 kB in one field). "
                       "Send less and try again.")),
    500: (lazy_gettext("Something went wrong"),
          lazy_gettext("The page could not be shown. Nothing you sent is lost; try again in a moment.")),
    503: (lazy_gettext("Busy"),
          lazy_gettext("The service is busy or its database is unavailable. Try again in a minute.")),
}


bp.record_once(lambda state: i18n.install(state.app))
# A global, not a context value: the dashboard's chart macros are imported without the context.
bp.add_app_template_global(display.figure, "figure")


@bp.before_request
def _language():
    """The page's language: the account's choice, else the browser's (before logging in)."""
    login = current_login()
    i18n.use_language(i18n.choose_language(login.user.language if login else None))


@bp.before_request
def _same_site_posts_only():
    """With Referrer-Policy: no-referrer browsers send no Referer (Flask-WTF's HTTPS check is
    off for that reason, see app.py); browsers that send Fetch Metadata say where a post came
    from, so a cross-site post is refused even if it somehow carries a valid CSRF token."""
    if request.method == "POST" and request.headers.get("Sec-Fetch-Site", "same-origin") not in _OWN_SITE:
        abort(403, description=_("This form was not sent from the portal."))


@bp.after_request
def security_headers(response):
    """Every portal answer's security headers (the API's too: portal.api registers this)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException):
    """Errors on portal pages are pages (the app's JSON answers are for webhooks)."""
    if error.response is not None:  # the page was made already (the login limit's, say)
        return error.response
    title, text = ERROR_TEXT.get(error.code, (error.name, _("Something went wrong.")))
    if isinstance(error, CSRFError):
        title, text = _("Form expired"), _("This form has expired or was not sent from the portal. "
                                           "Go back, reload the page and try again.")
    elif error.code in (400, 403) and error.description and error.description != type(error).description:
        text = error.description  # a reason we gave ourselves (which role, which step)
    return render_template("portal/error.html", code=error.code, title=title, text=text), error.code


def error_page(status: int, _reason: str):
    """The page for a bug or an unavailable database on a portal route (the app's error policy
    logs it and calls this); the reason is for machines, the page says it in plain words."""
    title, text = ERROR_TEXT[status]
    return render_template("portal/error.html", code=status, title=title, text=text), status


@bp.context_processor
def _template_context():
    login = current_login()
    return {
        "login": login,
        "home_url": home_for(login.user) if login else url_for("portal.login_form"),
        "service_name": services().settings.service_name,
        "referral_roles": REFERRAL_ROLES,
        "when": display.when,
        "words": display.words,
        "lang": i18n.current_language(),
    }
