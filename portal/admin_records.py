"""The administrators' record pages: the directory (and its export in the `directory import`
format), the messages the outbox gave up on (and retrying them), and the audit log with the
state of its chain. The same as the operator's `directory list|export`, `outbox failed|retry`
and `audit show` commands.

The outbox page shows metadata only (id, channel, purpose, attempts, last error, dates), never a
recipient or what a message says. Exporting the directory and retrying messages are audited.
"""

from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for

from portal.admin import admin_pages
from portal.blueprint import bp
from portal.current import current_login
from portal.downloads import csv_download
from portal.form_numbers import page_number
from portal.i18n import _, ngettext
from portal.services import services
from storage import audit_log, directory_listing, outbox
from storage.audit_log import audit
from storage.request_scope import db_session, transaction

AUDIT_PAGE_SIZE = 50
_ID = re.compile(r"[0-9]{1,12}")


@bp.get("/admin/directory")
@admin_pages
def admin_directory():
    """Organisations and contacts, who has a portal account and the key, and who is notified
    but cannot open what they are told about."""
    db = db_session()
    return render_template("portal/admin_directory.html", listing=directory_listing.listing(db),
                           cannot_open=directory_listing.cannot_open(db))


@bp.get("/admin/directory.csv")
@admin_pages
def admin_directory_csv():
    """The directory as a `directory import` file (spreadsheet-safe cells)."""
    db, now = db_session(), services().clock()
    header, *rows = directory_listing.export_rows(db)
    with transaction():
        audit(db, now=now, action="export_directory", user_id=current_login().user.id, detail=f"{len(rows)} rows")
    return csv_download(f"directory-{now:%Y-%m-%d}.csv", header, rows)


@bp.get("/admin/outbox")
@admin_pages
def admin_outbox():
    """The messages given up on, newest first."""
    return render_template("portal/admin_outbox.html", failed=outbox.failed(db_session()))


@bp.post("/admin/outbox/retry")
@admin_pages
def admin_outbox_retry():
    """Queue one failed message again (`id`), or every one that can be (`all`)."""
    which = request.form.get("id", "")
    if which != "all" and not _ID.fullmatch(which):
        abort(400)
    now = services().clock()
    with transaction() as db:
        queued = outbox.retry(db, now, None if which == "all" else [int(which)])
        if queued:
            audit(db, now=now, action="outbox_retry", user_id=current_login().user.id,
                  detail="messages " + ", ".join(map(str, queued))[:240])
    if queued:
        flash(ngettext("%(num)d message is queued again; the outbox worker sends it shortly.",
                       "%(num)d messages are queued again; the outbox worker sends them shortly.", len(queued)))
    else:
        flash(_("Nothing was queued: the message is no longer failed, or its content was wiped and it cannot "
                "be sent again."))
    return redirect(url_for("portal.admin_outbox"))


@bp.get("/admin/audit")
@admin_pages
def admin_audit():
    """The latest audit entries, a page at a time, and whether the chain holds."""
    db = db_session()
    shown = audit_log.latest(db, page=page_number(request.args.get("page")), page_size=AUDIT_PAGE_SIZE)
    return render_template("portal/admin_audit.html", log=shown, verdict=audit_log.verify(db))
