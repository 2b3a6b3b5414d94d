"""Backups and the data key's rotation, through the operator's commands, on real databases (SQLite,
and PostgreSQL with pg_dump/pg_restore when TEST_DATABASE_URL is set): a report filed over SMS is
backed up while the service writes, restored into a new database and read with the
organisation's key; the audit chain holds after; a backup opens only with a backup identity; a
rotation leaves nothing the old key opens, and a conversation goes on across it."""

from __future__ import annotations

import secrets
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from app import create_app
from storage import backups, key_rotation, logins, reports, totp
from storage.audit_log import audit
from storage.backup_crypto import MAGIC, BackupCryptoError, Identity, new_identity
from storage.crypto import Vault, load_or_create_data_key
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base, Conversation, Referral, User
from tests.conftest import PUBLIC_BASE_URL, TEST_DATABASE_URL, TWILIO_TOKEN, Phone
from tests.support.directory import key_holder, with_directory
from tests.support.play import Player, Sms, play_report
from tests.support.registrations import register

KINDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
SECRET = "test-secret-key-" + "y" * 32
ACCOUNT = "The storekeeper Kx4-backup-words kept my card"
PASSWORD = "a long password!"


def _database_url(name: str) -> str:
    return make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)


def _admin(*statements: str) -> None:
    admin = make_engine(TEST_DATABASE_URL, timeout=None, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_template():
    """A PostgreSQL database migrated once, copied for each test that wants a migrated one."""
    name = f"backup_template_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    upgrade(_database_url(name))
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=KINDS)
def databases(request, tmp_path):
    """`make(migrated=True)`: the URL of a new database of the kind under test, dropped afterwards."""
    made = []

    def make(migrated: bool = True) -> str:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'db{len(made)}.sqlite3'}"
            made.append(None)
            if migrated:
                upgrade(url)
            return url
        name = f"backup_{secrets.token_hex(4)}"
        template = f' TEMPLATE "{request.getfixturevalue("migrated_template")}"' if migrated else ""
        _admin(f'CREATE DATABASE "{name}"{template}')
        made.append(name)
        return _database_url(name)

    make.kind = request.param
    yield make
    names = [name for name in made if name]
    if names:
        _admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names))


@pytest.fixture
def build(tmp_path, clock, databases):  # after `databases`: its apps are closed before those are dropped
    """Apps on a given database and data key file (the same SECRET_KEY unless given)."""
    built = []

    def factory(url: str, key_file: Path, **overrides):
        config = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "DATA_KEY_FILE": str(key_file),
                  "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
                  "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_FROM_NUMBER": "+15005550006",
                  "TWILIO_API_BASE_URL": "http://127.0.0.1:9", "CLOCK": clock, "TESTING": True,
                  "LANGUAGES": ["en", "my"], **overrides}
        application = create_app(config)
        application.instance_path = str(tmp_path / "instance")
        built.append(application)
        return application

    yield factory
    for application in built:
        application.extensions["intake"].close()


class Held:
    """A backup identity as its holder keeps it: `public` for BACKUP_RECIPIENTS, `path` its file."""

    def __init__(self, directory: Path):
        made = new_identity()
        self.public, self.path = made.public, directory / "backup-identity.txt"
        self.path.write_text(made.text() + "\n")
        self.path.chmod(0o600)


@pytest.fixture
def identity(tmp_path):
    return Held(tmp_path)


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def source_with_a_report(build, databases, tmp_path, identity):
    """A service with the test directory, a focal point holding DRA's key, one report filed over
    SMS and a second person half-way through theirs."""
    app = with_directory(build(databases(), tmp_path / "source" / "data.key", BACKUP_RECIPIENTS=identity.public))
    key_holder(app, app.seeded.dra, "DRA")
    play_report(Sms(Phone(app.test_client(), "+959420000001")), organisation="DRA", account=ACCOUNT)
    Player(Sms(Phone(app.test_client(), "+959420000002"))).play(until="when")
    return app


def sealed_values(app, vault: Vault) -> tuple[int, int]:
    with app.extensions["intake"].sessions() as session:
        return key_rotation.opens_with(session, vault)


# --- backup and restore -----------------------------------------------------------------------

def test_a_backup_brought_back_into_a_new_database_opens_the_report_with_the_organisations_key(
        build, databases, tmp_path, identity):
    source = source_with_a_report(build, databases, tmp_path, identity)
    output = tmp_path / "backups" / "intake.backup"
    result = run(source, "backup", "--output", str(output))
    assert result.exit_code == 0, result.output
    assert "1 reports" in result.output and "sealed to 1 backup key(s)" in result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    blob = output.read_bytes()
    assert blob.startswith(MAGIC)
    assert ACCOUNT.encode() not in blob and b"SQLite format" not in blob and b"PGDMP" not in blob
    assert SECRET.encode() not in blob and b"fp.yangon" not in blob

    # A new server: an empty database (never migrated) and a data key file of its own.
    target_url = databases(migrated=False)
    target = build(target_url, tmp_path / "target" / "data.key")
    result = run(target, "restore", "--input", str(output), "--identity", str(identity.path))
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.output and "1 reports" in result.output

    restarted = build(target_url, tmp_path / "target" / "data.key")
    runtime = restarted.extensions["intake"]
    with runtime.sessions() as session:
        key = logins.open_organisation_key(logins.read_credentials(session, "focal_point@dra.example.org"), PASSWORD)
        content = reports.read_referral(session, session.execute(select(Referral)).scalar_one(), key)
    assert ACCOUNT in str(content)
    verified = run(restarted, "audit", "verify")
    assert verified.exit_code == 0 and "audit log intact" in verified.output, verified.output
    opened, failed = sealed_values(restarted, runtime.vault)
    assert opened > 0 and failed == 0  # drafts, the outbox and the rest open with the restored data key


def test_a_backup_is_taken_while_the_service_writes_and_is_one_moment_of_it(build, databases, tmp_path, identity):
    source = with_directory(build(databases(), tmp_path / "source.key", BACKUP_RECIPIENTS=identity.public))
    runtime = source.extensions["intake"]
    stop, written = threading.Event(), []

    def write():
        while not stop.is_set():
            with runtime.transaction() as session:
                audit(session, now=runtime.clock(), action="test_write", detail=str(len(written)))
            written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        result = run(source, "backup", "--output", str(tmp_path / "live.backup"))
        during = len(written)
        while len(written) < during + 20:  # the service went on writing
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output

    target = build(databases(migrated=False), tmp_path / "target.key")
    restored = run(target, "restore", "--input", str(tmp_path / "live.backup"), "--identity", str(identity.path))
    # The restore compares every table's rows with the backup's manifest and verifies the chain.
    assert restored.exit_code == 0, restored.output
    with target.extensions["intake"].sessions() as session:
        entries = session.execute(text("SELECT count(*) FROM audit_log WHERE action = 'test_write'")).scalar()
    assert 20 <= entries < len(written) + 1


def test_a_backup_opens_only_with_a_backup_identity_it_was_sealed_to(build, databases, tmp_path, identity):
    second = new_identity()
    source = with_directory(build(databases(), tmp_path / "source.key",
                                  BACKUP_RECIPIENTS=f"{identity.public}, {second.public}"))
    output = tmp_path / "two.backup"
    assert run(source, "backup", "--output", str(output)).exit_code == 0
    stranger = new_identity()
    stranger_path = tmp_path / "stranger.txt"
    stranger_path.write_text(stranger.text())
    target_url = databases(migrated=False)
    target = build(target_url, tmp_path / "target.key")
    refused = run(target, "restore", "--input", str(output), "--identity", str(stranger_path))
    assert refused.exit_code == 1 and "not sealed to that identity" in refused.output
    # The server's own keys do not open it either: it holds only public keys.
    with pytest.raises(BackupCryptoError), output.open("rb") as handle:
        backups.open_backup(handle, Identity(load_or_create_data_key(tmp_path / "source.key")))
    second_path = tmp_path / "second.txt"
    second_path.write_text(second.text())
    assert run(target, "restore", "--input", str(output), "--identity", str(second_path)).exit_code == 0


def test_a_damaged_backup_restores_nothing(build, databases, tmp_path, identity):
    source = source_with_a_report(build, databases, tmp_path, identity)
    output = tmp_path / "intake.backup"
    assert run(source, "backup", "--output", str(output)).exit_code == 0
    blob = bytearray(output.read_bytes())
    blob[-100] ^= 1
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(bytes(blob))
    cut = tmp_path / "cut.backup"
    cut.write_bytes(bytes(output.read_bytes()[:-(64 * 1024 + 16)]) if len(blob) > 70000 else bytes(blob[:-20]))
    target_url = databases()
    target = build(target_url, tmp_path / "target.key")
    for broken, words in ((damaged, "damaged"), (cut, "damaged or cut short")):
        result = run(target, "restore", "--input", str(broken), "--identity", str(identity.path))
        assert result.exit_code == 1 and words in result.output, result.output
        assert backups.is_empty(make_engine(target_url))


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(build, databases, tmp_path, identity):
    source = source_with_a_report(build, databases, tmp_path, identity)
    output = tmp_path / "intake.backup"
    assert run(source, "backup", "--output", str(output)).exit_code == 0
    busy_url = databases()
    busy = with_directory(build(busy_url, tmp_path / "busy.key"))
    refused = run(busy, "restore", "--input", str(output), "--identity", str(identity.path))
    assert refused.exit_code == 1 and "not empty" in refused.output
    with busy.extensions["intake"].sessions() as session:
        assert session.execute(select(Referral)).first() is None  # untouched
    forced = run(busy, "restore", "--input", str(output), "--identity", str(identity.path), "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "busy.key.before-restore").exists()  # the key that was there is kept
    with busy.extensions["intake"].sessions() as session:
        assert session.execute(select(Referral)).scalar_one() is not None


def test_backup_needs_a_backup_public_key(build, databases, tmp_path):
    app = build(databases(), tmp_path / "data.key")
    result = run(app, "backup", "--output", str(tmp_path / "x.backup"))
    assert result.exit_code == 1 and "BACKUP_RECIPIENTS" in result.output
    assert not (tmp_path / "x.backup").exists()


def test_backup_keygen_writes_a_private_identity_and_prints_its_public_key(build, databases, tmp_path):
    app = build(databases(), tmp_path / "data.key")
    path = tmp_path / "id.txt"
    result = run(app, "keys", "backup-keygen", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = result.output.strip().splitlines()[-1]
    assert public.startswith("intake-backup-public-") and public in path.read_text()
    assert run(app, "keys", "backup-keygen", "--output", str(path)).exit_code == 1  # never overwritten
    assert build(databases(), tmp_path / "other.key", BACKUP_RECIPIENTS=public)  # a valid setting


# --- rotating the data key --------------------------------------------------------------------

def test_rotation_seals_everything_again_and_a_conversation_goes_on(build, databases, tmp_path, identity):
    key_file = tmp_path / "rotate" / "data.key"
    url = databases()
    app = with_directory(build(url, key_file))
    key_holder(app, app.seeded.dra, "DRA")
    runtime = app.extensions["intake"]
    register(app)
    with runtime.sessions() as session:
        user = session.execute(select(User)).scalars().first()
        totp.store(user, runtime.vault, totp.new_secret())
        session.commit()
    play_report(Sms(Phone(app.test_client(), "+959420000001")), organisation="DRA", account=ACCOUNT)
    halfway = Player(Sms(Phone(app.test_client(), "+959420000002")))
    halfway.play(until="when")
    old = runtime.vault
    before, none = sealed_values(app, old)
    with runtime.sessions() as session:
        sealed_columns = {f"{model.__tablename__}.{name}" for model, name, _ in key_rotation.SEALED
                          if session.execute(select(getattr(model, name)).where(getattr(model, name).is_not(None))).first()}
    assert none == 0 and before >= 8
    assert {"conversations.state", "outbox.recipient", "outbox.payload", "users.totp_secret",
            "registrations.details", "registrations.number"} <= sealed_columns

    result = run(app, "keys", "rotate")
    assert result.exit_code == 0, result.output
    assert f"{before} values sealed again" in result.output and "none with the old" in result.output
    assert not key_file.with_name("data.key.old").exists() and not key_file.with_name("data.key.new").exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    restarted = build(url, key_file)
    new = restarted.extensions["intake"].vault
    assert sealed_values(restarted, new) == (before, 0)
    assert sealed_values(restarted, old) == (0, before)  # the old key opens nothing any more
    # The person half-way through goes on where they were, on the restarted service.
    halfway.channel.phone.client = restarted.test_client()
    halfway.play()
    assert halfway.receipt
    with restarted.extensions["intake"].sessions() as session:
        assert len(session.execute(select(Referral)).all()) == 2
        key = logins.open_organisation_key(logins.read_credentials(session, "focal_point@dra.example.org"), PASSWORD)
        first = session.execute(select(Referral).order_by(Referral.id)).scalars().first()
        assert ACCOUNT in str(reports.read_referral(session, first, key))
    assert run(restarted, "audit", "verify").exit_code == 0


def test_a_rotation_cut_short_after_its_commit_is_finished_by_running_it_again(build, databases, tmp_path):
    key_file = tmp_path / "data.key"
    url = databases()
    app = with_directory(build(url, key_file))
    Player(Sms(Phone(app.test_client(), "+959420000002"))).play(until="when")
    runtime = app.extensions["intake"]
    new_key = load_or_create_data_key(key_file.with_name("data.key.new"))
    new = Vault(new_key, SECRET)
    with runtime.transaction() as session:  # committed, then the process died before the files were swapped
        assert key_rotation.rotate(session, runtime.vault, new).total > 0
    result = run(app, "keys", "rotate")
    assert result.exit_code == 0, result.output
    assert "Finishing the rotation" in result.output and "were already" in result.output
    assert load_or_create_data_key(key_file) == new_key
    assert sealed_values(app, new)[1] == 0


def test_a_value_that_opens_with_neither_key_rolls_the_rotation_back(build, databases, tmp_path):
    key_file = tmp_path / "data.key"
    app = with_directory(build(databases(), key_file))
    Player(Sms(Phone(app.test_client(), "+959420000002"))).play(until="when")
    runtime = app.extensions["intake"]
    stranger = Vault(bytes(32), SECRET)
    with runtime.sessions() as session:
        conversation = session.execute(select(Conversation)).scalars().first()
        conversation.state = stranger.seal(b"{}", "conversations.state")
        session.commit()
    old_key = key_file.read_text()
    result = run(app, "keys", "rotate")
    assert result.exit_code == 1 and "opens with neither" in result.output
    assert key_file.read_text() == old_key
    assert sealed_values(app, runtime.vault)[0] > 0  # the rest is still under the old key: rolled back


def test_every_binary_column_is_either_sealed_with_the_data_key_or_says_what_protects_it():
    columns = {f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables for column in table.columns
               if column.type.python_type is bytes}
    sealed = {f"{model.__tablename__}.{name}" for model, name, _ in key_rotation.SEALED}
    assert sealed.isdisjoint(key_rotation.NOT_DATA_KEY)
    assert columns == sealed | set(key_rotation.NOT_DATA_KEY)


def test_secret_key_is_not_rotated_by_keys_rotate(build, databases, tmp_path):
    """SECRET_KEY keys the pseudonyms, digests, receipts' pepper and the audit chain: rotating it is
    documented, not offered (README), and `keys rotate` leaves every keyed digest as it was."""
    app = with_directory(build(databases(), tmp_path / "data.key"))
    runtime = app.extensions["intake"]
    before = runtime.vault.sender_key("sms", "+959420000002")
    assert run(app, "keys", "rotate").exit_code == 0
    again = build(runtime.settings.database_url, tmp_path / "data.key")
    assert again.extensions["intake"].vault.sender_key("sms", "+959420000002") == before
    assert run(again, "audit", "verify").exit_code == 0
