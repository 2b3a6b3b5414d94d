"""Privacy by construction (ARCHITECTURE.md principle 6), proved: after whole conversations, the sender's
number and what they typed are nowhere in the database file, its WAL, or the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.models import Base
from tests.conftest import Phone

NUMBER = "+959421337420"
# Distinctive strings a person might type; none of them may be kept in clear.
TYPED = ["Zq7-private-words", "ဇော်ဇော်ကိုယ်တိုင်"]


def number_forms(number: str) -> list[bytes]:
    digits = number.lstrip("+")
    forms = {number, digits, digits[2:], "0" + digits[2:]}  # +95…, 95…, national 09…
    return [form.encode() for form in forms] + [form.encode("utf-16-le") for form in forms]


def database_bytes(app) -> bytes:
    """Every byte the database holds: the SQLite files, or a text dump of every PostgreSQL row."""
    runtime = app.extensions["intake"]
    url = make_url(runtime.settings.database_url)
    if url.get_backend_name() == "sqlite":
        runtime.db.dispose()  # close connections; the WAL may still hold the newest pages
        base = Path(url.database)
        return b"".join(path.read_bytes() for path in base.parent.glob(base.name + "*"))
    dump = []
    with runtime.db.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                dump.append(repr(tuple(row)))
    return "\n".join(dump).encode()


def converse(client) -> Phone:
    phone = Phone(client, NUMBER)
    phone.say(f"hello {TYPED[0]}")
    phone.say("2")
    phone.say(TYPED[1])
    phone.say(TYPED[0])
    phone.say("1")
    return phone


@pytest.mark.parametrize("mode", ["inline", "outbox"])
def test_no_number_or_typed_text_in_database_or_logs(make_app, caplog, mode):
    caplog.set_level(logging.DEBUG)
    # In outbox mode the replies wait for Twilio, which is unreachable here: the number must
    # still only exist sealed, and the failed attempts' log lines must not carry it.
    app = make_app(SMS_REPLY_MODE=mode, TWILIO_API_BASE_URL="http://127.0.0.1:9")
    converse(app.test_client())
    if mode == "outbox":  # each reply was tried at once and failed: those attempts were logged
        assert "via sms: retry" in caplog.text
    stored = database_bytes(app)
    assert len(stored) > 0
    for form in number_forms(NUMBER):
        assert form not in stored, form
    for typed in TYPED:
        assert typed.encode() not in stored
    logged = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert "outbox" in logged or mode == "inline"
    for form in number_forms(NUMBER):
        assert form.decode("utf-8", "ignore") not in logged
    for typed in TYPED:
        assert typed not in logged


def test_conversation_state_is_sealed_not_just_encoded(app, client):
    converse(client)
    runtime = app.extensions["intake"]
    with runtime.db.connect() as connection:
        state, key = connection.execute(text("SELECT state, sender_key FROM conversations")).one()
    assert state is not None and b"position" not in bytes(state) and b"menu" not in bytes(state)
    assert len(key) == 64 and key == runtime.vault.sender_key("sms", NUMBER)


def test_sender_pseudonym_depends_on_the_secret_key(make_app, tmp_path):
    first = make_app().extensions["intake"].vault
    second = make_app(SECRET_KEY="another-secret-key-" + "y" * 32).extensions["intake"].vault
    assert first.sender_key("sms", NUMBER) != second.sender_key("sms", NUMBER)
    assert first.sender_key("sms", NUMBER) != first.sender_key("whatsapp", NUMBER)


def test_a_sent_report_leaves_no_account_text_or_number_in_the_database(make_app, caplog):
    """Issue 3: after a full report (consenting to contact on this very number), neither the
    account nor the number is anywhere in the database file, and the logs name neither."""
    from tests.support.directory import with_directory
    from tests.support.play import Sms, play_report

    caplog.set_level(logging.DEBUG)
    app = with_directory(make_app())
    account = "The guard Zq7-private-words took my ration card and ဇော်ဇော်ကိုယ်တိုင် saw it"
    player = play_report(Sms(Phone(app.test_client(), NUMBER)), organisation="DRA", account=account,
                         contact="yes", contact_how="this_number")
    assert player.reply.text.startswith("Thank you, it was sent. Receipt number: ")
    stored = database_bytes(app)
    for fragment in (account, "Zq7-private-words", "ဇော်ဇော်ကိုယ်တိုင်", "ration card"):
        assert fragment.encode() not in stored
        assert fragment not in caplog.text
    for form in number_forms(NUMBER):
        assert form not in stored
        assert form.decode("utf-8", "ignore") not in caplog.text


def test_an_unexpected_error_is_logged_without_its_message(app, caplog, monkeypatch):
    """A bug in the middle of a message: a 500 with a reason, and a log line that names the error
    and where it happened but not its message (which could quote what the person wrote)."""
    from bot.channels import inbox

    def broken_step(state, inbound, ctx):
        raise ValueError(f"cannot handle {inbound.text!r} from the sender")

    monkeypatch.setattr(inbox.engine, "step", broken_step)
    caplog.set_level(logging.DEBUG)
    response = Phone(app.test_client(), NUMBER).send(TYPED[0])
    assert response.status_code == 500 and response.get_json() == {"error": "internal error; please retry"}
    assert "unexpected ValueError at " in caplog.text
    assert TYPED[0] not in caplog.text and NUMBER not in caplog.text
