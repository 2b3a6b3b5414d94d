"""Demo data for trying the service (`flask --app app demo load`, run by `make run`): the CSV files
beside this module, and a portal account for every contact the demo directory notifies (each
focal point and coordinator with an e-mail address) plus an admin, each with a random password
and, for the key-holding accounts, their organisation's key granted at once: everyone the demo
tells about a report can open it. Each account sets its TOTP up at its first login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import accounts, sealing
from storage.accounts import new_password
from storage.directory import DirectoryImport, import_directory
from storage.directory_listing import CannotOpen, cannot_open
from storage.gazetteer import EmergencyImport, TownshipImport, import_emergency_contacts, import_townships
from storage.models import Contact, Organisation

DEMO_DIR = Path(__file__).parent
ADMIN_EMAIL = "admin@example.org"


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
    cannot_open: list[CannotOpen]  # contacts notified who could not open it: none, unless the files change


def load(session: Session, *, now: datetime, languages: Iterable[str]) -> DemoLoad | None:
    """Import the demo files and create the demo accounts (`languages`: those the service
    ships); None (and nothing done) when the database already has organisations, so real data
    is never mixed with the demo."""
    if session.execute(select(Organisation.id).limit(1)).first():
        return None
    townships = import_townships(session, (DEMO_DIR / "townships.csv").read_bytes())
    emergency = import_emergency_contacts(session, (DEMO_DIR / "emergency_contacts.csv").read_bytes())
    directory = import_directory(session, (DEMO_DIR / "directory.csv").read_bytes(), now=now,
                                 languages=languages)
    created = []
    for acronym, recovery_key in directory.recovery_keys.items():
        organisation = session.execute(select(Organisation).where(Organisation.acronym == acronym)).scalar_one()
        contacts = session.execute(select(Contact).where(
            Contact.organisation_id == organisation.id, Contact.email.is_not(None)).order_by(Contact.id)).scalars()
        private_key = sealing.unwrap(organisation.recovery_wrap, recovery_key)  # one derivation per organisation
        for contact in contacts.all():
            password = new_password()
            user = accounts.create_user(session, email=contact.email, role=contact.role, password=password,
                                        organisation=organisation, now=now)
            accounts.grant(session, organisation, user, private_key, now)
            created.append(DemoAccount(contact.role, acronym, user.email, password))
    password = new_password()
    accounts.create_user(session, email=ADMIN_EMAIL, role="admin", password=password, now=now)
    created.append(DemoAccount("admin", None, ADMIN_EMAIL, password))
    session.flush()
    return DemoLoad(townships, emergency, directory, created, cannot_open(session))
