"""The OpenAPI 3.1 description of the coordinators' API (`/api/v1/openapi.json`), written by hand
as data. `tests/portal/test_api.py` holds it to the live API: every path in it is served, every
route served is in it, and every answer validates against the schema given here for its status."""

from __future__ import annotations

from portal.services import services

MONTH = {"type": "string", "pattern": "^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$", "examples": ["2026-11"]}
NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, *, description: str | None = None) -> dict:
    """A JSON object with exactly these properties, all required."""
    found = {"type": "object", "required": list(properties), "properties": properties, "additionalProperties": False}
    return {**found, "description": description} if description else found


CELL = {
    "count": {"type": ["integer", "null"], "minimum": 0,
              "description": "The count; null when it is hidden (see `shown`)."},
    "shown": {"type": "string", "pattern": "^([0-9]+|<[0-9]+|hidden)$",
              "description": "The count as the dashboard shows it: a number, \"<N\" for a count under the "
                             "minimum (N), or \"hidden\" for the count hidden so that no small one can be "
                             "worked out by subtraction."},
}

TIMING = {
    "acknowledged": _ref("Cell"),
    "median_hours_to_acknowledge": {"type": ["number", "null"], "minimum": 0,
                                    "description": "null when fewer than the minimum were acknowledged."},
    "closed": _ref("Cell"),
    "median_days_to_close": {"type": ["number", "null"], "minimum": 0,
                             "description": "null when fewer than the minimum were closed."},
    "overdue_now": {"type": "integer", "minimum": 0, "description": "Unacknowledged past the deadline, any month."},
}

SCHEMAS = {
    "Error": _object({"error": {"type": "string", "description": "Why, in plain words."}}),
    "Cell": _object(CELL, description="One figure, shown or hidden."),
    "BreakdownCell": _object({
        "key": {**NULLABLE_STRING, "description": "An organisation's acronym, a month, a category or status code, "
                                                  "urgent or not_urgent, or a state's P-code (null: no place given)."},
        "name": {"type": "string", "description": "The key in words."},
        **CELL}),
    "TransferCell": _object({"from": {"type": "string"}, "to": {"type": "string"}, **CELL},
                            description="Cases referred on from one organisation (acronym) to another."),
    "Selection": _object({"from": MONTH, "to": MONTH, "organisation": NULLABLE_STRING},
                         description="The months of the reports received (both included), and the organisation."),
    "Counts": _object({
        "selection": _ref("Selection"),
        "minimum_cell": {"type": "integer", "minimum": 1, "description": "Counts under this are hidden."},
        "total": _ref("Cell"),
        "breakdowns": _object({name: {"type": "array", "items": _ref("BreakdownCell")}
                               for name in ("organisation", "month", "category", "status", "urgency", "state")}),
        "transfers": _object({"total": _ref("Cell"), "pairs": {"type": "array", "items": _ref("TransferCell")}}),
    }),
    "Timing": _object(TIMING),
    "OrganisationTiming": _object({"organisation": {"type": "string"}, **TIMING}),
    "Timeliness": _object({
        "selection": _ref("Selection"),
        "minimum_cell": {"type": "integer", "minimum": 1},
        "all": _ref("Timing"),
        "organisations": {"type": "array", "items": _ref("OrganisationTiming")},
    }),
    "Overdue": _object({
        "as_of": {"type": "string", "format": "date-time"},
        "organisation": NULLABLE_STRING,
        "count": {"type": "integer", "minimum": 0,
                  "description": "How many are overdue (more may be than are listed)."},
        "referrals": {"type": "array", "items": _object({
            "case_ref": {"type": "string", "pattern": "^R-[A-Z0-9]{6}$"},
            "organisation": {"type": "string"},
            "ack_deadline": {"type": "string", "format": "date-time"},
        })},
    }),
    "SummaryRow": _object({
        "row": {"type": "integer", "minimum": 1},
        "month_reported": MONTH,
        "entity": {"type": "string", "description": "The organisation's acronym."},
        "entity_type": {"type": "string", "enum": ["PSEA Network", "unknown"]},
        "category": {"type": "string", "enum": ["Sexual exploitation", "Sexual abuse", "Other", "unknown"]},
        "incident_date": {"type": "string", "description": "YYYY-MM, YYYY, \"before YYYY\" or \"unknown\"."},
        "status": {"type": "string"},
        "closed_month": {"type": "string", "description": "YYYY-MM, or empty while open."},
        "perpetrators_number": {"type": "string"},
        "perpetrators_gender": {"type": "string"},
        "victims_number": {"type": "string"},
        "victims_gender": {"type": "string"},
        "victims_age_category": {"type": "string", "enum": ["Child (under 18)", "Adult", "unknown"]},
        "urgent": {"type": "string", "enum": ["yes", "no"]},
        "referred_from": {"type": "string", "description": "The acronym of the organisation it was referred on from, "
                                                          "or empty."},
    }, description="One referral: what and when, nothing that identifies anyone."),
    "Summary": _object({"month": MONTH, "fields": {"type": "array", "items": {"type": "string"}},
                        "rows": {"type": "array", "items": _ref("SummaryRow")}}),
}

PARAMETERS = {
    "from": {"name": "from", "in": "query", "required": False, "schema": MONTH,
             "description": "The first month (the reports' month received); by default 11 months before `to`."},
    "to": {"name": "to", "in": "query", "required": False, "schema": MONTH,
           "description": "The last month; by default this month."},
    "month": {"name": "month", "in": "query", "required": False, "schema": MONTH,
              "description": "One month, instead of `from` and `to`."},
    "organisation": {"name": "organisation", "in": "query", "required": False,
                     "schema": {"type": "string", "maxLength": 32, "examples": ["SAVE"]},
                     "description": "One organisation's acronym; all of them when left out."},
    "summary_month": {"name": "month", "in": "query", "required": True, "schema": MONTH,
                      "description": "The month the reports were received in."},
}


def _json(schema: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


# Past API_LIMIT (per address, and per bearer token from anywhere) or API_GLOBAL_LIMIT.
_TOO_MANY = {"description": "Too many requests: from this address, with this token, or from everyone; "
                            "wait as many seconds as `Retry-After` says.",
             "headers": {"Retry-After": {"schema": {"type": "integer"}}},
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _get(operation_id: str, summary: str, schema: str, parameters: tuple[str, ...] = ()) -> dict:
    responses = {"200": _json(schema, "The figures."),
                 "401": _json("Error", "Not logged in, and no valid bearer token."),
                 "403": _json("Error", "Logged in with a role that does not see the dashboard."),
                 "429": _TOO_MANY}
    if parameters:
        responses["400"] = _json("Error", "A parameter that cannot be read; `error` says which and why.")
    return {"get": {"operationId": operation_id, "summary": summary,
                    "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
                    "responses": responses}}


SELECTION = ("from", "to", "month", "organisation")


def description() -> dict:
    """The whole description, as served."""
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{services().settings.service_name}: the coordinators' API", "version": "1.0.0",
                 "description": "The coordinators' dashboard as JSON: counts, never report content. Counts under "
                                "`minimum_cell` are hidden, and so is each breakdown's largest count when it has "
                                "one, so that none can be worked out from the total."},
        "paths": {
            "/api/v1/counts": _get("counts", "Referrals by organisation, month, category, status, urgency and "
                                             "state; cases referred on.", "Counts", SELECTION),
            "/api/v1/timeliness": _get("timeliness", "Median times to acknowledge and to close; overdue now, by "
                                                     "organisation.", "Timeliness", SELECTION),
            "/api/v1/overdue": _get("overdue", "The referrals overdue now (any month): case reference, "
                                               "organisation, deadline.", "Overdue", ("organisation",)),
            "/api/v1/summary": _get("summary", "The PSEA Network's monthly summary: one row per referral, in the "
                                               "UN system-wide tracker's fields.", "Summary", ("summary_month",)),
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This description.",
                "responses": {"200": {"description": "The OpenAPI 3.1 description.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              "401": _json("Error", "Not logged in, and no valid bearer token."),
                              "403": _json("Error", "Logged in with a role that does not see the dashboard."),
                              "429": _TOO_MANY}}},
        },
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A token from `flask --app app tokens create --name NAME`."},
                "portalSession": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "A coordinator's or admin's portal login."},
            },
        },
        "security": [{"bearer": []}, {"portalSession": []}],
    }
