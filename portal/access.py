"""Giving a colleague access to the organisation's referrals, in the browser session of someone
who already holds the key: their session has it open (it was unwrapped at their login), and it is
sealed to the colleague's public key here, a grant like the one the recovery key makes. The
recovery key stays in the safe.

Only a key holder of the same organisation can give it, only to an active account of that
organisation in a role that holds keys, and only by a deliberate click: nothing is granted
automatically, so an account slipped into the database gets nothing unless a colleague who knows
the people involved gives it. The grant is audited.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for

from portal.blueprint import bp
from portal.current import REFERRAL_ROLES, current_login, role_required
from portal.i18n import _, lazy_gettext
from portal.services import services
from storage import accounts
from storage.audit_log import audit
from storage.models import Organisation
from storage.request_scope import db_session, transaction

_access_pages = role_required(REFERRAL_ROLES, lazy_gettext("giving access to referrals"))
_ID = re.compile(r"[0-9]{1,12}")


def _page(*, error: str | None = None, status: int = 200):
    login, db = current_login(), db_session()
    return render_template("portal/account_access.html", colleagues=accounts.colleagues(db, login.user),
                           organisation=db.get(Organisation, login.user.organisation_id),
                           holds_key=login.organisation_key is not None, error=error), status


@bp.get("/access")
@_access_pages
def access():
    """The organisation's colleagues who can hold its key, with whether they do."""
    return _page()


@bp.post("/access/grant")
@_access_pages
def grant_access():
    """Seal the organisation key this session holds to one colleague."""
    login, process = current_login(), services()
    user_id = request.form.get("user_id", "")
    if not _ID.fullmatch(user_id):
        abort(400)
    if login.organisation_key is None:
        abort(403, description=_("You do not hold your organisation's key yourself, so you cannot give it."))
    now = process.clock()
    with transaction() as db:
        newcomer = accounts.find_user_by_id(db, int(user_id), lock=True)
        if newcomer is None or newcomer.organisation_id != login.user.organisation_id:
            abort(404)
        try:
            accounts.grant_from_colleague(db, login.user, newcomer, login.organisation_key, now)
        except accounts.AccountError as error:
            return _page(error=_("Nothing was given: %(reason)s.", reason=str(error).rstrip(".")), status=409)
        audit(db, now=now, action="grant", user_id=login.user.id, detail=f"organisation key to account {newcomer.id}")
        email = newcomer.email
    flash(_("%(email)s can now read your organisation's referrals, from their next login.", email=email))
    return redirect(url_for("portal.access"))
