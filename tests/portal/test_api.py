"""The coordinators' API (`/api/v1`), its tokens, and its OpenAPI description held to the live API.

Tokens are made with the operator's own command (`flask --app app tokens ...`, through Flask's CLI
runner). The description is checked with jsonschema (draft 2020-12, OpenAPI 3.1's dialect): every
path it names is served, every route under /api/v1 is in it, and every answer (figures, 400, 401,
403) validates against the schema it gives for that status.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from storage.models import ApiToken, AuditEntry
from tests.portal.test_dashboard import MARKER, Seeded, seed

API = "/api/v1"


@pytest.fixture
def seeded(app, world) -> Seeded:
    return seed(app, world)


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    return result


def new_token(app, name: str = "network reporting sheet") -> str:
    result = run(app, "tokens", "create", "--name", name)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Token ") and "shown only this once" in lines[0]
    return lines[1]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def hidden_counts(cells: list[dict]) -> int:
    return sum(cell["count"] is None for cell in cells)


# --- tokens -------------------------------------------------------------------------------------

def test_a_bearer_token_reads_the_figures_without_any_cookie(app, client, world, seeded):
    token = new_token(app)
    response = client.get(f"{API}/counts?month=2026-10", headers=bearer(token))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    body = response.get_json()
    assert body["selection"] == {"from": "2026-10", "to": "2026-10", "organisation": None}
    assert body["total"] == {"count": 12, "shown": "12"} and body["minimum_cell"] == 3
    organisations = {cell["key"]: (cell["count"], cell["shown"]) for cell in body["breakdowns"]["organisation"]}
    assert organisations == {"CARE": (5, "5"), "PSEAN": (None, "<3"), "SAVE": (None, "hidden")}
    states = [(cell["key"], cell["name"], cell["shown"]) for cell in body["breakdowns"]["state"]]
    assert states == [("MMR001", "Kachin", "<3"), ("MMR013", "Yangon", "hidden"), (None, "No place given", "<3")]
    assert body["transfers"] == {"total": {"count": None, "shown": "<3"},
                                 "pairs": [{"from": "SAVE", "to": "CARE", "count": None, "shown": "<3"}]}
    # Small counts hidden, and never one alone in a breakdown that adds up to the total.
    for name, cells in body["breakdowns"].items():
        assert hidden_counts(cells) != 1, name
        if hidden_counts(cells) == 0:
            assert sum(cell["count"] for cell in cells) == 12, name


def test_tokens_are_listed_stamped_revoked_and_only_their_digest_kept(app, client, world, seeded, clock):
    token = new_token(app, "reporting sheet")
    with app.extensions["intake"].sessions() as db:
        row = db.execute(select(ApiToken)).scalar_one()
        assert len(row.token_digest) == 32 and token.encode() not in row.token_digest and row.last_used_at is None
    assert "live" in run(app, "tokens", "list").output and "last used -" in run(app, "tokens", "list").output
    assert client.get(f"{API}/overdue", headers=bearer(token)).status_code == 200
    listing = run(app, "tokens", "list").output
    assert listing.startswith("1\treporting sheet\tcreated 2026-11-24 09:00 UTC\tlast used 2026-11-24 09:00 UTC")

    revoked = run(app, "tokens", "revoke", "1")
    assert revoked.exit_code == 0 and revoked.output.strip() == "Token 1 is revoked."
    refused = client.get(f"{API}/overdue", headers=bearer(token))
    assert refused.status_code == 401 and refused.get_json() == {"error": "this bearer token is unknown or has "
                                                                          "been revoked"}
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert "revoked 2026-11-24 09:00 UTC" in run(app, "tokens", "list").output
    assert "expires 2027-11-24 09:00 UTC" in run(app, "tokens", "list").output  # API_TOKEN_DAYS, 365
    clock.advance(hours=1)
    assert "since 2026-11-24 09:00 UTC" in run(app, "tokens", "revoke", "1").output
    assert run(app, "tokens", "revoke", "7").exit_code == 1
    assert run(app, "tokens", "create", "--name", " ").exit_code == 2
    with app.extensions["intake"].sessions() as db:
        actions = [(entry.action, entry.detail) for entry in db.execute(select(AuditEntry)).scalars()]
    assert actions == [("api_token_create", "token 1"), ("api_token_revoke", "token 1")]


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "token"])
def test_anything_but_a_live_token_is_a_401(client, world, header):
    response = client.get(f"{API}/counts", headers={"Authorization": header})
    assert response.status_code == 401 and "error" in response.get_json()
    assert "Set-Cookie" not in response.headers


def test_a_bearer_header_is_checked_even_for_someone_logged_in(client, world, portal_user):
    portal_user.login(world.emails["coord"])
    assert client.get(f"{API}/counts").status_code == 200
    assert client.get(f"{API}/counts", headers=bearer("wrong")).status_code == 401


# --- sessions and roles -------------------------------------------------------------------------

def test_logged_out_is_a_401_saying_how_to_get_in(client, world):
    for path in ("/counts", "/timeliness", "/overdue", "/summary?month=2026-10", "/openapi.json"):
        response = client.get(API + path)
        assert response.status_code == 401 and response.mimetype == "application/json", path
        assert response.get_json() == {"error": "log in to the portal as a coordinator, or send Authorization: "
                                                "Bearer <token>"}


@pytest.mark.parametrize("name, role", [("save", "focal point"), ("caseworker", "caseworker")])
def test_other_roles_are_a_403(client, world, portal_user, name, role):
    portal_user.login(world.emails[name])
    response = client.get(f"{API}/counts")
    assert response.status_code == 403
    assert response.get_json() == {"error": f"your role ({role}) does not give access to the API"}


@pytest.mark.parametrize("name", ["coord", "admin"])
def test_a_coordinators_session_reads_the_api_too(client, world, portal_user, seeded, name):
    portal_user.login(world.emails[name])
    body = client.get(f"{API}/timeliness?month=2026-10").get_json()
    assert body["all"] == {"acknowledged": {"count": 8, "shown": "8"}, "median_hours_to_acknowledge": 5.0,
                           "closed": {"count": None, "shown": "<3"}, "median_days_to_close": None, "overdue_now": 4}
    by = {item["organisation"]: item for item in body["organisations"]}
    assert by["CARE"]["acknowledged"] == {"count": None, "shown": "<3"} and by["CARE"]["overdue_now"] == 3
    assert by["SAVE"]["acknowledged"] == {"count": None, "shown": "hidden"}
    assert by["SAVE"]["median_hours_to_acknowledge"] == 3.5 and by["CARE"]["median_hours_to_acknowledge"] is None


def test_overdue_and_the_monthly_summary(app, client, world, seeded):
    token = new_token(app)
    overdue = client.get(f"{API}/overdue", headers=bearer(token)).get_json()
    assert overdue["count"] == 4 and overdue["as_of"] == "2026-11-24T09:00:00+00:00"
    listed = [item["case_ref"] for item in overdue["referrals"]]
    assert listed == [seeded.case_refs[number] for number in (13, 9, 10, 11)]
    assert datetime.fromisoformat(overdue["referrals"][0]["ack_deadline"]).tzinfo is not None
    care = client.get(f"{API}/overdue?organisation=PSEAN", headers=bearer(token)).get_json()
    assert care["count"] == 1 and care["organisation"] == "PSEAN"

    summary = client.get(f"{API}/summary?month=2026-10", headers=bearer(token)).get_json()
    assert summary["month"] == "2026-10" and len(summary["rows"]) == 12
    assert summary["rows"][6]["referred_from"] == "SAVE" and summary["rows"][0]["row"] == 1
    assert not [ref for ref in seeded.case_refs.values() if ref in json.dumps(summary)]
    with app.extensions["intake"].sessions() as db:
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "export_monthly_summary")).scalar_one()
    assert entry.detail == "month 2026-10; 12 rows; token 1" and entry.user_id is None


@pytest.mark.parametrize("query, reason", [("month=2026-1", "as a month, YYYY-MM"),
                                           ("from=2026-11&to=2026-10", "is after the last"),
                                           ("organisation=" + "X" * 40, "no organisation with that acronym")])
def test_bad_parameters_are_a_400_with_the_reason(app, client, world, query, reason):
    token = new_token(app)
    for path in ("/counts", "/timeliness"):
        response = client.get(f"{API}{path}?{query}", headers=bearer(token))
        assert response.status_code == 400 and reason in response.get_json()["error"]
    assert client.get(f"{API}/summary", headers=bearer(token)).status_code == 400
    assert client.get(f"{API}/overdue?organisation=NOBODY", headers=bearer(token)).status_code == 400


def test_no_report_content_in_any_answer(app, client, world, seeded, clock):
    clock.advance(days=2)
    token = new_token(app)
    contents = [*seeded.markers, *world.accounts.values(), MARKER]
    for path in ("/counts", "/counts?month=2026-10", "/timeliness", "/overdue", "/summary?month=2026-10",
                 "/summary?month=2026-11"):
        body = client.get(API + path, headers=bearer(token)).get_data(as_text=True)
        assert not [content for content in contents if content in body], path


# --- the description against the live API -------------------------------------------------------

def validate(spec: dict, schema: dict, value) -> None:
    """Check `value` against a schema of the description, its $refs resolved in the description."""
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": spec["components"], **schema}
    Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(value)


def parameters_of(spec: dict, operation: dict) -> list[dict]:
    found = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = spec["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        found.append(parameter)
    return found


def check(spec: dict, operation: dict, response, path: str) -> None:
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{path}: {response.status_code} is not in the description"
    schema = documented["content"][response.mimetype]["schema"]
    validate(spec, schema, response.get_json())


def test_the_description_matches_the_live_api(app, client, world, seeded, portal_user):
    token = new_token(app)
    spec = client.get(f"{API}/openapi.json", headers=bearer(token)).get_json()
    assert spec["openapi"].startswith("3.1.") and spec["info"]["version"]
    Draft202012Validator.check_schema({"$defs": spec["components"]["schemas"]})

    served = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(API)}
    assert served == set(spec["paths"])
    assert {operation["operationId"] for item in spec["paths"].values() for operation in item.values()} == \
        {"counts", "timeliness", "overdue", "summary", "openapi"}
    for path, item in spec["paths"].items():
        assert set(item) == {"get"}, path
        operation = item["get"]
        parameters = parameters_of(spec, operation)
        required = {parameter["name"]: parameter["schema"]["examples"][0]
                    for parameter in parameters if parameter["required"]}
        check(spec, operation, client.get(path, query_string=required, headers=bearer(token)), path)
        for parameter in parameters:  # each one with an example value, then with one it refuses
            example = {**required, parameter["name"]: parameter["schema"]["examples"][0]}
            answer = client.get(path, query_string=example, headers=bearer(token))
            assert answer.status_code == 200, (path, example, answer.get_json())
            check(spec, operation, answer, path)
            refused = client.get(path, query_string={**required, parameter["name"]: "x" * 40}, headers=bearer(token))
            assert refused.status_code == 400, (path, parameter["name"])
            check(spec, operation, refused, path)
        check(spec, operation, client.get(path, query_string=required), path)  # 401
    portal_user.login(world.emails["save"])
    for path, item in spec["paths"].items():
        check(spec, item["get"], client.get(path), path)  # 403


def test_the_description_is_what_the_validation_relies_on(app, client, world, seeded):
    """The check above can fail: an answer the description does not allow is caught."""
    token = new_token(app)
    spec = client.get(f"{API}/openapi.json", headers=bearer(token)).get_json()
    counts = client.get(f"{API}/counts", headers=bearer(token)).get_json()
    counts["total"]["shown"] = "about 5"
    with pytest.raises(Exception, match="does not match"):
        validate(spec, {"$ref": "#/components/schemas/Counts"}, counts)
