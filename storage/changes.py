"""Self-service changes as they are asked for: each is a pending `RegistrationChange` holding
the old and the new value (sealed), for a caseworker to approve or reject. Values are JSON: a
string for most fields, {"codes": [...], "words": "..."} for needs, {"words": "..."} for a
household change, null for an erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.binding import legacy_for
from storage.crypto import Vault
from storage.db import conflict_insert
from storage.models import NeedCount, Registration, RegistrationChange, RegistrationHistory

VALUE_PURPOSE = "registration.change"
REPLY_PURPOSE = "registration.reply_to"


def change_row(change: RegistrationChange, column: str) -> dict:
    """What a change's sealed old and new value, reply address and reason are bound to: the
    change (flushed first, for its id), its record, its kind, and which of its values it is."""
    return {"id": change.id, "registration_id": change.registration_id, "kind": change.kind, "column": column}


def history_row(row: RegistrationHistory, column: str) -> dict:
    """What a history row's sealed values are bound to: the row (flushed first, for its id; not
    its change, which the purge may delete), its record and field, and which value it is."""
    return {"id": row.id, "registration_id": row.registration_id, "field": row.field, "column": column}


def seal_value(vault: Vault, value, row: dict) -> bytes | None:
    return None if value is None else vault.seal_json(value, VALUE_PURPOSE, row)


def open_value(vault: Vault, blob: bytes | None, row: dict, *, legacy: bool = False):
    return None if blob is None else vault.open_json(blob, VALUE_PURPOSE, row, legacy=legacy)


def open_change_value(vault: Vault, change: RegistrationChange, column: str):
    """The change's `column` ("old_value" or "new_value"), opened; AlteredError when moved."""
    return open_value(vault, getattr(change, column), change_row(change, column),
                      legacy=legacy_for(change, "registration_changes"))


def open_history_value(vault: Vault, row: RegistrationHistory, column: str):
    """A history row's `column` ("old_value" or "new_value"), opened; AlteredError when moved."""
    return open_value(vault, getattr(row, column), history_row(row, column),
                      legacy=legacy_for(row, "registration_history"))


def open_reply_to(vault: Vault, change: RegistrationChange) -> dict | None:
    """{"channel": "sms"|"telegram", "address": ...} to tell the outcome to, until it is told."""
    return None if change.reply_to is None else vault.open_json(
        change.reply_to, REPLY_PURPOSE, change_row(change, "reply_to"), legacy=legacy_for(change, "registration_changes"))


def request_change(session: Session, vault: Vault, registration: Registration, *, kind: str, old_value, new_value,
                   channel: str, language: str, reply_to: dict | None, now: datetime) -> RegistrationChange:
    """Queue one change for a caseworker (nothing on the record changes until approved)."""
    change = RegistrationChange(
        registration_id=registration.id, kind=kind, township_pcode=registration.township_pcode, channel=channel,
        language=language, status="pending", requested_at=now)
    session.add(change)
    session.flush()  # its id first: the values are bound to it
    change.old_value = seal_value(vault, old_value, change_row(change, "old_value"))
    change.new_value = seal_value(vault, new_value, change_row(change, "new_value"))
    change.reply_to = None if reply_to is None else vault.seal_json(reply_to, REPLY_PURPOSE,
                                                                    change_row(change, "reply_to"))
    return change


def declare_needs(session: Session, codes: list[str], *, township_pcode: str | None, now: datetime) -> None:
    """Count declared needs for the registration office, apart from who declared them."""
    for code in dict.fromkeys(codes):
        statement = conflict_insert(session, NeedCount).values(need_group=code, township_pcode=township_pcode or "",
                                                     month=now.strftime("%Y-%m"), declared=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=["need_group", "township_pcode", "month"],
            set_={"declared": NeedCount.declared + 1}))
