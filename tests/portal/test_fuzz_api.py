"""The coordinators' API fuzzed from its own description: schemathesis reads `/api/v1/openapi.json`
(portal/openapi.py) from the app in-process (WSGI, no server) and generates requests from it,
valid and not (negative generation: wrong types, patterns, extra and missing parameters), with a
bearer token made by the operator's own command. Every answer must be no 5xx, conform to the
description (status, content type, schema) and, without the token, be refused (schemathesis's
`ignored_auth` check). The "ci" profile runs a fixed, small number of examples; `make fuzz` more."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.support import fuzz
from tests.support.fuzz import assert_consistent

API = "/api/v1"


@pytest.fixture
def app(make_app):
    """The portal's world fixture builds on this app; the API's rate limits are lifted so that the
    fuzzer explores the API, not its limit (tests/portal/test_abuse_limits.py holds the limits)."""
    return make_app(API_LIMIT="100000 per minute", API_GLOBAL_LIMIT="100000 per minute")


@pytest.fixture
def token(app, world) -> str:
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--name", "fuzzing"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[1]


def api_schema(app, token):
    # Loaded in-process (WSGI): extra arguments go to the test client, and the description itself
    # is behind the token.
    return schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, headers={"Authorization": f"Bearer {token}"})


def operations(app, schema) -> list:
    """Every operation described; every API route served must be among them (as test_api.py
    checks too), so a new route is fuzzed as soon as it is described."""
    found = [result.ok() for result in schema.get_all_operations()]
    served = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith(API)} - {f"{API}/openapi.json"}
    assert served <= {operation.path for operation in found}, found
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_the_api_answers_every_generated_request_within_its_description(app, world, token, mode):
    """(schemathesis's pytest plugin does not run on this pytest; its strategies do, under
    hypothesis directly.) Positive cases must conform to the description; negative ones (wrong
    types and patterns) must be a clear 4xx."""
    schema = api_schema(app, token)
    auth = {"Authorization": f"Bearer {token}"}
    for operation in operations(app, schema):
        @given(case=operation.as_strategy(generation_mode=mode))
        @fuzz.examples()
        def property_(case):
            response = case.call(headers=auth)
            fuzz.record(f"api {case.method} {case.path}", response.status_code)
            assert response.status_code < 500, response.text[:300]
            if response.status_code >= 400:
                assert response.json()["error"], response.text[:300]  # a 4xx says why
            # Every other check of schemathesis's (described status, content type and schema; no
            # answer without the token), but not "every schema-valid request is accepted" (two
            # valid months can be in the wrong order: a described 400) nor "every invalid one is
            # refused" (an empty parameter, as the dashboard's forms send, means "not given").
            case.validate_response(response, headers=auth,
                                   excluded_checks=[positive_data_acceptance, negative_data_rejection])

        property_()
    assert_consistent(app)


def test_the_api_refuses_a_wrong_or_missing_token(app, client, world):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"},
                    {"Authorization": "Bearer " + "x" * 5000}, {"Authorization": "Bearer \u1000"}):
        response = client.get(f"{API}/counts", headers=headers)
        fuzz.record(f"api GET {API}/counts", response.status_code)
        assert response.status_code == 401 and response.get_json()["error"]


def test_a_range_ending_in_the_first_described_month_starts_there(app, client, world, token):
    """Found by schemathesis: `to=1900-01` alone started the default twelve months in 1899, and
    the answer's months broke the description's own month pattern."""
    response = client.get(f"{API}/counts?to=1900-01", headers={"Authorization": f"Bearer {token}"})
    fuzz.record(f"api GET {API}/counts", response.status_code)
    assert response.status_code == 200, response.get_data(as_text=True)
    months = [cell["key"] for cell in response.get_json()["breakdowns"]["month"]]
    assert months == ["1900-01"]
