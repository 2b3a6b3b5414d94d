"""Logging in to the portal: passwords, no account enumeration, the growing wait after failures
from one address (never a lock of the account for everyone), CSRF, TOTP (required,
single-use codes), logout, session expiry and cookie flags. Everything runs against the real app
and database. Setting TOTP up at a first login is in test_enrolment.py."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

import config
from storage import accounts, logins, portal_sessions
from storage.models import AuditEntry, KeyGrant, LoginFailure, PortalSession, User
from tests.portal.conftest import PASSWORD, PortalUser, csrf_token, give_totp, totp_code

LOGIN_FAILED = "Email or password is wrong"


def db(app):
    return app.extensions["intake"].sessions()


def cookie_secrets(app, client) -> dict:
    """What the browser's session cookie holds (it is signed, not encrypted)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def audit_actions(app) -> list[tuple[str, int | None, str | None]]:
    with db(app) as session:
        entries = session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
        return [(entry.action, entry.user_id, entry.detail) for entry in entries]


def user_named(app, email) -> User:
    with db(app) as session:
        return session.execute(select(User).where(User.email == email)).scalar_one()


def failures_from(app, email, address="127.0.0.1") -> int:
    """Failures counted from `address` (the test client's by default) for `email`."""
    digest = logins.failure_digest(app.extensions["intake"].vault, address, email)
    with db(app) as session:
        row = session.execute(select(LoginFailure).where(LoginFailure.digest == digest)).scalar()
        return row.failures if row else 0


def held_text(seconds: int) -> str:
    return (f"Too many wrong attempts from your address for this account. Wait {seconds} seconds, then try "
            "again. Logging in from another device or network is not held back.")


def error_of(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('role="alert">') + len('role="alert">')
    return html[start:html.index("<", start)]


def test_the_login_form_has_the_contract_fields(client):
    response = client.get("/portal/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert 'name="email"' in html and 'name="password"' in html and 'type="password"' in html
    assert '<input type="hidden" name="csrf_token"' in html
    assert ("After 3 wrong attempts from one address, each further try from there waits longer, up to 15 "
            "minutes. Your account is not locked for anyone else.") in html


def test_right_password_and_code_log_in_and_are_audited(app, client, world, portal_user, clock):
    response = portal_user.submit_login("  SAVE@example.org ")  # as typed: spaces, capitals
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login/totp"
    assert client.get("/portal/").status_code == 302  # the password alone is not a login
    response = portal_user.submit_code(world.emails["save"])
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    page = client.get("/portal/")
    assert page.status_code == 200 and world.case_refs["SAVE"][0] in page.get_data(as_text=True)

    user = user_named(app, world.emails["save"])
    assert user.last_login_at == clock() and failures_from(app, user.email) == 0
    # Nobody is granted a key by someone else's login: the colleague without one still has none.
    assert audit_actions(app) == [("login", user.id, None)]
    with db(app) as session:
        granted = session.execute(select(User.email).join(KeyGrant, KeyGrant.user_id == User.id)).scalars().all()
    assert sorted(granted) == sorted(world.emails[name] for name in ("save", "care", "coord"))
    # The browser holds the token and the key; the database only the token's hash.
    secrets_ = cookie_secrets(app, client)["portal"]
    with db(app) as session:
        row = session.execute(select(PortalSession)).scalar_one()
        assert row.id == hashlib.sha256(secrets_["token"].encode()).hexdigest()
        assert row.expires_at == clock() + timedelta(hours=8)
        key = portal_sessions.decode_cookie_key(secrets_["key"])
        assert key not in row.unlocked_key and secrets_["token"].encode() not in row.id.encode()


class CountingHasher(PasswordHasher):
    """The test hasher, counting verifications: every failed login must cost one."""

    verifications = 0

    def verify(self, hash, password):
        CountingHasher.verifications += 1
        return super().verify(hash, password)


@pytest.mark.parametrize("who", ["wrong password", "unknown email", "inactive account"])
def test_every_failure_gets_the_same_answer_and_the_same_work(app, world, portal_user, monkeypatch, who):
    monkeypatch.setattr(accounts, "password_hasher", CountingHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1))
    CountingHasher.verifications = 0
    email, password = world.emails["save"], "not the password at all"
    if who == "unknown email":
        email = "nobody@example.org"
    elif who == "inactive account":
        password = PASSWORD  # even the right one
        with db(app) as session:
            session.execute(select(User).where(User.email == email)).scalar_one().active = False
            session.commit()
    response = portal_user.submit_login(email, password)
    assert response.status_code == 401
    assert error_of(response) == LOGIN_FAILED
    assert CountingHasher.verifications == 1  # the unknown email was checked against a dummy hash
    assert portal_user.client.get("/portal/").status_code == 302
    # Audited by reason, never with the email or the password.
    (action, _, detail), = audit_actions(app)
    assert action == "login_failed" and detail in {"wrong password", "unknown account", "inactive account"}
    assert "@" not in detail and password not in detail


def test_failures_from_one_address_make_its_next_tries_wait_longer_and_longer(app, world, portal_user, clock):
    email = world.emails["save"]
    for _ in range(2):
        assert error_of(portal_user.submit_login(email, "wrong password here")) == LOGIN_FAILED
    third = portal_user.submit_login(email, "wrong password here")
    assert third.status_code == 401 and third.headers["Retry-After"] == "2"
    assert error_of(third) == f"{LOGIN_FAILED} {held_text(2)}"
    user = user_named(app, email)
    assert ("login_held", user.id, "3 failed attempts from one address: it waits before each further try") \
        in audit_actions(app)

    # While it waits, not even the right password is checked; the person is told how long.
    held = portal_user.submit_login(email, PASSWORD)
    assert held.status_code == 429 and held.headers["Retry-After"] == "2" and error_of(held) == held_text(2)
    assert failures_from(app, email) == 3  # a held try counts nothing

    waits = []
    for _ in range(4):  # each further failure doubles the wait
        clock.advance(seconds=waits[-1] if waits else 2)
        waits.append(int(portal_user.submit_login(email, "wrong password here").headers["Retry-After"]))
    assert waits == [4, 8, 16, 32]
    clock.advance(seconds=31)
    assert portal_user.submit_login(email, PASSWORD).status_code == 429
    clock.advance(seconds=1)
    assert portal_user.submit_login(email, PASSWORD).status_code == 302


def test_the_wait_is_capped_at_the_lockout_minutes(make_app, world, clock):
    app = make_app(PORTAL_LOGIN_LIMIT="100 per minute")  # the per-address rate limit is not the point here
    portal_user = PortalUser(app.test_client())
    email = world.emails["save"]
    waits = []
    for _ in range(15):
        response = portal_user.submit_login(email, "wrong password here")
        waits.append(int(response.headers.get("Retry-After", 0)))
        clock.advance(seconds=waits[-1])
    assert waits == [0, 0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
    assert "Wait 15 minutes" in portal_user.submit_login(email, "wrong password here").get_data(as_text=True)


def test_an_attacker_elsewhere_does_not_stop_the_focal_point(app, world, clock):
    """Thousands of wrong passwords from one address for a focal point's email: the focal point,
    logging in from their own address, gets in with the first right password."""
    email = world.emails["save"]
    attacker = PortalUser(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(12):
        attacker.submit_login(email, "guess " + "x" * 8)
        clock.advance(seconds=1)  # the attacker does not even wait for the hold to pass
    assert attacker.submit_login(email, PASSWORD).status_code == 429
    assert failures_from(app, email, "203.0.113.66") >= 3

    focal_point = PortalUser(app.test_client())
    focal_point.client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    focal_point.login(email)
    assert focal_point.client.get("/portal/").status_code == 200
    assert attacker.submit_login(email, PASSWORD).status_code == 429  # still held there


def test_an_unknown_email_is_held_the_same_way(app, portal_user):
    """Being held says nothing about which emails have accounts."""
    for _ in range(3):
        last = portal_user.submit_login("nobody@example.org", "wrong password here")
    assert last.status_code == 401 and error_of(last) == f"{LOGIN_FAILED} {held_text(2)}"
    assert portal_user.submit_login("nobody@example.org", "wrong password here").status_code == 429


def test_an_ipv6_network_is_one_address(app, world, clock):
    """One subscriber holds a whole /64: moving to another address in it is not a fresh count."""
    email = world.emails["save"]
    for host in range(3):
        person = PortalUser(app.test_client())
        person.client.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{host + 1}"
        person.submit_login(email, "wrong password here")
    person = PortalUser(app.test_client())
    person.client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff::9"
    assert person.submit_login(email, PASSWORD).status_code == 429
    other = PortalUser(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"
    assert other.submit_login(email, PASSWORD).status_code == 302


def test_a_complete_login_starts_the_count_over(app, world, portal_user):
    email = world.emails["save"]
    for _ in range(2):
        portal_user.submit_login(email, "wrong password here")
    portal_user.login(email)
    portal_user.post_form("/portal/logout")
    assert failures_from(app, email) == 0
    for _ in range(2):
        assert "Retry-After" not in portal_user.submit_login(email, "wrong password here").headers
    portal_user.login(email)


def test_a_count_left_for_a_day_starts_over(app, world, portal_user, clock):
    email = world.emails["save"]
    for _ in range(2):
        portal_user.submit_login(email, "wrong password here")
    clock.advance(days=1, seconds=1)
    assert "Retry-After" not in portal_user.submit_login(email, "wrong password here").headers
    assert failures_from(app, email) == 1


def test_the_worker_purges_counts_left_for_a_day(app, world, portal_user, clock):
    from bot.delivery.worker import OutboxWorker

    portal_user.submit_login(world.emails["save"], "wrong password here")
    clock.advance(hours=23)
    portal_user.submit_login(world.emails["care"], "wrong password here")
    clock.advance(hours=1, seconds=1)
    assert OutboxWorker(app.extensions["intake"]).purge()["login_failures"] == 1
    assert failures_from(app, world.emails["save"]) == 0 and failures_from(app, world.emails["care"]) == 1


def test_lockout_settings_come_from_the_configuration(make_app, world, clock):
    app = make_app(PORTAL_LOCKOUT_ATTEMPTS=2, PORTAL_LOCKOUT_MINUTES=1)
    person = PortalUser(app.test_client())
    waits = []
    for _ in range(8):
        waits.append(int(person.submit_login(world.emails["care"], "wrong password here").headers.get("Retry-After", 0)))
        clock.advance(seconds=waits[-1])
    assert waits == [0, 2, 4, 8, 16, 32, 60, 60]
    person.login(world.emails["care"])


@pytest.mark.parametrize("name", ["PORTAL_LOCKOUT_ATTEMPTS", "PORTAL_LOCKOUT_MINUTES", "PORTAL_SESSION_HOURS"])
def test_portal_settings_are_validated(tmp_path, name):
    assert getattr(config.load(tmp_path, environ={name: "3"}), name.lower()) == 3
    with pytest.raises(config.ConfigError, match=name):
        config.load(tmp_path, environ={name: "0"})
    with pytest.raises(config.ConfigError, match=name):
        config.load(tmp_path, environ={name: "five"})


def test_defaults_of_the_portal_settings(tmp_path):
    values = config.load(tmp_path, environ={})
    assert (values.portal_lockout_attempts, values.portal_lockout_minutes, values.portal_session_hours) == (3, 15, 8)


def test_a_post_without_the_csrf_token_is_refused(app, client, world, portal_user):
    response = client.post("/portal/login", data={"email": world.emails["save"], "password": PASSWORD})
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    portal_user.login(world.emails["save"])
    # Logged in, a forged logout (no token, or someone else's) does nothing.
    assert client.post("/portal/logout").status_code == 400
    assert client.post("/portal/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/portal/").status_code == 200


def test_a_token_from_before_the_login_does_not_survive_it(client, world, portal_user):
    before = portal_user.token()
    portal_user.login(world.emails["save"])
    assert client.post("/portal/logout", data={"csrf_token": before}).status_code == 400
    assert client.get("/portal/").status_code == 200


def test_a_cross_site_post_is_refused_even_with_a_token(client, world, portal_user):
    response = client.post("/portal/login", headers={"Sec-Fetch-Site": "cross-site"},
                           data={"csrf_token": portal_user.token(), "email": world.emails["save"],
                                 "password": PASSWORD})
    assert response.status_code == 403 and "not sent from the portal" in response.get_data(as_text=True)


def test_https_forms_work_without_a_referer(app, world):
    """Browsers send no Referer under Referrer-Policy: no-referrer; forms must still work."""
    client = app.test_client()
    page = client.get("/portal/login", base_url="https://intake.example.org")
    response = client.post("/portal/login", base_url="https://intake.example.org",
                           headers={"Sec-Fetch-Site": "same-origin"},
                           data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                 "email": world.emails["save"], "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login/totp"
    form = client.get("/portal/login/totp", base_url="https://intake.example.org")
    response = client.post("/portal/login/totp", base_url="https://intake.example.org",
                           headers={"Sec-Fetch-Site": "same-origin"},
                           data={"csrf_token": csrf_token(form.get_data(as_text=True)),
                                 "code": totp_code(app, world.emails["save"])})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"


def test_totp_is_asked_for_and_only_the_right_code_opens_the_session(app, client, world, portal_user, clock):
    email = world.emails["save"]
    secret = give_totp(app, email)
    response = portal_user.submit_login(email)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login/totp"
    # Password alone is not a login.
    assert client.get("/portal/").status_code == 302
    assert "autocomplete=\"one-time-code\"" in client.get("/portal/login/totp").get_data(as_text=True)

    wrong = portal_user.post_form("/portal/login/totp", {"code": "000000"}, token_from="/portal/login/totp")
    assert wrong.status_code == 401 and "That code is wrong" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).at(clock() - timedelta(seconds=30))  # one step old: clock drift allowed
    right = portal_user.post_form("/portal/login/totp", {"code": code[:3] + " " + code[3:]},
                                  token_from="/portal/login/totp")
    assert right.status_code == 302 and right.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200

    assert failures_from(app, email) == 0  # the complete login cleared the wrong code's count
    assert [action for action, _, _ in audit_actions(app)] == ["login_failed", "login"]
    with db(app) as session:  # the pending row was replaced by a fresh session
        row = session.execute(select(PortalSession)).scalar_one()
    assert row.id == hashlib.sha256(cookie_secrets(app, client)["portal"]["token"].encode()).hexdigest()
    assert "portal_pending" not in cookie_secrets(app, client)


def test_wrong_codes_count_with_the_wrong_passwords(app, client, world, portal_user, clock):
    email = world.emails["save"]
    secret = give_totp(app, email)
    portal_user.submit_login(email, "wrong password here")  # one failure already
    portal_user.submit_login(email)
    assert portal_user.post_form("/portal/login/totp", {"code": "123456"},
                                 token_from="/portal/login/totp").status_code == 401
    third = portal_user.post_form("/portal/login/totp", {"code": "123456"}, token_from="/portal/login/totp")
    assert third.status_code == 401 and third.headers["Retry-After"] == "2"
    assert held_text(2) in third.get_data(as_text=True)
    # While it waits, even the right code is not checked; the login waiting for it stays.
    held = portal_user.post_form("/portal/login/totp", {"code": pyotp.TOTP(secret).at(clock())},
                                 token_from="/portal/login/totp")
    assert held.status_code == 429 and held.headers["Retry-After"] == "2"
    assert held_text(2) in held.get_data(as_text=True)
    assert client.get("/portal/").status_code == 302
    clock.advance(seconds=2)
    done = portal_user.post_form("/portal/login/totp", {"code": pyotp.TOTP(secret).at(clock())},
                                 token_from="/portal/login/totp")
    assert done.status_code == 302 and client.get("/portal/").status_code == 200


def code_form(portal_user, code: str):
    return portal_user.post_form("/portal/login/totp", {"code": code}, token_from="/portal/login/totp")


def test_a_code_is_good_once_even_within_its_thirty_seconds(app, client, world, portal_user, clock):
    email = world.emails["save"]
    authenticator = pyotp.TOTP(world.totp_secrets[email])
    portal_user.submit_login(email)
    assert code_form(portal_user, authenticator.at(clock())).status_code == 302
    portal_user.post_form("/portal/logout")

    portal_user.submit_login(email)  # the same code again, ten seconds later: refused, and why
    clock.advance(seconds=10)
    replayed = code_form(portal_user, authenticator.at(clock()))
    assert replayed.status_code == 401 and "That code was used already" in replayed.get_data(as_text=True)
    older = code_form(portal_user, authenticator.at(clock() - timedelta(seconds=30)))  # older still: refused too
    assert older.status_code == 401 and "used already" in older.get_data(as_text=True)
    assert client.get("/portal/").status_code == 302
    user = user_named(app, email)
    assert failures_from(app, email) == 0  # not a guess: the owner retyping a code must not be held back
    assert audit_actions(app)[-2:] == [("login_failed", user.id, "TOTP code used already")] * 2

    clock.advance(seconds=20)  # the next step's code
    assert code_form(portal_user, authenticator.at(clock())).status_code == 302
    assert client.get("/portal/").status_code == 200
    assert user_named(app, email).totp_last_step == int(clock().timestamp()) // 30


def test_a_code_in_burmese_digits_is_read(app, client, world, portal_user, clock):
    email = world.emails["save"]
    code = pyotp.TOTP(world.totp_secrets[email]).at(clock())
    burmese = "".join(chr(0x1040 + int(digit)) for digit in code)
    portal_user.submit_login(email)
    assert code_form(portal_user, burmese[:3] + " " + burmese[3:]).status_code == 302
    assert client.get("/portal/").status_code == 200


def test_a_code_for_an_account_disabled_meanwhile_ends_the_login(app, client, world, portal_user, clock):
    email = world.emails["save"]
    portal_user.submit_login(email)
    with db(app) as session:
        session.execute(select(User).where(User.email == email)).scalar_one().active = False
        session.commit()
    refused = code_form(portal_user, pyotp.TOTP(world.totp_secrets[email]).at(clock()))
    assert refused.status_code == 302 and refused.headers["Location"] == "/portal/login"
    with db(app) as session:
        assert session.execute(select(PortalSession)).first() is None


def test_a_login_waiting_for_its_code_expires(app, client, world, portal_user, clock):
    secret = give_totp(app, world.emails["save"])
    portal_user.submit_login(world.emails["save"])
    token = portal_user.token("/portal/login/totp")
    clock.advance(minutes=10)
    response = client.post("/portal/login/totp", data={"csrf_token": token, "code": pyotp.TOTP(secret).at(clock())})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login"
    assert client.get("/portal/").status_code == 302
    with db(app) as session:
        assert session.execute(select(PortalSession)).first() is None


def test_logout_deletes_the_session_and_an_old_cookie_opens_nothing(app, client, world, portal_user):
    portal_user.login(world.emails["save"])
    old_cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    response = portal_user.post_form("/portal/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login"
    assert "portal" not in cookie_secrets(app, client)
    with db(app) as session:
        assert session.execute(select(PortalSession)).first() is None
    assert [action for action, _, _ in audit_actions(app)] == ["login", "logout"]
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], old_cookie)
    again = client.get("/portal/")
    assert again.status_code == 302 and again.headers["Location"].startswith("/portal/login")


def test_a_session_ends_after_its_absolute_lifetime(app, client, world, portal_user, clock):
    portal_user.login(world.emails["save"])
    clock.advance(hours=7, minutes=59)
    assert client.get("/portal/").status_code == 200
    clock.advance(minutes=1)
    response = client.get("/portal/")
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login?next=/portal/"
    assert "Your session has ended" in client.get("/portal/login").get_data(as_text=True)
    with db(app) as session:
        assert session.execute(select(PortalSession)).first() is None


def test_a_deactivated_account_loses_its_session_at_once(app, client, world, portal_user):
    portal_user.login(world.emails["save"])
    with db(app) as session:
        session.execute(select(User).where(User.email == world.emails["save"])).scalar_one().active = False
        session.commit()
    assert client.get("/portal/").status_code == 302
    with db(app) as session:
        assert session.execute(select(PortalSession)).first() is None


def test_purge_expired_deletes_only_expired_sessions(app, world, clock):
    with db(app) as session:
        user = session.execute(select(User).where(User.email == world.emails["save"])).scalar_one()
        old = portal_sessions.start(session, user, None, now=clock() - timedelta(hours=9), lifetime=timedelta(hours=8))
        live = portal_sessions.start(session, user, b"k" * 32, now=clock(), lifetime=timedelta(hours=8))
        assert portal_sessions.purge_expired(session, clock()) == 1
        session.commit()
        assert [row.id for row in session.execute(select(PortalSession)).scalars()] == [live.row.id]
        assert old.row.id != live.row.id


@pytest.mark.parametrize("base_url, secure", [("https://intake.example.org", True), ("http://127.0.0.1:5000", False)])
def test_the_session_cookie_flags(make_app, world, base_url, secure):
    app = make_app(PUBLIC_BASE_URL=base_url)
    response = PortalUser(app.test_client()).login(world.emails["save"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ("; Secure" in cookie) is secure


def test_every_cookie_the_service_sets_has_the_flags_the_simulators_too(make_app):
    """The service sets one cookie, Flask's session, on whatever route: the portal's forms and the
    simulator's sender id alike carry HttpOnly, SameSite=Lax and, behind HTTPS, Secure."""
    app = make_app(PUBLIC_BASE_URL="https://intake.example.org", SIMULATOR_ENABLED="1")
    client = app.test_client()
    answers = [client.get("/portal/login", base_url="https://intake.example.org"),
               app.test_client().post("/simulator/messages", json={"text": "hello"},
                                      base_url="https://intake.example.org")]
    for response in answers:
        cookies = response.headers.getlist("Set-Cookie")
        assert cookies, response.request.path
        for cookie in cookies:
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "; Secure" in cookie


def test_a_link_from_a_notification_comes_back_after_login(client, world, portal_user):
    case_ref = world.case_refs["SAVE"][0]
    response = client.get(f"/portal/referrals/{case_ref}")
    assert response.headers["Location"] == f"/portal/login?next=/portal/referrals/{case_ref}"
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="/portal/referrals/{case_ref}"' in form
    portal_user.submit_login(world.emails["save"], next=f"/portal/referrals/{case_ref}")
    landed = portal_user.submit_code(world.emails["save"])
    assert landed.headers["Location"] == f"/portal/referrals/{case_ref}"


@pytest.mark.parametrize("target", ["//evil.example/portal/", "https://evil.example/", "/portal/../x", "/simulator",
                                    "/portal/" + "a" * 60 + "!"])  # no regex backtracking blow-up either
def test_login_never_sends_anyone_off_the_portal(world, portal_user, target):
    assert portal_user.submit_login(world.emails["save"], next=target).headers["Location"] == "/portal/login/totp"
    assert portal_user.submit_code(world.emails["save"]).headers["Location"] == "/portal/"


def test_portal_pages_carry_the_security_headers(client):
    for response in (client.get("/portal/login"), client.get("/portal/static/portal.css")):
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
    assert "<script" not in client.get("/portal/login").get_data(as_text=True)
