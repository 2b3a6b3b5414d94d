"""Portal fixtures: a small network of organisations with accounts and reports filed the way
production files them (the report flow's answers, in the shapes its validators store, through
`bot.casework.filing`), and a browser stand-in that fills in the portal's forms (CSRF token
included) the way a person's browser would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.casework import filing
from storage.directory_lookup import DirectoryLookup
from intake.engine import SubmitReport
from storage import accounts, totp
from storage.models import Contact, Township, User
from storage.reports import NewReport, file_report
from tests.support.portal import PASSWORD, PortalUser, csrf_token, totp_code  # noqa: F401 (shared with other tests)
from tests.support.receipts import untaken_receipt

@pytest.fixture
def portal_user(client) -> PortalUser:
    return PortalUser(client)


def give_totp(app, email: str) -> str:
    """Give an account a new TOTP secret (sealed as the service stores it, no code used yet);
    returns the secret."""
    secret = totp.new_secret()
    runtime = app.extensions["intake"]
    with runtime.sessions() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        totp.store(user, runtime.vault, secret)
        db.commit()
    return secret


@dataclass
class World:
    """What the fixture built: emails by name, case refs by organisation, account texts."""

    emails: dict[str, str] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)  # email -> its authenticator's secret
    case_refs: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # case ref -> what happened
    recovery_keys: dict[str, str] = field(default_factory=dict)


def report_answers(db, organisation: str | None, account: str, *, child="no", where="Botahtaung",
                   contact_number: str | None = None, danger="no") -> dict:
    """The draft the report flow leaves when someone answers so: the organisation and the place as
    its validators store them (the directory's own matching), the account as its messages."""
    directory = DirectoryLookup(db)
    answers = {"danger": danger, "account": [account], "when": "this_month", "affected": "other", "child": child,
               "contact": "no"}
    answers["organisation"] = directory.match_organisation(organisation) if organisation else "unknown"
    if organisation:
        answers["send_to_them"] = "yes"
    answers["where"] = directory.match_township(where) if where else "skip"
    if contact_number:
        answers.update(contact="yes", contact_how="other_number", contact_number=contact_number)
    return answers


def file_test_report(db, runtime, answers: dict, *, now, address="+959450001111", channel="sms") -> str:
    """File a report as the inbox does when a conversation sends one; returns its case reference."""
    receipt, secrets = untaken_receipt(db, runtime.vault.receipt_pepper)
    return filing.file(db, runtime, DirectoryLookup(db), SubmitReport(answers, receipt), address=address,
                       channel=channel, now=now, receipt=secrets)


def seal_stored_content(db, runtime, organisation, content: dict, *, now) -> str:
    """A report whose sealed content is exactly `content` (as older versions, or a future one,
    filed it), stored through the storage layer; returns its case reference."""
    new = NewReport(recipient_organisation_id=organisation.id, route="named",
                    named_organisation_id=organisation.id, incident_period="this_month",
                    township_pcode="MMR013017", state_pcode="MMR013", child_involved="no", affected="other",
                    urgent=False, contact_allowed=False,
                    receipt=untaken_receipt(db, runtime.vault.receipt_pepper)[1], content=content)
    _, referral = file_report(db, new, now=now, ack_deadline=now + timedelta(hours=24))
    return referral.case_ref


@pytest.fixture
def world(app, clock) -> World:
    """Two aid organisations and the PSEA Network, their accounts, and a few reports.

    * SAVE: focal point `save` (holds the key), `save_new` (no grant yet); two reports, one urgent
      with a child involved. CARE: focal point `care` (holds the key); one report.
    * PSEAN (the network): coordinator `coord` (holds the key); one report routed to it.
    * `caseworker` (SAVE) and `admin` (no organisation): no referral access.
    Every account has TOTP set up (`world.totp_secrets`), as every account must.
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
            built.totp_secrets[made.email] = totp.new_secret()
            totp.store(made, runtime.vault, built.totp_secrets[made.email])

        user("save", "focal_point", "SAVE")
        user("save_new", "focal_point", "SAVE", grant=False)
        user("care", "focal_point", "CARE")
        user("coord", "coordinator", "PSEAN")
        user("caseworker", "caseworker", "SAVE", grant=False)
        user("admin", "admin")

        # Focal points to notify, the network's coordinator, and a place, as a directory has them.
        for acronym, role in (("SAVE", "focal_point"), ("CARE", "focal_point"), ("PSEAN", "coordinator")):
            db.add(Contact(organisation_id=organisations[acronym].id, role=role, name=f"{acronym} {role}",
                           email=f"{role}@{acronym.lower()}.example.org", townships="*", languages="en",
                           active=True))
        db.add(Township(pcode="MMR013017", state_pcode="MMR013", state_name_en="Yangon", name_en="Botahtaung",
                        name_my="ဗိုလ်တထောင်"))
        db.flush()

        for acronym, reports in {
            "SAVE": [("Qx7 the distribution officer asked for favours", "SAVE", {}),
                     ("Qx8 a teacher touched my niece <b>not bold</b>", "SAVE",
                      {"child": "yes", "contact_number": "+95 9 4500 1234"})],
            "CARE": [("Qx9 a driver demanded money for a ration card", "CARE", {})],
            "PSEAN": [("Qx0 a guard at the camp gate threatened us", None, {})],  # "I don't know" goes there
        }.items():
            built.case_refs[acronym] = []
            for account, named, options in reports:
                case_ref = file_test_report(db, runtime, report_answers(db, named, account, **options), now=now)
                built.case_refs[acronym].append(case_ref)
                built.accounts[case_ref] = account
        db.commit()
    return built
