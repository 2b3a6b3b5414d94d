"""An SQLite database whose disk turns read-only or fills up while the service runs: /healthz says
so with a reason (it used to say "ok" while every message failed), webhooks answer 503 (Twilio
retries those) and the log names the kind of trouble, and the same app recovers by itself once the
disk is writable again.

The trouble is real, on a small ext4 file system: filled up, remounted read-only, or its files
made immutable (the way a disk turns read-only under open files: writes through descriptors
already open fail too). Root is needed for that, as CI runs; file permissions would not stop root."""

from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import Phone, twiml_messages
from tests.support import disks

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.skipif(not disks.can_mount(), reason="needs root to mount a small disk (CI runs as root)"),
]


@pytest.fixture
def disk(tmp_path):
    """A 16 MiB disk for the database."""
    with disks.small_disk(tmp_path / "db", size_mb=16) as mount_point:
        yield mount_point


@pytest.fixture
def make_disk_app(disk, database_url, make_app):
    """An app whose (migrated) SQLite file lives on `disk`; the free-space warning at 1 MiB
    unless told otherwise (the default, 64 MiB, is more than the whole disk)."""

    def factory(**overrides):
        overrides.setdefault("HEALTH_MIN_FREE_MB", 1)
        path = disk / "intake.sqlite3"
        shutil.copy(make_url(database_url).database, path)
        return make_app(DATABASE_URL=f"sqlite:///{path}", **overrides)

    return factory


def healthz(client) -> tuple[int, dict]:
    response = client.get("/healthz")
    return response.status_code, response.get_json()


def assert_unavailable(response) -> None:
    """A 503 that says to retry, never a 500."""
    assert response.status_code == 503, response.data
    assert response.headers["Retry-After"]
    assert "database" in response.get_json()["error"]


IMMUTABLE = "database is read-only: its file cannot be written (permissions, or made immutable)"


def logged(caplog) -> list[str]:
    """What the error policy logged about an unavailable database, per request."""
    return [record.getMessage() for record in caplog.records if record.name == "bot.http"]


def assert_recovered(client, phone: Phone) -> None:
    status, body = healthz(client)
    assert (status, body["status"], body["database"]) == (200, "ok", "ok")
    response = phone.send("hello")
    assert response.status_code == 200, response.data
    assert twiml_messages(response)  # answered, so the conversation was written


def test_files_turning_read_only_under_open_connections(make_disk_app, disk, caplog):
    app = make_disk_app()
    client = app.test_client()
    phone = Phone(client)
    assert phone.say("hello")
    assert healthz(client)[0] == 200
    database = disk / "intake.sqlite3"
    # Not the -shm file: SQLite maps it into memory, and a write into an immutable mapping is
    # a SIGBUS that would kill the test run.
    frozen = [disk, database, disk / "intake.sqlite3-wal"]
    disks.set_immutable(frozen, True)
    try:
        assert_unavailable(phone.send("hello"))
        status, body = healthz(client)
        assert (status, body) == (503, {"status": "error", "database": IMMUTABLE})
        assert_unavailable(phone.send("hello"))
    finally:
        disks.set_immutable(frozen, False)
    assert logged(caplog) == [f"database unavailable on '/webhooks/twilio': {IMMUTABLE}"] * 2
    # A connection opened while the files were read-only stays read-only for ever: recovering
    # means those were thrown away.
    assert_recovered(client, phone)


def test_a_file_system_mounted_read_only(make_disk_app, disk, caplog):
    app = make_disk_app()
    client = app.test_client()
    phone = Phone(client)
    disks.remount(disk, read_only=True)  # before the first connection: the kernel allows it only then
    try:
        status, body = healthz(client)
        assert status == 503
        assert body == {"status": "error",
                        "database": "database is read-only: its file system is mounted read-only"}
        assert_unavailable(phone.send("hello"))
    finally:
        disks.remount(disk, read_only=False)
    assert logged(caplog) == [("database unavailable on '/webhooks/twilio': "
                               "database is read-only: its file system is mounted read-only")]
    assert_recovered(client, phone)


@pytest.mark.parametrize("min_free_mb, reason", [
    (1, "disk almost full: 0 MiB free"),  # the free-space check
    (0, "database disk is full"),  # no threshold: the write probe finds out
])
def test_a_full_disk(make_disk_app, disk, min_free_mb, reason, caplog):
    app = make_disk_app(HEALTH_MIN_FREE_MB=min_free_mb)
    client = app.test_client()
    phone = Phone(client)
    assert phone.say("hello")
    assert healthz(client)[0] == 200
    try:
        # Filled again before each step: a failed write may make SQLite close its log, freeing
        # a little room that something else on a full disk would take at once.
        disks.fill(disk)
        assert_unavailable(phone.send("hello"))
        disks.fill(disk)
        status, body = healthz(client)
        assert (status, body) == (503, {"status": "error", "database": reason})
    finally:
        disks.free_up(disk)
    assert logged(caplog) == ["database unavailable on '/webhooks/twilio': database disk is full"]
    assert_recovered(client, phone)


def test_healthz_warns_before_the_disk_is_full(make_disk_app, disk):
    """Below HEALTH_MIN_FREE_MB, /healthz says so while messages still get through."""
    app = make_disk_app(HEALTH_MIN_FREE_MB=8)
    client = app.test_client()
    phone = Phone(client)
    assert healthz(client)[0] == 200
    disks.fill(disk, leave_mb=3)
    try:
        status, body = healthz(client)
        assert status == 503
        assert re.fullmatch(r"disk almost full: [1-3] MiB free", body["database"]), body
        assert phone.say("hello")
    finally:
        disks.free_up(disk)
    assert healthz(client)[0] == 200


def test_a_read_only_database_file(make_disk_app, disk, caplog):
    """Only the database file read-only (its directory writable), from before the first
    connection: as a file restored from a backup without write permission, or set immutable."""
    app = make_disk_app()
    client = app.test_client()
    phone = Phone(client)
    database = disk / "intake.sqlite3"
    files = [path for path in (database, disk / "intake.sqlite3-wal") if path.exists()]
    disks.set_immutable(files, True)
    try:
        status, body = healthz(client)
        assert (status, body) == (503, {"status": "error", "database": IMMUTABLE})
        assert_unavailable(phone.send("hello"))
    finally:
        disks.set_immutable(files, False)
    assert logged(caplog) == [f"database unavailable on '/webhooks/twilio': {IMMUTABLE}"]
    assert_recovered(client, phone)
