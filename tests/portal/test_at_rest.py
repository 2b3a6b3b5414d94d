"""The at-rest property of issue 3, proved: a copy of the database taken while the server runs and
a focal point is logged in (and has just read a report) does not read that report, even together
with the server's DATA_KEY_FILE and SECRET_KEY. Only the cookie key K, which exists nowhere but in
the focal point's browser, opens the key the session keeps; with it the same copy does read the
report, which shows the copy was complete and the test could have failed."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage import binding, logins, portal_sessions, sealing
from storage.conversations import REPLY_PURPOSE, STATE_PURPOSE
from storage.crypto import DecryptionError, Vault, load_or_create_data_key
from storage.models import Base, PortalSession
from storage.outbox import PAYLOAD_PURPOSE, RECIPIENT_PURPOSE
from tests.conftest import Phone
from tests.portal.conftest import give_totp
from tests.support.thief import open_row

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class DatabaseCopy:
    """Every byte and every row a thief would have."""

    raw: bytes
    rows: dict[str, list[dict]]

    def values(self):
        for table_rows in self.rows.values():
            for row in table_rows:
                yield from row.values()


def _as_bytes(value) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return b"" if value is None else str(value).encode()


def copy_running_database(app, into: Path) -> DatabaseCopy:
    """SQLite: the database file and its WAL, copied as they are (connections open, nothing
    checkpointed), then read. PostgreSQL: every row of every table, read while the app runs."""
    runtime = app.extensions["intake"]
    url = make_url(runtime.settings.database_url)
    tables = [table.name for table in Base.metadata.sorted_tables]
    if url.get_backend_name() == "sqlite":
        live = Path(url.database)
        assert Path(f"{live}-wal").exists(), "the live database should be in WAL mode with a WAL file"
        into.mkdir()
        copied = into / live.name
        for suffix in ("", "-wal"):
            shutil.copyfile(f"{live}{suffix}", f"{copied}{suffix}")
        raw = copied.read_bytes() + Path(f"{copied}-wal").read_bytes()
        connection = sqlite3.connect(copied)
        try:
            rows = {}
            for table in tables:
                cursor = connection.execute(f'SELECT * FROM "{table}"')
                names = [column[0] for column in cursor.description]
                rows[table] = [dict(zip(names, row)) for row in cursor]
        finally:
            connection.close()
        return DatabaseCopy(raw, rows)
    with runtime.db.connect() as connection:
        rows = {table: [dict(row._mapping) for row in connection.execute(text(f'SELECT * FROM "{table}"'))]
                for table in tables}
    copy = DatabaseCopy(b"", rows)
    copy.raw = b"\n".join(_as_bytes(value) for value in copy.values())
    return copy


def server_purposes() -> set[str]:
    """Every Vault purpose in the source (a thief reads the code too)."""
    found = set()
    for path in ROOT.glob("*/**/*.py"):
        if not path.relative_to(ROOT).parts[0].startswith((".", "tests")):
            found |= set(re.findall(r'PURPOSE\s*=\s*"([^"]+)"', path.read_text(encoding="utf-8")))
    assert {STATE_PURPOSE, REPLY_PURPOSE, RECIPIENT_PURPOSE, PAYLOAD_PURPOSE, logins.TOTP_PURPOSE} <= found
    return found


def everything_the_server_keys_open(copy: DatabaseCopy, vault: Vault) -> list[bytes]:
    purposes = server_purposes()
    opened = []
    for table, rows in copy.rows.items():  # bound to their rows, as the code binds them
        for row in rows:
            opened.extend(open_row(vault, table, row))
    for value in copy.values():  # and to their column alone
        if isinstance(value, (bytes, bytearray, memoryview)):
            for purpose in purposes:
                try:
                    opened.append(vault.open(bytes(value), purpose))
                except DecryptionError:
                    pass
    return opened


def key_candidates(blobs):
    """Every 32 bytes in a row, in a row's base64 fields, or in what the server keys opened: where
    an organisation key would be if anything kept it in the clear or under a server key."""
    for blob in blobs:
        pieces = [blob] + [base64.b64decode(match) for match in re.findall(rb"[A-Za-z0-9+/]{43,}={0,2}", blob)
                           if len(match) % 4 == 0]
        for piece in pieces:
            for start in range(len(piece) - 31):
                yield piece[start:start + 32]


def opens(candidate: bytes, sealed_key: bytes, bind: bytes) -> bool:
    try:
        sealing.open_sealed(candidate, sealed_key, bind)
    except sealing.SealError:
        return False
    return True


def test_a_live_copy_with_the_server_keys_reads_no_report_but_the_cookie_key_does(
        app, client, world, portal_user, tmp_path):
    runtime = app.extensions["intake"]
    case_ref = world.case_refs["SAVE"][1]
    account = world.accounts[case_ref]
    # Things the data key does open, so the thief's key is shown to work on this copy: a
    # conversation with the bot, and a coordinator's TOTP secret.
    Phone(client, "+959450002222").say("hello")
    coordinator_secret = give_totp(app, world.emails["coord"])

    # A focal point logs in and reads the report: the server had it in clear a moment ago.
    portal_user.login(world.emails["save"])
    assert html.escape(account, quote=False) in client.get(f"/portal/referrals/{case_ref}").get_data(as_text=True)

    copy = copy_running_database(app, tmp_path / "stolen")

    # 1. The words are nowhere in the bytes (which do hold the clear metadata: the search works).
    assert case_ref.encode() in copy.raw and b"open_referral" in copy.raw
    for form in (account.encode(), account.encode("utf-16-le"), b"distribution officer", b"+95 9 4500 1234"):
        assert form not in copy.raw, form

    # 2. The server's own keys (read from DATA_KEY_FILE and SECRET_KEY, as a thief of the server
    #    would) open what they seal, and none of it is a report.
    thief_vault = Vault(load_or_create_data_key(runtime.settings.data_key_file), runtime.settings.secret_key)
    opened = everything_the_server_keys_open(copy, thief_vault)
    assert coordinator_secret.encode() in opened and len(opened) >= 3
    for plaintext in opened:
        assert b"Qx8" not in plaintext and b"distribution officer" not in plaintext

    # 3. No 32 bytes anywhere in the copy, or in what the server keys opened, is the key that
    #    opens the report; and the logged-in session's kept key opens with nothing the thief holds.
    (referral,) = [row for row in copy.rows["referrals"] if row["case_ref"] == case_ref]
    sealed_key = bytes(referral["sealed_key"])
    key_bind = binding.sealed_label("referrals", "sealed_key", binding.referral_row(SimpleNamespace(**referral)))
    blobs = [bytes(v) for v in copy.values() if isinstance(v, (bytes, bytearray, memoryview))] + opened
    tried = 0
    for candidate in key_candidates(blobs):
        assert not opens(candidate, sealed_key, key_bind)
        tried += 1
    assert tried > 1000
    (session_row,) = copy.rows["portal_sessions"]
    stolen = PortalSession(id=session_row["id"], unlocked_key=bytes(session_row["unlocked_key"]))
    candidates = [load_or_create_data_key(runtime.settings.data_key_file),
                  hashlib.sha256(runtime.settings.secret_key.encode()).digest(),
                  thief_vault.receipt_pepper,
                  bytes.fromhex(stolen.id)]  # the only token-derived value the database holds
    for candidate in candidates:
        with pytest.raises(sealing.SealError):
            portal_sessions.unlocked_key(stolen, candidate)

    # 4. With K from the browser's cookie, the very same copy reads the report.
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    held = app.session_interface.get_signing_serializer(app).loads(cookie)["portal"]
    assert held["key"].encode() not in copy.raw and held["token"].encode() not in copy.raw
    organisation_key = portal_sessions.unlocked_key(stolen, portal_sessions.decode_cookie_key(held["key"]))
    (report,) = [row for row in copy.rows["reports"] if row["id"] == referral["report_id"]]
    assert opens(organisation_key, sealed_key, key_bind)
    report_key = sealing.open_sealed(organisation_key, sealed_key, key_bind)
    content_bind = binding.sealed_label("reports", "content", binding.report_row(SimpleNamespace(**report)))
    assert sealing.decrypt_content(report_key, bytes(report["content"]), content_bind)["account"] == account
