"""The portal in its users' languages: every page string goes through gettext (domain `portal`,
catalogs at `i18n/locales/<lang>/LC_MESSAGES/portal.po`), in the language picked on the
account, or, before anyone has logged in, the best the browser asks for (unlike people writing
to the bot, a focal point's browser is their own).

In templates: `{{ _("Referral %(ref)s", ref=referral.case_ref) }}` (Jinja's new-style gettext:
placeholders are filled and escaped by Jinja). In Python: `_()` for a string made during a
request, `lazy_gettext()` for one made at import time (it is translated when it is shown), and
`gettext_noop()` for an English constant that other code compares as it is (a limiter's message, a
test's expectation): `_(CONSTANT)` translates it where it is shown.

CSV files and the API's JSON stay in English whoever asks (`use_source_language`): spreadsheets
and programs read them, and their columns and reasons are documented as they are.
"""

from __future__ import annotations

from functools import cache

from babel.support import LazyProxy
from flask import Flask, g, has_request_context, request

from i18n.catalogs import SOURCE_LANGUAGE, Catalogs

DOMAIN = "portal"


@cache
def catalogs() -> Catalogs:
    """The portal's catalogs, read once per process."""
    return Catalogs(domain=DOMAIN)


def languages() -> tuple[str, ...]:
    """The languages the portal is shipped in, English first."""
    return catalogs().shipped


def choose_language(account_language: str | None) -> str:
    """The account's language when the portal has it, else the browser's best, else English."""
    if account_language in languages():
        return account_language
    if has_request_context():
        return request.accept_languages.best_match(languages()) or SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def current_language() -> str:
    """This request's portal language (set by `use_language`, English outside a request)."""
    if has_request_context():
        return g.get("portal_language") or choose_language(None)
    return SOURCE_LANGUAGE


def use_language(lang: str) -> None:
    """Serve the rest of this request in `lang`."""
    g.portal_language = lang


def use_source_language() -> None:
    """Serve the rest of this request in English (a CSV download, an API answer)."""
    use_language(SOURCE_LANGUAGE)


def _translations():
    return catalogs().chain(current_language())


def gettext(message: str, **params) -> str:
    """`message` in this request's language, with `%(name)s` placeholders filled from `params`."""
    translated = _translations().gettext(message)
    return translated % params if params else translated


def ngettext(singular: str, plural: str, count: int, **params) -> str:
    """The singular or plural form for `count` (available as `%(num)d`)."""
    return _translations().ngettext(singular, plural, count) % {"num": count, **params}


def lazy_gettext(message: str, **params) -> LazyProxy:
    """A string translated each time it is used (for module-level constants)."""
    return LazyProxy(gettext, message, enable_cache=False, **params)


def gettext_noop(message: str) -> str:
    """`message` as it is, marked for extraction (babel-portal.cfg names this keyword)."""
    return message


_ = gettext


def install(app: Flask) -> None:
    """Give the app's templates `_`, `gettext` and `ngettext` in the request's language (Jinja
    fills the placeholders itself, escaping them)."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        lambda message: _translations().gettext(message),
        lambda singular, plural, count: _translations().ngettext(singular, plural, count),
        newstyle=True)
