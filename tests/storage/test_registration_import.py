"""The registration import and the export of approved changes, on the real databases: a good file
sealed (nothing that names a person in clear), every bad value reported by line and column with
nothing written, re-imports that skip unchanged rows and update changed ones in place, records
deactivated only when asked, erased records never brought back."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from storage import self_service
from storage.changes import request_change
from storage.crypto import Vault
from storage.csv_import import ImportRejected
from storage.demo import DEMO_DIR
from storage.gazetteer import import_townships
from storage.models import Registration
from storage.registration_import import HEADER, approved_changes, import_registrations
from storage.registrations import find_by_number, number_digest, open_details, open_number, phone_key, write_details
from tests.test_privacy import database_bytes, number_forms

AYE = "MMR-17-0001,G-100,Zq7Aye,Zq7Family,1990-04-17,F,+959421337420,MMR013017,PRIM,DAYL,SM-1;PG,my,active"
TUN = "MMR-17-0002,G-100,Tun Zq7Tun,,1988-02,M,,MMR001001,NONE,FARM,,en,active"
HLA = "mmr-17-0003,G-200,ဒေါ်Zq7လှ,,1975,x,+95 9 450 001 112,,,,ds;sv-2;DS,,inactive"
PERSONAL = ["Zq7Aye", "Zq7Family", "Zq7Tun", "ဒေါ်Zq7လှ", "1990-04-17", "MMR-17-0001", "MMR170001",
            "+959421337420", "959421337420"]


def csv_file(*rows: str, header: str = ",".join(HEADER)) -> str:
    return "\n".join([header, *rows]) + "\n"


GOOD = csv_file(AYE, TUN, HLA)


@pytest.fixture
def runtime(app):
    runtime = app.extensions["intake"]
    with runtime.transaction() as session:
        import_townships(session, (DEMO_DIR / "townships.csv").read_bytes())
    return runtime


def run_import(runtime, text: str, **options):
    return import_registrations(runtime.transaction, runtime.vault, text, languages=runtime.catalogs.shipped,
                                now=runtime.clock(), **options)


def counts(result) -> tuple[int, int, int, int, int]:
    return result.new, result.updated, result.unchanged, result.deactivated, result.erased_skipped


def rejected(runtime, text: str) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        run_import(runtime, text)
    return [str(problem) for problem in caught.value.problems]


def records(runtime) -> dict[str, Registration]:
    """Registration number as imported -> its row."""
    with runtime.sessions() as session:
        rows = session.execute(select(Registration)).scalars().all()
        return {open_number(runtime.vault, row): row for row in rows}


def details(runtime, number: str) -> dict:
    return open_details(runtime.vault, records(runtime)[number])


def total(runtime) -> int:
    with runtime.sessions() as session:
        return session.execute(select(func.count()).select_from(Registration)).scalar_one()


# --- a good file --------------------------------------------------------------------------------

def test_a_good_file_is_imported_with_its_details_sealed_and_its_checks_derived(runtime):
    assert counts(run_import(runtime, GOOD)) == (3, 0, 0, 0, 0)
    vault: Vault = runtime.vault
    rows = records(runtime)
    assert set(rows) == {"MMR-17-0001", "MMR-17-0002", "mmr-17-0003"}
    aye, tun, hla = rows["MMR-17-0001"], rows["MMR-17-0002"], rows["mmr-17-0003"]
    assert open_details(vault, aye) == {
        "registration_number": "MMR-17-0001", "group_number": "G-100", "given_name": "Zq7Aye",
        "family_name": "Zq7Family", "date_of_birth": "1990-04-17", "sex": "F", "phone": "+959421337420",
        "township": "MMR013017", "address": "", "education": "PRIM", "occupation": "DAYL", "needs": "SM-1;PG",
        "language": "my"}
    # Codes are read in any case; the phone in E.164; repeated needs once.
    opened = open_details(vault, hla)
    assert (opened["sex"], opened["phone"], opened["needs"], opened["language"]) == ("X", "+959450001112", "DS;SV-2", "")
    assert aye.number_digest == number_digest(vault, "mmr 17 0001")
    assert aye.dob_check == vault.dob_check(aye.number_digest, "1990-04-17") and aye.dob_precision == "day"
    assert (tun.dob_check, tun.dob_precision) == (vault.dob_check(tun.number_digest, "1988-02"), "month")
    assert hla.dob_precision == "year"
    assert aye.phone_key == phone_key(vault, "+959421337420") and tun.phone_key is None
    assert (aye.township_pcode, tun.township_pcode, hla.township_pcode) == ("MMR013017", "MMR001001", None)
    assert (aye.status, tun.status, hla.status) == ("active", "active", "inactive")
    assert aye.updated_at == runtime.clock() and aye.erased_at is None and len(aye.row_digest) == 32
    with runtime.sessions() as session:
        assert find_by_number(session, vault, "MMR170002").id == tun.id


def test_nothing_that_names_a_person_is_in_the_database_in_clear(app, runtime, caplog):
    caplog.set_level(logging.DEBUG)
    run_import(runtime, GOOD)
    assert total(runtime) == 3
    stored = database_bytes(app)
    for value in PERSONAL:
        assert value.encode() not in stored, value
        assert value not in caplog.text
    for form in number_forms("+959421337420") + number_forms("+959450001112"):
        assert form not in stored, form


def test_chunks_written_on_a_thread_pool_give_the_same_records(runtime):
    rows = [f"MMR-18-{n:04d},G-{n // 3},Person Zq7{n},,19{50 + n % 40}-0{1 + n % 9},{'FMX'[n % 3]},"
            f"+95945{n:07d},MMR013017,,,,en,active" for n in range(11)]
    result = run_import(runtime, csv_file(*rows), chunk_rows=4, workers=2)
    assert counts(result) == (11, 0, 0, 0, 0)
    stored = records(runtime)
    for n in range(11):
        row = stored[f"MMR-18-{n:04d}"]
        assert open_details(runtime.vault, row)["given_name"] == f"Person Zq7{n}"
        assert row.dob_check == runtime.vault.dob_check(row.number_digest, f"19{50 + n % 40}-0{1 + n % 9}")
        assert row.phone_key == phone_key(runtime.vault, f"+95945{n:07d}")


def test_progress_is_told_for_each_phase(runtime):
    told = []

    @contextmanager
    def progress(phase, length):
        done = []
        yield done.append
        told.append((phase, length, sum(done)))

    run_import(runtime, GOOD, progress=progress)
    assert told == [("checking", 3, 3), ("importing", 3, 3)]


# --- a file with problems -----------------------------------------------------------------------

def test_every_bad_value_is_reported_by_line_and_column_and_nothing_is_written(runtime):
    text = csv_file(
        AYE,
        ",G 1,,,17/04/1990,W,09421337420,MMR013,SCHOOL,PILOT,SM;XX;pg-12345,fr,gone",
        "MMR_17_9,G-1,Zq7Name,,1990-02-30,,+959abc,MMR999999,,,,,active",
        "MMR-17-0010,,Zq7Name,,2030,,,bad code,,,,EN,",
        "MMR-17-0011,,Zq7Name,,1990-4-1,,,,,,SM-,,active",
        "MMR-17-0012,,Zq7Name,,1990-04-01,,,,,,,,active,extra",
        "MMR-17-0013,," + "N" * 201 + ",,1990-04-01,,,,,,,,active",
    )
    problems = rejected(runtime, text)
    assert problems == [
        "line 3: registration_number: required",
        "line 3: group_number: only letters, digits and - (dashes)",
        "line 3: given_name: required",
        "line 3: date_of_birth: not a date (YYYY-MM-DD, YYYY-MM or YYYY)",
        "line 3: sex: must be F, M, X or empty",
        "line 3: phone: not an international number in E.164 form (+ then 7 to 15 digits, like +959...)",
        "line 3: township: MMR013 is not a township in the gazetteer (see gazetteer import)",
        "line 3: education: not one of the codes NONE, PRIM, MIDL, HIGH, VOC, UNIV, MON, OTH (or empty)",
        "line 3: occupation: not one of the codes FARM, DAYL, TRADE, SKILL, CARE, STUD, NONE, OTH (or empty)",
        "line 3: needs: codes 2, 3 of the list: not a need code (DS, SM, CR, ER, WR, SP, SC, FU, LP, SV, TR, PG, "
        "optionally with a sub-code after -, like SM-1; separated by ;)",
        "line 3: language: 'fr' is not a shipped language (en, kac, ksw, my, shn) or empty",
        "line 3: status: must be active or inactive",
        "line 4: registration_number: only letters, digits and - (dashes)",
        "line 4: date_of_birth: not a date (YYYY-MM-DD, YYYY-MM or YYYY)",
        "line 4: phone: not an international number in E.164 form (+ then 7 to 15 digits, like +959...)",
        "line 4: township: MMR999999 is not a township in the gazetteer (see gazetteer import)",
        "line 5: date_of_birth: in the future",
        "line 5: township: 'bad code' is not a P-code (2-3 letters then digits, like MMR013017)",
        "line 5: language: 'EN' is not a shipped language (en, kac, ksw, my, shn) or empty",
        "line 5: status: must be active or inactive",
        "line 6: date_of_birth: not a date (YYYY-MM-DD, YYYY-MM or YYYY)",
        "line 6: needs: code 1 of the list: not a need code (DS, SM, CR, ER, WR, SP, SC, FU, LP, SV, TR, PG, "
        "optionally with a sub-code after -, like SM-1; separated by ;)",
        "line 7: row: 14 values, expected 13 (a value containing a comma must be in double quotes)",
        "line 8: given_name: longer than 200 characters",
    ]
    assert total(runtime) == 0  # the good row on line 2 was not imported either
    said = "\n".join(problems)
    for value in ["17/04/1990", "09421337420", "+959abc", "1990-02-30", "MMR_17_9", "G 1", "Zq7Name", "2030",
                  "1990-4-1", "pg-12345", "XX"]:
        assert value not in said, value


def test_a_date_of_birth_today_is_not_in_the_future(runtime):
    today = runtime.clock().date()
    rows = [f"MMR-19-000{n},,Zq7Name,,{value},,,,,,,,active"
            for n, value in enumerate([today.isoformat(), today.isoformat()[:7], str(today.year)])]
    assert run_import(runtime, csv_file(*rows)).new == 3
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert rejected(runtime, csv_file(f"MMR-19-0009,,Zq7Name,,{tomorrow},,,,,,,,active")) == [
        "line 2: date_of_birth: in the future"]


def test_a_control_character_and_a_wrong_header_are_reported(runtime):
    assert rejected(runtime, csv_file('MMR-1,,"Zq7\x07Name",,,,,,,,,,active')) == [
        "line 2: given_name: contains a line break or another control character"]
    assert rejected(runtime, csv_file(AYE, header=",".join(HEADER[:-1]))) == [
        "line 1: header: expected exactly " + ",".join(HEADER) + " (missing status)"]


@pytest.mark.parametrize("again", ["MMR-17-0001", "mmr170001", "mmr-17-0001", "MMR17-0001"])
def test_a_number_twice_is_reported_even_spelled_differently(runtime, again):
    text = csv_file(AYE, TUN, AYE.replace("MMR-17-0001", again).replace(",F,", ",M,"))
    assert rejected(runtime, text) == [
        "line 4: registration_number: the same number as line 2 (dashes, spaces and case do not count)"]
    assert total(runtime) == 0


def test_a_duplicate_is_reported_on_a_row_with_other_problems_too(runtime):
    text = csv_file(AYE, AYE.replace("MMR-17-0001", "MMR170001").replace(",F,", ",Q,"))
    assert rejected(runtime, text) == [
        "line 3: sex: must be F, M, X or empty",
        "line 3: registration_number: the same number as line 2 (dashes, spaces and case do not count)"]


# --- importing again ----------------------------------------------------------------------------

def snapshot(runtime) -> dict[str, tuple]:
    return {number: (row.id, row.row_digest, row.updated_at, row.details, row.number, row.dob_check, row.status)
            for number, row in records(runtime).items()}


def test_importing_the_same_file_again_changes_nothing_and_derives_nothing(runtime, clock, monkeypatch):
    run_import(runtime, GOOD)
    before = snapshot(runtime)
    clock.advance(days=1)
    monkeypatch.setattr(Vault, "dob_check", lambda *args: pytest.fail("an unchanged row was derived again"))
    monkeypatch.setattr(Vault, "seal", lambda *args: pytest.fail("an unchanged row was sealed again"))
    assert counts(run_import(runtime, GOOD)) == (0, 0, 3, 0, 0)
    # The same sealed bytes (a new sealing has a new nonce), the same digest, the same time.
    assert snapshot(runtime) == before


def test_spacing_and_case_that_clean_away_count_as_unchanged(runtime):
    run_import(runtime, GOOD)
    respelled = csv_file(AYE.replace("+959421337420", "+95 9 421 337 420").replace(",PRIM,", ",prim,"), TUN, HLA)
    assert counts(run_import(runtime, respelled)) == (0, 0, 3, 0, 0)


def test_a_changed_row_is_updated_in_place_and_keeps_the_address_the_person_gave(runtime, clock):
    run_import(runtime, GOOD)
    aye = records(runtime)["MMR-17-0001"]
    with runtime.transaction() as session:  # the person set an address through "update my details"
        row = session.get(Registration, aye.id)
        write_details(runtime.vault, row, {**open_details(runtime.vault, row), "address": "Zq7 street 5"},
                      runtime.clock())
    before = snapshot(runtime)
    clock.advance(days=1)
    changed = AYE.replace("+959421337420", "+959421337499").replace("SM-1;PG", "SM-1").replace("1990-04-17",
                                                                                               "1990-04")
    assert counts(run_import(runtime, csv_file(changed, TUN, HLA))) == (0, 1, 2, 0, 0)
    after = snapshot(runtime)
    assert after["MMR-17-0002"] == before["MMR-17-0002"] and after["mmr-17-0003"] == before["mmr-17-0003"]
    row = records(runtime)["MMR-17-0001"]
    assert row.id == aye.id and total(runtime) == 3
    assert row.updated_at == clock.now and row.row_digest != aye.row_digest
    opened = open_details(runtime.vault, row)
    assert (opened["phone"], opened["needs"], opened["date_of_birth"], opened["address"]) == (
        "+959421337499", "SM-1", "1990-04", "Zq7 street 5")
    assert row.phone_key == phone_key(runtime.vault, "+959421337499")
    assert (row.dob_check, row.dob_precision) == (runtime.vault.dob_check(row.number_digest, "1990-04"), "month")


def test_a_new_spelling_of_a_number_updates_the_same_record(runtime):
    run_import(runtime, GOOD)
    ids = {number: row.id for number, row in records(runtime).items()}
    assert counts(run_import(runtime, csv_file(AYE.replace("MMR-17-0001", "MMR170001"), TUN, HLA))) == (
        0, 1, 2, 0, 0)
    assert records(runtime)["MMR170001"].id == ids["MMR-17-0001"] and total(runtime) == 3


def test_records_the_file_no_longer_lists_are_deactivated_only_when_asked(runtime, clock):
    run_import(runtime, GOOD)
    shorter = run_import(runtime, csv_file(AYE))
    assert counts(shorter) == (0, 0, 1, 0, 0) and shorter.left_alone == 1  # HLA is inactive already
    assert {number: row.status for number, row in records(runtime).items()} == {
        "MMR-17-0001": "active", "MMR-17-0002": "active", "mmr-17-0003": "inactive"}
    clock.advance(hours=1)
    # HLA was inactive already: only TUN is deactivated.
    assert counts(run_import(runtime, csv_file(AYE), deactivate_missing=True)) == (0, 0, 1, 1, 0)
    rows = records(runtime)
    assert total(runtime) == 3  # never deleted
    assert (rows["MMR-17-0002"].status, rows["MMR-17-0002"].updated_at) == ("inactive", clock.now)
    assert rows["MMR-17-0001"].status == "active"
    # Listed again as it was, the record is active again (its row is written, not skipped).
    assert counts(run_import(runtime, GOOD, deactivate_missing=True)) == (0, 1, 2, 0, 0)
    assert records(runtime)["MMR-17-0002"].status == "active"


def erase(runtime, number: str) -> None:
    with runtime.transaction() as session:
        row = find_by_number(session, runtime.vault, number)
        self_service.erase(session, row, runtime.clock())


def test_an_erased_record_is_never_brought_back(runtime, monkeypatch):
    run_import(runtime, GOOD)
    erase(runtime, "MMR-17-0002")
    changed = TUN.replace("Tun Zq7Tun", "Tun Zq7Again")
    with monkeypatch.context() as patched:  # known as erased from the start: not even derived
        patched.setattr(Vault, "dob_check", lambda *args: pytest.fail("an erased record's row was derived"))
        assert counts(run_import(runtime, csv_file(AYE, changed, HLA))) == (0, 0, 2, 0, 1)
    assert counts(run_import(runtime, GOOD)) == (0, 0, 2, 0, 1)
    assert counts(run_import(runtime, csv_file(AYE), deactivate_missing=True)) == (0, 0, 1, 0, 0)
    row = records(runtime)["MMR-17-0002"]
    assert (row.details, row.dob_check, row.phone_key, row.row_digest, row.status) == (
        None, None, None, None, "inactive")
    assert total(runtime) == 3


def test_a_record_erased_while_the_file_is_imported_is_not_brought_back(runtime):
    run_import(runtime, GOOD)
    opened = []

    @contextmanager
    def transaction():
        opened.append(1)
        if len(opened) == 2:  # after the file was checked, before its rows are written
            erase(runtime, "MMR-17-0002")
        with runtime.transaction() as session:
            yield session

    changed = csv_file(AYE, TUN.replace("Tun Zq7Tun", "Tun Zq7Again"), HLA)
    result = import_registrations(transaction, runtime.vault, changed, languages=runtime.catalogs.shipped,
                                  now=runtime.clock())
    assert counts(result) == (0, 0, 2, 0, 1)
    assert records(runtime)["MMR-17-0002"].details is None


# --- export -------------------------------------------------------------------------------------

def approve(runtime, number: str, kind: str, old, new, decided_at: datetime, status: str = "approved") -> None:
    with runtime.transaction() as session:
        registration = find_by_number(session, runtime.vault, number)
        change = request_change(session, runtime.vault, registration, kind=kind, old_value=old, new_value=new,
                                channel="sms", language="en", reply_to=None,
                                now=decided_at - timedelta(hours=2))
        change.status, change.decided_at = status, decided_at


def test_the_export_lists_approved_changes_oldest_decision_first_with_needs_as_codes_only(runtime):
    run_import(runtime, GOOD)
    day = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)
    approve(runtime, "MMR-17-0001", "phone", "+959421337420", "+959421337499", day + timedelta(days=2))
    approve(runtime, "MMR-17-0002", "needs", {"codes": ["SM"], "words": "Zq7 my words"},
            {"codes": ["SM", "PG-1"], "words": "Zq7 I am pregnant"}, day)
    approve(runtime, "mmr-17-0003", "household", None, {"words": "my son moved to Zq7 town"},
            day + timedelta(days=1))
    approve(runtime, "MMR-17-0001", "township", "MMR013017", "MMR001001", day, status="rejected")
    approve(runtime, "MMR-17-0001", "address", "", "Zq7 street", day, status="pending")
    with runtime.sessions() as session:
        rows = list(approved_changes(session, runtime.vault))
        since = list(approved_changes(session, runtime.vault, since=date(2026, 11, 21)))
    assert rows == [
        ("MMR-17-0002", "needs", "SM", "SM;PG-1", "sms", "2026-11-20T06:30:00Z", "2026-11-20T08:30:00Z"),
        ("mmr-17-0003", "household", "", "my son moved to Zq7 town", "sms", "2026-11-21T06:30:00Z",
         "2026-11-21T08:30:00Z"),
        ("MMR-17-0001", "phone", "+959421337420", "+959421337499", "sms", "2026-11-22T06:30:00Z",
         "2026-11-22T08:30:00Z"),
    ]
    assert since == rows[1:]
    assert not any("words" in value or "pregnant" in value for row in rows for value in row)


def test_the_export_still_names_an_erased_record(runtime):
    run_import(runtime, GOOD)
    erase(runtime, "MMR-17-0002")
    approve(runtime, "MMR-17-0002", "erasure", None, None, runtime.clock())  # acknowledged by the office
    with runtime.sessions() as session:
        assert list(approved_changes(session, runtime.vault)) == [
            ("MMR-17-0002", "erasure", "", "", "sms", "2026-11-24T07:00:00Z", "2026-11-24T09:00:00Z")]
