"""Configuration: defaults that work, and bad values that fail at start-up naming the setting."""

from __future__ import annotations

import re
import stat
from dataclasses import fields
from pathlib import Path

import pytest

import config
from app import create_app


def test_defaults(tmp_path):
    values = config.load(tmp_path, environ={})
    assert values.database_url == f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    assert values.public_base_url == "http://127.0.0.1:5000"
    assert values.service_name == "Community Feedback"
    assert values.simulator_enabled is False and values.sms_reply_mode == "inline"  # make run turns it on
    assert values.conversation_timeout_minutes == 30
    secret = tmp_path / "secret_key"
    assert values.secret_key == secret.read_text().strip() and len(values.secret_key) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert config.load(tmp_path, environ={}).secret_key == values.secret_key  # stable


def test_public_base_url_follows_host_and_port(tmp_path):
    values = config.load(tmp_path, environ={"HOST": "0.0.0.0", "PORT": "8080"})
    assert values.public_base_url == "http://0.0.0.0:8080"
    assert config.load(tmp_path, environ={"PUBLIC_BASE_URL": "https://x.org/"}).public_base_url == "https://x.org"


@pytest.mark.parametrize("name, value, words", [
    ("PORT", "eighty", "PORT"),
    ("CONVERSATION_TIMEOUT_MINUTES", "0", "CONVERSATION_TIMEOUT_MINUTES"),
    ("SMS_REPLY_MODE", "carrier-pigeon", "SMS_REPLY_MODE"),
    ("SIMULATOR_ENABLED", "maybe", "yes/no"),
    ("SECRET_KEY", "short", "SECRET_KEY"),
])
def test_bad_values_name_the_setting(tmp_path, name, value, words):
    with pytest.raises(config.ConfigError, match=words):
        config.load(tmp_path, environ={name: value})


def test_unknown_language_code_fails_at_start_naming_it(make_app):
    with pytest.raises(config.ConfigError) as raised:
        make_app(LANGUAGES=["en", "xx"])
    assert "xx" in str(raised.value) and "shipped: en, " in str(raised.value) and "my" in str(raised.value)


def test_languages_pick_and_order_what_is_offered(make_app):
    app = make_app(LANGUAGES=["my", "en"])
    context = app.extensions["intake"].context
    assert context.languages == ("my", "en") and context.default_language == "my"


def test_languages_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LANGUAGES", " my , en ")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    monkeypatch.setenv("DATA_KEY_FILE", str(tmp_path / "data.key"))
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    app = create_app()
    assert app.extensions["intake"].context.languages == ("my", "en")
    app.extensions["intake"].close()


def test_corrupt_data_key_is_a_clear_error(make_app, tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("not base64 at all!!")
    with pytest.raises(config.ConfigError, match="DATA_KEY_FILE"):
        make_app(DATA_KEY_FILE=str(bad))


def configuration_table_names() -> set[str]:
    """The variables the README's configuration table names (first column, in backticks)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_the_readme_table_lists_every_setting_and_nothing_else():
    assert configuration_table_names() == set(config.ENVIRONMENT_NAMES)
    assert len(config.ENVIRONMENT_NAMES) == len(fields(config.Settings)) - 2  # all but the derived and the clock


def test_an_override_that_names_no_setting_is_an_error(tmp_path):
    with pytest.raises(config.ConfigError, match="no such setting: SIMULATR_ENABLED"):
        config.load(tmp_path, environ={}, overrides={"SIMULATR_ENABLED": "1"})
