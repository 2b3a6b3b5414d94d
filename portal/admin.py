"""The administrators' account pages (`/portal/admin`): every account, adding one, disabling and
enabling, and resetting a forgotten password. The same as the operator's `users` commands.

New and reset accounts get a random password, shown once on the page that answers the form
(never stored in the clear, never sent by e-mail: the administrator passes it on another way) and
no TOTP: the account sets its authenticator up at its first login, so the administrator never
holds both factors for long. A reset also gives the account a new key pair (the old private key
was wrapped under the lost password), so the keys it held are gone: a colleague who holds the
organisation's key gives it again on their Access page. Every change is audited, naming the
account by id, never by address.

An administrator holds no organisation key and cannot give one: only key holders can.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for

from portal.blueprint import bp
from portal.current import ADMIN_ROLES, current_login, role_required
from portal.i18n import _, lazy_gettext
from portal.services import services
from storage import accounts, directory_listing
from storage.accounts import KEY_HOLDING_ROLES, ROLES
from storage.audit_log import audit
from storage.models import Organisation, User
from storage.request_scope import db_session, transaction

admin_pages = role_required(ADMIN_ROLES, lazy_gettext("the administration pages"))
_ID = re.compile(r"[0-9]{1,12}")


@bp.context_processor
def _admin_context():
    return {"admin_roles": ADMIN_ROLES}


def _accounts_page(*, error: str | None = None, form: dict | None = None, status: int = 200):
    db = db_session()
    return render_template("portal/admin_accounts.html", accounts=accounts.list_accounts(db),
                           organisations=directory_listing.organisations(db), roles=ROLES,
                           key_roles=KEY_HOLDING_ROLES, error=error, form=form or {},
                           me=current_login().user.id), status


@bp.get("/admin/")
@admin_pages
def admin_accounts():
    """Every account: role, organisation, TOTP, active, last login, key."""
    return _accounts_page()


@bp.post("/admin/accounts")
@admin_pages
def admin_create_account():
    """A new account with a random password, shown once; TOTP is set up at its first login."""
    form = {name: request.form.get(name, "").strip() for name in ("email", "role", "organisation")}
    if form["role"] not in ROLES:
        return _accounts_page(error=_("Choose a role."), form=form, status=400)
    now, password = services().clock(), accounts.new_password()
    with transaction() as db:
        organisation = None
        if form["organisation"]:
            if not _ID.fullmatch(form["organisation"]) or db.get(Organisation, int(form["organisation"])) is None:
                return _accounts_page(error=_("Choose an organisation from the list."), form=form, status=400)
            organisation = db.get(Organisation, int(form["organisation"]))
        try:
            user = accounts.create_user(db, email=form["email"], role=form["role"], password=password,
                                        organisation=organisation, now=now)
        except accounts.AccountError as error:
            return _accounts_page(error=_("The account was not created: %(reason)s.", reason=str(error).rstrip(".")),
                                  form=form, status=400)
        audit(db, now=now, action="account_created", user_id=current_login().user.id,
              detail=f"account {user.id}, {user.role}")
        email, role = user.email, user.role
    return render_template("portal/admin_password.html", email=email, password=password, created=True,
                           organisation=organisation, needs_key=role in KEY_HOLDING_ROLES, grants_removed=0)


def _target(user_id: str, db) -> User:
    """The account a form names (locked), never the administrator's own."""
    if not _ID.fullmatch(user_id):
        abort(400)
    user = accounts.find_user_by_id(db, int(user_id), lock=True)
    if user is None:
        abort(404)
    if user.id == current_login().user.id:
        abort(403, description=_("You cannot disable or reset your own account here: ask another administrator, "
                                 "or the operator (flask users ...)."))
    return user


@bp.post("/admin/accounts/<user_id>/active")
@admin_pages
def admin_set_active(user_id: str):
    """Disable an account (logged out everywhere at once) or enable it again."""
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort(400)
    now = services().clock()
    with transaction() as db:
        user = _target(user_id, db)
        if accounts.set_active(db, user, wanted == "1"):
            audit(db, now=now, action="account_enabled" if user.active else "account_disabled",
                  user_id=current_login().user.id, detail=f"account {user.id}")
        email, active = user.email, user.active
    flash(_("%(email)s is enabled.", email=email) if active else
          _("%(email)s is disabled and logged out everywhere.", email=email))
    return redirect(url_for("portal.admin_accounts"))


@bp.post("/admin/accounts/<user_id>/reset")
@admin_pages
def admin_reset_account(user_id: str):
    """A new random password (shown once) and a new key pair; TOTP is set up again at the next login."""
    now, password = services().clock(), accounts.new_password()
    with transaction() as db:
        user = _target(user_id, db)
        removed = accounts.reset(db, user, password)
        audit(db, now=now, action="account_reset", user_id=current_login().user.id,
              detail=f"account {user.id}; {removed} key grant(s) removed")
        email, role = user.email, user.role
        organisation = db.get(Organisation, user.organisation_id) if user.organisation_id else None
    return render_template("portal/admin_password.html", email=email, password=password, created=False,
                           organisation=organisation, needs_key=role in KEY_HOLDING_ROLES, grants_removed=removed)
