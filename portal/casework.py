"""The forms on a referral's page: acknowledge, status, category, assignee, a note, refer on,
and a message to the reporter. Each change is one transaction: the change, its timeline event
and its audit entry together. A form that cannot be used shows the page again with the reason
and whatever was typed (422), so nothing is lost.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from intake.routing import ack_deadline
from portal.blueprint import bp
from portal.current import current_login
from portal.form_numbers import record_id
from portal.i18n import _
from portal.reporter_contact import reporter_address
from portal.services import services
from portal.views import own_referral, referral_page, referral_pages
from storage import casework, outbox, reporter_messages
from storage.models import Report
from storage.reports import read_referral
from storage.request_scope import transaction
from storage.crypto import AlteredError
from storage.sealing import SealError


def _back(referral):
    return redirect(url_for("portal.referral", case_ref=referral.case_ref), code=303)


def _change(case_ref: str, apply, done: str, unchanged: str | None = None, drafts: dict | None = None):
    """Run `apply(session, referral, user_id, now)` in one transaction and go back to the page,
    saying `done` (or `unchanged` when it changed nothing); a CaseworkError is shown on the page."""
    login, now = current_login(), services().clock()
    try:
        with transaction() as db:
            referral = own_referral(case_ref)
            if login.organisation_key is None:
                raise casework.CaseworkError(_("Your account does not hold your organisation's key yet."))
            changed = apply(db, referral, login.user.id, now)
    except casework.CaseworkError as error:
        return referral_page(own_referral(case_ref), error=str(error), drafts=drafts, status=422)
    flash(done if changed or unchanged is None else unchanged)
    return _back(referral)


@bp.post("/referrals/<case_ref>/acknowledge")
@referral_pages
def acknowledge_referral(case_ref: str):
    """Acknowledge receipt: stops the escalations; audited once."""
    return _change(case_ref, lambda db, referral, user_id, now: casework.acknowledge_referral(
        db, referral, user_id=user_id, now=now),
        _("Referral %(ref)s is acknowledged.", ref=case_ref),
        _("Referral %(ref)s was already acknowledged.", ref=case_ref))


@bp.post("/referrals/<case_ref>/status")
@referral_pages
def set_status(case_ref: str):
    status = request.form.get("status", "")
    return _change(case_ref, lambda db, referral, user_id, now: casework.set_status(
        db, referral, status, user_id=user_id, now=now), _("The status is changed."), _("The status was that already."))


@bp.post("/referrals/<case_ref>/category")
@referral_pages
def set_category(case_ref: str):
    category = request.form.get("category", "")
    return _change(case_ref, lambda db, referral, user_id, now: casework.set_category(
        db, referral, category, user_id=user_id, now=now),
        _("The category is changed."), _("The category was that already."))


@bp.post("/referrals/<case_ref>/assign")
@referral_pages
def assign(case_ref: str):
    chosen = request.form.get("assignee", "")
    # Not an id at all: 0, which no account has, so it is refused below with the reason.
    assignee = (record_id(chosen) or 0) if chosen else None
    return _change(case_ref, lambda db, referral, user_id, now: casework.assign(
        db, referral, assignee, user_id=user_id, now=now), _("The assignment is changed."),
        _("The case was assigned so already."))


@bp.post("/referrals/<case_ref>/note")
@referral_pages
def add_note(case_ref: str):
    text = request.form.get("note", "")
    return _change(case_ref, lambda db, referral, user_id, now: casework.add_note(
        db, referral, text, user_id=user_id, now=now), _("The note is saved."), drafts={"note": text})


def _report_key(referral):
    try:
        return reporter_messages.report_key_of(referral, current_login().organisation_key)
    except AlteredError:
        raise casework.CaseworkError(_("This referral cannot be opened: the stored record was altered.")) from None
    except SealError:
        raise casework.CaseworkError(_("Your organisation no longer has access to this case.")) from None


@bp.post("/referrals/<case_ref>/refer")
@referral_pages
def refer_on(case_ref: str):
    """Refer the case on to another organisation, whose focal points are told (no content)."""
    organisation_id = record_id(request.form.get("organisation"))
    keep_access = request.form.get("keep_access") == "yes"
    process = services()

    def apply(db, referral, user_id, now):
        if organisation_id is None:
            raise casework.CaseworkError(_("Choose the organisation to refer the case to."))
        report = db.get(Report, referral.report_id)
        settings = process.settings
        deadline = ack_deadline(now, report.urgent, settings.ack_deadline_hours, settings.urgent_ack_deadline_hours)
        received = casework.refer_on(db, referral, organisation_id, report_key=_report_key(referral),
                                     keep_access=keep_access, user_id=user_id, now=now, ack_deadline=deadline)
        if not process.notify_referral(db, received, now=now):
            raise casework.CaseworkError(_("That organisation has no focal point in the directory to tell: "
                                           "the case was not referred. Ask the operator to add one."))
        return True

    return _change(case_ref, apply, _("The case is referred on; that organisation's focal points are told."))


@bp.post("/referrals/<case_ref>/message")
@referral_pages
def write_to_reporter(case_ref: str):
    """A message the reporter reads with their receipt; also sent to their phone if they agreed
    to be contacted and the focal point asks for it."""
    text = request.form.get("message", "").strip()
    send_out = request.form.get("send_out") == "yes"
    process = services()

    def apply(db, referral, user_id, now):
        if not text:
            raise casework.CaseworkError(_("The message is empty."))
        if len(text) > reporter_messages.MAX_LENGTH:
            raise casework.CaseworkError(_("A message can be at most %(max)d characters long; this one has %(n)d.",
                                           max=reporter_messages.MAX_LENGTH, n=len(text)))
        report_key = _report_key(referral)
        address = None
        if send_out:
            address = reporter_address(read_referral(db, referral, current_login().organisation_key),
                                       db.get(Report, referral.report_id).contact_allowed)
            if address is None:
                raise casework.CaseworkError(_("The reporter did not agree to be contacted on a number."))
        message = reporter_messages.write_to_reporter(db, referral, report_key, text, author_id=user_id, now=now,
                                                      sent_out=address is not None)
        casework.record_message(db, referral, kind="message_out", user_id=user_id, now=now)
        if address is not None:
            channel, recipient = address
            outbox.enqueue(db, process.vault, dedupe_key=f"reporter-message:{message.id}", channel=channel,
                           purpose="reporter", recipient=recipient, now=now,
                           payload={"body": f"{process.settings.service_name}: {text}"})
            casework.record_message(db, referral, kind="message_sent", user_id=user_id, now=now)
        return True

    return _change(case_ref, apply, _("The message is saved: the reporter reads it with their receipt."),
                   drafts={"message": text})
