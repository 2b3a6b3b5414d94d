"""Receipts that cost per report (issue 14, point 3): an 18-digit receipt's first six digits find
its report through a keyed digest, and the whole number is derived with that report's own salt,
so one offline guess, even with the server's secrets, is a guess at one report; the receipts of
before (16 digits, the same way; 12 digits, one fixed salt) still open their reports; a new receipt whose lookup part is
taken is refused before filing; wrong, unknown and deleted receipts cost the same derivation."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from storage import reports, sealing
from storage.followup import FollowUpLookup, ReceiptLimits
from storage.models import Report
from storage.sealing import KdfParams, SealError
from tests.support import directory as d

FAST = KdfParams(iterations=1, lanes=1, memory_kib=8 * 1024)
PEPPER = b"p" * 32
OLD = "482109375566"


def test_the_shipped_receipt_cost_and_format():
    check = ("from storage import sealing; assert sealing.RECEIPT_KDF == sealing.RECEIPT_STRONG == "
             "sealing.KdfParams(iterations=3, lanes=4, memory_kib=131072); "
             "assert (sealing.RECEIPT_DIGITS, sealing.LOOKUP_DIGITS) == (18, 6)")
    subprocess.run([sys.executable, "-c", check], check=True, cwd=Path(__file__).resolve().parents[2])
    receipts = {sealing.new_receipt() for _ in range(200)}
    assert len(receipts) == 200 and all(len(r) == 18 and r.isdigit() and r[0] != "0" for r in receipts)
    from intake.prompts import format_receipt
    assert format_receipt("482109375566123456") == "482 109 375 566 123 456"
    # The receipts given before are shown as they were given.
    assert format_receipt("4821093755661234") == "4821 0937 5566 1234"
    assert format_receipt(OLD) == "4821 0937 5566"


def test_a_new_receipt_is_derived_with_its_reports_own_salt():
    receipt = "482 109 375 566 123 456"
    a = sealing.receipt_secrets(receipt, PEPPER, FAST)
    assert len(a.salt) == 16 and a.kdf == FAST
    assert a == sealing.receipt_secrets("၄၈၂၁၀၉၃၇၅၅၆၆၁၂၃၄၅၆", PEPPER, FAST, salt=a.salt)  # any script
    other = sealing.receipt_secrets(receipt, PEPPER, FAST)  # the same number, another report's salt
    assert other.lookup == a.lookup and other.salt != a.salt and other.wrap_key != a.wrap_key
    # The lookup is the first six digits' keyed digest: free to compute with the pepper, and all it
    # tells is those six digits (so the secret part is the other twelve).
    assert sealing.receipt_lookup("482109999999999999", PEPPER) == a.lookup
    assert sealing.receipt_lookup("482108999999999999", PEPPER) != a.lookup
    # A 16-digit receipt given before has the lookup of its first six digits too: the same space.
    assert sealing.receipt_lookup("4821099999999999", PEPPER) == a.lookup
    assert sealing.receipt_lookup(receipt, b"q" * 32) != a.lookup  # keyed: a database alone matches nothing
    assert sealing.receipt_lookup(OLD, PEPPER) is None
    for wrong in ("12345", "4821093755661", "48210937556612345", "4821093755661234567"):
        assert sealing.receipt_lookup(wrong, PEPPER) is None
        with pytest.raises(ValueError):
            sealing.receipt_secrets(wrong, PEPPER, FAST)


def test_one_offline_guess_opens_at_most_one_report():
    """An attacker with the database and the pepper: report A's row gives its salt, and a guess
    derived with it tests A alone. Even B's own receipt, guessed for A, opens neither A nor B;
    before, one derivation's lookup was compared with every report's at once."""
    rows = []
    for _ in range(3):
        receipt = sealing.new_receipt()
        secrets = sealing.receipt_secrets(receipt, PEPPER, FAST)
        key, _ = sealing.encrypt_content({})
        rows.append((receipt, secrets.salt, sealing.wrap_for_receipt(key, secrets), key))
    (receipt_a, salt_a, wrap_a, key_a), (receipt_b, salt_b, wrap_b, key_b) = rows[:2]
    guess = sealing.receipt_secrets(receipt_b, PEPPER, FAST, salt=salt_a)  # a guess at A: A's salt
    for wrap in (wrap_a, wrap_b, rows[2][2]):
        with pytest.raises(SealError):
            sealing.unwrap_with_receipt(wrap, guess)
    assert sealing.unwrap_with_receipt(wrap_b, sealing.receipt_secrets(receipt_b, PEPPER, FAST, salt=salt_b)) == key_b
    assert sealing.unwrap_with_receipt(wrap_a, sealing.receipt_secrets(receipt_a, PEPPER, FAST, salt=salt_a)) == key_a

    # The receipts of before: one derivation, and its lookup is compared with all of them.
    old_lookups = {sealing.receipt_secrets(f"48210937556{n}", PEPPER, FAST).lookup for n in range(3)}
    assert sealing.receipt_secrets("482109375562", PEPPER, FAST).lookup in old_lookups


def _file(session, seeded, secrets, now):
    return reports.file_report(session, reports.NewReport(
        recipient_organisation_id=seeded.dra.id, route="named", named_organisation_id=seeded.dra.id,
        incident_period="this_month", township_pcode=None, state_pcode=None, child_involved="no",
        affected="self", urgent=False, contact_allowed=False, receipt=secrets), now=now,
        ack_deadline=now + timedelta(hours=24))[0]


class Host:
    """The inbox's part, counted: each derivation with the salt and cost it was asked for."""

    def __init__(self):
        self.derived = []

    def __call__(self, receipt, salt=None, kdf=None):
        self.derived.append((receipt, salt, kdf))
        return sealing.receipt_secrets(receipt, PEPPER, kdf, salt=salt)


@pytest.fixture
def world(app, clock):
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        seeded = d.seed_directory(session, clock())
        host = Host()
        check = FollowUpLookup(session, runtime.vault, sender_key="s" * 64, now=clock(), zone="UTC",
                               limits=ReceiptLimits(per_sender=50, everyone=50, minutes=30), secrets_for=host,
                               pepper=PEPPER)
        yield session, seeded, host, check, clock()


def test_a_new_receipt_opens_its_report_and_its_row_keeps_salt_and_cost(world):
    session, seeded, host, check, now = world
    receipt = sealing.new_receipt()
    report = _file(session, seeded, sealing.receipt_secrets(receipt, PEPPER), now)
    assert len(report.receipt_salt) == 16 and sealing.receipt_kdf_from_text(report.receipt_kdf) == sealing.RECEIPT_KDF
    assert receipt.encode() not in report.receipt_wrap + report.receipt_salt
    assert check.check_receipt(receipt).outcome == "found"
    assert host.derived == [(receipt, report.receipt_salt, sealing.RECEIPT_KDF)]


def test_an_old_format_receipt_still_opens_its_report(world):
    session, seeded, host, check, now = world
    # As a report was filed before migration 0017: 12 digits, one fixed salt, no salt on the row.
    report = _file(session, seeded, sealing.receipt_secrets(OLD, PEPPER), now)
    assert report.receipt_salt is None and report.receipt_kdf is None
    found = check.check_receipt(OLD)  # as intake.followup.read_receipt gives it
    assert found.outcome == "found" and found.case.report_id == report.id
    assert check.check_receipt("482109375567").outcome == "wrong"
    assert host.derived == [(OLD, None, None), ("482109375567", None, None)]


def test_wrong_unknown_and_deleted_receipts_cost_the_same_derivation(world):
    session, seeded, host, check, now = world
    receipt, gone = sealing.new_receipt(), sealing.new_receipt()
    report = _file(session, seeded, sealing.receipt_secrets(receipt, PEPPER), now)
    _file(session, seeded, sealing.receipt_secrets(gone, PEPPER), now)
    session.execute(delete(Report).where(Report.id != report.id))
    mistyped = receipt[:-1] + str((int(receipt[-1]) + 1) % 10)  # its lookup part finds the report
    unknown = "1" * 18 if sealing.receipt_lookup("1" * 18, PEPPER) != report.receipt_lookup else "2" * 18
    for typed in (mistyped, unknown, gone):
        assert check.check_receipt(typed).outcome == "wrong"
    assert [(len(salt), kdf) for _, salt, kdf in host.derived] == [(16, sealing.RECEIPT_KDF)] * 3
    assert host.derived[0][1] == report.receipt_salt  # the report's salt, the others a decoy's
    assert host.derived[2][1] == sealing.decoy_receipt_salt(sealing.receipt_lookup(gone, PEPPER), PEPPER)


def test_a_new_receipt_whose_lookup_part_is_taken_is_refused_before_filing(world):
    session, seeded, _, _, now = world
    receipt = sealing.new_receipt()
    _file(session, seeded, sealing.receipt_secrets(receipt, PEPPER), now)
    same_part = receipt[:sealing.LOOKUP_DIGITS] + ("0" * 12 if receipt[6:] != "0" * 12 else "1" * 12)
    with pytest.raises(reports.ReceiptTaken):
        _file(session, seeded, sealing.receipt_secrets(same_part, PEPPER), now)
    assert session.query(Report).count() == 1


SHORT = "4821093755661234"  # a 16-digit receipt, as given before receipts were 18 digits


def test_a_report_filed_with_a_16_digit_receipt_still_opens_with_it(world):
    """Reports filed while receipts were 16 digits (6 lookup + 10 secret) keep their rows as they
    are: the same lookup (the first six digits), the row's own salt and cost; their receipt still
    opens them, a wrong one does not, and no new 18-digit receipt can take their lookup part."""
    session, seeded, host, check, now = world
    report = _file(session, seeded, sealing.receipt_secrets(SHORT, PEPPER), now)
    assert report.receipt_lookup == sealing.receipt_lookup(SHORT[:6] + "0" * 12, PEPPER)
    found = check.check_receipt(SHORT)
    assert found.outcome == "found" and found.case.report_id == report.id
    assert check.check_receipt(SHORT[:-1] + "5").outcome == "wrong"
    assert check.check_receipt(SHORT + "00").outcome == "wrong"  # 18 digits, the same lookup part
    assert [salt for _, salt, _ in host.derived] == [report.receipt_salt] * 3
    with pytest.raises(reports.ReceiptTaken):
        _file(session, seeded, sealing.receipt_secrets(SHORT[:6] + "1" * 12, PEPPER), now)
    assert session.query(Report).count() == 1


def test_a_report_filed_before_migration_0017_still_opens_with_its_12_digit_receipt(tmp_path, clock):
    from sqlalchemy.orm import Session

    from storage.crypto import Vault
    from storage.db import make_engine
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    upgrade(url, "0016")
    secrets = sealing.receipt_secrets(OLD, PEPPER)
    key, content = sealing.encrypt_content({"account": "before"})
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO reports (receipt_lookup, route, received_month, incident_period, child_involved, "
                "affected, urgent, contact_allowed, content, receipt_wrap, created_at) "
                "VALUES (?, 'named', '2026-11', 'this_month', 'no', 'self', 0, 0, ?, ?, '2026-11-20 09:00:00')",
                (secrets.lookup, content, sealing.wrap_for_receipt(key, secrets)))
        engine.dispose()
        upgrade(url)
        with Session(engine) as session:
            host = Host()
            check = FollowUpLookup(session, Vault(b"k" * 32, "s" * 40), sender_key="s" * 64, now=clock(),
                                   zone="UTC", limits=ReceiptLimits(5, 50, 30), secrets_for=host, pepper=PEPPER)
            found = check.check_receipt(OLD)
            assert found.outcome == "found" and host.derived == [(OLD, None, None)]
            [report] = session.query(Report).all()
            assert report.receipt_salt is None
            assert sealing.decrypt_content(sealing.unwrap_with_receipt(report.receipt_wrap, secrets),
                                           report.content) == {"account": "before"}
    finally:
        engine.dispose()
