"""The directory as an operator reads it back: organisations, their focal points and coordinators,
which of them have a portal account that can open what they are notified about, and the whole
directory as a file in the `directory import` format. Functions take the session first and
never commit.

A contact is notified of every report for their organisation and townships; the notification
only says where to read it. Reading it takes a portal account of that organisation (found by the
contact's e-mail address), active, in a role that holds keys, and holding the organisation's key.
A contact without all of that is told about reports they cannot open: `cannot_open` names each
one and why, after an import and wherever the directory is listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.accounts import KEY_HOLDING_ROLES
from storage.directory import HEADER
from storage.models import Contact, KeyGrant, Organisation, User


@dataclass(frozen=True)
class ListedContact:
    """One directory contact, and what stands between them and the referrals they hear of
    (`blocker` is None when nothing does)."""

    contact: Contact
    account: User | None
    holds_key: bool
    blocker: str | None


@dataclass(frozen=True)
class ListedOrganisation:
    organisation: Organisation
    contacts: list[ListedContact]


def _blocker(contact: Contact, organisation: Organisation, account: User | None, holds_key: bool) -> str | None:
    if not contact.email:
        return "no e-mail address in the directory, so no portal account can be matched to them"
    if account is None:
        return f"no portal account for {contact.email}"
    if not account.active:
        return f"the portal account {account.email} is disabled"
    if account.organisation_id != organisation.id:
        return f"the portal account {account.email} belongs to another organisation"
    if account.role not in KEY_HOLDING_ROLES:
        return f"the portal account {account.email} has the role {account.role}, which cannot hold keys"
    if not holds_key:
        return (f"the portal account {account.email} does not hold {organisation.acronym}'s key yet "
                f"(a colleague who holds it gives it on the portal's Access page)")
    return None


def listing(session: Session) -> list[ListedOrganisation]:
    """Every organisation (by acronym) with its contacts (active first, then by role and name),
    each with their portal account, if any, and what blocks them from reading."""
    organisations_ = organisations(session)
    contacts = session.execute(select(Contact).order_by(Contact.active.desc(), Contact.role, Contact.name)).scalars()
    users = {user.email: user for user in session.execute(select(User)).scalars()}
    grants = {tuple(row) for row in session.execute(select(KeyGrant.user_id, KeyGrant.organisation_id))}
    by_organisation: dict[int, list[ListedContact]] = {organisation.id: [] for organisation in organisations_}
    names = {organisation.id: organisation for organisation in organisations_}
    for contact in contacts:
        organisation = names[contact.organisation_id]
        account = users.get(contact.email.lower()) if contact.email else None
        holds_key = account is not None and (account.id, organisation.id) in grants
        by_organisation[organisation.id].append(
            ListedContact(contact, account, holds_key, _blocker(contact, organisation, account, holds_key)))
    return [ListedOrganisation(organisation, by_organisation[organisation.id]) for organisation in organisations_]


@dataclass(frozen=True)
class CannotOpen:
    """An active contact who is notified but cannot open what they are told about."""

    acronym: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym}) is notified but cannot open what they are told about: {self.reason}"


def cannot_open(session: Session) -> list[CannotOpen]:
    """Every active contact whose notifications lead to nothing they can read, and why."""
    return [CannotOpen(listed.organisation.acronym, entry.contact.name, entry.blocker)
            for listed in listing(session) for entry in listed.contacts
            if entry.contact.active and entry.blocker is not None]


def export_rows(session: Session) -> Iterator[list[str]]:
    """The directory as rows of a `directory import` file (header first): every active contact,
    so that importing the file again changes nothing. Organisations without an active contact
    have no row to stand in (the format has one row per contact)."""
    yield list(HEADER)
    for listed in listing(session):
        organisation = listed.organisation
        for entry in listed.contacts:
            contact = entry.contact
            if contact.active:
                yield [organisation.name, organisation.acronym, organisation.aliases, contact.role, contact.name,
                       contact.email or "", contact.phone or "", contact.telegram_chat_id or "", contact.townships,
                       contact.languages]


def organisations(session: Session) -> list[Organisation]:
    """Every organisation, by acronym."""
    return list(session.execute(select(Organisation).order_by(func.lower(Organisation.acronym))).scalars())
