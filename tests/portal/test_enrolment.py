"""Setting TOTP up at a first login: an account without TOTP gets no session for its password
alone; it is shown a secret (QR code as inline SVG, otpauth:// link, letters), and only a right
code from it stores the secret and completes the login. On the real app and database."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from storage import accounts, totp
from storage.models import AuditEntry, PortalSession, User
from tests.portal.conftest import PASSWORD, PortalUser, csrf_token
from tests.support.portal import secret_shown
from tests.portal.test_auth import failures_from, held_text

EMAIL = "newcomer@example.org"


@pytest.fixture
def newcomer(app, clock) -> str:
    """A focal point's account with no TOTP yet, as the admin page makes them."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        organisation, _ = accounts.create_organisation(session, name="Org", acronym="ORG", now=clock())
        accounts.create_user(session, email=EMAIL, role="focal_point", password=PASSWORD,
                             organisation=organisation, now=clock())
        session.commit()
    return EMAIL


def stored(app) -> User:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(User).where(User.email == EMAIL)).scalar_one()


def enrol_page(portal_user: PortalUser) -> str:
    response = portal_user.submit_login(EMAIL)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/login/enrol"
    page = portal_user.client.get("/portal/login/enrol")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def send_code(portal_user: PortalUser, html: str, code: str):
    return portal_user.client.post("/portal/login/enrol", data={"csrf_token": csrf_token(html), "code": code})


def test_the_password_alone_gives_no_session_and_the_page_shows_the_secret_three_ways(
        app, client, portal_user, newcomer, clock):
    html = enrol_page(portal_user)
    assert client.get("/portal/").status_code == 302  # no session yet
    secret = secret_shown(html)
    assert len(secret) == 32 and stored(app).totp_secret is None  # nothing written before the code
    link = re.search(r'<a href="(otpauth://[^"]+)" id="otpauth-link"', html).group(1).replace("&amp;", "&")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, unquote(parts.path)) == ("otpauth", "totp", f"/Community Feedback:{EMAIL}")
    assert parse_qs(parts.query)["secret"] == [secret] and parse_qs(parts.query)["issuer"] == ["Community Feedback"]
    # The QR code is an inline <svg> (the CSP allows no data: image); nothing of the URI is text in it.
    svg = re.search(r"<svg [^>]*class=\"qr\".*?</svg>", html, re.S).group(0)
    assert "<path" in svg and "otpauth" not in svg and secret not in svg and "style=" not in svg
    assert "<img" not in html and "data:" not in html and "<script" not in html
    # A reload shows the same secret (the person may have scanned it already).
    assert secret_shown(client.get("/portal/login/enrol").get_data(as_text=True)) == secret
    # The browser's cookie does not show it either: it is sealed there.
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    decoded = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert secret not in repr(decoded) and "portal_enrol" in decoded


def test_a_right_code_stores_the_secret_and_completes_the_login(app, client, portal_user, newcomer, clock):
    html = enrol_page(portal_user)
    secret = secret_shown(html)
    wrong = send_code(portal_user, html, "000000")
    assert wrong.status_code == 401 and "That code is wrong" in wrong.get_data(as_text=True)
    assert secret_shown(wrong.get_data(as_text=True)) == secret and stored(app).totp_secret is None
    done = send_code(portal_user, html, pyotp.TOTP(secret).at(clock()))
    assert done.status_code == 302 and done.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    user = stored(app)
    assert totp.secret_of(user, app.extensions["intake"].vault) == secret
    assert user.totp_last_step == totp.step_at(clock()) and failures_from(app, EMAIL) == 0
    with app.extensions["intake"].sessions() as session:
        entries = session.execute(select(AuditEntry.action, AuditEntry.detail)).all()
    assert entries[-1] == ("login", "TOTP set up") and ("login_failed", "wrong TOTP set-up code") in entries
    # The next login asks for a code from that secret, and no new one is shown.
    portal_user.post_form("/portal/logout")
    assert portal_user.submit_login(EMAIL).headers["Location"] == "/portal/login/totp"
    assert client.get("/portal/login/enrol").headers["Location"] == "/portal/login/totp"
    clock.advance(seconds=30)
    assert portal_user.post_form("/portal/login/totp", {"code": pyotp.TOTP(secret).at(clock())},
                                 token_from="/portal/login/totp").status_code == 302


def test_wrong_set_up_codes_make_this_address_wait(app, client, portal_user, newcomer, clock):
    html = enrol_page(portal_user)
    for _ in range(2):
        assert send_code(portal_user, html, "123456").status_code == 401
    third = send_code(portal_user, html, "123456")
    assert third.status_code == 401 and third.headers["Retry-After"] == "2"
    held = send_code(portal_user, html, pyotp.TOTP(secret_shown(html)).at(clock()))  # even the right one
    assert held.status_code == 429 and held.headers["Retry-After"] == "2"
    assert held_text(2) in held.get_data(as_text=True)
    assert stored(app).totp_secret is None and failures_from(app, EMAIL) == 3
    clock.advance(seconds=2)
    assert send_code(portal_user, html, pyotp.TOTP(secret_shown(html)).at(clock())).status_code == 302


def test_a_second_login_setting_up_at_the_same_time_must_start_again(app, newcomer, clock):
    first, second = PortalUser(app.test_client()), PortalUser(app.test_client())
    first_page, second_page = enrol_page(first), enrol_page(second)
    assert secret_shown(first_page) != secret_shown(second_page)
    assert send_code(first, first_page, pyotp.TOTP(secret_shown(first_page)).at(clock())).status_code == 302
    late = send_code(second, second_page, pyotp.TOTP(secret_shown(second_page)).at(clock()))
    assert late.status_code == 302 and late.headers["Location"] == "/portal/login"
    assert "cannot go on" in second.client.get("/portal/login").get_data(as_text=True)
    assert totp.secret_of(stored(app), app.extensions["intake"].vault) == secret_shown(first_page)


def test_an_expired_set_up_starts_again_with_nothing_stored(app, client, portal_user, newcomer, clock):
    html = enrol_page(portal_user)
    clock.advance(minutes=10)
    late = send_code(portal_user, html, pyotp.TOTP(secret_shown(html)).at(clock()))
    assert late.status_code == 302 and late.headers["Location"] == "/portal/login"
    assert client.get("/portal/login/enrol").headers["Location"] == "/portal/login"
    assert stored(app).totp_secret is None
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(PortalSession)).first() is None


def test_an_account_reset_while_its_code_was_asked_for_sets_up_again(app, client, world, portal_user):
    portal_user.submit_login(world.emails["care"])
    with app.extensions["intake"].sessions() as session:
        user = session.execute(select(User).where(User.email == world.emails["care"])).scalar_one()
        totp.clear(user)
        session.commit()
    assert client.get("/portal/login/totp").headers["Location"] == "/portal/login/enrol"


def test_set_up_posts_are_limited_per_address(make_app, newcomer):
    app = make_app(PORTAL_LOGIN_LIMIT="2 per minute")
    person = PortalUser(app.test_client())
    html = enrol_page(person)
    assert send_code(person, html, "111111").status_code == 401
    assert send_code(person, html, "222222").status_code == 401
    throttled = send_code(person, html, "333333")
    assert throttled.status_code == 429 and "Too many login attempts" in throttled.get_data(as_text=True)
