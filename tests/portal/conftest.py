"""Portal fixtures: a small network of organisations with accounts and sealed reports, filed
through the real storage functions, and a browser stand-in that fills in the portal's forms
(CSRF token included) the way a person's browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from storage import accounts, sealing
from storage.logins import TOTP_PURPOSE
from storage.models import User
from storage.reports import NewReport, file_report
from tests.support.portal import PASSWORD, PortalUser, csrf_token  # noqa: F401 (shared with other tests)

@pytest.fixture
def portal_user(client) -> PortalUser:
    return PortalUser(client)


def give_totp(app, email: str) -> str:
    """Give an account a TOTP second factor (sealed as the service stores it); returns the secret."""
    secret = pyotp.random_base32()
    runtime = app.extensions["intake"]
    with runtime.sessions() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        user.totp_secret = runtime.vault.seal(secret.encode(), TOTP_PURPOSE)
        db.commit()
    return secret


@dataclass
class World:
    """What the fixture built: emails by name, case refs by organisation, account texts."""

    emails: dict[str, str] = field(default_factory=dict)
    case_refs: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # case ref -> what happened
    recovery_keys: dict[str, str] = field(default_factory=dict)


def file_test_report(db, runtime, organisation, account: str, *, now, urgent=False, child="no", **content):
    new = NewReport(recipient_organisation_id=organisation.id, route="named",
                    named_organisation_id=organisation.id, incident_period="this_month",
                    township_pcode="MMR013017", state_pcode="MMR013", child_involved=child, affected="other",
                    urgent=urgent, contact_allowed=False,
                    receipt=sealing.receipt_secrets(sealing.new_receipt(), runtime.vault.receipt_pepper),
                    content={"account": account, "affected": "other", **content})
    deadline = now + timedelta(hours=12 if urgent else 24)
    _, referral = file_report(db, new, now=now, ack_deadline=deadline)
    return referral.case_ref


@pytest.fixture
def world(app, clock) -> World:
    """Two aid organisations and the PSEA Network, their accounts, and a few reports.

    * SAVE: focal point `save` (holds the key), `save_new` (no grant yet); two reports, one urgent
      with a child involved. CARE: focal point `care` (holds the key); one report.
    * PSEAN (the network): coordinator `coord` (holds the key); one report routed to it.
    * `caseworker` (SAVE) and `admin` (no organisation): no referral access.
    """
    runtime = app.extensions["intake"]
    built = World()
    now = clock()
    with runtime.sessions() as db:
        organisations = {}
        for acronym, network in (("SAVE", False), ("CARE", False), ("PSEAN", True)):
            organisations[acronym], built.recovery_keys[acronym] = accounts.create_organisation(
                db, name=f"{acronym} organisation", acronym=acronym, is_network=network, now=now)

        def user(name, role, acronym=None, grant=True):
            organisation = organisations.get(acronym)
            made = accounts.create_user(db, email=f"{name}@example.org", role=role, password=PASSWORD,
                                        organisation=organisation, now=now)
            if grant and organisation is not None:
                accounts.grant_with_recovery_key(db, organisation, made, built.recovery_keys[acronym], now)
            built.emails[name] = made.email

        user("save", "focal_point", "SAVE")
        user("save_new", "focal_point", "SAVE", grant=False)
        user("care", "focal_point", "CARE")
        user("coord", "coordinator", "PSEAN")
        user("caseworker", "caseworker", "SAVE", grant=False)
        user("admin", "admin")

        for acronym, reports in {
            "SAVE": [("Qx7 the distribution officer asked for favours", {}),
                     ("Qx8 a teacher touched my niece <b>not bold</b>", {"urgent": True, "child": "yes",
                                                                          "contact": "yes",
                                                                          "contact_number": "+95 9 4500 1234"})],
            "CARE": [("Qx9 a driver demanded money for a ration card", {})],
            "PSEAN": [("Qx0 a guard at the camp gate threatened us", {})],
        }.items():
            built.case_refs[acronym] = []
            for account, options in reports:
                case_ref = file_test_report(db, runtime, organisations[acronym], account, now=now, **options)
                built.case_refs[acronym].append(case_ref)
                built.accounts[case_ref] = account
        db.commit()
    return built
