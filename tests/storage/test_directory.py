"""The focal-point directory import on the real databases: every bad row reported with its line,
nothing written from a file with problems, and re-imports that update in place."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from i18n.catalogs import Catalogs
from storage import accounts, sealing
from storage.csv_import import ImportRejected
from storage.directory import HEADER
from storage.directory import import_directory as import_with
from storage.gazetteer import import_townships
from storage.models import Contact, Organisation

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)
SHIPPED = Catalogs().shipped
NETWORK = "PSEA Network,PSEAN,the Network,coordinator,Net Coordinator,coord@psean.example.org,,,*,en;my"
DRA = "Demo Relief Agency,DRA,Demo Relief;ဒီမို ကယ်ဆယ်ရေး,focal_point"
EHP = "Example Health Partners,EHP,,focal_point"


def csv_file(*rows: str, header: str = ",".join(HEADER)) -> str:
    return "\n".join([header, *rows]) + "\n"


GOOD = csv_file(
    NETWORK,
    f"{DRA},Daw Aye,aye@dra.example.org,+95 9 450 001 111,,MMR013;mmr012001,en;my",
    f"{DRA},U Ba,,,-1001234567,*,my",
    f"{EHP},Ko Hla,hla@ehp.example.org,,,MMR001001,en",
)


def import_directory(session, data, *, now):
    """The import as the command runs it: with the languages the service ships."""
    return import_with(session, data, now=now, languages=SHIPPED)


@pytest.fixture
def session(app):
    with app.extensions["intake"].sessions() as session:
        yield session


def rejected(session, text: str) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        import_directory(session, text, now=NOW)
    return [str(problem) for problem in caught.value.problems]


def organisation(session, acronym: str) -> Organisation:
    return session.execute(select(Organisation).where(Organisation.acronym == acronym)).scalar_one()


def contacts(session, acronym: str) -> dict[str, Contact]:
    org = organisation(session, acronym)
    rows = session.execute(select(Contact).where(Contact.organisation_id == org.id)).scalars()
    return {contact.name: contact for contact in rows}


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_good_file_creates_organisations_contacts_and_keys(session):
    result = import_directory(session, GOOD, now=NOW)
    assert (result.organisations_new, result.organisations_updated, result.organisations_unchanged) == (3, 0, 0)
    assert (result.contacts_new, result.contacts_updated, result.contacts_deactivated) == (4, 0, 0)
    dra = organisation(session, "DRA")
    assert (dra.name, dra.aliases, dra.is_network) == ("Demo Relief Agency", "Demo Relief;ဒီမို ကယ်ဆယ်ရေး", False)
    assert organisation(session, "PSEAN").is_network
    aye, ba = contacts(session, "DRA")["Daw Aye"], contacts(session, "DRA")["U Ba"]
    assert (aye.role, aye.email, aye.phone, aye.telegram_chat_id) == (
        "focal_point", "aye@dra.example.org", "+959450001111", None)
    assert (aye.townships, aye.languages, aye.active) == ("MMR013;MMR012001", "en;my", True)
    assert (ba.email, ba.phone, ba.telegram_chat_id, ba.townships) == (None, None, "-1001234567", "*")


def test_recovery_keys_are_returned_for_new_organisations_only_and_open_their_keys(session):
    first = import_directory(session, GOOD, now=NOW)
    assert set(first.recovery_keys) == {"PSEAN", "DRA", "EHP"}
    for acronym, key in first.recovery_keys.items():
        org = organisation(session, acronym)
        assert sealing.public_key_of(sealing.unwrap(org.recovery_wrap, key)) == org.public_key
        assert key.encode() not in org.recovery_wrap
    assert len(set(first.recovery_keys.values())) == 3
    again = import_directory(session, GOOD + "Third Org,TO,,focal_point,Ma Su,su@to.example.org,,,*,en\n", now=NOW)
    assert list(again.recovery_keys) == ["TO"]
    third = organisation(session, "TO")
    assert sealing.public_key_of(sealing.unwrap(third.recovery_wrap, again.recovery_keys["TO"])) == third.public_key
    with pytest.raises(sealing.SealError):
        sealing.unwrap(third.recovery_wrap, first.recovery_keys["DRA"])


def test_reimporting_the_same_file_changes_nothing(session):
    import_directory(session, GOOD, now=NOW)
    keys = {org.acronym: org.public_key for org in session.execute(select(Organisation)).scalars()}
    result = import_directory(session, GOOD, now=NOW)
    assert (result.organisations_new, result.organisations_updated, result.organisations_unchanged) == (0, 0, 3)
    assert (result.contacts_new, result.contacts_updated, result.contacts_unchanged,
            result.contacts_deactivated) == (0, 0, 4, 0)
    assert result.recovery_keys == {}
    assert (count(session, Organisation), count(session, Contact)) == (3, 4)
    assert {org.acronym: org.public_key for org in session.execute(select(Organisation)).scalars()} == keys


def test_reimport_updates_in_place_matching_acronyms_and_names_ignoring_case(session):
    import_directory(session, GOOD, now=NOW)
    dra_id, aye_id = organisation(session, "DRA").id, contacts(session, "DRA")["Daw Aye"].id
    renamed = "Demo Relief Agency International,dra,DRA Intl,focal_point"
    changed = csv_file(NETWORK, f"{renamed},DAW AYE,aye@new.example.org,,,*,en", f"{renamed},U Ba,,,-1001234567,*,my")
    result = import_directory(session, changed, now=NOW)
    assert (result.organisations_new, result.organisations_updated, result.organisations_unchanged) == (0, 1, 1)
    assert (result.contacts_new, result.contacts_updated, result.contacts_unchanged) == (0, 1, 2)
    dra = session.get(Organisation, dra_id)
    assert (dra.acronym, dra.name, dra.aliases) == ("dra", "Demo Relief Agency International", "DRA Intl")
    aye = session.get(Contact, aye_id)
    assert (aye.name, aye.email, aye.phone, aye.townships, aye.languages) == (
        "DAW AYE", "aye@new.example.org", None, "*", "en")
    assert count(session, Organisation) == 3  # EHP, not in the file, is left alone
    assert contacts(session, "EHP")["Ko Hla"].active


def test_contacts_no_longer_listed_are_deactivated_and_come_back_when_listed_again(session):
    import_directory(session, GOOD, now=NOW)
    without_ba = GOOD.replace(f"{DRA},U Ba,,,-1001234567,*,my\n", "")
    result = import_directory(session, without_ba, now=NOW)
    assert (result.contacts_deactivated, result.contacts_unchanged) == (1, 3)
    assert contacts(session, "DRA")["U Ba"].active is False
    assert contacts(session, "DRA")["Daw Aye"].active is True
    assert import_directory(session, without_ba, now=NOW).contacts_deactivated == 0
    back = import_directory(session, GOOD, now=NOW)
    assert (back.contacts_new, back.contacts_updated) == (0, 1)
    assert contacts(session, "DRA")["U Ba"].active is True


def test_import_never_commits(session):
    import_directory(session, GOOD, now=NOW)
    session.rollback()
    assert count(session, Organisation) == 0


BAD_ROWS = [
    (",DRA,,focal_point,A,a@x.org,,,*,en", "organisation: required"),
    ("Org,,,focal_point,A,a@x.org,,,*,en", "acronym: required"),
    ("Org,B@D,,focal_point,A,a@x.org,,,*,en", "acronym: only letters, digits, spaces, - and _"),
    (f"Org,{'A' * 33},,focal_point,A,a@x.org,,,*,en", "acronym: longer than 32 characters"),
    ("Org,ORG,,boss,A,a@x.org,,,*,en", "role: must be focal_point or coordinator"),
    ("Org,ORG,,focal_point,,a@x.org,,,*,en", "name: required"),
    ("Org,ORG,,focal_point,A,,,,*,en", "email: no way to reach this person"),
    ("Org,ORG,,focal_point,A,someone@,,,*,en", "email: 'someone@' is not an e-mail address: There must be "
                                               "something after the @-sign."),
    ("Org,ORG,,focal_point,A,a b@x.org,,,*,en", "email: 'a b@x.org' is not an e-mail address: The email address "
                                                "contains invalid characters before the @-sign: SPACE."),
    ("Org,ORG,,focal_point,A,a@localhost,,,*,en", "email: 'a@localhost' is not an e-mail address"),
    ("Org,ORG,,focal_point,A,,09450001111,,*,en", "phone: not an international number in E.164 form"),
    ("Org,ORG,,focal_point,A,,+12345,,*,en", "phone: not an international number in E.164 form"),
    ("Org,ORG,,focal_point,A,,+1234567890123456,,*,en", "phone: not an international number in E.164 form"),
    ("Org,ORG,,focal_point,A,,+959123456789,,*,en", "phone: +959123456789 is not a valid phone number in country "
                                                    "code +95 (MM): check the digits"),
    ("Org,ORG,,focal_point,A,,+999 1234 5678,,*,en", "phone: +999 1234 5678 is not a phone number any country uses"),
    ("Org,ORG,,focal_point,A,,,12a,*,en", "telegram_chat_id: not a Telegram chat id"),
    ("Org,ORG,,focal_point,A,a@x.org,,,,en", "townships: required"),
    ("Org,ORG,,focal_point,A,a@x.org,,,Yangon;MMR013,en", "townships: not P-codes (2-3 letters then digits, "
                                                          "like MMR013017): Yangon"),
    ("Org,ORG,,focal_point,A,a@x.org,,,*;MMR013,en", "townships: * means everywhere and cannot be combined"),
    ("Org,ORG,,focal_point,A,a@x.org,,,*,English", "languages: not language codes (like en, my, shn): English"),
    ("Org,ORG,,focal_point,A,a@x.org,,,*,en;bur;fr", "languages: not languages the service ships: bur, fr "
                                                     "(it ships en, kac, ksw, my, shn)"),
    ("Org,ORG,,focal_point,A\tB,a@x.org,,,*,en", "name: contains a line break or another control character"),
    ("Org,ORG,,focal_point,A,a@x.org,,,*", "row: 9 values, expected 10"),
]


@pytest.mark.parametrize("row, problem", BAD_ROWS, ids=[problem.split(":")[0] + str(i) for i, (_, problem)
                                                        in enumerate(BAD_ROWS)])
def test_each_bad_row_is_reported_with_its_line_and_reason(session, row, problem):
    problems = rejected(session, csv_file(NETWORK, row))
    assert len(problems) == 1
    assert problems[0].startswith(f"line 3: {problem}")
    assert count(session, Organisation) == 0


def test_every_problem_is_reported_together_with_physical_line_numbers(session):
    text = csv_file(
        NETWORK,
        '"Demo Relief\nAgency",DRA,,focal_point,Daw Aye,aye@x.org,,,*,en',  # lines 3-4
        f"{EHP},Ko Hla,hla@,,,*,en",  # line 5
        "",  # line 6: blank lines are skipped
        f"{EHP},Ma Mya,mya@x.org,,,*,en",  # line 7: good
        f'{EHP},"Ko\nThan",,0912345,,MMR01,en',  # lines 8-9
        f"{EHP},Ma Nu,,+959450001112,,*,en",  # line 10: good
    )
    assert rejected(session, text) == [
        "line 3: organisation: contains a line break or another control character",
        "line 5: email: 'hla@' is not an e-mail address: There must be something after the @-sign.",
        "line 8: name: contains a line break or another control character",
        "line 8: phone: not an international number in E.164 form (+ then 7 to 15 digits, like +959...)",
    ]
    assert (count(session, Organisation), count(session, Contact)) == (0, 0)


def test_a_file_with_one_bad_row_leaves_the_existing_directory_untouched(session):
    import_directory(session, GOOD, now=NOW)
    session.commit()
    edited = GOOD.replace("aye@dra.example.org", "new@dra.example.org") + "New Org,NEW,,focal_point,X,x@,,,*,en\n"
    assert rejected(session, edited) == ["line 6: email: 'x@' is not an e-mail address: There must be something "
                                         "after the @-sign."]
    assert contacts(session, "DRA")["Daw Aye"].email == "aye@dra.example.org"
    assert count(session, Organisation) == 3


def test_rows_of_one_organisation_must_agree_and_contacts_are_listed_once(session):
    text = csv_file(
        NETWORK,
        f"{DRA},Daw Aye,aye@x.org,,,*,en",
        "Demo Relief Agncy,DRA,Demo Relief;ဒီမို ကယ်ဆယ်ရေး,focal_point,U Ba,ba@x.org,,,*,en",
        "Demo Relief Agency,DRA,Demo Relief,focal_point,U Ba,ba@x.org,,,*,en",
        f"{DRA},daw aye,aye2@x.org,,,*,en",
        "Demo Relief Agency,DRB,,focal_point,Ko Ko,ko@x.org,,,*,en",
    )
    assert rejected(session, text) == [
        "line 4: organisation: differs from line 3 ('Demo Relief Agency') for the same acronym DRA",
        "line 5: aliases: differ from line 3 for the same acronym DRA; give the same aliases on every row",
        "line 5: name: this focal_point of DRA is already on line 4",
        "line 6: name: this focal_point of DRA is already on line 3",
        "line 7: acronym: 'Demo Relief Agency' has another acronym on line 3; one organisation, one acronym",
    ]


def test_aliases_may_come_in_any_order_with_spaces(session):
    text = csv_file(NETWORK, f"{DRA},Daw Aye,aye@x.org,,,*,en",
                    "Demo Relief Agency,DRA, ဒီမို ကယ်ဆယ်ရေး ; Demo Relief ;,focal_point,U Ba,ba@x.org,,,*,en")
    assert import_directory(session, text, now=NOW).contacts_new == 3
    assert organisation(session, "DRA").aliases == "Demo Relief;ဒီမို ကယ်ဆယ်ရေး"


def test_a_wrong_header_is_reported_clearly(session):
    problems = rejected(session, csv_file(NETWORK, header="organisation,acronym,role,name,email"))
    assert problems == ["line 1: header: expected exactly " + ",".join(HEADER)
                        + " (missing aliases, phone, telegram_chat_id, townships, languages)"]
    reordered = ",".join(HEADER[1::-1] + HEADER[2:])
    assert rejected(session, csv_file(NETWORK, header=reordered))[0].endswith("(same columns in another order)")
    assert rejected(session, "") == ["line 1: header: the file is empty; the first line must be " + ",".join(HEADER)]


def test_utf8_with_bom_and_crlf_line_ends_is_read(session):
    data = "\ufeff".encode() + GOOD.replace("\n", "\r\n").encode("utf-8")
    assert import_directory(session, data, now=NOW).contacts_new == 4
    assert organisation(session, "DRA").aliases == "Demo Relief;ဒီမို ကယ်ဆယ်ရေး"


def test_a_file_that_is_not_utf8_names_the_line(session):
    data = GOOD.encode("utf-8") + "Caf\xe9 Org,CAF,,focal_point,A,a@x.org,,,*,en\n".encode("latin-1")
    assert rejected(session, data) == ['line 6: file: not UTF-8 text (save it as "CSV UTF-8")']


def test_broken_quoting_is_reported(session):
    problems = rejected(session, csv_file(NETWORK, 'Org,ORG,,focal_point,"A"B,a@x.org,,,*,en'))
    assert problems[0].startswith("line 3: file: not valid CSV")


def test_there_must_be_a_network(session):
    assert rejected(session, csv_file(f"{DRA},Daw Aye,aye@x.org,,,*,en")) == [
        "role: no PSEA Network: add the network's coordinator(s) with role coordinator (reports fall back to them)"]
    import_directory(session, GOOD, now=NOW)
    # Once the database has one, a file about other organisations needs none.
    result = import_directory(session, csv_file(f"{EHP},Ko Hla,hla@ehp.example.org,,,MMR001001,en"), now=NOW)
    assert result.organisations_unchanged == 1
    assert organisation(session, "PSEAN").is_network


def test_only_one_organisation_can_be_the_network(session):
    two = csv_file(NETWORK, f"{DRA},Daw Aye,aye@x.org,,,*,en", "Other Network,ON,,coordinator,C,c@x.org,,,*,en")
    assert rejected(session, two) == ["line 4: role: coordinator rows make ON a PSEA Network too, but PSEAN is one; "
                                      "only one organisation can be the network"]
    import_directory(session, GOOD, now=NOW)
    assert rejected(session, csv_file("Other Network,ON,,coordinator,C,c@x.org,,,*,en")) == [
        "line 2: role: PSEAN is already the PSEA Network in the database; to hand the role to ON, list PSEAN "
        "in this file without coordinator rows"]
    handover = csv_file("Other Network,ON,,coordinator,C,c@x.org,,,*,en",
                        "PSEA Network,PSEAN,the Network,focal_point,Net FP,fp@psean.example.org,,,*,en")
    result = import_directory(session, handover, now=NOW)
    assert (result.organisations_new, result.organisations_updated, result.contacts_deactivated) == (1, 1, 1)
    assert organisation(session, "ON").is_network and not organisation(session, "PSEAN").is_network


def test_codes_missing_from_a_loaded_gazetteer_are_warned_about_but_imported(session):
    assert import_directory(session, GOOD, now=NOW).warnings == []  # no gazetteer yet: nothing to check
    import_townships(session, "pcode,state_pcode,state_name_en,name_en,name_my\n"
                              "MMR012001,MMR012,Rakhine,Sittwe,စစ်တွေ\n")
    result = import_directory(session, GOOD, now=NOW)
    assert [str(warning) for warning in result.warnings] == [
        "line 3: townships: not in the gazetteer: MMR013",
        "line 5: townships: not in the gazetteer: MMR001001",
    ]


def test_coordinators_from_the_directory_can_have_portal_accounts(session):
    import_directory(session, GOOD, now=NOW)
    user = accounts.create_user(session, email="coord@psean.example.org", role="coordinator",
                                password="long enough password", organisation=organisation(session, "PSEAN"),
                                now=NOW)
    assert user.organisation_id == organisation(session, "PSEAN").id


def test_every_problem_of_the_file_comes_in_one_pass(session):
    """A row with a bad field is still checked against the others: fixing what the first report
    names is enough, no second batch appears."""
    text = csv_file(
        "PSEA Network,PSEAN,the Network,coordinator,Net Coordinator,coord@,,,*,en",  # line 2: the only coordinator
        f"{DRA},Daw Aye,aye@dra.example.org,+959450001111,,*,en;bur",  # line 3: an unknown language
        f"{DRA},Daw Aye,aye2@,,,*,en",  # line 4: a bad e-mail, and Daw Aye twice
        "Demo Relief Agncy,DRA,Demo Relief;ဒီမို ကယ်ဆယ်ရေး,focal_point,U Ba,,+959123456789,,*,my",  # line 5
    )
    assert rejected(session, text) == [
        "line 2: email: 'coord@' is not an e-mail address: There must be something after the @-sign.",
        "line 3: languages: not languages the service ships: bur (it ships en, kac, ksw, my, shn)",
        "line 4: email: 'aye2@' is not an e-mail address: There must be something after the @-sign.",
        "line 4: name: this focal_point of DRA is already on line 3",
        "line 5: phone: +959123456789 is not a valid phone number in country code +95 (MM): check the digits",
        "line 5: organisation: differs from line 3 ('Demo Relief Agency') for the same acronym DRA",
    ]  # and no "no PSEA Network": the coordinator row with the typo still says which one it is
    fixed = csv_file(
        NETWORK,
        f"{DRA},Daw Aye,aye@dra.example.org,+959450001111,,*,en;my",
        f"{DRA},U Ba,,+959450001112,,*,my",
    )
    assert import_directory(session, fixed, now=NOW).contacts_new == 3


def test_numbers_are_stored_in_e164_and_addresses_as_checked(session):
    text = csv_file(NETWORK, f"{DRA},Daw Aye,Aye@DRA.Example.ORG,+95 (9) 450-001.111,,*,en")
    import_directory(session, text, now=NOW)
    aye = contacts(session, "DRA")["Daw Aye"]
    assert (aye.email, aye.phone) == ("Aye@dra.example.org", "+959450001111")
