"""Demo data for trying the service (`flask --app app demo load`, run by `make run`): the CSV files
beside this module, and one portal account per demo organisation plus an admin, each with a random
password and, for the key-holding accounts, their organisation's key granted at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import accounts
from storage.directory import DirectoryImport, import_directory
from storage.gazetteer import EmergencyImport, TownshipImport, import_emergency_contacts, import_townships
from storage.models import Contact, Organisation

DEMO_DIR = Path(__file__).parent
ADMIN_EMAIL = "admin@example.org"
# No 0/O or 1/l/I: the passwords are read off a terminal and typed.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    organisation: str | None  # acronym
    email: str
    password: str


@dataclass
class DemoLoad:
    townships: TownshipImport
    emergency: EmergencyImport
    directory: DirectoryImport
    accounts: list[DemoAccount]


def new_password() -> str:
    """A random password like "k7qm-x3vd-9pwe-tn4h" (80 bits)."""
    return "-".join("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))


def load(session: Session, *, now: datetime) -> DemoLoad | None:
    """Import the demo files and create the demo accounts; None (and nothing done) when the
    database already has organisations, so real data is never mixed with the demo."""
    if session.execute(select(Organisation.id).limit(1)).first():
        return None
    townships = import_townships(session, (DEMO_DIR / "townships.csv").read_bytes())
    emergency = import_emergency_contacts(session, (DEMO_DIR / "emergency_contacts.csv").read_bytes())
    directory = import_directory(session, (DEMO_DIR / "directory.csv").read_bytes(), now=now)
    created = []
    for acronym, recovery_key in directory.recovery_keys.items():
        organisation = session.execute(select(Organisation).where(Organisation.acronym == acronym)).scalar_one()
        role = "coordinator" if organisation.is_network else "focal_point"
        email = session.execute(select(Contact.email).where(
            Contact.organisation_id == organisation.id, Contact.role == role, Contact.email.is_not(None))
            .order_by(Contact.id).limit(1)).scalar_one()
        password = new_password()
        user = accounts.create_user(session, email=email, role=role, password=password,
                                    organisation=organisation, now=now)
        accounts.grant_with_recovery_key(session, organisation, user, recovery_key, now)
        created.append(DemoAccount(role, acronym, user.email, password))
    password = new_password()
    accounts.create_user(session, email=ADMIN_EMAIL, role="admin", password=password, now=now)
    created.append(DemoAccount("admin", None, ADMIN_EMAIL, password))
    session.flush()
    return DemoLoad(townships, emergency, directory, created)
