"""The focal-point directory import (`flask --app app directory import FILE.csv`; the format is in
the README). Functions take the session first and never commit.

The file is checked as a whole before anything is written: every problem of every row is
reported with its line in one pass (a row with a bad field is still checked against the others:
agreement, duplicates, the network), and a file with any problem changes nothing. E-mail addresses
and phone numbers are checked with `storage.addresses` (real syntax, numbers a country hands out),
languages against the catalogs the service ships. A file that cannot be read as CSV at all (not
UTF-8, a wrong header, broken quoting) is reported at the first such fault, as nothing after it
can be told apart. A good file updates the directory in place:

* organisations are matched by acronym (ignoring case); name, aliases and whether it is the PSEA
  Network (it has coordinator rows) follow the file. A new organisation gets its key pair, and
  its recovery key is returned once for the operator to keep offline;
* contacts are matched by organisation, role and name (ignoring case); a contact of an
  organisation in the file that the file no longer lists is deactivated, not deleted;
* organisations the file does not mention are left alone.

Exactly one organisation must be the PSEA Network afterwards: routing falls back to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from i18n.catalogs import Catalogs
from storage import accounts, csv_import
from storage.addresses import NotAnAddress, email_address, phone_number
from storage.csv_import import ALL, ImportRejected, Invalid, Problem, Row, check
from storage.models import Contact, Organisation, Township

HEADER = ("organisation", "acronym", "aliases", "role", "name", "email", "phone", "telegram_chat_id",
          "townships", "languages")
ROLES = ("focal_point", "coordinator")
_ACRONYM = re.compile(r"[\w\- ]+")  # \w is Unicode letters and digits, plus _
_TELEGRAM_CHAT_ID = re.compile(r"-?[0-9]{1,20}")


@dataclass
class _ContactRow:
    line: int
    role: str
    name: str
    email: str | None
    phone: str | None
    telegram_chat_id: str | None
    townships: str
    languages: str


@dataclass
class _OrganisationRows:
    line: int  # first row naming the organisation
    acronym: str
    name: str
    aliases: str
    contacts: list[_ContactRow] = field(default_factory=list)
    # Lines of its coordinator rows, good or not: a coordinator row with a typo in its e-mail
    # still says which organisation is meant to be the network.
    coordinator_lines: list[int] = field(default_factory=list)

    @property
    def is_network(self) -> bool:
        return bool(self.coordinator_lines)


@dataclass
class DirectoryImport:
    """What an import changed. `recovery_keys` maps each NEW organisation's acronym to its
    recovery key: stored nowhere, so it must be shown to the operator now."""

    organisations_new: int = 0
    organisations_updated: int = 0
    organisations_unchanged: int = 0
    contacts_new: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    contacts_deactivated: int = 0
    recovery_keys: dict[str, str] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


def organisation_by_acronym(session: Session, acronym: str) -> Organisation | None:
    """The organisation with this acronym, case ignored."""
    wanted = acronym.strip().casefold()
    return next((organisation for organisation in session.execute(select(Organisation)).scalars()
                 if organisation.acronym.casefold() == wanted), None)


def import_directory(session: Session, data: bytes | str, *, now: datetime,
                     languages: Iterable[str] | None = None) -> DirectoryImport:
    """Check the whole file, then create or update organisations and contacts. `languages`: the
    codes the service ships (a focal point is written to in one of them; by default those with a
    catalog). Raises ImportRejected listing every problem (nothing written) if the file has any."""
    rows, problems = csv_import.read_rows(data, HEADER)
    organisations = _parse(rows, problems, _languages(tuple(languages) if languages is not None else _shipped()))
    existing = {org.acronym.casefold(): org for org in session.execute(select(Organisation)).scalars()}
    problems += _check_network(organisations, existing)
    if problems:
        raise ImportRejected(sorted(problems, key=lambda p: (p.line is None, p.line or 0)))
    result = DirectoryImport(warnings=_unknown_places(session, organisations))
    for key, rows_of_org in organisations.items():
        organisation = _upsert_organisation(session, existing.get(key), rows_of_org, now, result)
        _sync_contacts(session, organisation, rows_of_org.contacts, result)
    session.flush()
    return result


# --- checking ---------------------------------------------------------------------------------

def _parse(rows: list[Row], problems: list[Problem],
           languages: Callable[[str], str]) -> dict[str, _OrganisationRows]:
    """The file's organisations and their good contact rows; every problem goes to `problems`.
    A row with a bad field is still checked against the other rows as far as its good fields
    allow, so that fixing one batch of problems never uncovers another."""
    organisations: dict[str, _OrganisationRows] = {}
    seen_contacts: dict[tuple[str, str, str], int] = {}
    acronym_of_name: dict[str, tuple[str, int]] = {}
    for row in rows:
        before = len(problems)
        name = check(problems, row, "organisation", csv_import.text(200))
        acronym = check(problems, row, "acronym", _acronym)
        aliases = check(problems, row, "aliases", _aliases)
        contact = _ContactRow(
            line=row.line,
            role=check(problems, row, "role", _role),
            name=check(problems, row, "name", csv_import.text(200)),
            email=check(problems, row, "email", _email),
            phone=check(problems, row, "phone", _phone),
            telegram_chat_id=check(problems, row, "telegram_chat_id", _telegram_chat_id),
            townships=check(problems, row, "townships", csv_import.pcodes_or_all),
            languages=check(problems, row, "languages", languages),
        )
        if not (row.values["email"] or row.values["phone"] or row.values["telegram_chat_id"]):
            problems.append(Problem(row.line, "email", "no way to reach this person: give at least one of "
                                    "email, phone, telegram_chat_id"))
        if acronym is None:
            continue
        key = acronym.casefold()
        if name is not None:
            first = acronym_of_name.setdefault(name.casefold(), (key, row.line))
            if first[0] != key:
                problems.append(Problem(row.line, "acronym", f"{name!r} has another acronym on line {first[1]}; "
                                        "one organisation, one acronym"))
        organisation = organisations.get(key)
        if organisation is None and name is not None and aliases is not None:
            organisation = organisations[key] = _OrganisationRows(row.line, acronym, name, aliases)
        elif organisation is not None:
            _agree(organisation, row, name, aliases, problems)
        if organisation is None:
            continue
        if contact.role == "coordinator":
            organisation.coordinator_lines.append(row.line)
        if contact.role is not None and contact.name is not None:
            contact_key = (key, contact.role, contact.name.casefold())
            if contact_key in seen_contacts:
                problems.append(Problem(row.line, "name", f"this {contact.role} of {acronym} is already on "
                                        f"line {seen_contacts[contact_key]}"))
            else:
                seen_contacts[contact_key] = row.line
        if len(problems) == before:
            organisation.contacts.append(contact)
    return organisations


def _agree(organisation: _OrganisationRows, row: Row, name: str | None, aliases: str | None,
           problems: list[Problem]) -> None:
    """Every row of one organisation must give the same name and aliases (those it gives well)."""
    if name is not None and name != organisation.name:
        problems.append(Problem(row.line, "organisation", f"differs from line {organisation.line} "
                                f"({organisation.name!r}) for the same acronym {organisation.acronym}"))
    if aliases is not None and (sorted(csv_import.split_list(aliases))
                                != sorted(csv_import.split_list(organisation.aliases))):
        problems.append(Problem(row.line, "aliases", f"differ from line {organisation.line} for the same "
                                f"acronym {organisation.acronym}; give the same aliases on every row"))


def _check_network(organisations: dict[str, _OrganisationRows], existing: dict[str, Organisation]) -> list[Problem]:
    """Exactly one PSEA Network after the import: the file's coordinator rows decide for the
    organisations it lists, the database for the others."""
    in_file = [org for org in organisations.values() if org.is_network]
    kept = [org for key, org in existing.items() if org.is_network and key not in organisations]
    if not in_file and not kept:
        return [Problem(None, "role", "no PSEA Network: add the network's coordinator(s) with role coordinator "
                                      "(reports fall back to them)")]
    problems = []
    first = in_file[0].acronym if in_file else kept[0].acronym
    for org in in_file[1:] if in_file else []:
        problems.append(Problem(_first_coordinator(org), "role", f"coordinator rows make {org.acronym} a PSEA "
                                f"Network too, but {first} is one; only one organisation can be the network"))
    if in_file and kept:
        problems.append(Problem(_first_coordinator(in_file[0]), "role", f"{kept[0].acronym} is already the PSEA "
                                f"Network in the database; to hand the role to {in_file[0].acronym}, list "
                                f"{kept[0].acronym} in this file without coordinator rows"))
    return problems


def _first_coordinator(organisation: _OrganisationRows) -> int:
    return organisation.coordinator_lines[0]


def _unknown_places(session: Session, organisations: dict[str, _OrganisationRows]) -> list[Problem]:
    """P-codes the gazetteer does not know (only when one is loaded): the import still goes
    ahead, as the gazetteer may be imported later, but the operator should look."""
    known = set()
    for pcode, state_pcode in session.execute(select(Township.pcode, Township.state_pcode)):
        known.update((pcode, state_pcode))
    if not known:
        return []
    warnings = []
    for organisation in organisations.values():
        for contact in organisation.contacts:
            unknown = [code for code in contact.townships.split(";") if code != ALL and code not in known]
            if unknown:
                warnings.append(Problem(contact.line, "townships", f"not in the gazetteer: {', '.join(unknown)}"))
    return sorted(warnings, key=lambda p: p.line)


# --- field checks -----------------------------------------------------------------------------

def _acronym(value: str) -> str:
    if not value:
        raise Invalid("required")
    if len(value) > 32:
        raise Invalid("longer than 32 characters")
    if not _ACRONYM.fullmatch(value):
        raise Invalid("only letters, digits, spaces, - and _")
    return value


def _aliases(value: str) -> str:
    aliases = csv_import.split_list(value)
    if any(len(alias) > 200 for alias in aliases):
        raise Invalid("an alias is longer than 200 characters")
    return ";".join(dict.fromkeys(aliases))


def _role(value: str) -> str:
    if value not in ROLES:
        raise Invalid(f"must be {' or '.join(ROLES)}")
    return value


def _email(value: str) -> str | None:
    if not value:
        return None
    try:
        return email_address(value)
    except NotAnAddress as error:
        raise Invalid(str(error)) from None


def _phone(value: str) -> str | None:
    if not value:
        return None
    try:
        return phone_number(value)
    except NotAnAddress as error:
        raise Invalid(str(error)) from None


@cache
def _shipped() -> tuple[str, ...]:
    return Catalogs().shipped


def _languages(shipped: tuple[str, ...]) -> Callable[[str], str]:
    """Language codes separated by `;`, each one the service has a catalog for: a focal point is
    written to in the first of theirs it ships, and a code it does not know is most likely a typo
    (`bur` for `my`) that would leave them reading English."""

    def validate(value: str) -> str:
        codes = csv_import.languages(value)
        unknown = [code for code in csv_import.split_list(codes) if code not in shipped]
        if unknown:
            raise Invalid(f"not languages the service ships: {', '.join(unknown)} "
                          f"(it ships {', '.join(shipped)})")
        return codes

    return validate


def _telegram_chat_id(value: str) -> str | None:
    if not value:
        return None
    if not _TELEGRAM_CHAT_ID.fullmatch(value):
        raise Invalid("not a Telegram chat id (a whole number, negative for groups)")
    return value


# --- writing ----------------------------------------------------------------------------------

def _upsert_organisation(session: Session, organisation: Organisation | None, rows: _OrganisationRows,
                         now: datetime, result: DirectoryImport) -> Organisation:
    if organisation is None:
        organisation, recovery_key = accounts.create_organisation(
            session, name=rows.name, acronym=rows.acronym, aliases=rows.aliases, is_network=rows.is_network,
            now=now)
        result.recovery_keys[organisation.acronym] = recovery_key
        result.organisations_new += 1
        return organisation
    wanted = {"name": rows.name, "acronym": rows.acronym, "aliases": rows.aliases, "is_network": rows.is_network}
    if _assign(organisation, wanted):
        result.organisations_updated += 1
    else:
        result.organisations_unchanged += 1
    return organisation


def _sync_contacts(session: Session, organisation: Organisation, contacts: list[_ContactRow],
                   result: DirectoryImport) -> None:
    existing = {(contact.role, contact.name.casefold()): contact for contact in session.execute(
        select(Contact).where(Contact.organisation_id == organisation.id)).scalars()}
    for row in contacts:
        wanted = {"role": row.role, "name": row.name, "email": row.email, "phone": row.phone,
                  "telegram_chat_id": row.telegram_chat_id, "townships": row.townships,
                  "languages": row.languages, "active": True}
        contact = existing.pop((row.role, row.name.casefold()), None)
        if contact is None:
            session.add(Contact(organisation_id=organisation.id, **wanted))
            result.contacts_new += 1
        elif _assign(contact, wanted):
            result.contacts_updated += 1
        else:
            result.contacts_unchanged += 1
    for contact in existing.values():
        if contact.active:
            contact.active = False
            result.contacts_deactivated += 1


def _assign(instance, values: dict) -> bool:
    """Set the attributes that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed
