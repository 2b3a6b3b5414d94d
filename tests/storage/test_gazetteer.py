"""Gazetteer and emergency-contact imports on the real databases, and the shipped demo files."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from storage.csv_import import ImportRejected
from storage.demo import DEMO_DIR
from storage.directory import import_directory
from storage.gazetteer import EMERGENCY_HEADER, TOWNSHIP_HEADER, import_emergency_contacts, import_townships
from storage.models import EmergencyContact, Township

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)
SITTWE = "MMR012001,MMR012,Rakhine,Sittwe,စစ်တွေ"
BOTAHTAUNG = "MMR013017,MMR013,Yangon,Botahtaung,ဗိုလ်တထောင်"


def townships_file(*rows: str) -> str:
    return "\n".join([",".join(TOWNSHIP_HEADER), *rows]) + "\n"


def emergency_file(*rows: str) -> str:
    return "\n".join([",".join(EMERGENCY_HEADER), *rows]) + "\n"


@pytest.fixture
def session(app):
    with app.extensions["intake"].sessions() as session:
        yield session


def problems_of(function, session, text: str) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        function(session, text)
    return [str(problem) for problem in caught.value.problems]


def lines(session) -> set[tuple[str, str, str]]:
    return {(c.area, c.language, c.text) for c in session.execute(select(EmergencyContact)).scalars()}


def test_townships_are_created_then_updated_in_place(session):
    result = import_townships(session, townships_file(SITTWE, "mmr013017,mmr013,Yangon,Botahtaung,"))
    assert (result.new, result.updated, result.unchanged) == (2, 0, 0)
    botahtaung = session.get(Township, "MMR013017")
    assert (botahtaung.state_pcode, botahtaung.state_name_en, botahtaung.name_my) == ("MMR013", "Yangon", "")
    again = import_townships(session, townships_file(SITTWE, BOTAHTAUNG))
    assert (again.new, again.updated, again.unchanged) == (0, 1, 1)
    assert session.get(Township, "MMR013017").name_my == "ဗိုလ်တထောင်"
    # A later file that leaves a township out keeps it: old reports still name it.
    import_townships(session, townships_file(SITTWE))
    assert session.execute(select(func.count()).select_from(Township)).scalar_one() == 2


BAD_TOWNSHIPS = [
    ("Sittwe,MMR012,Rakhine,Sittwe,", "line 2: pcode: 'Sittwe' is not a P-code (2-3 letters then digits, "
                                      "like MMR013017)"),
    ("MMR012001,,Rakhine,Sittwe,", "line 2: state_pcode: required"),
    ("MMR012001,MMR013,Rakhine,Sittwe,", "line 2: pcode: MMR012001 does not start with its state's P-code MMR013"),
    ("MMR012,MMR012,Rakhine,Rakhine,", "line 2: pcode: MMR012 does not start with its state's P-code MMR012"),
    ("MMR012001,MMR012,,Sittwe,", "line 2: state_name_en: required"),
    ("MMR012001,MMR012,Rakhine,,စစ်တွေ", "line 2: name_en: required"),
    (f"MMR012001,MMR012,Rakhine,{'x' * 101},", "line 2: name_en: longer than 100 characters"),
]


@pytest.mark.parametrize("row, problem", BAD_TOWNSHIPS)
def test_each_bad_township_row_is_reported(session, row, problem):
    assert problems_of(import_townships, session, townships_file(row)) == [problem]


def test_township_files_with_problems_import_nothing_and_report_everything(session):
    text = townships_file(SITTWE, "MMR012009,MMR012,Rakhaing,Maungdaw,", SITTWE, "MMR013017,MMR013,Yangon,,")
    assert problems_of(import_townships, session, text) == [
        "line 3: state_name_en: MMR012 is called 'Rakhine' on line 2; one state, one name",
        "line 4: pcode: MMR012001 is already on line 2",
        "line 5: name_en: required",
    ]
    assert session.execute(select(Township)).first() is None


def test_emergency_contacts_replace_the_lines_of_the_areas_in_the_file(session):
    import_townships(session, townships_file(SITTWE, BOTAHTAUNG))
    first = import_emergency_contacts(session, emergency_file(
        "*,en,Call the demo line 0000", "*,my,ဖုန်း 0000", "MMR012,en,Rakhine line 0012", "mmr013017,en,Shelter 0013"))
    assert (first.new, first.unchanged, first.removed) == (4, 0, 0)
    assert ("MMR013017", "en", "Shelter 0013") in lines(session)
    same = import_emergency_contacts(session, emergency_file("*,en,Call the demo line 0000", "*,my,ဖုန်း 0000"))
    assert (same.new, same.unchanged, same.removed) == (0, 2, 0)
    changed = import_emergency_contacts(session, emergency_file("*,en,Call 1111 instead"))
    assert (changed.new, changed.unchanged, changed.removed) == (1, 0, 2)
    assert lines(session) == {("*", "en", "Call 1111 instead"), ("MMR012", "en", "Rakhine line 0012"),
                              ("MMR013017", "en", "Shelter 0013")}


BAD_EMERGENCY = [
    ("Yangon,en,Call", "line 2: area: 'Yangon' is not a P-code (2-3 letters then digits, like MMR013017)"),
    ("MMR099001,en,Call", "line 2: area: MMR099001 is not in the gazetteer (import the townships first, "
                          "or use * for anywhere)"),
    ("*,English,Call", "line 2: language: 'English' is not a language code (like en, my, shn)"),
    ("*,,Call", "line 2: language: required"),
    ("*,en,", "line 2: text: required"),
    (f"*,en,{'x' * 301}", "line 2: text: longer than 300 characters"),
    ('*,en,"two\nlines"', "line 2: text: contains a line break or another control character"),
]


@pytest.mark.parametrize("row, problem", BAD_EMERGENCY)
def test_each_bad_emergency_row_is_reported(session, row, problem):
    import_townships(session, townships_file(SITTWE))
    assert problems_of(import_emergency_contacts, session, emergency_file(row)) == [problem]


def test_emergency_files_with_problems_change_nothing(session):
    import_emergency_contacts(session, emergency_file("*,en,Call 0000"))
    text = emergency_file("*,en,Call 1111", "*,en,Call 1111", "*,fr,")
    assert problems_of(import_emergency_contacts, session, text) == [
        "line 3: text: the same line is already on line 2", "line 4: text: required"]
    assert lines(session) == {("*", "en", "Call 0000")}


def test_the_demo_files_import_cleanly(session):
    townships = import_townships(session, (DEMO_DIR / "townships.csv").read_bytes())
    emergency = import_emergency_contacts(session, (DEMO_DIR / "emergency_contacts.csv").read_bytes())
    directory = import_directory(session, (DEMO_DIR / "directory.csv").read_bytes(), now=NOW)
    assert 8 <= townships.new <= 12
    assert {area for area, _, _ in lines(session)} >= {"*"}
    assert {language for area, language, _ in lines(session) if area == "*"} == {"en", "my"}
    assert all("DEMO" in text for _, _, text in lines(session))
    assert emergency.new == len(lines(session))
    assert directory.warnings == []  # every demo P-code is in the demo gazetteer
    assert set(directory.recovery_keys) == {"PSEAN", "DRA", "EHP"}
    names_my = [t.name_my for t in session.execute(select(Township)).scalars()]
    assert all(name and all("\u1000" <= ch <= "\u109f" for ch in name) for name in names_my)  # Unicode Burmese


def test_an_areas_lines_township_first_then_state_in_the_persons_language(session):
    from storage.directory_lookup import DirectoryLookup

    session.add_all([EmergencyContact(area=area, language=language, text=text) for area, language, text in (
        ("*", "en", "Police 199"), ("MMR013", "en", "Yangon line 0000-1"), ("MMR013", "my", "ရန်ကုန် ဖုန်း ၀၀၀၀-၁"),
        ("MMR013017", "en", "Botahtaung shelter 0000-13"))])
    session.flush()
    lookup = DirectoryLookup(session)
    assert lookup.emergency_contacts("en") == "Police 199"  # the general lines only
    assert lookup.area_emergency_contacts("en", ("MMR013017", "MMR013")) == \
        "Botahtaung shelter 0000-13\nYangon line 0000-1"
    # Burmese where the area has it, else the fallback language's line
    assert lookup.area_emergency_contacts("my", ("MMR013017", "MMR013")) == \
        "Botahtaung shelter 0000-13\nရန်ကုန် ဖုန်း ၀၀၀၀-၁"
    assert lookup.area_emergency_contacts("en", ("MMR012001", "MMR012")) == ""  # none for that area
    assert lookup.area_emergency_contacts("en", (None, None)) == ""
