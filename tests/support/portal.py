"""A person using the portal through the Flask test client: fills in forms, CSRF token included,
the way their browser would, and types the codes their authenticator app shows."""

from __future__ import annotations

import re

import pyotp

from storage import accounts, totp

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')


def totp_code(app, email: str, secret: str | None = None) -> str:
    """The code an authenticator app with the account's secret (or `secret`, one being set up)
    shows at the app's clock, for the earliest time-step the account has not used yet: codes are
    single-use, and a test's clock may stand still between logins (up to three logins per
    step: one either side is accepted)."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        user = accounts.find_user(session, email)
        secret = secret or totp.secret_of(user, runtime.vault)
        last = user.totp_last_step
    now = totp.step_at(runtime.clock())
    steps = [step for step in range(now - totp.DRIFT_STEPS, now + totp.DRIFT_STEPS + 1) if last is None or step > last]
    assert steps, f"every code of now was used already by {email}: advance the clock ({totp.INTERVAL} s)"
    return pyotp.TOTP(secret, interval=totp.INTERVAL).generate_otp(steps[0])


def secret_shown(html: str) -> str:
    """The secret an enrolment page shows to type by hand."""
    match = _SECRET.search(html)
    assert match, "the page shows no TOTP secret"
    return match.group(1).replace(" ", "")


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


class PortalUser:
    """A person using the portal through the Flask test client."""

    def __init__(self, client):
        self.client = client

    def token(self, path: str = "/portal/login") -> str:
        """The CSRF token from a form on `path` (as a browser would have it)."""
        return csrf_token(self.client.get(path).get_data(as_text=True))

    def post_form(self, path: str, data: dict | None = None, *, token_from: str = "/portal/", **kwargs):
        return self.client.post(path, data={"csrf_token": self.token(token_from), **(data or {})}, **kwargs)

    def submit_login(self, email: str, password: str = PASSWORD, **extra):
        return self.client.post("/portal/login", data={"csrf_token": self.token(), "email": email,
                                                       "password": password, **extra})

    def submit_code(self, email: str):
        """The second step of a login whose password was accepted: the code of the account's
        authenticator, or, for an account without one yet, setting one up with the secret the page
        shows. Returns the response."""
        app = self.client.application
        page = self.client.get("/portal/login/enrol")
        if page.status_code == 200:
            code = totp_code(app, email, secret_shown(page.get_data(as_text=True)))
            return self.client.post("/portal/login/enrol", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                                 "code": code})
        return self.post_form("/portal/login/totp", {"code": totp_code(app, email)}, token_from="/portal/login/totp")

    def login(self, email: str, password: str = PASSWORD):
        """A whole login: password, then the code (or setting TOTP up). Returns the last response,
        the redirect to where the login lands."""
        response = self.submit_login(email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.headers["Location"] in ("/portal/login/totp", "/portal/login/enrol"):
            response = self.submit_code(email)
            assert response.status_code == 302, response.get_data(as_text=True)
        return response
