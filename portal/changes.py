"""The caseworkers' pages: the queue of changes people asked for to their registration records,
deciding them, and who needs what.

The queue opens the changes with the server's data key (the values, the registration number) and
shows them in plain words: codes as their labels, townships by name, needs as their groups and
the person's own words. Every opening is audited, and so is every decision. Approving applies a
change to its record; approving or rejecting tells the person only the outcome (through the
outbox, in their language), never a value or the reason.

The needs page counts declared needs by need group and township from `need_declarations`, which
holds nothing that leads back to a person; counts below DASHBOARD_MIN_CELL are shown as "<N", and
a total is shown only when every count it adds up is shown (otherwise it would give a hidden
count away by subtraction), in the page and in its CSV alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from babel import Locale, UnknownLocaleError
from flask import abort, flash, redirect, render_template, request, url_for

from i18n.languages import own_name
from intake.registration import CHANGE_KINDS, EDUCATION, NEED_GROUPS, OCCUPATION
from portal.blueprint import bp
from portal.current import CASEWORK_ROLES, NEEDS_ROLES, current_login, role_required
from portal import i18n
from portal.display import in_words
from portal.downloads import csv_download
from portal.form_numbers import page_number
from portal.i18n import _, gettext_noop, lazy_gettext, ngettext
from portal.services import services
from storage import change_review, small_cells
from storage.audit_log import audit
from storage.change_review import APPROVE, REJECT
from storage.request_scope import db_session, transaction

_casework_pages = role_required(CASEWORK_ROLES, lazy_gettext("the changes queue"))
_needs_pages = role_required(NEEDS_ROLES, lazy_gettext("the needs counts"))

KIND_NAMES = {
    "phone": lazy_gettext("Phone number"),
    "township": lazy_gettext("Township"),
    "address": lazy_gettext("Address"),
    "education": lazy_gettext("Education"),
    "occupation": lazy_gettext("Occupation"),
    "needs": lazy_gettext("Specific needs"),
    "language": lazy_gettext("Language"),
    "household": lazy_gettext("Household"),
    "erasure": lazy_gettext("Erase personal details"),
}
CHANNEL_NAMES = {"sms": "SMS", "telegram": "Telegram"}
# Languages CLDR has no name for.
LANGUAGE_NAMES = {"kac": lazy_gettext("Jingpho"), "ksw": lazy_gettext("S'gaw Karen")}
MAX_REASON = 500
MAX_TICKED = 2 * change_review.PAGE_SIZE
_PCODE = re.compile(r"[A-Za-z0-9_-]{1,16}")
_MONTH = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])")
_ID = re.compile(r"[0-9]{1,12}")

NEED_REASON = gettext_noop("Give a reason to reject the ticked changes. Nothing was changed.")
NONE_TICKED = gettext_noop("Tick at least one change, then approve or reject. Nothing was changed.")
HIDDEN = small_cells.HIDDEN


@bp.context_processor
def _casework_context():
    return {"casework_roles": CASEWORK_ROLES, "needs_roles": NEEDS_ROLES}


# --- values in words ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    """A value as the queue shows it: plain words, and the person's own words if they gave any."""

    text: str
    words: str | None = None


def _coded(labels: dict, code) -> str:
    label = labels.get(code)
    return in_words(label) if label is not None else str(code)


def language_name(code: str) -> str:
    """A language code in the page's words ("Burmese (my)")."""
    try:
        name = Locale.parse(code).get_display_name(i18n.current_language())
    except (UnknownLocaleError, ValueError, TypeError):
        name = None
    return f"{LANGUAGE_NAMES.get(code) or name or own_name(code)} ({code})"


def _needs(value) -> Shown:
    words = None
    if isinstance(value, dict):
        codes, words = value.get("codes") or [], value.get("words") or None
    elif isinstance(value, str):
        codes = value.split(";")
    else:
        codes = value if isinstance(value, list) else []
    groups = [in_words(NEED_GROUPS[code[:2]].name) if code[:2] in NEED_GROUPS else code
              for code in (str(code).strip() for code in codes) if code]
    return Shown(", ".join(dict.fromkeys(groups)) if groups else _("No need group"), words)


def value_words(kind: str, value, township_names: dict[str, str]) -> Shown | None:
    """A change's old or new value in plain words; None when there is none."""
    if value is None or value == "" or value == {}:
        return None
    if kind == "education":
        return Shown(_coded(EDUCATION, value))
    if kind == "occupation":
        return Shown(_coded(OCCUPATION, value))
    if kind == "township":
        name = township_names.get(value)
        return Shown(f"{name} ({value})" if name else str(value))
    if kind == "language":
        return Shown(language_name(str(value)))
    if kind == "needs":
        return _needs(value)
    if isinstance(value, dict):  # a household change: the person's words
        return Shown("", value.get("words") or None) if value.get("words") else None
    return Shown(str(value))


@dataclass(frozen=True)
class QueueRow:
    id: int
    kind: str
    kind_name: str
    number: str
    township: str
    requested_at: datetime
    channel: str
    old: Shown | None
    new: Shown | None
    erased_at: datetime | None


def _row(item: change_review.QueueItem, names: dict[str, str]) -> QueueRow:
    change = item.change
    pcode = change.township_pcode
    return QueueRow(
        id=change.id, kind=change.kind, kind_name=str(KIND_NAMES.get(change.kind, change.kind)),
        number=item.number, township=(names.get(pcode) or pcode) if pcode else _("Not recorded"),
        requested_at=change.requested_at, channel=CHANNEL_NAMES.get(change.channel, change.channel),
        old=value_words(change.kind, item.old, names), new=value_words(change.kind, item.new, names),
        erased_at=item.erased_at)


# --- the queue ----------------------------------------------------------------------------------

def _filters(values) -> tuple[str | None, str | None, int]:
    """(township P-code, kind, page) from a query string or a form; anything unreadable is left out."""
    township = values.get("township") or None
    kind = values.get("kind") or None
    return (township if township and _PCODE.fullmatch(township) else None,
            kind if kind in CHANGE_KINDS else None, page_number(values.get("page")))


def _queue(township: str | None, kind: str | None, page: int, *, error: str | None = None,
           ticked: tuple[int, ...] = (), reason: str = "", status: int = 200):
    """The queue page: opened, audited, then shown."""
    process, login, db = services(), current_login(), db_session()
    queue = change_review.pending_changes(db, process.vault, township=township, kind=kind, page=page)
    townships = change_review.pending_townships(db)
    pcodes = [*townships, township, *(item.change.township_pcode for item in queue.items),
              *(value for item in queue.items if item.change.kind == "township"
                for value in (item.old, item.new) if isinstance(value, str))]
    names = change_review.township_names(db, pcodes)
    rows = [_row(item, names) for item in queue.items]
    with transaction():  # the opening is on record before anything is shown
        audit(db, now=process.clock(), action="open_changes", user_id=login.user.id,
              detail=f"{len(rows)} shown; page {queue.page} of {queue.pages}; kind {kind or 'any'}; "
                     f"township {township or 'any'}")
    return render_template(
        "portal/changes.html", queue=queue, rows=rows, townships=townships, names=names, township=township,
        kind=kind, kinds=list(KIND_NAMES.items()), error=error, ticked=set(ticked), reason=reason,
        max_reason=MAX_REASON), status


@bp.get("/changes")
@_casework_pages
def changes():
    """The pending changes, oldest first, 50 a page, by township and kind if asked."""
    return _queue(*_filters(request.args))


def _ticked(values: list[str]) -> tuple[int, ...]:
    if len(values) > MAX_TICKED or not all(_ID.fullmatch(value) for value in values):
        abort(400)
    return tuple(dict.fromkeys(int(value) for value in values))


@bp.post("/changes/decide")
@_casework_pages
def decide_changes():
    """Approve or reject the ticked changes, in one transaction. A change someone else decided
    meanwhile is skipped (and said so); a rejection needs a reason, which is kept sealed."""
    township, kind, page = _filters(request.form)
    decision = request.form.get("decision")
    if decision not in (APPROVE, REJECT):
        abort(400)
    ids = _ticked(request.form.getlist("change_id"))
    reason = request.form.get("reason", "").strip()
    if not ids:
        return _queue(township, kind, page, error=_(NONE_TICKED), reason=reason, status=400)
    if decision == REJECT and not reason:
        return _queue(township, kind, page, error=_(NEED_REASON), ticked=ids, status=400)
    if len(reason) > MAX_REASON:
        too_long = _("Keep the reason under %(count)s characters. Nothing was changed.", count=MAX_REASON)
        return _queue(township, kind, page, error=too_long, ticked=ids, reason=reason[:MAX_REASON], status=400)
    process, login = services(), current_login()
    now = process.clock()
    with transaction() as db:
        done = change_review.decide(db, process.vault, ids, decision=decision,
                                    reason=reason if decision == REJECT else None, user_id=login.user.id,
                                    now=now, render=process.renderer.text)
        for change_id in done.decided:
            audit(db, now=now, action=f"{decision}_change", user_id=login.user.id, detail=f"change {change_id}")
    approving = decision == APPROVE
    if done.decided:
        flash(ngettext("Approved %(num)d change.", "Approved %(num)d changes.", len(done.decided)) if approving
              else ngettext("Rejected %(num)d change.", "Rejected %(num)d changes.", len(done.decided)))
    if done.skipped:
        flash(ngettext("Skipped %(num)d change: already decided by someone else, or no longer waiting.",
                       "Skipped %(num)d changes: already decided by someone else, or no longer waiting.",
                       len(done.skipped)))
    reasons: dict[str, int] = {}
    for _change_id, why in done.not_applicable:
        reasons[why] = reasons.get(why, 0) + 1
    for why, count in reasons.items():
        # `why` is the storage layer's reason, in English.
        flash(ngettext("Not approved: %(num)d change, because %(why)s.",
                       "Not approved: %(num)d changes, because %(why)s.", count, why=why) if approving
              else ngettext("Not rejected: %(num)d change, because %(why)s.",
                            "Not rejected: %(num)d changes, because %(why)s.", count, why=why))
    return redirect(url_for("portal.changes", township=township, kind=kind, page=page if page > 1 else None))


# --- who needs what -----------------------------------------------------------------------------

@dataclass(frozen=True)
class NeedsTable:
    """Need groups (rows) by township (columns), every count already as it may be shown."""

    columns: list[tuple[str | None, str]]  # (P-code or None, the township's name)
    rows: list[tuple[str, str, list[str], str]]  # (code, group name, counts, total)
    column_totals: list[str]
    total: str
    suppressed: bool


def needs_table(counts: list[tuple[str, str | None, int]], names: dict[str, str], minimum: int) -> NeedsTable:
    """Counts from 1 to minimum - 1 become "<minimum"; a total that adds up any of them is hidden
    (shown, it would give the hidden count away by subtraction), so every number shown is either
    a count of at least `minimum`, a zero, or the sum of shown numbers."""
    cells = {(group, pcode): count for group, pcode, count in counts}
    pcodes = sorted({pcode for _group, pcode, _count in counts},
                    key=lambda pcode: (pcode is None, (names.get(pcode) or pcode or "").lower(), pcode or ""))
    groups = [*NEED_GROUPS, *sorted({group for group, _pcode, _count in counts} - NEED_GROUPS.keys())]

    def small(count: int) -> bool:
        return small_cells.small(count, minimum)

    def shown(count: int) -> str:
        return small_cells.shown(count, minimum)

    def total(values: list[int]) -> str:
        return small_cells.total(values, minimum)

    grid = [[cells.get((group, pcode), 0) for pcode in pcodes] for group in groups]
    rows = [(group, in_words(NEED_GROUPS[group].name) if group in NEED_GROUPS else group,
             [shown(count) for count in line], total(line)) for group, line in zip(groups, grid)]
    everything = [count for line in grid for count in line]
    return NeedsTable(
        columns=[(pcode, (names.get(pcode) or pcode) if pcode else _("No township")) for pcode in pcodes],
        rows=rows, column_totals=[total([line[index] for line in grid]) for index in range(len(pcodes))],
        total=total(everything), suppressed=any(small(count) for count in everything))


def _month() -> tuple[str | None, bool]:
    """(the month asked for or None, whether it was readable)."""
    month = request.args.get("month") or None
    return (month, True) if month is None or _MONTH.fullmatch(month) else (None, False)


def _needs_of(month: str | None) -> NeedsTable:
    db = db_session()
    counts = change_review.need_counts(db, month)
    names = change_review.township_names(db, [pcode for _group, pcode, _count in counts])
    return needs_table(counts, names, services().settings.dashboard_min_cell)


@bp.get("/needs")
@_needs_pages
def needs():
    """Declared needs by need group and township, for one month or all."""
    month, readable = _month()
    minimum = services().settings.dashboard_min_cell
    months = change_review.need_months(db_session())
    if not readable:
        return render_template("portal/needs.html", table=None, months=months, month=None, minimum=minimum,
                               error=_("Choose a month as YYYY-MM, for example 2026-11."), hidden=HIDDEN), 400
    if month and month not in months:  # a month nobody declared anything in: still the one shown
        months = sorted([*months, month], reverse=True)
    return render_template("portal/needs.html", table=_needs_of(month), months=months, month=month,
                           minimum=minimum, error=None, hidden=HIDDEN)


@bp.get("/needs.csv")
@_needs_pages
def needs_csv():
    """The needs table as CSV, with the same hidden counts and totals."""
    month, readable = _month()
    if not readable:
        abort(400)
    i18n.use_source_language()  # the file's words are the same whoever downloads it
    table = _needs_of(month)
    header = ["Need group", "Code", *(f"{name} ({pcode})" if pcode else name for pcode, name in table.columns), "Total"]
    rows = [[name, code, *counts, total] for code, name, counts, total in table.rows]
    rows.append(["Total", "", *table.column_totals, table.total])
    return csv_download(f"needs-{month or 'all-months'}.csv", header, rows)
