"""The coordinators' API: the dashboard's figures as JSON under `/api/v1`, described by
`/api/v1/openapi.json` (`portal.openapi`).

Who may call it: a coordinator's or admin's portal session (the browser's cookie), or
`Authorization: Bearer <token>` with a token from `flask --app app tokens create` (no cookie is
needed or set). Nothing else: 401 with the reason (and `WWW-Authenticate: Bearer`), 403 for
another role. Every answer, errors too, is JSON ({"error": reason}), carries the portal's security
headers and is never cached. Only GETs, so there is no form to protect with a CSRF token.

The figures are the dashboard's own (`portal.dashboard`), hidden the same way: a hidden count is
`"count": null` with `"shown"` saying how ("<3", "hidden").
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException

from portal import i18n, openapi
from portal.blueprint import security_headers
from portal.current import DASHBOARD_ROLES, current_login
from portal.dashboard import BadSelection, Chosen, label, read_month, read_organisation, read_selection
from portal.dashboard import days, figures_for, hours, summary_rows
from portal.services import services
from storage import api_tokens
from storage import dashboard as dashboard_store
from storage.dashboard import DIMENSIONS, Timing
from storage.monthly_summary import FIELDS as SUMMARY_FIELDS
from storage.request_scope import db_session, transaction
from storage.small_cells import Cell

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Caller:
    """Who is calling: a portal account, or an API token."""

    user_id: int | None
    token_id: int | None


def _caller() -> Caller:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _space, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            abort(401, description="send the token as the header Authorization: Bearer <token>")
        process = services()
        row = api_tokens.find(db_session(), process.vault, token.strip())
        if row is None:
            abort(401, description="this bearer token is unknown or has been revoked")
        now = process.clock()
        if api_tokens.needs_stamp(row, now):
            with transaction() as db:
                api_tokens.stamp(db, row.id, now)
        return Caller(user_id=None, token_id=row.id)
    login = current_login()
    if login is None:
        abort(401, description="log in to the portal as a coordinator, or send Authorization: Bearer <token>")
    if login.user.role not in DASHBOARD_ROLES:
        abort(403, description=f"your role ({login.user.role.replace('_', ' ')}) does not give access to the API")
    return Caller(user_id=login.user.id, token_id=None)


@bp.before_request
def _english():
    """The API's names and reasons are English whatever the caller's browser asks."""
    i18n.use_source_language()


@bp.before_request
def _authenticate():
    g.api_caller = _caller()


bp.after_request(security_headers)


@bp.errorhandler(HTTPException)
def _error(error: HTTPException):
    response = jsonify({"error": error.description or error.name})
    response.status_code = error.code or 500
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _chosen() -> Chosen:
    try:
        return read_selection(request.args)
    except BadSelection as error:
        abort(400, description=str(error))


def _cell(cell: Cell, **extra) -> dict:
    return {**extra, "count": cell.count, "shown": cell.shown}


def _selection(chosen: Chosen) -> dict:
    return {"from": chosen.selection.first_month, "to": chosen.selection.last_month,
            "organisation": chosen.organisation}


def _timing(timing: Timing, **extra) -> dict:
    return {**extra, "acknowledged": _cell(timing.acknowledged),
            "median_hours_to_acknowledge": hours(timing.median_seconds_to_acknowledge),
            "closed": _cell(timing.closed), "median_days_to_close": days(timing.median_seconds_to_close),
            "overdue_now": timing.overdue_now}


@bp.get("/counts")
def counts():
    """Referrals by organisation, month, category, status, urgency and state, and transfers."""
    chosen = _chosen()
    figures = figures_for(chosen)
    return jsonify({
        "selection": _selection(chosen), "minimum_cell": figures.minimum, "total": _cell(figures.total),
        "breakdowns": {dimension: [_cell(cell, key=cell.key, name=label(figures, dimension, cell.key))
                                   for cell in figures.breakdowns[dimension]] for dimension in DIMENSIONS},
        "transfers": {"total": _cell(figures.transfers_total),
                      "pairs": [_cell(cell, **{"from": cell.key[0], "to": cell.key[1]}) for cell in figures.transfers]},
    })


@bp.get("/timeliness")
def timeliness():
    """Median times to acknowledge and to close, and what is overdue now, by organisation."""
    chosen = _chosen()
    figures = figures_for(chosen)
    return jsonify({
        "selection": _selection(chosen), "minimum_cell": figures.minimum, "all": _timing(figures.timing),
        "organisations": [_timing(timing, organisation=acronym)
                          for acronym, timing in figures.timing_by_organisation.items()],
    })


@bp.get("/overdue")
def overdue():
    """Which referrals are overdue now (any month): case reference, organisation, deadline."""
    try:
        acronym, organisation_id = read_organisation(request.args)
    except BadSelection as error:
        abort(400, description=str(error))
    db, now = db_session(), services().clock()
    listed = dashboard_store.overdue_referrals(db, now, organisation_id)
    return jsonify({
        "as_of": now.isoformat(), "organisation": acronym,
        "count": sum(dashboard_store.overdue_counts(db, now, organisation_id).values()),
        "referrals": [{"case_ref": item.case_ref, "organisation": item.organisation,
                       "ack_deadline": item.ack_deadline.isoformat()} for item in listed],
    })


@bp.get("/summary")
def summary():
    """The PSEA Network's monthly summary: one row per referral, in the UN tracker's fields."""
    try:
        month = read_month(request.args)
    except BadSelection as error:
        abort(400, description=str(error))
    caller = g.api_caller
    rows = summary_rows(month, user_id=caller.user_id, token_id=caller.token_id)
    return jsonify({"month": month, "fields": list(SUMMARY_FIELDS),
                    "rows": [{name: getattr(row, name) for name in SUMMARY_FIELDS} for row in rows]})


@bp.get("/openapi.json")
def description():
    """This API's OpenAPI 3.1 description."""
    return jsonify(openapi.description())
