"""`flask --app app chat` and `flask --app app db upgrade`, run through Flask's CLI runner on the
real, migrated database."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import inspect, text

from storage.db import make_engine
from tests.support.postgres import private_schema

EXIT_MESSAGE = "Ended. This conversation was deleted."


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_chat_holds_a_conversation_until_exit(app):
    result = run(app, "chat", input="hello\n1\nexit\n")
    assert result.exit_code == 0, result.output
    output = result.output
    language = output.index("Choose your language:\n")
    menu = output.index("Community Feedback. What would you like to do?\n1. Report a concern\n")
    ended = output.index(EXIT_MESSAGE)
    assert language < menu < ended
    assert "1. English\n2. မြန်မာ" in output[language:menu]


def test_chat_as_telegram_lays_options_out_as_buttons(app):
    result = run(app, "chat", "--channel", "telegram", input="hello\n1\nexit\n")
    assert result.exit_code == 0, result.output
    assert "[1: English]  [2: မြန်မာ]" in result.output
    assert "[1: Report a concern]  [2: Update my details]" in result.output
    assert "1. English" not in result.output and "1. Report a concern" not in result.output
    assert result.output.rstrip().endswith(EXIT_MESSAGE)


def test_chat_with_lang_starts_in_that_language(app):
    result = run(app, "chat", "--lang", "my", input="hello\n")
    assert result.exit_code == 0, result.output
    banner, first_reply = result.output.split("\n", 1)
    assert banner.startswith("Community Feedback (sms).")
    assert first_reply.startswith("Community Feedback။ ဘာလုပ်လိုပါသလဲ")
    assert "Choose your language" not in result.output
    assert "Report a concern" not in result.output


def test_chat_refuses_a_language_that_is_not_offered(app):
    result = run(app, "chat", "--lang", "xx", input="hello\n")
    assert result.exit_code == 2
    error = next(line for line in result.output.splitlines() if line.startswith("Error:"))
    assert "--lang" in error and "'xx'" in error
    offered = app.extensions["intake"].context.languages
    assert offered and all(code in error for code in offered)
    assert "Choose your language" not in result.output  # no conversation was started


def test_chat_refuses_an_unknown_channel(app):
    result = run(app, "chat", "--channel", "fax", input="hello\n")
    assert result.exit_code == 2
    assert "sms" in result.output and "telegram" in result.output


def test_chat_ends_quietly_at_end_of_input(app):
    result = run(app, "chat", input="")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Community Feedback (sms). Type a message; Ctrl-D ends."


def schema_of(database_url: str) -> tuple[list[str], list[str]]:
    """The tables and the Alembic revision of a database."""
    engine = make_engine(database_url)
    try:
        tables = sorted(inspect(engine).get_table_names())
        with engine.connect() as connection:
            revisions = sorted(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()
    return tables, revisions


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A database of the same kind as `database_url` with no tables at all."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    with private_schema(os.environ["TEST_DATABASE_URL"], "intake_empty") as url:
        yield url


def test_db_upgrade_on_a_migrated_database_changes_nothing(app, database_url):
    before = schema_of(database_url)
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "database is up to date"
    assert schema_of(database_url) == before


def test_db_upgrade_creates_the_schema_then_is_idempotent(make_app, empty_database_url):
    app = make_app(DATABASE_URL=empty_database_url)
    first = run(app, "db", "upgrade")
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "database is up to date"
    tables, revisions = schema_of(empty_database_url)
    assert {"alembic_version", "conversations", "outbox"} <= set(tables) and len(revisions) == 1

    second = run(app, "db", "upgrade")
    assert second.exit_code == 0, second.output
    assert second.output.strip() == "database is up to date"
    assert schema_of(empty_database_url) == (tables, revisions)

    # The migrated database holds a conversation.
    chat = run(app, "chat", input="hello\n")
    assert chat.exit_code == 0, chat.output
    assert "Choose your language:" in chat.output
