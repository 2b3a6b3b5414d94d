"""The report sealing scheme: who can open what, and that wrong secrets open nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storage import sealing
from storage.sealing import KdfParams, SealError

FAST = KdfParams(iterations=1, lanes=1, memory_kib=8 * 1024)  # tests only: same code, lower cost
PEPPER = b"p" * 32


def test_password_wrap_round_trip_and_wrong_password():
    private, public = sealing.new_key_pair()
    wrapped = sealing.wrap_with_password(private, "correct horse battery", FAST)
    assert private not in wrapped and b"correct horse" not in wrapped
    assert sealing.unwrap(wrapped, "correct horse battery") == private
    with pytest.raises(SealError):
        sealing.unwrap(wrapped, "correct horse batterz")
    assert sealing.public_key_of(private) == public


def test_production_cost_is_the_strong_profile():
    # conftest lowers DEFAULT_KDF for speed, so check the shipped default in a clean interpreter.
    check = ("from storage import sealing; assert sealing.DEFAULT_KDF == sealing.STRONG == "
             "sealing.KdfParams(iterations=3, lanes=4, memory_kib=65536)")
    subprocess.run([sys.executable, "-c", check], check=True, cwd=Path(__file__).resolve().parents[2])
    wrapped = sealing.wrap_with_password(b"k" * 32, "pw", sealing.STRONG)
    assert b'"memory_kib":65536' in wrapped and b'"iterations":3' in wrapped


def test_recovery_key_round_trip_tolerates_case_and_spacing():
    private, _ = sealing.new_key_pair()
    recovery = sealing.new_recovery_key()
    assert len(recovery.replace("-", "")) == 32
    wrapped = sealing.wrap_with_recovery_key(private, recovery)
    assert sealing.unwrap(wrapped, recovery.lower().replace("-", " ")) == private
    with pytest.raises(SealError):
        sealing.unwrap(wrapped, sealing.new_recovery_key())
    with pytest.raises(SealError):
        sealing.unwrap(wrapped, "not base32 !!")


def test_sealed_box_opens_only_with_the_right_private_key():
    private, public = sealing.new_key_pair()
    other_private, _ = sealing.new_key_pair()
    sealed = sealing.seal_to(public, b"report key bytes")
    assert sealing.open_sealed(private, sealed) == b"report key bytes"
    with pytest.raises(SealError):
        sealing.open_sealed(other_private, sealed)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealError):
        sealing.open_sealed(private, tampered)


def test_report_content_round_trip_and_is_not_readable():
    key, ciphertext = sealing.encrypt_content({"account": "ဖြစ်ရပ် what happened"})
    assert "what happened".encode() not in ciphertext
    assert sealing.decrypt_content(key, ciphertext) == {"account": "ဖြစ်ရပ် what happened"}
    with pytest.raises(SealError):
        sealing.decrypt_content(b"\0" * 32, ciphertext)


def test_receipts():
    receipts = {sealing.new_receipt() for _ in range(200)}
    assert len(receipts) == 200
    assert all(len(r) == 18 and r.isdigit() and r[0] != "0" for r in receipts)
    from intake.prompts import format_receipt
    assert format_receipt("482109375566123456") == "482 109 375 566 123 456"
    assert format_receipt("482109375566") == "4821 0937 5566"  # the receipts of before, as they were shown


def test_old_receipt_secrets_are_keyed_deterministic_and_script_independent():
    a = sealing.receipt_secrets("4821 0937 5566", PEPPER, FAST)
    assert a == sealing.receipt_secrets("482109375566", PEPPER, FAST)
    assert a == sealing.receipt_secrets("၄၈၂၁၀၉၃၇၅၅၆၆", PEPPER, FAST)
    assert a.lookup != sealing.receipt_secrets("482109375567", PEPPER, FAST).lookup
    assert a.lookup != sealing.receipt_secrets("482109375566", b"q" * 32, FAST).lookup
    assert a.wrap_key.hex() not in a.lookup


def test_report_key_wrapped_for_the_receipt():
    key, _ = sealing.encrypt_content({"x": 1})
    secrets_ = sealing.receipt_secrets("482109375566", PEPPER, FAST)
    wrapped = sealing.wrap_for_receipt(key, secrets_)
    assert sealing.unwrap_with_receipt(wrapped, secrets_) == key
    with pytest.raises(SealError):
        sealing.unwrap_with_receipt(wrapped, sealing.receipt_secrets("111111111111", PEPPER, FAST))
