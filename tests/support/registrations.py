"""Registration records for tests, written the way `registrations import` writes them (through
`storage.registrations.write_details`), and reading back what the flow queued."""

from __future__ import annotations

from sqlalchemy import select

from intake.registration import DETAIL_FIELDS
from storage import changes, registrations
from storage.models import Registration, RegistrationChange

NUMBER = "MMR-17-000123"
BORN = "1990-04-17"
PHONE = "+959450001111"  # tests.conftest.Phone's default number: "the number on record"
OTHER_PHONE = "+959450002222"


def register(app, number: str = NUMBER, *, date_of_birth: str = BORN, phone: str | None = PHONE,
             status: str = "active", **details) -> int:
    """A committed record; returns its id."""
    runtime = app.extensions["intake"]
    values = {name: "" for name in DETAIL_FIELDS} | {
        "registration_number": number, "given_name": "Aye", "family_name": "Chan Qv8", "date_of_birth": date_of_birth,
        "sex": "F", "phone": phone or "", "township": "MMR013017", "education": "PRIM", "occupation": "DAYL",
        "needs": "", "language": "en"} | details
    with runtime.sessions() as session:
        row = Registration(status=status)
        registrations.write_details(runtime.vault, row, values, runtime.clock())
        session.add(row)
        session.commit()
        return row.id


def record(app, registration_id: int) -> tuple[Registration, dict]:
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        row = session.get(Registration, registration_id)
        session.expunge(row)
    return row, registrations.open_details(runtime.vault, row)


def queued_changes(app) -> list[dict]:
    """Every change waiting for a caseworker, opened: kind, old, new, status, reply_to."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        rows = session.execute(select(RegistrationChange).order_by(RegistrationChange.id)).scalars().all()
        return [{"kind": row.kind, "old": changes.open_change_value(runtime.vault, row, "old_value"),
                 "new": changes.open_change_value(runtime.vault, row, "new_value"), "status": row.status,
                 "channel": row.channel, "language": row.language,
                 "reply_to": changes.open_reply_to(runtime.vault, row)} for row in rows]
