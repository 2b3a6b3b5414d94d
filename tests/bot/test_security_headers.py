"""Every route answers with the baseline security headers, not only the portal's pages: the
webhooks, health, the simulator and its files, error answers; HSTS whenever the service is
reached over HTTPS; the simulator's page runs nothing inline."""

from __future__ import annotations

import re

import pytest

from bot.http import BASELINE_HEADERS
from bot.channels.simulator import PAGE_POLICY


@pytest.fixture
def app(make_app):
    return make_app(SIMULATOR_ENABLED="1")


PATHS = [("GET", "/healthz"), ("POST", "/webhooks/twilio"), ("POST", "/webhooks/telegram"),
         ("GET", "/simulator"), ("GET", "/simulator/static/simulator.js"), ("GET", "/no/such/page"),
         ("POST", "/simulator/message"), ("GET", "/portal/login")]


@pytest.mark.parametrize("method, path", PATHS)
def test_every_route_carries_the_baseline_headers_and_hsts(app, method, path):
    response = app.test_client().open(path, method=method)
    for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert response.headers[name] == BASELINE_HEADERS[name], (path, name)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"  # the tests' base URL is https


def test_answers_that_are_not_pages_may_load_nothing(app):
    response = app.test_client().get("/healthz")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_no_hsts_over_plain_http(make_app):
    response = make_app(PUBLIC_BASE_URL="http://127.0.0.1:5000").test_client().get("/healthz")
    assert "Strict-Transport-Security" not in response.headers


def test_the_simulator_page_runs_nothing_inline(app):
    response = app.test_client().get("/simulator")
    page = response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY
    assert "<style" not in page and "style=" not in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/simulator/static/simulator.js" defer>']
    assert "</script>" in page and not re.search(r"<script[^>]*>[^<]+</script>", page)
