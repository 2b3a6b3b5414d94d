"""Registration records: sealing what identifies a person, and the clear digests a check needs.

A record's details (`intake.registration.DETAIL_FIELDS`) are one sealed JSON; `identity_columns`
derives from them everything a look-up or a check reads without opening a row. Storage
functions take the session first and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.registration import normalise_number, read_recorded_date_of_birth
from storage.binding import legacy_for
from storage.crypto import Vault
from storage.models import Registration

DETAILS_PURPOSE = "registration.details"
NUMBER_PURPOSE = "registration.number"
NUMBER_KIND = "registration"


@dataclass(frozen=True)
class IdentityColumns:
    number_digest: bytes
    dob_check: bytes | None
    dob_precision: str | None
    phone_key: str | None
    township_pcode: str | None


def number_digest(vault: Vault, number: str) -> bytes:
    """The look-up digest of a registration number, as typed or as imported."""
    return vault.lookup_digest(NUMBER_KIND, normalise_number(number))


def phone_key(vault: Vault, phone: str | None) -> str | None:
    """A keyed digest of a phone number, to tell a text from the number on record. Not the SMS
    sender pseudonym: a copy of the database alone must not join records to conversations."""
    return vault.lookup_digest("phone", phone.strip()).hex() if phone else None


def identity_columns(vault: Vault, details: dict) -> IdentityColumns:
    digest = number_digest(vault, details["registration_number"])
    dob = read_recorded_date_of_birth(details.get("date_of_birth") or "")
    return IdentityColumns(
        number_digest=digest,
        dob_check=vault.dob_check(digest, dob.value) if dob else None,
        dob_precision=dob.precision if dob else None,
        phone_key=phone_key(vault, details.get("phone")),
        township_pcode=details.get("township") or None,
    )


def record_row(digest: bytes) -> dict:
    """What a record's sealed number and details are bound to: its number's digest (unique, and
    known before the row is written: records are imported in bulk statements, with no id yet)."""
    return {"number_digest": digest.hex()}


def seal_details(vault: Vault, details: dict, digest: bytes) -> bytes:
    return vault.seal_json(details, DETAILS_PURPOSE, record_row(digest))


def open_details(vault: Vault, row: Registration) -> dict:
    """The record's details; {} once erased. AlteredError when they are another record's."""
    if row.details is None:
        return {}
    return vault.open_json(row.details, DETAILS_PURPOSE, record_row(row.number_digest),
                           legacy=legacy_for(row, "registrations"))


def open_number(vault: Vault, row: Registration) -> str:
    return vault.open(row.number, NUMBER_PURPOSE, record_row(row.number_digest),
                      legacy=legacy_for(row, "registrations")).decode()


def write_details(vault: Vault, row: Registration, details: dict, now: datetime,
                  columns: IdentityColumns | None = None) -> None:
    """Seal `details` into `row` and refresh its clear columns (`columns` if already derived)."""
    columns = columns or identity_columns(vault, details)
    row.number_digest = columns.number_digest
    row.number = vault.seal(details["registration_number"].encode(), NUMBER_PURPOSE, record_row(columns.number_digest))
    row.details = seal_details(vault, details, columns.number_digest)
    row.dob_check, row.dob_precision = columns.dob_check, columns.dob_precision
    row.phone_key, row.township_pcode = columns.phone_key, columns.township_pcode
    row.updated_at = now


def find_by_number(session: Session, vault: Vault, number: str) -> Registration | None:
    return session.execute(
        select(Registration).where(Registration.number_digest == number_digest(vault, number))
    ).scalar_one_or_none()
