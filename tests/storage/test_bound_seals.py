"""Sealed values are bound to their row and to the clear columns they depend on (issue 14,
point 2): someone who can write to the database swaps values between rows, or edits a report's
routing columns, and every such value is refused (AlteredError, logged as its kind, never its
content), never used. Old-format values open only in the rows from before migration 0018."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select, text, update

from intake.state import State
from storage import casework, changes, conversations, outbox, registrations, reporter_messages, reports, resealing, sealing
from storage.binding import REPORT_COLUMNS
from storage.crypto import AlteredError
from storage.db import make_engine
from storage.followup import FollowUpLookup, ReceiptLimits
from storage.migrate import alembic_config, upgrade
from storage.models import (
    Conversation, LegacySeal, OutboxMessage, Referral, ReferralEvent, Registration, RegistrationChange, Report,
    ReporterMessage,
)
from tests.support import directory as d

PEPPER = b"p" * 32
CHANNELS = {"sms"}


def swap(session, model, column: str, first_id, second_id) -> None:
    """What a writer to the database does: exchange one column's values between two rows."""
    attribute = getattr(model, column)
    key = model.__mapper__.primary_key[0]
    first = session.execute(select(attribute).where(key == first_id)).scalar_one()
    second = session.execute(select(attribute).where(key == second_id)).scalar_one()
    session.execute(update(model).where(key == first_id).values({column: second}))
    session.execute(update(model).where(key == second_id).values({column: first}))
    session.commit()
    session.expire_all()


def new_report(session, seeded, clock, receipt: str, **overrides):
    fields = dict(recipient_organisation_id=seeded.dra.id, route="named", named_organisation_id=seeded.dra.id,
                  incident_period="this_month", township_pcode="MMR013017", state_pcode="MMR013",
                  child_involved="no", affected="self", urgent=True, contact_allowed=True,
                  receipt=sealing.receipt_secrets(receipt, PEPPER), content={"account": [f"Zk{receipt[-3:]} said"]})
    fields.update(overrides)
    return reports.file_report(session, reports.NewReport(**fields), now=clock(), ack_deadline=clock() + timedelta(hours=1))


@pytest.fixture
def filed(app, clock):
    """Two reports to DRA, committed; yields the session, the seeded directory, DRA's key and the
    two (report id, referral id) pairs."""
    app = d.with_directory(app)
    _, key = d.key_holder(app, app.seeded.dra, "DRA")
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        first = new_report(session, app.seeded, clock, "482109375566")
        second = new_report(session, app.seeded, clock, "517209834411")
        ids = [(report.id, referral.id) for report, referral in (first, second)]
        session.commit()
        yield session, app.seeded, key, ids


def opened(session, referral_id: int, key: bytes) -> dict:
    return reports.read_referral(session, session.get(Referral, referral_id), key)


def test_reports_open_as_filed(filed):
    session, _, key, [(_, first), (_, second)] = filed
    assert opened(session, first, key) == {"account": ["Zk566 said"]}
    assert opened(session, second, key) == {"account": ["Zk411 said"]}


@pytest.mark.parametrize("column, kind", [("content", "reports.content"), ("receipt_wrap", "reports.receipt_wrap")])
def test_a_reports_content_or_receipt_wrap_swapped_with_anothers_does_not_open(filed, caplog, column, kind):
    session, _, key, [(first, first_referral), (second, _)] = filed
    swap(session, Report, column, first, second)
    report = session.get(Report, first)
    with pytest.raises(AlteredError) as refused:
        if column == "content":
            opened(session, first_referral, key)
        else:
            reports.open_with_receipt(report, sealing.receipt_secrets("482109375566", PEPPER))
    assert refused.value.kind == kind
    assert kind in caplog.text and "Zk" not in caplog.text


def test_content_key_and_wrap_swapped_together_still_do_not_open(filed):
    """Moving a whole report (content, receipt wrap and referral key) onto another report's row."""
    session, _, key, [(first, first_referral), (second, second_referral)] = filed
    swap(session, Report, "content", first, second)
    swap(session, Report, "receipt_wrap", first, second)
    swap(session, Referral, "sealed_key", first_referral, second_referral)
    for referral_id in (first_referral, second_referral):
        with pytest.raises(AlteredError) as refused:
            opened(session, referral_id, key)
        assert refused.value.kind == "referrals.sealed_key"
    with pytest.raises(AlteredError):
        reports.open_with_receipt(session.get(Report, first), sealing.receipt_secrets("517209834411", PEPPER))


EDITS = {"urgent": False, "named_organisation_id": None, "township_pcode": "MMR003001", "state_pcode": "MMR003",
         "contact_allowed": False, "child_involved": "yes", "affected": "other", "incident_period": "long_ago",
         "route": "network", "received_month": "2020-01"}


@pytest.mark.parametrize("column", sorted(EDITS))
def test_editing_a_reports_routing_columns_is_seen_on_opening(filed, caplog, column):
    assert set(EDITS) == set(REPORT_COLUMNS)
    session, _, key, [(first, referral), _] = filed
    session.execute(update(Report).where(Report.id == first).values({column: EDITS[column]}))
    session.commit()
    session.expire_all()
    with pytest.raises(AlteredError) as refused:
        opened(session, referral, key)
    assert refused.value.kind == "reports.content"
    with pytest.raises(AlteredError):
        reports.open_with_receipt(session.get(Report, first), sealing.receipt_secrets("482109375566", PEPPER))
    assert "reports.content" in caplog.text


def test_a_referral_moved_to_another_report_or_organisation_does_not_open(filed):
    session, seeded, key, [(_, referral), _] = filed
    session.execute(update(Referral).where(Referral.id == referral).values(organisation_id=seeded.ehp.id))
    session.commit()
    session.expire_all()
    with pytest.raises(AlteredError) as refused:  # not even with the key it was sealed to
        opened(session, referral, key)
    assert refused.value.kind == "referrals.sealed_key"
    session.execute(update(Referral).where(Referral.id == referral).values(organisation_id=seeded.dra.id))
    session.commit()
    session.expire_all()
    assert opened(session, referral, key) == {"account": ["Zk566 said"]}


def test_a_receipt_check_on_a_swapped_wrap_shows_nothing(filed, app, clock):
    """The reporter's side: a receipt whose report's wrap was swapped opens no report (counted as
    a receipt that did not open), never the other report."""
    session, _, _, [(first, _), (second, _)] = filed
    swap(session, Report, "receipt_wrap", first, second)
    lookup = FollowUpLookup(session, app.extensions["intake"].vault, sender_key="s" * 64, now=clock(),
                            zone="UTC", limits=ReceiptLimits(5, 100, 15),
                            secrets_for=lambda receipt: sealing.receipt_secrets(receipt, PEPPER))
    assert lookup.check_receipt("482109375566").outcome == "wrong"


def test_notes_and_messages_swapped_between_rows_do_not_open(filed, clock, caplog):
    session, _, key, [(first, first_referral), (_, second_referral)] = filed
    notes = [casework.add_note(session, session.get(Referral, rid), f"Zn{rid} note", user_id=None, now=clock())
             for rid in (first_referral, second_referral)]
    report_key = reports.open_report_key(session.get(Referral, first_referral), key)
    other_key = reports.open_report_key(session.get(Referral, second_referral), key)
    out = [reporter_messages.write_to_reporter(session, session.get(Referral, rid), k, f"Zm{rid} to you",
                                               author_id=None, now=clock())
           for rid, k in ((first_referral, report_key), (second_referral, other_key))]
    session.commit()
    swap(session, ReferralEvent, "note", notes[0].id, notes[1].id)
    with pytest.raises(AlteredError) as refused:
        casework.timeline(session, session.get(Referral, first_referral), key)
    assert refused.value.kind == "referral_events.note"
    # A message to the reporter moved into another report's (same key: the bodies were swapped
    # within one report's rows): the reporter is shown neither, the focal point is told.
    session.execute(update(ReporterMessage).where(ReporterMessage.id == out[1].id).values(report_id=first))
    session.commit()
    swap(session, ReporterMessage, "body", out[0].id, out[1].id)
    assert reporter_messages.for_reporter(session, session.get(Report, first), report_key) == []
    with pytest.raises(AlteredError) as refused:
        reporter_messages.conversation(session, session.get(Referral, first_referral), key)
    assert refused.value.kind == "reporter_messages.body"
    assert "Zm" not in caplog.text and "Zn" not in caplog.text


# --- values the data key protects --------------------------------------------------------------

def test_outbox_recipients_swapped_between_rows_are_sent_to_no_one(app, clock, caplog):
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        for name, number in (("a", "+959450000001"), ("b", "+959450000002")):
            outbox.enqueue(session, runtime.vault, dedupe_key=f"test:{name}", channel="sms", purpose="reply",
                           recipient=number, payload={"body": f"Zq for {name}"}, now=clock())
        session.commit()
        a, b = session.execute(select(OutboxMessage.id).order_by(OutboxMessage.id)).scalars().all()
        swap(session, OutboxMessage, "recipient", a, b)
        assert outbox.claim_next(session, runtime.vault, clock(), CHANNELS, timedelta(minutes=1)) is None
        session.commit()
        rows = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    assert [row.status for row in rows] == ["failed", "failed"]
    assert all("altered" in row.last_error for row in rows)
    assert "outbox.recipient" in caplog.text
    assert "+95945" not in caplog.text and "Zq" not in caplog.text


def test_an_outbox_row_moved_to_another_channel_is_not_sent(app, clock):
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        outbox.enqueue(session, runtime.vault, dedupe_key="test:c", channel="telegram", purpose="reply",
                       recipient="12345", payload={"body": "hello"}, now=clock())
        session.execute(update(OutboxMessage).values(channel="sms"))
        session.commit()
        assert outbox.claim_next(session, runtime.vault, clock(), CHANNELS, timedelta(minutes=1)) is None


def test_conversation_states_swapped_are_never_continued(app, clock, caplog):
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        ids = []
        for sender in ("a" * 64, "b" * 64):
            conversation = conversations.lock_conversation(session, "sms", sender, clock())
            conversations.save_state(runtime.vault, conversation,
                                     State(lang="en", position="report.account", last_active=clock(),
                                           draft={"account": [f"Zs{sender[0]}"]}))
            ids.append(conversation.id)
        session.commit()
        swap(session, Conversation, "state", *ids)
        for conversation_id in ids:
            state = conversations.load_state(runtime.vault, session.get(Conversation, conversation_id))
            assert state.position is None and not state.draft  # a fresh start, in the own language
            assert state.lang == "en"
    assert "conversations.state" in caplog.text and "Zs" not in caplog.text


def test_registration_details_and_changes_swapped_do_not_open(app, clock):
    runtime = app.extensions["intake"]
    vault = runtime.vault
    with runtime.sessions() as session:
        rows = []
        for number in ("REG-001", "REG-002"):
            row = Registration(status="active")
            registrations.write_details(vault, row, {"registration_number": number, "given_name": f"Zg{number}"}, clock())
            session.add(row)
            rows.append(row)
        session.flush()
        requested = [changes.request_change(session, vault, row, kind="phone", old_value="1", new_value=f"Zv{row.id}",
                                            channel="sms", language="en", reply_to=None, now=clock()) for row in rows]
        session.commit()
        ids, change_ids = [row.id for row in rows], [change.id for change in requested]
        swap(session, Registration, "details", *ids)
        swap(session, RegistrationChange, "new_value", *change_ids)
        with pytest.raises(AlteredError) as refused:
            registrations.open_details(vault, session.get(Registration, ids[0]))
        assert refused.value.kind == "registration.details"
        assert registrations.open_number(vault, session.get(Registration, ids[0])) == "REG-001"
        with pytest.raises(AlteredError) as refused:
            changes.open_change_value(vault, session.get(RegistrationChange, change_ids[0]), "new_value")
        assert refused.value.kind == "registration.change"


# --- the old format, and resealing -------------------------------------------------------------

def old_format(vault, plaintext: bytes, purpose: str) -> bytes:
    """A value as the data key sealed it before migration 0018: bound to its column only."""
    nonce = os.urandom(12)
    return b"\x01" + nonce + vault._aead.encrypt(nonce, plaintext, purpose.encode())


def test_old_format_values_open_only_in_rows_from_before_the_migration_until_resealed(app, clock, caplog):
    runtime = app.extensions["intake"]
    vault = runtime.vault
    with runtime.sessions() as session:
        for name in ("old", "new"):
            outbox.enqueue(session, vault, dedupe_key=f"test:{name}", channel="sms", purpose="reply",
                           recipient="+959450000009", payload={"body": name}, now=clock())
        old, new = session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        old.recipient = old_format(vault, b"+959450000009", outbox.RECIPIENT_PURPOSE)
        old.payload = old_format(vault, b'{"body":"old"}', outbox.PAYLOAD_PURPOSE)
        new.recipient, new.payload = old.recipient, old.payload  # an old value copied into a new row
        session.add(LegacySeal(table_name="outbox", last_id=old.id))  # as migration 0018 leaves it
        session.commit()
        assert outbox.open_row(session, vault, old) == ("+959450000009", {"body": "old"})
        with pytest.raises(AlteredError):
            outbox.open_row(session, vault, new)

        done = resealing.reseal(session, vault)
        session.commit()
        assert done.resealed["outbox.recipient"] == 1 and done.refused["outbox.recipient"] == 1
        assert session.execute(select(LegacySeal)).scalars().all() == []
        old = session.get(OutboxMessage, old.id)
        assert old.recipient[:1] == b"\x02"
        assert outbox.open_row(session, vault, old) == ("+959450000009", {"body": "old"})
        # Once resealed, the old format opens nowhere, not even in the old row.
        old.recipient = old_format(vault, b"+959450000009", outbox.RECIPIENT_PURPOSE)
        with pytest.raises(AlteredError):
            outbox.open_row(session, vault, old)


def test_old_format_report_content_opens_only_in_reports_from_before_the_migration(filed):
    """Report content the server cannot reseal: the old format (bound to nothing but its key)
    stays readable in the reports that were there at the migration, and nowhere else."""
    session, seeded, key, [(first, first_referral), (second, second_referral)] = filed
    for report_id, referral_id in ((first, first_referral), (second, second_referral)):
        report_key, content = sealing.encrypt_content({"account": ["Zk old"]})  # as before 0018
        referral = session.get(Referral, referral_id)
        referral.sealed_key = sealing.seal_to(seeded.dra.public_key, report_key)
        session.get(Report, report_id).content = content
    session.add(LegacySeal(table_name="reports", last_id=first))
    session.add(LegacySeal(table_name="referrals", last_id=first_referral))
    session.commit()
    assert opened(session, first_referral, key) == {"account": ["Zk old"]}
    with pytest.raises(AlteredError):
        opened(session, second_referral, key)


def test_the_migration_records_the_rows_that_may_hold_the_old_format(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "0014")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for _ in range(3):
                connection.execute(text("INSERT INTO conversations (channel, sender_key, turns, created_at, "
                                        "encoding_chosen) VALUES ('sms', :key, 0, '2026-01-01', 0)"),
                                   {"key": os.urandom(8).hex()})
        upgrade(url)
        with engine.connect() as connection:
            recorded = dict(connection.execute(text("SELECT table_name, last_id FROM legacy_seals")).all())
        assert recorded == {"conversations": 3}
        command.downgrade(alembic_config(url), "0014")
        with engine.connect() as connection:
            assert "legacy_seals" not in {row[0] for row in connection.execute(
                text("SELECT name FROM sqlite_master WHERE type='table'"))}
    finally:
        engine.dispose()


def test_the_reseal_command_rebinds_old_values_and_prints_only_counts(app, clock):
    runtime = app.extensions["intake"]
    vault = runtime.vault
    with runtime.sessions() as session:
        conversation = conversations.lock_conversation(session, "sms", "c" * 64, clock())
        state = State(lang="en", position="report.account", last_active=clock(), draft={"account": ["Zr words"]})
        conversation.state = old_format(vault, json.dumps(state.to_json()).encode(), conversations.STATE_PURPOSE)
        session.add(LegacySeal(table_name="conversations", last_id=conversation.id))
        session.commit()
        conversation_id = conversation.id
    result = app.test_cli_runner().invoke(args=["reseal"])
    assert result.exit_code == 0, result.output
    assert "conversations.state: 1 resealed" in result.output and "Zr" not in result.output
    with runtime.sessions() as session:
        assert session.execute(select(LegacySeal)).scalars().all() == []
        row = session.get(Conversation, conversation_id)
        assert row.state[:1] == b"\x02"
        assert conversations.load_state(vault, row).draft == {"account": ["Zr words"]}


def test_the_primitives_bind_and_refuse(caplog):
    """The building blocks alone: a value sealed for one row opens for that row only; an unbound
    (old) value opens only where the old format is allowed."""
    from storage.crypto import Vault
    vault = Vault(os.urandom(32), "a secret")
    sealed = vault.seal(b"Zp words", "outbox.recipient", {"dedupe_key": "a"})
    assert vault.open(sealed, "outbox.recipient", {"dedupe_key": "a"}) == b"Zp words"
    for purpose, row in (("outbox.recipient", {"dedupe_key": "b"}), ("outbox.payload", {"dedupe_key": "a"}),
                         ("outbox.recipient", None)):
        with pytest.raises(AlteredError):
            vault.open(sealed, purpose, row)
    old = old_format(vault, b"Zp words", "outbox.recipient")
    with pytest.raises(AlteredError):
        vault.open(old, "outbox.recipient", {"dedupe_key": "a"})
    assert vault.open(old, "outbox.recipient", {"dedupe_key": "a"}, legacy=True) == b"Zp words"
    assert "Zp" not in caplog.text

    key, content = sealing.encrypt_content({"account": ["Zp"]}, b"row 1")
    assert sealing.decrypt_content(key, content, b"row 1") == {"account": ["Zp"]}
    with pytest.raises(sealing.SealError):
        sealing.decrypt_content(key, content, b"row 2")
    with pytest.raises(sealing.SealError):
        sealing.decrypt_content(key, content, b"row 2", legacy=True)  # legacy admits unbound values only
    unbound = sealing._aead_seal(key, b'{"account":["Zp"]}', b"intake/report/v1")  # as before 0018
    with pytest.raises(sealing.SealError):
        sealing.decrypt_content(key, unbound, b"row 1")
    assert sealing.decrypt_content(key, unbound, b"row 1", legacy=True) == {"account": ["Zp"]}
