"""Abuse limits beyond one address at the login (tests/portal/test_login_limits.py): the login
steps for everyone together, the simulator per address and for everyone, the API per address, per
bearer token and for everyone, and those counts shared through Redis by two app instances. Each
refusal is a 429 with Retry-After and a reason; the real app, its test client."""

from __future__ import annotations

import pytest
import redis

from portal.auth import BUSY
from tests.portal.test_api import bearer, new_token
from tests.portal.test_login_limits import browser

REDIS_DB = 7  # this file's own database: flushed before each test that uses it
REDIS_URI = f"redis://127.0.0.1:6379/{REDIS_DB}"


@pytest.fixture
def fresh_redis():
    client = redis.Redis.from_url(REDIS_URI)
    client.flushdb()
    yield REDIS_URI
    client.flushdb()


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


def wrong_login_from(app, world, address: str):
    return browser(app, REMOTE_ADDR=address).submit_login(world.emails["save"], "wrong password here")


# --- the login steps, for everyone together -----------------------------------------------------

def test_the_global_login_limit_holds_back_a_flood_from_many_addresses(make_app, world):
    app = make_app(PORTAL_LOGIN_GLOBAL_LIMIT="3 per minute")
    assert [wrong_login_from(app, world, f"192.0.2.{n}").status_code for n in range(1, 4)] == [401] * 3
    flooded = wrong_login_from(app, world, "192.0.2.4")  # a fresh address: its own count is zero
    assert flooded.status_code == 429 and 0 < retry_after(flooded) <= 61
    assert BUSY in flooded.get_data(as_text=True)
    # The right password is not checked either: nothing is, until the minute has passed.
    right = browser(app, REMOTE_ADDR="192.0.2.5").submit_login(world.emails["save"])
    assert right.status_code == 429


def test_the_code_steps_count_in_the_same_global_limit(make_app, world):
    app = make_app(PORTAL_LOGIN_GLOBAL_LIMIT="2 per minute")
    person = browser(app, REMOTE_ADDR="192.0.2.10")
    assert person.submit_login(world.emails["save"]).status_code == 302
    code = person.post_form("/portal/login/totp", {"code": "000000"}, token_from="/portal/login/totp")
    assert code.status_code == 401
    assert wrong_login_from(app, world, "192.0.2.11").status_code == 429


def test_two_app_instances_share_the_global_limit_through_redis(make_app, world, fresh_redis):
    first, second = (make_app(PORTAL_LOGIN_GLOBAL_LIMIT="2 per minute", RATELIMIT_STORAGE_URI=fresh_redis)
                     for _ in range(2))
    assert [wrong_login_from(first, world, "192.0.2.21").status_code,
            wrong_login_from(second, world, "192.0.2.22").status_code,
            wrong_login_from(first, world, "192.0.2.23").status_code,
            wrong_login_from(second, world, "192.0.2.24").status_code] == [401, 401, 429, 429]


def test_a_success_carries_no_retry_after(app, world):
    response = browser(app, REMOTE_ADDR="192.0.2.30").submit_login(world.emails["save"])
    assert response.status_code == 302 and "Retry-After" not in response.headers


# --- the simulator ------------------------------------------------------------------------------

def say_from(app, address: str, text: str = "hello"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/simulator/messages", json={"text": text, "style": "sms"})


def test_the_simulator_is_limited_per_address(make_app):
    app = make_app(SIMULATOR_ENABLED="1", SIMULATOR_LIMIT="2 per minute")
    assert [say_from(app, "192.0.2.40").status_code for _ in range(2)] == [200, 200]
    refused = say_from(app, "192.0.2.40")
    assert refused.status_code == 429 and retry_after(refused) > 0
    assert "too many messages from this address" in refused.get_data(as_text=True)
    # A new cookie (a new simulated sender) from the same address is still the same address.
    assert say_from(app, "192.0.2.40").status_code == 429
    assert say_from(app, "192.0.2.41").status_code == 200


def test_the_simulator_is_limited_for_everyone(make_app):
    app = make_app(SIMULATOR_ENABLED="1", SIMULATOR_GLOBAL_LIMIT="3 per minute")
    assert [say_from(app, f"192.0.2.{50 + n}").status_code for n in range(3)] == [200] * 3
    refused = say_from(app, "192.0.2.60")
    assert refused.status_code == 429 and retry_after(refused) > 0
    assert "the simulator is busy" in refused.get_data(as_text=True)


def test_an_ipv6_subscriber_cannot_step_round_the_simulator_limit(make_app):
    app = make_app(SIMULATOR_ENABLED="1", SIMULATOR_LIMIT="2 per minute")
    assert [say_from(app, f"2001:db8:5:6::{n}").status_code for n in range(1, 4)] == [200, 200, 429]
    assert say_from(app, "2001:db8:5:7::1").status_code == 200


# --- the API ------------------------------------------------------------------------------------

def api_get(app, address: str, headers: dict | None = None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.get("/api/v1/counts", headers=headers or {})


def test_the_api_is_limited_per_address_with_a_json_429(make_app, world):
    app = make_app(API_LIMIT="2 per minute")
    token = new_token(app)
    assert [api_get(app, "192.0.2.70", bearer(token)).status_code for _ in range(2)] == [200, 200]
    refused = api_get(app, "192.0.2.70")  # without a token too: the address is over its limit
    assert refused.status_code == 429 and retry_after(refused) > 0
    assert refused.is_json and "too many requests" in refused.get_json()["error"]
    assert api_get(app, "192.0.2.71", bearer(new_token(app, "another sheet"))).status_code == 200


def test_a_bearer_token_is_limited_from_every_address_together(make_app, world):
    app = make_app(API_LIMIT="2 per minute")
    token = new_token(app)
    assert [api_get(app, f"192.0.2.{80 + n}", bearer(token)).status_code for n in range(2)] == [200, 200]
    refused = api_get(app, "192.0.2.90", bearer(token))
    assert refused.status_code == 429 and retry_after(refused) > 0
    # Another token, and callers without one, are not held back by this token's count.
    assert api_get(app, "192.0.2.91", bearer(new_token(app, "another sheet"))).status_code == 200
    assert api_get(app, "192.0.2.92").status_code == 401


def test_wrong_tokens_are_limited_too(make_app):
    app = make_app(API_LIMIT="3 per minute")
    statuses = [api_get(app, "192.0.2.100", bearer(f"guess-{n}")).status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_the_api_is_limited_for_everyone(make_app, world):
    app = make_app(API_GLOBAL_LIMIT="2 per minute")
    token = new_token(app)
    assert [api_get(app, f"192.0.2.{110 + n}", bearer(token)).status_code for n in range(2)] == [200, 200]
    assert api_get(app, "192.0.2.120", bearer(new_token(app, "another sheet"))).status_code == 429


@pytest.mark.parametrize("name", ["PORTAL_LOGIN_GLOBAL_LIMIT", "SIMULATOR_GLOBAL_LIMIT", "API_LIMIT",
                                  "API_GLOBAL_LIMIT"])
def test_a_limit_that_is_not_a_rate_stops_the_server_naming_it(tmp_path, name):
    import config

    with pytest.raises(config.ConfigError, match=name):
        config.load(tmp_path, environ={name: "lots"})
