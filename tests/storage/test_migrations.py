"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import make_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Base
from tests.support.postgres import private_schema


@pytest.fixture(params=["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with private_schema(os.environ["TEST_DATABASE_URL"], "migrate") as url:
        yield url


def test_upgrade_from_empty_matches_the_models(empty_database):
    upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            tables = set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    assert differences == []
    assert {table.name for table in Base.metadata.sorted_tables} <= tables


def test_downgrade_and_upgrade_again(empty_database):
    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    upgrade(empty_database)
    upgrade(empty_database)  # idempotent
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            assert "conversations" in inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        engine.dispose()


def test_outbox_ids_are_never_reused_and_attempts_survive_the_upgrade(tmp_path):
    """0007 rebuilds SQLite's outbox with AUTOINCREMENT (an e-mail's Message-ID comes from its
    id): rows and their delivery attempts come through, and a purged id is not handed out again."""
    url = f"sqlite:///{tmp_path / 'outbox.sqlite3'}"
    upgrade(url, "0006")
    engine = make_engine(url)
    row = ("'k', 'email', 'notification', 'sent', 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00', 0")
    columns = "dedupe_key, channel, purpose, status, attempts, next_attempt_at, created_at, sensitive"
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"INSERT INTO outbox (id, {columns}) VALUES (7, {row})")
            connection.exec_driver_sql("INSERT INTO delivery_attempts (outbox_id, attempted_at, outcome, duration_ms) "
                                       "VALUES (7, '2026-11-01 00:00:00', 'sent', 12)")
        engine.dispose()
        upgrade(url)
        with engine.begin() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM delivery_attempts").scalar() == 1
            connection.exec_driver_sql("DELETE FROM outbox")  # the purge
            assert connection.exec_driver_sql("SELECT count(*) FROM delivery_attempts").scalar() == 0  # cascade kept
            connection.exec_driver_sql(f"INSERT INTO outbox ({columns}) VALUES ({row.replace('k', 'k2', 1)})")
            assert connection.exec_driver_sql("SELECT id FROM outbox").scalar() == 8
    finally:
        engine.dispose()


def test_a_new_sqlite_database_and_its_wal_are_readable_by_their_owner_only(tmp_path):
    import stat

    from sqlalchemy import text

    path = tmp_path / "private" / "intake.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(file.exists() for file in files)
        assert {stat.S_IMODE(file.stat().st_mode) for file in files} == {0o600}
    finally:
        engine.dispose()
