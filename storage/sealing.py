"""Sealed reports: only the receiving organisation (and the reporter, with their receipt) can read.

The scheme, after GlobaLeaks:

* each organisation has an X25519 key pair. The public half is in the clear; the private half is
  stored only **wrapped**: under a key derived with Argon2id from each of the organisation's
  portal users' passwords, and under a random **recovery key** shown once to the operator;
* each report's content is encrypted (AES-256-GCM) with its own random **report key**; that key is
  **sealed** to the organisation's public key (ephemeral X25519 + HKDF + AES-GCM) and wrapped
  under a key derived from the reporter's **receipt**;
* the receipt itself is never stored: its first digits find the report through a keyed digest,
  and the whole number opens the report key through Argon2id keyed with a server pepper and
  salted with the report's own random salt (see "receipts" below).

None of this needs the server's data key, so a copy of the database alone opens nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import unicodedata
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage import argon2id

_RAW = serialization.Encoding.Raw


class SealError(Exception):
    """Wrong password, recovery key or receipt, or a damaged ciphertext."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost, stored beside every wrap so it can be raised later without breaking old ones.
    The default is RFC 9106's second recommendation (64 MiB, 3 passes, 4 lanes): ~0.2 s here."""

    iterations: int = 3
    lanes: int = 4
    memory_kib: int = 64 * 1024


STRONG = KdfParams()
# The cost new wraps use. Tests lower it (same code, cheaper parameters); nothing else should.
DEFAULT_KDF = STRONG


def _argon2(secret: bytes, salt: bytes, params: KdfParams, length: int = 32, pepper: bytes | None = None) -> bytes:
    return argon2id.derive(secret, salt, iterations=params.iterations, lanes=params.lanes,
                           memory_kib=params.memory_kib, length=length, pepper=pepper)


def _aead_seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def _aead_open(key: bytes, blob: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], context)
    except (InvalidTag, ValueError):
        raise SealError("could not decrypt: wrong key or damaged data") from None


def _with(context: bytes, bind: bytes | None) -> bytes:
    """`context` bound to a row (`bind`: storage.binding's associated data), or alone (the
    format before migration 0018)."""
    return context if bind is None else context + b"\x00" + bind


def _aead_open_bound(key: bytes, blob: bytes, context: bytes, bind: bytes | None, legacy: bool) -> bytes:
    """Open a value bound to `bind`; with `legacy` (a row from before migration 0018), one bound
    to its context alone is accepted too."""
    try:
        return _aead_open(key, blob, _with(context, bind))
    except SealError:
        if not (legacy and bind is not None):
            raise
    return _aead_open(key, blob, context)


def _pack(**fields) -> bytes:
    return json.dumps({k: base64.b64encode(v).decode() if isinstance(v, bytes) else v
                       for k, v in fields.items()}, separators=(",", ":")).encode()


def _unpack(blob: bytes) -> dict:
    return json.loads(blob)


def _b(value: str) -> bytes:
    return base64.b64decode(value)


# --- organisation key pairs -------------------------------------------------------------------

def new_key_pair() -> tuple[bytes, bytes]:
    """(private, public) raw 32-byte X25519 keys for a new organisation."""
    private = X25519PrivateKey.generate()
    return (private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
            private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw))


def wrap_with_password(private_key: bytes, password: str, params: KdfParams | None = None) -> bytes:
    """The private key encrypted under a key derived from a user's password."""
    params = params or DEFAULT_KDF
    salt = os.urandom(16)
    key = _argon2(password.encode(), salt, params)
    return _pack(kind="password", kdf=asdict(params), salt=salt,
                 box=_aead_seal(key, private_key, b"intake/org-key/password"))


def new_recovery_key() -> str:
    """A random recovery key for an organisation, in groups a person can copy onto paper."""
    raw = base64.b32encode(secrets.token_bytes(20)).decode()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _recovery_secret(recovery_key: str) -> bytes:
    normalised = recovery_key.replace("-", "").replace(" ", "").upper()
    try:
        raw = base64.b32decode(normalised)
    except ValueError:
        raise SealError("that is not a recovery key") from None
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"intake/recovery/v1").derive(raw)


def wrap_with_recovery_key(private_key: bytes, recovery_key: str) -> bytes:
    """The private key encrypted under the (high-entropy) recovery key."""
    return _pack(kind="recovery", box=_aead_seal(_recovery_secret(recovery_key), private_key,
                                                 b"intake/org-key/recovery"))


def unwrap(wrapped: bytes, secret: str) -> bytes:
    """The private key from a password or recovery wrap; SealError if the secret is wrong."""
    fields = _unpack(wrapped)
    if fields["kind"] == "password":
        key = _argon2(secret.encode(), _b(fields["salt"]), KdfParams(**fields["kdf"]))
        return _aead_open(key, _b(fields["box"]), b"intake/org-key/password")
    return _aead_open(_recovery_secret(secret), _b(fields["box"]), b"intake/org-key/recovery")


def public_key_of(private_key: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes(
        _RAW, serialization.PublicFormat.Raw)


# --- sealing a report key to an organisation --------------------------------------------------

def _box_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient_public,
                info=b"intake/sealed-box/v1").derive(shared)


def seal_to(public_key: bytes, secret: bytes, bind: bytes | None = None) -> bytes:
    """Encrypt `secret` so that only the holder of the matching private key can open it, bound
    to the row it is stored in (`bind`)."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    key = _box_key(shared, ephemeral_public, public_key)
    return ephemeral_public + _aead_seal(key, secret, _with(b"intake/sealed-box/v1", bind))


def open_sealed(private_key: bytes, sealed: bytes, bind: bytes | None = None, *, legacy: bool = False) -> bytes:
    """Open what `seal_to` sealed to this private key's public half for the same `bind`."""
    ephemeral_public, box = sealed[:32], sealed[32:]
    private = X25519PrivateKey.from_private_bytes(private_key)
    shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    public = public_key_of(private_key)
    return _aead_open_bound(_box_key(shared, ephemeral_public, public), box, b"intake/sealed-box/v1", bind, legacy)


# --- report content ---------------------------------------------------------------------------

def encrypt_content(content: dict, bind: bytes | None = None) -> tuple[bytes, bytes]:
    """(report key, ciphertext) for a report's account, contact details and free-text answers,
    bound to the report's row and routing columns (`bind`)."""
    report_key = AESGCM.generate_key(bit_length=256)
    plaintext = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return report_key, _aead_seal(report_key, plaintext, _with(b"intake/report/v1", bind))


def decrypt_content(report_key: bytes, ciphertext: bytes, bind: bytes | None = None, *, legacy: bool = False) -> dict:
    return json.loads(_aead_open_bound(report_key, ciphertext, b"intake/report/v1", bind, legacy))


def encrypt_text(key: bytes, text: str, context: bytes, bind: bytes | None = None) -> bytes:
    """A piece of text encrypted under a symmetric key (a report key), bound to `context` and
    to its row (`bind`)."""
    return _aead_seal(key, text.encode(), _with(context, bind))


def decrypt_text(key: bytes, blob: bytes, context: bytes, bind: bytes | None = None, *, legacy: bool = False) -> str:
    return _aead_open_bound(key, blob, context, bind, legacy).decode()


# --- receipts ---------------------------------------------------------------------------------
#
# A receipt is 18 digits: the first LOOKUP_DIGITS find the report (through a keyed digest, unique
# among reports), the whole number is the secret that opens it, through Argon2id with a random
# salt of the report's own (kept on its row). So one offline guess, even with the server's
# secrets, is a guess at one report: the lookup part names the row, the row's salt makes the work
# useless for any other; the 12 secret digits make a picked report cost more than the 12-digit
# receipts of before did. Receipts of SHORT_RECEIPT_DIGITS (16) were given the same way, with 10
# secret digits, and still open theirs (same lookup part, same derivation). Receipts of
# OLD_RECEIPT_DIGITS (12) were derived with one fixed salt before; they still open their reports
# the old way (`receipt_secrets` tells them by length).

RECEIPT_DIGITS = 18
SHORT_RECEIPT_DIGITS = 16
LOOKUP_DIGITS = 6
OLD_RECEIPT_DIGITS = 12
_RECEIPT_SALT_BYTES = 16
_OLD_RECEIPT_SALT = b"intake/receipt/v1"
# The cost of a new receipt's derivation (tests lower it, as DEFAULT_KDF), chosen from tests/benchmarks/receipt_guess.py (GlobaLeaks'
# receipts: Argon2id at 128 MiB): one derivation per report sent or checked, never in a transaction.
RECEIPT_STRONG = KdfParams(iterations=3, lanes=4, memory_kib=128 * 1024)
RECEIPT_KDF = RECEIPT_STRONG


def receipt_digits(receipt: str) -> str:
    """The receipt's digits as ASCII, whatever script they were typed in (၁ == 1), separators dropped."""
    return "".join(str(unicodedata.decimal(ch)) for ch in receipt if ch.isdecimal())


def new_receipt() -> str:
    """A random 18-digit receipt number (never starting with 0, so it is never shortened)."""
    return str(secrets.randbelow(9 * 10 ** (RECEIPT_DIGITS - 1)) + 10 ** (RECEIPT_DIGITS - 1))


def new_receipt_salt() -> bytes:
    return os.urandom(_RECEIPT_SALT_BYTES)


def receipt_lookup(receipt: str, pepper: bytes) -> str | None:
    """The keyed digest of a (18- or 16-digit) receipt's lookup part that finds its report: cheap,
    and only as secret as the pepper (without it a stolen database cannot be matched against any
    receipt; with it, it tells only the lookup part, never the rest). None for an old receipt.
    An 18-digit and a 16-digit receipt with the same first six digits have the same lookup: one
    space of lookup parts, so a new receipt never takes the lookup of a report filed before."""
    digits = receipt_digits(receipt)
    if len(digits) not in (RECEIPT_DIGITS, SHORT_RECEIPT_DIGITS):
        return None
    return hmac.new(pepper, b"intake/receipt-lookup/v2\x00" + digits[:LOOKUP_DIGITS].encode(),
                    hashlib.sha256).hexdigest()


def decoy_receipt_salt(lookup: str, pepper: bytes) -> bytes:
    """The salt a receipt whose lookup part finds no report is derived with, so that a receipt
    never given, or whose report was deleted, costs the same derivation as a mistyped one."""
    return hmac.new(pepper, b"intake/receipt-decoy/v2\x00" + lookup.encode(), hashlib.sha256).digest()[:16]


@dataclass(frozen=True)
class ReceiptSecrets:
    lookup: str  # stored: finds the report
    wrap_key: bytes  # never stored: opens the report key
    salt: bytes | None = None  # stored (18- and 16-digit receipts): the report's own salt
    kdf: KdfParams | None = None  # stored with the salt: the derivation's cost


def receipt_kdf_text(params: KdfParams) -> str:
    """How a report row keeps its receipt derivation's cost (`reports.receipt_kdf`)."""
    return json.dumps(asdict(params), separators=(",", ":"), sort_keys=True)


def receipt_kdf_from_text(text: str | None) -> KdfParams:
    return KdfParams(**json.loads(text)) if text else RECEIPT_KDF


def receipt_secrets(receipt: str, pepper: bytes, params: KdfParams | None = None, *,
                    salt: bytes | None = None) -> ReceiptSecrets:
    """Derive a receipt's lookup digest and wrapping key (slow, memory-hard and keyed with `pepper`).

    An 18- (or 16-) digit receipt is derived with `salt`, the salt of the report its lookup part found (or
    its decoy); with no salt, a new one is drawn (a report being filed). An old 12-digit receipt
    is derived as before, with the one fixed salt (and `params`, by default DEFAULT_KDF)."""
    digits = receipt_digits(receipt)
    if len(digits) == OLD_RECEIPT_DIGITS:
        out = _argon2(digits.encode(), _OLD_RECEIPT_SALT, params or DEFAULT_KDF, length=64, pepper=pepper)
        return ReceiptSecrets(hashlib.sha256(out[:32]).hexdigest(), out[32:])
    lookup = receipt_lookup(digits, pepper)
    if lookup is None:
        raise ValueError("a receipt has 18 digits (or 16 or 12, from before)")
    params = params or RECEIPT_KDF
    salt = salt or new_receipt_salt()
    wrap_key = _argon2(digits.encode(), salt, params, length=32, pepper=pepper)
    return ReceiptSecrets(lookup, wrap_key, salt, params)


def wrap_for_receipt(report_key: bytes, secrets_: ReceiptSecrets, bind: bytes | None = None) -> bytes:
    """The report key under the receipt's wrapping key, bound to `bind` (the report's row)."""
    return _aead_seal(secrets_.wrap_key, report_key, _with(b"intake/report-key/receipt", bind))


def unwrap_with_receipt(wrapped: bytes, secrets_: ReceiptSecrets, bind: bytes | None = None, *,
                        legacy: bool = False) -> bytes:
    """The report key; refused when the receipt is not this report's or the row was altered."""
    return _aead_open_bound(secrets_.wrap_key, wrapped, b"intake/report-key/receipt", bind, legacy)
