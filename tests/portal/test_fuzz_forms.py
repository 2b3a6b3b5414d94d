"""Hostile input at every portal form, property-based (hypothesis), logged in and not.

The forms are found from the app's url_map: every POST route must have an entry in FORMS (its
fields, the values worth trying, who posts it, which page it is on), and a test fails for a POST
route that has none, so a new form cannot be left out. Each example posts the form the way a
browser would, with the CSRF token read from the form's own page, or without it, or with a
forged one; from the portal or (Sec-Fetch-Site) from another site; as the account the form is for
or logged out. Every answer is a page, a redirect or a clear 4xx page, never a 5xx, and after
each example the database holds nothing half-written (tests/support/fuzz.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from storage import accounts
from storage.models import Organisation, OutboxMessage, User
from storage.reports import CATEGORIES, STATUSES
from tests.support import fuzz
from tests.support.fuzz import assert_clear_answer, assert_consistent, form_fields, hostile_text
from tests.support.portal import PASSWORD, PortalUser, csrf_token

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# POST routes that are no portal form (signed webhooks and the JSON simulator, fuzzed in
# tests/bot/test_fuzz_webhooks.py; the API takes only GETs, see test_fuzz_api.py).
NOT_FORMS = {"twilio.webhook": "tests/bot/test_fuzz_webhooks.py", "telegram.webhook": "tests/bot/test_fuzz_webhooks.py",
             "simulator.message": "tests/bot/test_fuzz_webhooks.py", "simulator.reset": "tests/bot/test_fuzz_webhooks.py"}
NUMBERS = ["0", "1", "2", "3", "999999999999", "9999999999999999999999", "-1", "1.5", "²", "①", "٣", "１２", " 1"]


@dataclass(frozen=True)
class Form:
    """How a form is posted: `who` ("anyone", "password" (a login waiting for its code),
    "enrolling" (one setting TOTP up), or a world account name); its fields and the values
    worth trying; the page that shows it (where the CSRF token is read)."""

    who: str
    fields: tuple[str, ...] = ()
    choices: dict = field(default_factory=dict)
    page: str = "/portal/"


CASE = "/portal/referrals/{case_ref}"
FORMS = {
    "portal.login": Form("anyone", ("email", "password", "next"),
                         {"email": ["save@example.org", "SAVE@EXAMPLE.ORG", "nobody@example.org", "not an address"],
                          "next": ["/portal/", "//evil.example", "https://evil.example/", "/portal/../x", "javascript:x"]},
                         page="/portal/login"),
    "portal.totp": Form("password", ("code",), {"code": ["000000", "123456", "12345", "1234567", "00000a"]},
                        page="/portal/login/totp"),
    "portal.enrol": Form("enrolling", ("code",), {"code": ["000000", "123456", "1 2 3 4 5 6"]},
                         page="/portal/login/enrol"),
    "portal.logout": Form("save"),
    "portal.choose_language": Form("save", ("language",), {"language": ["en", "my", "kac", "fr", "EN", "my_MM"]},
                                   page="/portal/account"),
    "portal.change_password": Form("save", ("current_password", "new_password", "new_password_again"),
                                   {"current_password": ["wrong password", ""],
                                    "new_password": ["a much longer new passphrase", "short"]}, page="/portal/account"),
    "portal.grant_access": Form("save", ("user_id",), {"user_id": NUMBERS + ["{save_new}", "{care}"]},
                                page="/portal/access"),
    "portal.admin_create_account": Form("admin", ("email", "role", "organisation"),
                                        {"email": ["new@example.org", "save@example.org", "x@"],
                                         "role": ["focal_point", "caseworker", "coordinator", "admin", "root"],
                                         "organisation": NUMBERS + ["{SAVE}", "SAVE"]}, page="/portal/admin/"),
    "portal.admin_set_active": Form("admin", ("active",), {"active": ["0", "1", "yes", "no", "true", ""]},
                                    page="/portal/admin/"),
    "portal.admin_reset_account": Form("admin", page="/portal/admin/"),
    "portal.admin_outbox_retry": Form("admin", ("id",), {"id": NUMBERS + ["{outbox}"]}, page="/portal/admin/outbox"),
    "portal.acknowledge_referral": Form("save", page=CASE),
    "portal.set_status": Form("save", ("status",), {"status": list(STATUSES) + ["referred", "closed", ""]}, page=CASE),
    "portal.set_category": Form("save", ("category",), {"category": list(CATEGORIES) + ["abuse", ""]}, page=CASE),
    "portal.assign": Form("save", ("assignee",), {"assignee": NUMBERS + ["{save}", "{care}", "nobody"]}, page=CASE),
    "portal.add_note": Form("save", ("note",), {"note": ["a note", "x" * 20_000]}, page=CASE),
    "portal.refer_on": Form("save", ("organisation", "keep_access"),
                            {"organisation": NUMBERS + ["{CARE}", "{SAVE}", "{PSEAN}"], "keep_access": ["yes", "no"]},
                            page=CASE),
    "portal.write_to_reporter": Form("save", ("message", "send_out"),
                                     {"message": ["Please call us.", "x" * 5000], "send_out": ["yes", "no"]}, page=CASE),
    "portal.decide_changes": Form("caseworker", ("decision", "change_id", "reason", "township", "kind", "page"),
                                  {"decision": ["approve", "reject", "maybe"], "change_id": NUMBERS,
                                   "township": ["MMR013017", "MMR999", "x"], "kind": ["phone", "township", "needs"],
                                   "page": NUMBERS},
                                  page="/portal/changes"),
}
PATH_VALUES = {"case_ref": ["{own}", "{other}"],
               "user_id": ["{save}", "{save_new}", "{admin}", "{care}", "0", "999999999999", "2147483648"]}


def post_routes(app) -> dict[str, str]:
    return {rule.endpoint: rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}


def test_every_post_route_has_a_strategy(app):
    """A new form (or any POST route) without an entry in FORMS fails here: add its fields."""
    routes = post_routes(app)
    missing = sorted(set(routes) - set(FORMS) - set(NOT_FORMS))
    assert not missing, f"POST routes without a fuzzing strategy: {missing}"
    assert not set(FORMS) - set(routes), f"FORMS names routes that are gone: {sorted(set(FORMS) - set(routes))}"


# --- the people and the names the values refer to ------------------------------------------------

class Names:
    """Values of "{name}" placeholders: account and organisation ids, case references."""

    def __init__(self, app, world):
        runtime = app.extensions["intake"]
        with runtime.sessions() as db:
            self.ids = {name: str(db.execute(select(User.id).where(User.email == email)).scalar_one())
                        for name, email in world.emails.items()}
            self.ids.update({organisation.acronym: str(organisation.id)
                             for organisation in db.execute(select(Organisation)).scalars()})
            outbox = db.execute(select(OutboxMessage.id).limit(1)).scalar_one_or_none()
        self.ids["outbox"] = str(outbox or 1)
        self.ids["own"] = world.case_refs["SAVE"][0]
        self.ids["other"] = world.case_refs["CARE"][0]

    def fill(self, value: str) -> str:
        if value.startswith("{") and value.endswith("}") and value[1:-1] in self.ids:
            return self.ids[value[1:-1]]
        return value


def enrolling_account(app, clock) -> str:
    """An account with no authenticator yet (its login goes to setting TOTP up)."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as db:
        user = accounts.create_user(db, email="fresh@example.org", role="caseworker", password=PASSWORD, now=clock())
        db.commit()
        return user.email


class Visitor:
    """One browser per kind of visitor, logged in again whenever an example logged it out."""

    def __init__(self, app, world, clock):
        self.app, self.world, self.clock = app, world, clock
        self.clients: dict[str, PortalUser] = {}

    def get(self, who: str) -> PortalUser:
        user = self.clients.get(who)
        if user is None or not self._still(who, user):
            user = self.clients[who] = self._new(who)
        return user

    def _new(self, who: str) -> PortalUser:
        user = PortalUser(self.app.test_client())
        if who == "anyone":
            return user
        if who == "enrolling" and "fresh" not in self.world.emails:
            self.world.emails["fresh"] = enrolling_account(self.app, self.clock)
        email = self.world.emails["save" if who == "password" else "fresh" if who == "enrolling" else who]
        # A fresh TOTP step each time; after the examples' wrong codes the account may be held
        # back for a while (the login delay): wait longer, as its owner would.
        for wait in (timedelta(seconds=31), timedelta(minutes=20), timedelta(hours=2), timedelta(days=2)):
            self.clock.advance(seconds=wait.total_seconds())
            if who in ("password", "enrolling"):
                response = user.submit_login(email)
                if response.headers.get("Location") == f"/portal/login/{'totp' if who == 'password' else 'enrol'}":
                    return user
            else:
                response = user.submit_login(email)
                if response.status_code == 302 and response.headers["Location"] in ("/portal/login/totp",
                                                                                    "/portal/login/enrol"):
                    response = user.submit_code(email)
                    if response.status_code == 302:
                        return user
        raise AssertionError(f"{who} could not log in again: {response.status_code} "
                             f"{response.get_data(as_text=True)[:300]}")

    def _still(self, who: str, user: PortalUser) -> bool:
        if who == "anyone":
            return True
        page = {"password": "/portal/login/totp", "enrolling": "/portal/login/enrol"}.get(who, "/portal/account")
        return user.client.get(page).status_code == 200


def token_of(user: PortalUser, page: str) -> str:
    response = user.client.get(page)
    match = _TOKEN.search(response.get_data(as_text=True))
    if match:
        return match.group(1)
    return csrf_token(user.client.get("/portal/login").get_data(as_text=True))  # any form's token is the session's


# --- the property -----------------------------------------------------------------------------------

@st.composite
def attempts(draw, endpoint: str):
    form = FORMS[endpoint]
    fields = draw(form_fields(list(form.fields), choices=form.choices))
    path = {name: draw(hostile_text(20).filter(bool) if draw(st.integers(0, 4)) == 0 else st.sampled_from(values))
            for name, values in PATH_VALUES.items()}
    csrf = draw(st.sampled_from(["page", "page", "page", "page", "none", "forged"]))
    site = draw(st.sampled_from([None, None, None, "same-origin", "none", "cross-site", "same-site"]))
    anonymous = form.who != "anyone" and draw(st.integers(0, 7)) == 0
    return fields, path, csrf, site, anonymous


@pytest.fixture
def fuzz_app(make_app):
    return make_app(PORTAL_LOGIN_LIMIT="100000 per minute")


@pytest.fixture
def app(fuzz_app):  # the portal's world fixture (tests/portal/conftest.py) builds on this app
    return fuzz_app


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_portal_form_gets_a_page_or_a_clear_4xx(app, world, clock, endpoint):
    names = Names(app, world)
    visitor = Visitor(app, world, clock)
    rule = post_routes(app)[endpoint]
    form = FORMS[endpoint]

    @given(attempt=attempts(endpoint))
    @fuzz.examples(0.5)
    def property_(attempt):
        fields, path, csrf, site, anonymous = attempt
        user = visitor.get("anyone" if anonymous else form.who)
        values = {name: names.fill(value) for name, value in path.items()}
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: quote(values[m.group(1)], safe=""), rule)
        page = form.page.format(case_ref=names.ids["own"])
        data = [(name, names.fill(value)) for name, value in fields]
        if csrf == "page":
            data.append(("csrf_token", token_of(user, page)))
        elif csrf == "forged":
            data.append(("csrf_token", "IjQ1ZjE2N2E2ZDRmZDIxYTIi.Zq2V9A.forged"))
        headers = {"Sec-Fetch-Site": site} if site else {}
        response = user.client.post(url, data=MultiDict(data), headers=headers)
        assert_clear_answer(response, target=f"portal {endpoint}")
        # 308: Werkzeug's redirect of a path that routes only with a slash fixed (a hostile path part)
        assert response.status_code in (200, 302, 303, 308) or 400 <= response.status_code < 500
        if csrf != "page" and response.status_code < 400 and response.status_code != 308:
            pytest.fail(f"{endpoint} accepted a post without its CSRF token: {response.status_code}")
        if site in ("cross-site", "same-site") and response.status_code not in (308, 404):  # 404: no such route
            # refused: by the CSRF check, else by where it came from
            assert response.status_code == (403 if csrf == "page" else 400)
        assert_consistent(app)

    property_()


def test_a_portal_form_over_the_size_limit_is_a_413_page_that_says_why(app):
    user = PortalUser(app.test_client())
    response = user.client.post("/portal/login", data={"csrf_token": user.token(), "email": "x",
                                                       "password": "x" * (1024 * 1024)})
    assert_clear_answer(response, target="portal portal.login")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "1 MB" in page and "<html" in page.lower()


def test_digits_that_are_not_ascii_are_refused_not_a_500(app, world, clock):
    """Found by the fuzzer: "²" and "①" pass str.isdigit() but not int(), so choosing an assignee,
    a referral's next organisation or a list page with them raised ValueError (a 500)."""
    names = Names(app, world)
    visitor = Visitor(app, world, clock)
    save, caseworker, admin = visitor.get("save"), visitor.get("caseworker"), visitor.get("admin")
    case = f"/portal/referrals/{names.ids['own']}"
    for digits in ("²", "①", "٣", "１２", "999999999999", "2147483648"):
        for user, path, data in ((save, f"{case}/assign", {"assignee": digits}),
                                 (save, f"{case}/refer", {"organisation": digits}),
                                 (caseworker, "/portal/changes/decide", {"decision": "approve", "change_id": "1",
                                                                         "page": digits})):
            response = user.client.post(path, data={**data, "csrf_token": token_of(user, case if user is save
                                                                                     else "/portal/changes")})
            assert_clear_answer(response, target=f"portal {path.rsplit('/', 1)[-1]}")
        for user, path in ((save, "/portal/"), (admin, "/portal/admin/audit"), (caseworker, "/portal/changes")):
            response = user.client.get(f"{path}?page={quote(digits)}")
            assert_clear_answer(response, target="portal list pages")
            assert response.status_code == 200
    assert_consistent(app)
