"""A small directory for tests: the PSEA Network, two organisations, places, emergency lines.
Built straight through the storage layer, so tests do not depend on the CSV importer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage import accounts, logins, reports
from storage.models import Contact, EmergencyContact, Organisation, Referral, Township

COORDINATOR_EMAIL = "coordinator@network.example.org"
DRA_YANGON_EMAIL = "fp.yangon@dra.example.org"
DRA_RAKHINE_EMAIL = "fp.rakhine@dra.example.org"
EHP_EMAIL = "fp@ehp.example.org"
EHP_PHONE = "+959777000111"
EHP_TELEGRAM = "424242"


@dataclass
class Seeded:
    network: Organisation
    dra: Organisation
    ehp: Organisation
    recovery: dict  # acronym -> recovery key


def seed_directory(session, now: datetime) -> Seeded:
    """Create the test directory (not committed)."""
    network, network_key = accounts.create_organisation(session, name="PSEA Network", acronym="PSEAN",
                                                        is_network=True, now=now)
    dra, dra_key = accounts.create_organisation(session, name="Demo Relief Agency", acronym="DRA",
                                                aliases="Demo Relief;ဒီမို ကယ်ဆယ်ရေး", now=now)
    ehp, ehp_key = accounts.create_organisation(session, name="Example Health Partners", acronym="EHP", now=now)
    session.add_all([
        Contact(organisation_id=network.id, role="coordinator", name="Coordinator", email=COORDINATOR_EMAIL,
                townships="*", languages="en", active=True),
        Contact(organisation_id=dra.id, role="focal_point", name="DRA Yangon", email=DRA_YANGON_EMAIL,
                townships="MMR013", languages="en;my", active=True),
        Contact(organisation_id=dra.id, role="focal_point", name="DRA Rakhine", email=DRA_RAKHINE_EMAIL,
                townships="MMR012", languages="my", active=True),
        Contact(organisation_id=ehp.id, role="focal_point", name="EHP", email=EHP_EMAIL, phone=EHP_PHONE,
                telegram_chat_id=EHP_TELEGRAM, townships="*", languages="en", active=True),
        Township(pcode="MMR013017", state_pcode="MMR013", state_name_en="Yangon", name_en="Botahtaung",
                 name_my="ဗိုလ်တထောင်"),
        Township(pcode="MMR012001", state_pcode="MMR012", state_name_en="Rakhine", name_en="Sittwe",
                 name_my="စစ်တွေ"),
        EmergencyContact(area="*", language="en", text="Police (demo): 199"),
        EmergencyContact(area="*", language="en", text="Women's helpline (demo): 09 000 000 000"),
        EmergencyContact(area="*", language="my", text="ရဲ (နမူနာ): ၁၉၉"),
    ])
    session.flush()
    return Seeded(network, dra, ehp, {"PSEAN": network_key, "DRA": dra_key, "EHP": ehp_key})


def with_directory(app):
    """Seed the test directory into an app's database (committed); `app.seeded` says what was made."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        app.seeded = seed_directory(session, runtime.clock())
        session.commit()
    return app


def key_holder(app, organisation, acronym: str, role: str = "focal_point"):
    """A portal user of a seeded organisation, granted its key with the recovery key; returns the
    user and the unlocked organisation key."""
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        user = accounts.create_user(session, email=f"{role}@{acronym.lower()}.example.org", role=role,
                                    password="a long password!", organisation=organisation, now=runtime.clock())
        accounts.grant_with_recovery_key(session, organisation, user, app.seeded.recovery[acronym], runtime.clock())
        key = logins.open_organisation_key(logins.read_credentials(session, user.email), "a long password!")
        session.commit()
    return user, key


def read_the_referral(app, key: bytes) -> dict:
    """The sealed content of the only referral in the database, opened with `key`."""
    with app.extensions["intake"].sessions() as session:
        return reports.read_referral(session, session.execute(select(Referral)).scalar_one(), key)
