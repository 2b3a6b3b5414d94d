"""Places and organisations as people type them, looked up in the real database (SQLite and
PostgreSQL): the gazetteer's optional aliases column, the words people add around a name, Burmese
written without spaces, acronyms spelled in Burmese letters; and what must still be refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from i18n.zawgyi import zawgyi_form
from storage import accounts
from storage.csv_import import ImportRejected
from storage.demo import DEMO_DIR
from storage.directory_lookup import DirectoryLookup
from storage.gazetteer import TOWNSHIP_HEADER, import_townships
from storage.models import Township

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)
HEADER = ",".join(TOWNSHIP_HEADER)


@pytest.fixture
def session(app):
    with app.extensions["intake"].sessions() as session:
        import_townships(session, (DEMO_DIR / "townships.csv").read_bytes())
        for name, acronym, aliases in [
            ("World Food Programme", "WFP", "ကမ္ဘာ့စားနပ်ရိက္ခာအစီအစဉ်"),
            ("UN Refugee Agency", "UNHCR", "ကုလသမဂ္ဂ ဒုက္ခသည်များဆိုင်ရာ မဟာမင်းကြီးရုံး"),
            ("Danish Refugee Council", "DRC", ""),
            ("Demo Relief Agency", "DRA", "ဒီမို ကယ်ဆယ်ရေး အေဂျင်စီ"),
        ]:
            accounts.create_organisation(session, name=name, acronym=acronym, aliases=aliases, now=NOW)
        session.flush()
        yield session


@pytest.mark.parametrize("typed, pcode", [
    ("Mawlamyine Township", "MMR011001"), ("Mawlamyine Tsp", "MMR011001"), ("mawlamyine town", "MMR011001"),
    ("မော်လမြိုင်မြို့နယ်မှာ", "MMR011001"), ("မော်လမြိုင်မြို့", "MMR011001"), ("Moulmein", "MMR011001"),
    (zawgyi_form("မော်လမြိုင်မြို့နယ်"), "MMR011001"), ("Akyab", "MMR012001"), ("in Sittwe", "MMR012001"),
    ("Sittwe city", "MMR012001"), ("စစ်တွေမှာ", "MMR012001"), ("စစ်တွေကနေ", "MMR012001"), ("Banmaw", "MMR001010"),
    ("Pa-an", "MMR003001"), ("လိွုင်ကော်", "MMR002001"), ("Lashio town", "MMR015001"),
])
def test_places_as_people_type_them(session, typed, pcode):
    assert DirectoryLookup(session).match_township(typed)["pcode"] == pcode


@pytest.mark.parametrize("typed", ["Township", "မြို့နယ်", "town", "in", "မှာ", "Rangoon", "the camp", "ရွာ"])
def test_a_suffix_or_a_place_not_in_the_gazetteer_is_refused(session, typed):
    assert DirectoryLookup(session).match_township(typed) is None


@pytest.mark.parametrize("typed, acronym", [
    ("ကမ္ဘာ့စားနပ်ရိက္ခာအစီအစဉ်", "WFP"), ("ကမ္ဘာ့ စားနပ်ရိက္ခာ အစီအစဉ်", "WFP"), ("ကမ္ဘာ့စားနပ်ရိက္ခာအစီအစဉ်က", "WFP"),
    ("ကမ္ဘာ့စားနပ်ရိက္ခာအစီအစဉ်မှာ", "WFP"), ("ဒဗလျူအက်ဖ်ပီ", "WFP"),
    ("ကုလသမဂ္ဂဒုက္ခသည်များဆိုင်ရာမဟာမင်းကြီးရုံး", "UNHCR"), ("ယူအန်အိတ်ချ်စီအာ", "UNHCR"),
    ("ယူ အန် အိတ်ချ် စီ အာ က", "UNHCR"), (zawgyi_form("ယူအန်အိတ်ချ်စီအာ"), "UNHCR"), ("U.N.H.C.R", "UNHCR"),
    ("UNHRC", "UNHCR"), ("the WFP staff", "WFP"), ("ဒီအာအေ", "DRA"), ("ဒီအာစီ", "DRC"), ("DRC", "DRC"),
])
def test_organisations_as_people_type_them(session, typed, acronym):
    assert DirectoryLookup(session).match_organisation(typed)["name"].endswith(f"({acronym})")


@pytest.mark.parametrize("typed", ["D", "ဒီ", "ဒီအာ", "DR", "U", "ယူ", "ကုလသမဂ္ဂ", "Agency", "staff", "က"])
def test_no_organisation_from_a_letter_a_fragment_or_a_tie(session, typed):
    assert DirectoryLookup(session).match_organisation(typed) is None


def test_two_places_that_tie_are_refused(session):
    session.add(Township(pcode="MMR099001", state_pcode="MMR099", state_name_en="Test", name_en="Sittwe",
                         name_my="", aliases=""))
    session.flush()
    assert DirectoryLookup(session).match_township("Sittwe Township") is None


# ---- the gazetteer's aliases column ---------------------------------------------------------

def test_the_aliases_column_is_optional_and_imported(session):
    assert session.get(Township, "MMR011001").aliases.split(";")[0] == "Moulmein"
    result = import_townships(session, f"{HEADER},aliases\nMMR011001,MMR011,Mon,Mawlamyine,မော်လမြိုင်,"
                                       "Moulmein; Maulmain ;Moulmein\n")
    assert (result.updated, session.get(Township, "MMR011001").aliases) == (1, "Moulmein;Maulmain")
    # A file without the column leaves the aliases alone.
    result = import_townships(session, f"{HEADER}\nMMR011001,MMR011,Mon,Mawlamyine,မော်လမြိုင်\n")
    assert (result.unchanged, session.get(Township, "MMR011001").aliases) == (1, "Moulmein;Maulmain")


def test_bad_aliases_and_headers_are_reported(session):
    with pytest.raises(ImportRejected) as caught:
        import_townships(session, f"{HEADER},aliases\nMMR011001,MMR011,Mon,Mawlamyine,,{'x' * 101}\n")
    assert [str(p) for p in caught.value.problems] == [
        "line 2: aliases: an alias is longer than 100 characters: xxxxxxxxxxxxxxxxxxxx…"]
    with pytest.raises(ImportRejected) as caught:
        import_townships(session, f"{HEADER},nicknames\nMMR011001,MMR011,Mon,Mawlamyine,,Moulmein\n")
    assert str(caught.value.problems[0]).startswith("line 1: header: expected pcode,state_pcode,state_name_en,"
                                                    "name_en,name_my then optionally aliases")
