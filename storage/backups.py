"""Backups: a consistent snapshot of the database, with what is needed to read it, sealed to the
backup public keys (`storage.backup_crypto`); and bringing one back into an empty database.

What a backup holds (all of it encrypted): a manifest (the database kind, the schema revision, the
number of rows of each table, the audit log's head, the data key and `SECRET_KEY`) and then the
database itself:

* SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) in one step, so it copies one
  read transaction's view: with WAL the service goes on writing meanwhile, and the copy is what
  the database was at one moment. The copy goes to a private temporary file beside the database
  (the disk that already holds the data in clear), is encrypted from there and deleted.
* PostgreSQL: `pg_dump --format=custom`, piped straight into the encryption (nothing in clear on
  disk). The manifest's counts and pg_dump see the same snapshot: a REPEATABLE READ transaction
  exports it (`pg_export_snapshot()`) and pg_dump is started with `--snapshot`.

The data key and `SECRET_KEY` travel inside because without them a restored database loses what
they protect (drafts, queued messages, registrations and TOTP secrets; receipts, pseudonyms and
the audit chain): a server that died takes its `instance/` folder with it. Hence whoever holds a
backup identity can read what the server can (never a filed report: those need an organisation's
key or the receipt).

Connection details reach pg_dump and pg_restore through libpq's environment variables, never the
command line, where any local user could read a password with `ps`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from storage import audit_log
from storage.backup_crypto import BackupCryptoError, Identity, decrypt_stream, encrypt_stream
from storage.models import AuditEntry, AuditHead, Base

MANIFEST_FORMAT = "intake-backup-manifest/1"
_READ = 1024 * 1024
# Tables the migrations fill by themselves: rows in them do not make a database "not empty".
_BOOKKEEPING = {"alembic_version", AuditHead.__tablename__, "health_probe"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Written:
    manifest: dict
    size: int  # bytes of plaintext (manifest + database)


@dataclass(frozen=True)
class Restored:
    manifest: dict
    counts: dict[str, int]
    audit: audit_log.Verdict


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups know SQLite and PostgreSQL, not {backend}")
    return backend


# --- what is in the database --------------------------------------------------------------

def _revision(connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _counts(connection) -> dict[str, int]:
    present = set(inspect(connection).get_table_names())
    return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables if table.name in present}


def _audit_head(connection) -> str | None:
    if not inspect(connection).has_table(AuditHead.__tablename__):
        return None
    chain = connection.execute(select(AuditHead.chain).where(AuditHead.id == 1)).scalar()
    return chain.hex() if chain else None


def is_empty(engine: Engine) -> bool:
    """True when no table of the service holds a row (a migrated but unused database is empty)."""
    with engine.connect() as connection:
        counts = _counts(connection)
        connection.rollback()
    return not any(n for name, n in counts.items() if name not in _BOOKKEEPING)


def _manifest(connection, kind: str, data_key: bytes, secret_key: str, now: datetime, **extra) -> dict:
    return {"format": MANIFEST_FORMAT, "database": kind, "created_at": now.isoformat(),
            "revision": _revision(connection), "counts": _counts(connection),
            "audit_head": _audit_head(connection),
            "data_key": base64.b64encode(data_key).decode(), "secret_key": secret_key, **extra}


def _framed(manifest: dict, body: Iterator[bytes]) -> Iterator[bytes]:
    encoded = json.dumps(manifest, separators=(",", ":")).encode()
    yield len(encoded).to_bytes(4, "big") + encoded
    yield from body


def _file_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while piece := handle.read(_READ):
        yield piece


def private_output(path: Path) -> BinaryIO:
    """`path` opened for writing, readable by its owner only (also when it was there before)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


# --- writing a backup -----------------------------------------------------------------------

def write_backup(engine: Engine, out: BinaryIO, recipients: list[bytes], *, data_key: bytes, secret_key: str,
                 now: datetime, progress: Callable[[int], None] = lambda n: None) -> Written:
    """Snapshot the database `engine` reaches and encrypt it to `out` for `recipients`."""
    kind = kind_of(str(engine.url.render_as_string(hide_password=False)))
    snapshot = _sqlite_snapshot if kind == "sqlite" else _postgresql_snapshot
    with snapshot(engine, data_key, secret_key, now) as (manifest, body):
        size = encrypt_stream(_framed(manifest, body), out, recipients, progress)
    return Written(manifest, size)


@contextmanager
def _sqlite_snapshot(engine: Engine, data_key: bytes, secret_key: str, now: datetime):
    source_path = Path(engine.url.database)
    fd, copy_name = tempfile.mkstemp(prefix=".backup-", suffix=".sqlite3", dir=source_path.parent)
    os.close(fd)  # mkstemp makes it 0600
    copy = Path(copy_name)
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)  # one step: one read transaction, one moment's database
        finally:
            source.close()
            target.close()
        copied = _sqlite_engine(copy)
        with copied.connect() as connection:
            manifest = _manifest(connection, "sqlite", data_key, secret_key, now)
        copied.dispose()
        with copy.open("rb") as handle:
            yield manifest, _file_chunks(handle)
    finally:
        copy.unlink(missing_ok=True)


def _sqlite_engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}")


def libpq_environment(engine_or_url) -> dict[str, str]:
    """The environment that points pg_dump/pg_restore/psql at the database of a SQLAlchemy URL."""
    url = make_url(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url.url
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[name] = str(value)
    for option, name in (("options", "PGOPTIONS"), ("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        value = url.query.get(option)
        if value:
            env[name] = " ".join(value) if isinstance(value, tuple) else value
    return env


def client_version(program: str) -> tuple[int, str]:
    """(major, "15.20") of a PostgreSQL client program; BackupError when it is not installed."""
    found = shutil.which(program)
    if found is None:
        raise BackupError(f"{program} is not installed (PostgreSQL's client programs: apt-get install "
                          "postgresql-client, of the server's major version or newer)")
    # A list of arguments, no shell: nothing of it comes from outside.
    words = subprocess.run([found, "--version"], capture_output=True, text=True,  # noqa: S603
                           check=True).stdout.split()
    version = words[-1] if words[-1][:1].isdigit() else words[2]
    return int(version.split(".")[0]), version


@contextmanager
def _postgresql_snapshot(engine: Engine, data_key: bytes, secret_key: str, now: datetime):
    major, version = client_version("pg_dump")
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        server = connection.execute(text("SHOW server_version_num")).scalar_one()
        if int(server) // 10000 > major:
            raise BackupError(f"pg_dump {version} is older than the server ({int(server) // 10000}): install the "
                              "server's client programs")
        snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        manifest = _manifest(connection, "postgresql", data_key, secret_key, now, pg_dump=version)
        # A list of arguments, no shell; the snapshot id is PostgreSQL's own.
        process = subprocess.Popen([shutil.which("pg_dump"), "--format=custom", "--no-owner",  # noqa: S603
                                    "--no-privileges", f"--snapshot={snapshot_id}"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=libpq_environment(engine))
        try:
            yield manifest, _file_chunks(process.stdout)
        finally:
            process.stdout.close()
            errors = process.stderr.read().decode(errors="replace")
            status = process.wait()
            connection.rollback()
        if status != 0:
            raise BackupError(f"pg_dump failed ({status}): {errors.strip()[:500]}")


# --- reading and restoring ------------------------------------------------------------------

def open_backup(source: BinaryIO, identity: Identity) -> tuple[dict, Iterator[bytes]]:
    """(manifest, the database's bytes) of a backup file."""
    plaintext = decrypt_stream(source, identity)
    buffer = b""
    for piece in plaintext:
        buffer += piece
        if len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
            break
    if len(buffer) < 4 or len(buffer) < 4 + int.from_bytes(buffer[:4], "big"):
        raise BackupCryptoError("the backup holds no manifest")
    length = int.from_bytes(buffer[:4], "big")
    try:
        manifest = json.loads(buffer[4:4 + length])
    except ValueError:
        raise BackupCryptoError("the backup's manifest is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupCryptoError("the backup's manifest is of a format this code does not read")
    rest = buffer[4 + length:]

    def body() -> Iterator[bytes]:
        if rest:
            yield rest
        yield from plaintext

    return manifest, body()


def restore(engine: Engine, manifest: dict, body: Iterator[bytes]) -> None:
    """Load a backup's database into the (empty, or to be overwritten) database of `engine`."""
    kind = kind_of(str(engine.url.render_as_string(hide_password=False)))
    if manifest["database"] != kind:
        raise BackupError(f"this is a backup of a {manifest['database']} database; DATABASE_URL names a "
                          f"{kind} one (restore it into a database of its own kind)")
    engine.dispose()  # nothing of ours holds the file or the tables while they are replaced
    if kind == "sqlite":
        _restore_sqlite(Path(engine.url.database), body)
    else:
        _restore_postgresql(engine, manifest, body)
    engine.dispose()


def _restore_sqlite(target: Path, body: Iterator[bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".restore-", suffix=".sqlite3", dir=target.parent)
    staged = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in body:  # every piece authenticated before it is written
                handle.write(piece)
        source = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("the backup's database fails SQLite's integrity check")
            if not target.exists():
                os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)  # through SQLite: the target's WAL and locks stay right
            finally:
                destination.close()
        finally:
            source.close()
    finally:
        staged.unlink(missing_ok=True)


def _restore_postgresql(engine: Engine, manifest: dict, body: Iterator[bytes]) -> None:
    major, version = client_version("pg_restore")
    made_by = int(str(manifest.get("pg_dump", "0")).split(".")[0])
    if made_by > major:
        raise BackupError(f"the backup was made by pg_dump {manifest['pg_dump']}; pg_restore {version} cannot "
                          "read it: install the newer client programs")
    # One transaction: a restore that fails leaves the database as it was. --clean drops what an
    # empty, migrated database already has (the tables, without rows) before recreating it.
    # A list of arguments, no shell; the database name is the operator's DATABASE_URL.
    process = subprocess.Popen([shutil.which("pg_restore"), "--clean", "--if-exists", "--no-owner",  # noqa: S603
                                "--no-privileges",
                                "--single-transaction", "--exit-on-error", f"--dbname={engine.url.database}"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=libpq_environment(engine))
    try:
        for piece in body:
            process.stdin.write(piece)
        process.stdin.close()
    except BrokenPipeError:
        pass
    except BaseException:
        process.kill()
        process.wait()
        raise
    errors = process.stderr.read().decode(errors="replace")
    if process.wait() != 0:
        raise BackupError(f"pg_restore failed: {errors.strip()[:500]}")


def check_restored(engine: Engine, manifest: dict, audit_key: bytes) -> Restored:
    """Compare the restored database with the manifest (revision, every table's rows) and verify
    the audit chain with the backup's own key; BackupError on any difference."""
    with engine.connect() as connection:
        revision, counts, head = _revision(connection), _counts(connection), _audit_head(connection)
        connection.rollback()
    if revision != manifest.get("revision"):
        raise BackupError(f"restored schema revision {revision} is not the backup's {manifest.get('revision')}")
    differ = sorted(name for name, n in manifest["counts"].items() if counts.get(name) != n)
    if differ:
        raise BackupError(f"restored row counts differ from the backup's in: {', '.join(differ)}")
    sessions = sessionmaker(bind=engine)
    audit_log.configure(sessions, audit_key)
    with sessions() as session:
        verdict = audit_log.verify(session)
        entries = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        session.rollback()
    if not verdict.intact or verdict.entries != entries or (head or None) != (manifest.get("audit_head") or None):
        raise BackupError("the restored audit log does not verify (was it made with another SECRET_KEY?)")
    return Restored(manifest, counts, verdict)
