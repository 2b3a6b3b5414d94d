"""A person using the portal through the Flask test client: fills in forms, CSRF token included,
the way their browser would."""

from __future__ import annotations

import re

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


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

    def login(self, email: str, password: str = PASSWORD):
        response = self.submit_login(email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response
