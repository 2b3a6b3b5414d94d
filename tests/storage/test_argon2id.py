"""storage.argon2id gives exactly what another Argon2id implementation (cryptography's, run one
at a time) gives for the same parameters: receipts and wraps made before the switch still open."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from storage import argon2id, sealing


@pytest.mark.parametrize("pepper", [None, b"k" * 32])
@pytest.mark.parametrize("params", [sealing.STRONG, sealing.KdfParams(iterations=1, lanes=1, memory_kib=8 * 1024)])
def test_the_same_bytes_as_cryptography(pepper, params):
    secret, salt = b"482109375566", b"intake/receipt/v1"
    expected = Argon2id(salt=salt, length=64, iterations=params.iterations, lanes=params.lanes,
                        memory_cost=params.memory_kib, secret=pepper).derive(secret)
    assert argon2id.derive(secret, salt, iterations=params.iterations, lanes=params.lanes,
                           memory_kib=params.memory_kib, length=64, pepper=pepper) == expected


def test_a_password_wrap_made_with_cryptography_opens():
    """A wrap exactly as the previous code made it (cryptography's Argon2id) still opens."""
    salt, params = os.urandom(16), sealing.KdfParams(iterations=1, lanes=1, memory_kib=8 * 1024)
    key = Argon2id(salt=salt, length=32, iterations=1, lanes=1, memory_cost=8 * 1024).derive(b"pass phrase!")
    nonce = os.urandom(12)
    box = nonce + AESGCM(key).encrypt(nonce, b"\x01" * 32, b"intake/org-key/password")
    wrapped = sealing._pack(kind="password", kdf=params.__dict__, salt=salt, box=box)
    assert sealing.unwrap(wrapped, "pass phrase!") == b"\x01" * 32
