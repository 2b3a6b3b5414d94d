"""Reading the directory back, on the real databases: who is notified but cannot open what they
are told about (and why), and the export that imports again to the same directory."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from i18n.catalogs import Catalogs
from storage import accounts, directory_listing
from storage.directory import import_directory
from storage.models import Contact, Organisation

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)
PASSWORD = "long enough password"
FILE = (
    "organisation,acronym,aliases,role,name,email,phone,telegram_chat_id,townships,languages\n"
    "PSEA Network,PSEAN,the Network,coordinator,Net Coordinator,coord@psean.example.org,,,*,en\n"
    'Demo Relief Agency,DRA,"Demo Relief;ဒီမို",focal_point,Daw Aye,aye@dra.example.org,+959450001111,,MMR013,en;my\n'
    "Demo Relief Agency,DRA,Demo Relief;ဒီမို,focal_point,U Ba,,,-1001234567,*,my\n"
    "Demo Relief Agency,DRA,Demo Relief;ဒီမို,focal_point,=Ko Hla,hla@dra.example.org,,,*,en\n"
    "Demo Relief Agency,DRA,Demo Relief;ဒီမို,focal_point,Ma Mya,mya@dra.example.org,,,*,en\n"
    "Demo Relief Agency,DRA,Demo Relief;ဒီမို,focal_point,Ma Nu,nu@dra.example.org,,,*,en\n"
)


@pytest.fixture
def session(app):
    with app.extensions["intake"].sessions() as session:
        result = import_directory(session, FILE, now=NOW, languages=Catalogs().shipped)
        session.recovery_keys = result.recovery_keys
        yield session


def organisation(session, acronym):
    return session.execute(select(Organisation).where(Organisation.acronym == acronym)).scalar_one()


def account(session, email, role="focal_point", acronym="DRA", grant=True):
    org = organisation(session, acronym)
    user = accounts.create_user(session, email=email, role=role, password=PASSWORD, organisation=org, now=NOW)
    if grant:
        accounts.grant_with_recovery_key(session, org, user, session.recovery_keys[acronym], NOW)
    return user


def reasons(session) -> dict[str, str]:
    return {item.name: item.reason for item in directory_listing.cannot_open(session)}


def test_every_notified_contact_without_a_way_to_read_is_named_with_the_reason(session):
    account(session, "coord@psean.example.org", role="coordinator", acronym="PSEAN")
    account(session, "aye@dra.example.org")
    account(session, "hla@dra.example.org", grant=False)
    accounts.set_active(session, account(session, "mya@dra.example.org"), False)
    account(session, "nu@dra.example.org", role="caseworker", grant=False)
    session.flush()
    assert reasons(session) == {
        "U Ba": "no e-mail address in the directory, so no portal account can be matched to them",
        "=Ko Hla": "the portal account hla@dra.example.org does not hold DRA's key yet (a colleague who holds "
                   "it gives it on the portal's Access page)",
        "Ma Mya": "the portal account mya@dra.example.org is disabled",
        "Ma Nu": "the portal account nu@dra.example.org has the role caseworker, which cannot hold keys",
    }
    assert str(directory_listing.cannot_open(session)[0]).endswith(
        "is notified but cannot open what they are told about: " + directory_listing.cannot_open(session)[0].reason)


def test_an_account_of_another_organisation_does_not_count(session):
    account(session, "aye@dra.example.org", role="coordinator", acronym="PSEAN")
    assert reasons(session)["Daw Aye"] == "the portal account aye@dra.example.org belongs to another organisation"


def test_with_no_accounts_everyone_is_named_and_contacts_no_longer_listed_are_not(session):
    assert set(reasons(session)) == {"Net Coordinator", "Daw Aye", "U Ba", "=Ko Hla", "Ma Mya", "Ma Nu"}
    assert reasons(session)["Daw Aye"] == "no portal account for aye@dra.example.org"
    session.execute(select(Contact).where(Contact.name == "Ma Nu")).scalar_one().active = False
    assert "Ma Nu" not in reasons(session)


def test_the_listing_shows_organisations_contacts_and_accounts(session):
    user = account(session, "aye@dra.example.org")
    listed = {entry.organisation.acronym: entry for entry in directory_listing.listing(session)}
    assert list(listed) == ["DRA", "PSEAN"]
    aye = next(entry for entry in listed["DRA"].contacts if entry.contact.name == "Daw Aye")
    assert (aye.account.id, aye.holds_key, aye.blocker) == (user.id, True, None)


def test_the_export_imports_again_to_the_same_directory(session):
    rows = list(directory_listing.export_rows(session))
    assert rows[0] == ["organisation", "acronym", "aliases", "role", "name", "email", "phone", "telegram_chat_id",
                       "townships", "languages"]
    assert ["Demo Relief Agency", "DRA", "Demo Relief;ဒီမို", "focal_point", "Daw Aye", "aye@dra.example.org",
            "+959450001111", "", "MMR013", "en;my"] in rows
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    again = import_directory(session, out.getvalue(), now=NOW, languages=Catalogs().shipped)
    assert (again.organisations_unchanged, again.contacts_unchanged, again.contacts_new, again.contacts_updated,
            again.contacts_deactivated) == (2, 6, 0, 0, 0)
