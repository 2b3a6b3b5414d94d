"""A bug or an unavailable database on a portal page is a page a person can read (with the
portal's security headers), logged without content: never the webhooks' JSON."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from portal import views


@pytest.fixture
def logged_in(world, portal_user):
    portal_user.login(world.emails["save"])
    return portal_user


def test_a_bug_on_a_portal_page_is_an_html_page_with_a_500(client, logged_in, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("ACCOUNT TEXT Qv7")

    monkeypatch.setattr(views.referral_list, "count", broken)
    caplog.set_level(logging.INFO)
    response = client.get("/portal/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert "Something went wrong" in page and "Nothing you sent is lost" in page
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "RuntimeError" in caplog.text and "Qv7" not in caplog.text


def test_an_unavailable_database_on_a_portal_page_is_an_html_503(client, logged_in, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("SELECT secret", {}, Exception("database is locked"))

    monkeypatch.setattr(views.referral_list, "count", unavailable)
    response = client.get("/portal/")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert "Try again in a minute" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"


def test_the_webhooks_keep_their_json_answers(client):
    response = client.get("/webhooks/twilio")
    assert response.status_code == 405 and "error" in response.get_json()
