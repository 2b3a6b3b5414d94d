"""People at a server in another process, over real HTTP: a phone posting signed Twilio webhooks
and a browser at the portal's login form."""

from __future__ import annotations

from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from tests.conftest import TWILIO_TOKEN, Phone
from tests.support.portal import csrf_token

# Generous (Twilio gives up after 15 s): a hung server fails a test instead of stalling it.
REQUEST_TIMEOUT = 30


class HttpPhone(Phone):
    """A phone whose signed webhooks go to `base_url`, which must be the server's
    PUBLIC_BASE_URL (the signature covers it)."""

    def __init__(self, base_url: str, number: str, token: str = TWILIO_TOKEN):
        super().__init__(client=None, number=number, token=token)
        self.url = f"{base_url}/webhooks/twilio"

    def post(self, params: dict, signature: str | None = None):
        signature = RequestValidator(self.token).compute_signature(self.url, params)
        return requests.post(self.url, data=urlencode(params), timeout=REQUEST_TIMEOUT,
                             headers={"X-Twilio-Signature": signature,
                                      "Content-Type": "application/x-www-form-urlencoded"})


def portal_login(base_url: str, email: str, password: str):
    """A browser at the login form (cookie and CSRF token in hand): returns a function that
    submits it and returns the response."""
    browser = requests.Session()
    token = csrf_token(browser.get(f"{base_url}/portal/login", timeout=REQUEST_TIMEOUT).text)
    return lambda: browser.post(f"{base_url}/portal/login", timeout=REQUEST_TIMEOUT, allow_redirects=False,
                                data={"csrf_token": token, "email": email, "password": password})
