"""Self-service changes as they are asked for: each is a pending `RegistrationChange` holding
the old and the new value (sealed), for a caseworker to approve or reject. Values are JSON: a
string for most fields, {"codes": [...], "words": "..."} for needs, {"words": "..."} for a
household change, null for an erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.crypto import Vault
from storage.db import conflict_insert
from storage.models import NeedCount, Registration, RegistrationChange

VALUE_PURPOSE = "registration.change"
REPLY_PURPOSE = "registration.reply_to"


def seal_value(vault: Vault, value) -> bytes | None:
    return None if value is None else vault.seal_json(value, VALUE_PURPOSE)


def open_value(vault: Vault, blob: bytes | None):
    return None if blob is None else vault.open_json(blob, VALUE_PURPOSE)


def open_reply_to(vault: Vault, change: RegistrationChange) -> dict | None:
    """{"channel": "sms"|"telegram", "address": ...} to tell the outcome to, until it is told."""
    return None if change.reply_to is None else vault.open_json(change.reply_to, REPLY_PURPOSE)


def request_change(session: Session, vault: Vault, registration: Registration, *, kind: str, old_value, new_value,
                   channel: str, language: str, reply_to: dict | None, now: datetime) -> RegistrationChange:
    """Queue one change for a caseworker (nothing on the record changes until approved)."""
    change = RegistrationChange(
        registration_id=registration.id, kind=kind, township_pcode=registration.township_pcode,
        old_value=seal_value(vault, old_value), new_value=seal_value(vault, new_value), channel=channel,
        language=language, reply_to=None if reply_to is None else vault.seal_json(reply_to, REPLY_PURPOSE),
        status="pending", requested_at=now)
    session.add(change)
    return change


def declare_needs(session: Session, codes: list[str], *, township_pcode: str | None, now: datetime) -> None:
    """Count declared needs for the registration office, apart from who declared them."""
    for code in dict.fromkeys(codes):
        statement = conflict_insert(session, NeedCount).values(need_group=code, township_pcode=township_pcode or "",
                                                     month=now.strftime("%Y-%m"), declared=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=["need_group", "township_pcode", "month"],
            set_={"declared": NeedCount.declared + 1}))
