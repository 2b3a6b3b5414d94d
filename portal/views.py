"""The portal's pages: the organisation's referrals, one referral opened, acknowledging, and the
coordinators' counts.

A referral is only ever looked up within the user's own organisation, so another organisation's
case reference and a made-up one give the same 404. Every opening is audited.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from portal.blueprint import bp
from portal.current import OVERVIEW_ROLES, REFERRAL_ROLES, current_login, role_required
from portal.display import report_fields
from portal.services import services
from storage.audit_log import audit
from storage.models import Organisation, Report, Township
from storage.overview import referral_counts
from storage.reports import acknowledge, find_referral, read_referral, referrals_of
from storage.request_scope import db_session, transaction

_referral_pages = role_required(REFERRAL_ROLES, "referrals")


def _own_referral(case_ref: str):
    """The user's organisation's referral with this case reference, or the one 404 for all else."""
    referral = find_referral(db_session(), current_login().user.organisation_id, case_ref)
    if referral is None:
        abort(404)
    return referral


@bp.get("/")
@_referral_pages
def index():
    """The organisation's referrals, newest first: metadata only, nothing decrypted."""
    login, db = current_login(), db_session()
    return render_template("portal/referrals.html", rows=referrals_of(db, login.user.organisation_id),
                           organisation=db.get(Organisation, login.user.organisation_id),
                           now=services().clock(), has_key=login.organisation_key is not None)


@bp.get("/referrals/<case_ref>")
@_referral_pages
def referral(case_ref: str):
    """One referral, decrypted with the key this login unlocked; each opening is audited."""
    login, db = current_login(), db_session()
    found = _own_referral(case_ref)
    if login.organisation_key is None:
        return render_template("portal/no_key.html", case_ref=found.case_ref), 403
    content = read_referral(db, found, login.organisation_key)
    now = services().clock()
    with transaction():  # the opening is on record before anything is shown
        audit(db, now=now, action="open_referral", user_id=login.user.id, referral_id=found.id)
    report = db.get(Report, found.report_id)
    named = db.get(Organisation, report.named_organisation_id) if report.named_organisation_id else None
    township = db.get(Township, report.township_pcode) if report.township_pcode else None
    return render_template("portal/referral.html", referral=found, report=report, now=now,
                           fields=report_fields(content, report, named=named, township=township))


@bp.post("/referrals/<case_ref>/acknowledge")
@_referral_pages
def acknowledge_referral(case_ref: str):
    """Acknowledge receipt: stops the escalations; audited once."""
    login = current_login()
    now = services().clock()
    with transaction() as db:
        found = _own_referral(case_ref)
        if acknowledge(db, found, login.user.id, now):
            audit(db, now=now, action="acknowledge", user_id=login.user.id, referral_id=found.id)
            flash(f"Referral {found.case_ref} is acknowledged.")
        else:
            flash(f"Referral {found.case_ref} was already acknowledged.")
    return redirect(url_for("portal.index"))


@bp.get("/overview")
@role_required(OVERVIEW_ROLES, "the overview")
def overview():
    """Counts per organisation, month and status, from clear columns only: never content."""
    rows = referral_counts(db_session(), services().clock())
    totals = {name: sum(getattr(row, name) for row in rows)
              for name in ("referrals", "urgent", "child_involved", "overdue")}
    return render_template("portal/overview.html", rows=rows, totals=totals)
