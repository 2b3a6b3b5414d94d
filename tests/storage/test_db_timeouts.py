"""make_engine bounds every database wait by one timeout (DATABASE_TIMEOUT_SECONDS)."""

from __future__ import annotations

import pytest

from storage.db import make_engine
from tests.conftest import DATABASES


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_the_timeout_reaches_the_database(database_url):
    engine = make_engine(database_url, timeout=3)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 3000
                return
            def show(name: str) -> str:
                return connection.exec_driver_sql(f"SHOW {name}").scalar()

            # The server cancels a little earlier than the client gives up: a clean cancel keeps
            # the connection.
            assert (show("statement_timeout"), show("lock_timeout")) == ("2400ms", "2400ms")
            assert show("idle_in_transaction_session_timeout") == "36s"
            assert show("search_path").startswith("intake_test_")  # the URL's own options are kept
    finally:
        engine.dispose()


def test_no_statement_limit_for_migrations(database_url):
    engine = make_engine(database_url, timeout=None)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            else:
                assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    finally:
        engine.dispose()
