"""Pages for a field office on a slow line: each page is its HTML and the one stylesheet (no
script, image, font or other site), and stays within a budget. The figures are in the README."""

from __future__ import annotations

import gzip
import re

import pytest

# Bytes of HTML, uncompressed: a referral with its timeline, a list page of 50, the dashboard.
BUDGET = 40_000
PAGES = ("/portal/", "/portal/referrals/{case}", "/portal/dashboard", "/portal/account", "/portal/changes")


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_light_and_load_nothing_else(client, world, portal_user, path):
    portal_user.login(world.emails["admin" if path in ("/portal/dashboard", "/portal/changes") else "save"])
    response = client.get(path.format(case=world.case_refs["SAVE"][1]))
    assert response.status_code == 200
    page = response.get_data()
    print(f"{path}: {len(page)} bytes, {len(gzip.compress(page))} gzipped")
    assert len(page) < BUDGET
    html = page.decode()
    assert "<script" not in html and "<img" not in html and "style=" not in html
    loaded = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert all(url.startswith("/") for url in loaded), loaded  # nothing from another site
    assert [url for url in loaded if url.endswith(".css")] == ["/portal/static/portal.css"]
