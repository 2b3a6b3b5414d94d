"""Per-address limits on the login steps (Flask-Limiter): past the limit one address gets a 429
that says why, no password is checked and nothing is counted against any account; other
addresses are not affected, and behind TRUSTED_PROXIES the person's address is the one limited."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

import config
from portal.auth import LOGIN_FAILED, THROTTLED
from storage import accounts
from storage.models import AuditEntry
from tests.portal.conftest import PortalUser
from tests.portal.test_auth import CountingHasher


def browser(app, **environ) -> PortalUser:
    """A browser whose requests carry these WSGI environ values (a client address, a header)."""
    client = app.test_client()
    client.environ_base.update(environ)
    return PortalUser(client)


def audit_count(app) -> int:
    with app.extensions["intake"].sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_one_address_is_throttled_after_the_limit_and_nothing_is_checked(make_app, world, monkeypatch):
    app = make_app(PORTAL_LOGIN_LIMIT="3 per minute")
    person = PortalUser(app.test_client())
    monkeypatch.setattr(accounts, "password_hasher", CountingHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    CountingHasher.verifications = 0
    for _ in range(3):
        assert person.submit_login(world.emails["save"], "wrong password here").status_code == 401
    audited = audit_count(app)
    throttled = person.submit_login(world.emails["save"], "wrong password here")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert THROTTLED in throttled.get_data(as_text=True) and LOGIN_FAILED not in throttled.get_data(as_text=True)
    assert CountingHasher.verifications == 3 and audit_count(app) == audited  # no Argon2, no count

    elsewhere = browser(app, REMOTE_ADDR="192.0.2.7")
    assert elsewhere.submit_login(world.emails["save"], "wrong password here").status_code == 401


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(make_app, world):
    app = make_app(PORTAL_LOGIN_LIMIT="2 per minute", TRUSTED_PROXIES=1)

    first = browser(app, HTTP_X_FORWARDED_FOR="198.51.100.1")
    for _ in range(2):
        assert first.submit_login(world.emails["save"], "wrong password here").status_code == 401
    assert first.submit_login(world.emails["save"], "wrong password here").status_code == 429
    assert browser(app, HTTP_X_FORWARDED_FOR="198.51.100.2").submit_login(world.emails["save"], "wrong password here").status_code == 401


@pytest.mark.parametrize("name", ["PORTAL_LOGIN_LIMIT", "SIMULATOR_LIMIT"])
def test_a_limit_that_is_not_a_rate_stops_the_server_naming_it(tmp_path, name):
    with pytest.raises(config.ConfigError, match=name):
        config.load(tmp_path, environ={name: "as many as you like"})


def test_processes_sharing_a_redis_share_the_count(make_app, world):
    """Two app processes (two apps here) with RATELIMIT_STORAGE_URI on one Redis count together."""
    uri = "redis://127.0.0.1:6379/15"
    first, second = (make_app(PORTAL_LOGIN_LIMIT="2 per minute", RATELIMIT_STORAGE_URI=uri,
                              TRUSTED_PROXIES=1) for _ in range(2))
    # Fresh (Redis outlives the test), in a /64 of its own (an IPv6 address counts as its /64).
    address = f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1"

    def wrong_login(app) -> int:
        return browser(app, HTTP_X_FORWARDED_FOR=address).submit_login(world.emails["save"], "wrong one").status_code

    assert [wrong_login(first), wrong_login(second), wrong_login(first)] == [401, 401, 429]


def test_the_held_person_is_told_the_wait_in_the_portals_language(app, world, clock):
    """Before a login the portal speaks the browser's language: a Burmese browser held after wrong
    passwords reads, in Burmese, that it must wait and for how long."""
    person = browser(app, HTTP_ACCEPT_LANGUAGE="my")
    for _ in range(3):
        person.submit_login(world.emails["save"], "wrong password here")
    clock.advance(seconds=1)
    held = person.submit_login(world.emails["save"])
    page = held.get_data(as_text=True)
    assert held.status_code == 429 and held.headers["Retry-After"] == "1"
    assert "သင့်လိပ်စာမှ ဤအကောင့်အတွက် မှားယွင်းသော ကြိုးစားမှု များလွန်းပါသည်။ 1 စက္ကန့် စောင့်ပြီးမှ" in page
    assert "Too many wrong attempts" not in page


def test_a_long_wait_is_told_in_minutes(make_app, world, clock):
    app = make_app(PORTAL_LOGIN_LIMIT="100 per minute")
    person = browser(app)
    for _ in range(10):  # waits 0, 0, 2, 4 ... 256 s, each waited out
        wrong = person.submit_login(world.emails["save"], "wrong password here")
        clock.advance(seconds=int(wrong.headers.get("Retry-After", 0)))
    assert person.submit_login(world.emails["save"], "wrong password here").headers["Retry-After"] == "512"
    assert "Wait 9 minutes, then try again" in person.submit_login(world.emails["save"]).get_data(as_text=True)
