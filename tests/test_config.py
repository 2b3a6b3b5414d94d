"""Configuration: defaults that work, and bad values that fail at start-up naming the setting."""

from __future__ import annotations

import stat

import pytest

import config
from app import create_app


def test_defaults(tmp_path):
    values = config.load(tmp_path, environ={})
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    assert values["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert values["SERVICE_NAME"] == "Community Feedback"
    assert values["SIMULATOR_ENABLED"] is False and values["SMS_REPLY_MODE"] == "inline"  # make run turns it on
    assert values["CONVERSATION_TIMEOUT_MINUTES"] == 30
    secret = tmp_path / "secret_key"
    assert values["SECRET_KEY"] == secret.read_text().strip() and len(values["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert config.load(tmp_path, environ={})["SECRET_KEY"] == values["SECRET_KEY"]  # stable


def test_public_base_url_follows_host_and_port(tmp_path):
    values = config.load(tmp_path, environ={"HOST": "0.0.0.0", "PORT": "8080"})
    assert values["PUBLIC_BASE_URL"] == "http://0.0.0.0:8080"
    assert config.load(tmp_path, environ={"PUBLIC_BASE_URL": "https://x.org/"})["PUBLIC_BASE_URL"] == "https://x.org"


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
