"""The portal on a disk that turns read-only: pages that only read still show (a focal point can
read referrals), a form that writes gets the portal's 503 page (not a 500, not the webhooks'
JSON), the log names the kind of trouble, and the same form goes through once the disk is writable,
without a restart. (tests/bot/test_disk_trouble.py has the webhooks and /healthz.)"""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy.engine import make_url

from tests.support import disks

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not disks.can_mount(), reason="needs root to mount a small disk (CI runs as root)"),
]

IMMUTABLE = "database is read-only: its file cannot be written (permissions, or made immutable)"


@pytest.fixture
def disk(tmp_path):
    with disks.small_disk(tmp_path / "db", size_mb=16) as mount_point:
        yield mount_point


@pytest.fixture
def app(disk, database_url, make_app):
    """The portal's usual app, its SQLite file on `disk`."""
    path = disk / "intake.sqlite3"
    shutil.copy(make_url(database_url).database, path)
    return make_app(DATABASE_URL=f"sqlite:///{path}", HEALTH_MIN_FREE_MB=1)


def test_a_read_only_disk_under_the_portal_is_its_503_page_then_recovers(app, client, world, portal_user,
                                                                        disk, caplog):
    portal_user.login(world.emails["save"])
    assert client.get("/portal/").status_code == 200
    frozen = [disk, disk / "intake.sqlite3", disk / "intake.sqlite3-wal"]
    disks.set_immutable(frozen, True)
    try:
        assert client.get("/portal/").status_code == 200  # reading needs no write
        response = portal_user.post_form("/portal/account/language", {"language": "my"},
                                         token_from="/portal/account")
    finally:
        disks.set_immutable(frozen, False)
    assert response.status_code == 503 and response.mimetype == "text/html", response.get_data(as_text=True)
    assert "Try again in a minute" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert [record.getMessage() for record in caplog.records if record.name == "bot.http"] == [
        f"database unavailable on '/portal/account/language': {IMMUTABLE}"]
    saved = portal_user.post_form("/portal/account/language", {"language": "my"}, token_from="/portal/account")
    assert saved.status_code == 302  # the same app, no restart
