"""The portal's referral pages: the organisation's list (filtered, paged, exported) and one
referral opened, with its timeline and the messages with the reporter. The forms that change a
referral post to `portal.casework`.

A referral is only ever looked up within the user's own organisation, so another organisation's
case reference and a made-up one give the same 404. Every opening is audited.
"""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for

from portal.blueprint import bp
from portal.case_words import CATEGORY_WORDS, EVENT_WORDS, STATUS_WORDS
from portal.current import REFERRAL_ROLES, current_login, role_required
from portal.display import report_fields
from portal.downloads import csv_download
from portal.form_numbers import page_number
from portal.i18n import _, lazy_gettext
from portal.reporter_contact import reporter_address
from portal.services import services
from intake.messages import AUDIO_TYPES, PHOTO_TYPE
from intake.report import MEDIA
from storage import casework, media, referral_list, reporter_messages
from storage.audit_log import audit
from storage.crypto import AlteredError
from storage.models import Organisation, Report, Township
from storage.reports import find_referral, read_referral
from storage.request_scope import db_session, transaction

referral_pages = role_required(REFERRAL_ROLES, lazy_gettext("referrals"))
# What a filter the list could not read is called (`referral_list.FilterError` names its field).
FILTER_WORDS = {
    "status": lazy_gettext("status"),
    "urgent": lazy_gettext("urgency"),
    "month": lazy_gettext("month"),
    "township": lazy_gettext("township"),
    "q": lazy_gettext("case reference"),
}


def own_referral(case_ref: str):
    """The user's organisation's referral with this case reference, or the one 404 for all else."""
    referral = find_referral(db_session(), current_login().user.organisation_id, case_ref)
    if referral is None:
        abort(404)
    return referral


def _filter():
    try:
        return referral_list.ReferralFilter.from_args(request.args)
    except referral_list.FilterError as error:
        abort(400, description=_("The list cannot be filtered by that %(what)s.",
                                 what=FILTER_WORDS.get(str(error), str(error))))


def _page() -> int:
    return page_number(request.args.get("page"))


@bp.get("/")
@referral_pages
def index():
    """The organisation's referrals, newest first, 50 a page: metadata only, nothing decrypted."""
    login, db, now = current_login(), db_session(), services().clock()
    wanted, page = _filter(), _page()
    organisation_id = login.user.organisation_id
    total = referral_list.count(db, organisation_id, wanted, now)
    pages = max(1, -(-total // referral_list.PAGE_SIZE))
    rows = referral_list.listed(db, organisation_id, wanted, now, page=min(page, pages))
    return render_template("portal/referrals.html", rows=rows, total=total, page=min(page, pages), pages=pages,
                           wanted=wanted, statuses=STATUS_WORDS, organisation=db.get(Organisation, organisation_id),
                           now=now, has_key=login.organisation_key is not None)


@bp.get("/referrals.csv")
@referral_pages
def referrals_csv():
    """The filtered list as CSV: routing metadata and dates, never what a report says."""
    login, db, now = current_login(), db_session(), services().clock()
    wanted = _filter()
    rows = referral_list.listed(db, login.user.organisation_id, wanted, now, page_size=None)
    with transaction():
        audit(db, now=now, action="export_referrals", user_id=login.user.id, detail=f"{len(rows)} rows")
    return csv_download(f"referrals-{now:%Y-%m-%d}.csv", referral_list.CSV_COLUMNS, referral_list.csv_rows(rows))


@bp.get("/referrals/<case_ref>")
@referral_pages
def referral(case_ref: str):
    """One referral, decrypted with the key this login unlocked; each opening is audited."""
    return referral_page(own_referral(case_ref))


def referral_page(found, *, error: str | None = None, drafts: dict | None = None, status: int = 200):
    """The referral's page; after a form that could not be used, with `error` and what was typed
    in `drafts` (so nothing is lost), and a 4xx `status`."""
    login, db = current_login(), db_session()
    if login.organisation_key is None:
        return render_template("portal/no_key.html", case_ref=found.case_ref), 403
    now = services().clock()
    report = db.get(Report, found.report_id)
    fields = messages = address = altered = None
    in_danger = False
    try:
        if found.sealed_key is not None:  # still handling it, or kept access after referring it on
            content = read_referral(db, found, login.organisation_key)
            in_danger = content.get("danger", content.get("safety")) == "yes"
            named = db.get(Organisation, report.named_organisation_id) if report.named_organisation_id else None
            township = db.get(Township, report.township_pcode) if report.township_pcode else None
            fields = report_fields(content, report, named=named, township=township,
                                   media_url=lambda ref: url_for("portal.referral_media", case_ref=found.case_ref,
                                                                 ref=ref))
            messages = reporter_messages.conversation(db, found, login.organisation_key)
            address = reporter_address(content, report.contact_allowed)
        timeline = casework.timeline(db, found, login.organisation_key)
    except AlteredError as refused:
        # A sealed value that is not this referral's (moved from another row, or its report's
        # routing columns edited): nothing of it is shown, and the audit log names what it was.
        fields = messages = address = None
        in_danger, altered, timeline = False, refused.kind, []
    with transaction():  # the opening is on record before anything is shown
        audit(db, now=now, action="open_referral", user_id=login.user.id, referral_id=found.id)
        if altered:
            audit(db, now=now, action="record_altered", user_id=login.user.id, referral_id=found.id, detail=altered)
    colleagues = casework.colleagues(db, found.organisation_id)
    return render_template(
        "portal/referral.html", referral=found, report=report, now=now, fields=fields, messages=messages,
        in_danger=in_danger,
        can_send_out=address is not None, timeline=timeline, altered=altered,
        statuses={code: STATUS_WORDS[code] for code in casework.SETTABLE_STATUSES}, categories=CATEGORY_WORDS,
        events=EVENT_WORDS, colleagues=colleagues, authors={user.id: user.email for user in colleagues},
        targets=casework.transfer_targets(db, found), max_note=casework.MAX_NOTE_LENGTH,
        max_message=reporter_messages.MAX_LENGTH, referred_to=casework.referred_to(db, found),
        error=error, drafts=drafts or {}), status


# The types a voice note or photo is served as (storage keeps what bot.channels.media allowed);
# anything else would be a download, never something the browser interprets.
SERVED_TYPES = {"photo": {PHOTO_TYPE}, "voice": AUDIO_TYPES, "audio": AUDIO_TYPES}


@bp.get("/referrals/<case_ref>/media/<ref>")
@referral_pages
def referral_media(case_ref: str, ref: str):
    """A voice note or photo of a referral, opened on the fly with the key this login unlocked:
    the report's sealed content holds the item's key. Never cached, never sniffed, and each
    opening audited (a player's later range requests for the rest of the same item are not)."""
    found, login, db = own_referral(case_ref), current_login(), db_session()
    if login.organisation_key is None:
        abort(403, description=_("You cannot open referrals yet"))
    if found.sealed_key is None:
        abort(404)
    try:
        items = read_referral(db, found, login.organisation_key).get(MEDIA)
    except AlteredError:
        abort(409, description=_("This referral cannot be opened: the stored record was altered."))
    item = next((item for item in items if isinstance(item, dict) and item.get("ref") == ref), None) \
        if isinstance(items, list) else None
    if item is None:
        abort(404)
    try:
        data = media.open_item(db, found.report_id, item)
    except media.MediaError:
        abort(404)
    if request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):
        with transaction():
            audit(db, now=services().clock(), action="open_media", user_id=login.user.id, referral_id=found.id,
                  detail=str(item.get("kind"))[:16])
    content_type = item.get("content_type")
    allowed = content_type in SERVED_TYPES.get(item.get("kind"), ())
    response = Response(data, mimetype=content_type if allowed else "application/octet-stream")
    response.headers["Content-Disposition"] = "inline" if allowed else "attachment"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response.make_conditional(request, accept_ranges=True, complete_length=len(data))


@bp.get("/overview")
def overview():
    """The old counts page: its figures are on the dashboard now (links in old e-mails still work)."""
    return redirect(url_for("portal.dashboard"), code=301)
