"""Server-side secrets: the data key that encrypts rows at rest, and the sender pseudonyms.

Two keys, two jobs:

* the **data key** (32 random bytes in `DATA_KEY_FILE`, never in the database) encrypts every
  column that could identify a person or carry what they wrote: conversation state, stored
  replies, outbox recipients and bodies. AES-256-GCM with the column's purpose and the row's
  identity (`bound`: the fields that make the value this row's) as associated data, so a
  ciphertext copied into another column, or into another row, does not decrypt.
* `SECRET_KEY` keys the HMAC that turns a phone number or chat id into a stable pseudonym
  (`sender_key`). The database only ever sees the pseudonym.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Version 1 (before migration 0018): bound to the column's purpose only. Version 2: bound to
# the purpose and the row (`bound`). Version 1 is opened only where the caller says the row may
# still hold one (`legacy=True`: created before 0018 and not yet resealed, storage.binding).
_LEGACY = b"\x01"
_VERSION = b"\x02"
_NONCE_BYTES = 12
log = logging.getLogger(__name__)


class DecryptionError(Exception):
    """A ciphertext did not authenticate: wrong key, wrong purpose, or tampered data."""


class AlteredError(DecryptionError):
    """A sealed value that is not this row's: moved from another row, its row's clear columns
    edited, an old-format value where none may be, or sealed with another data key. `kind` names
    the column ("outbox.recipient"), never the content."""

    def __init__(self, kind: str):
        super().__init__(f"{kind}: the stored record was altered (or sealed with another key)")
        self.kind = kind


def refused(kind: str) -> AlteredError:
    """The error for a sealed value of `kind` that did not open, logged as its kind alone."""
    log.warning("a sealed value did not open: %s (altered, moved from another row, or another key)", kind)
    return AlteredError(kind)


def bound(label: str, fields: Mapping | None) -> bytes:
    """The associated data of a value sealed for one row: its column's label and the row's
    identifying fields, in one canonical encoding (sorted keys, no spaces), so the same row gives
    the same bytes on sealing and opening. No field is ever content: ids, codes, flags."""
    if fields is None:
        return label.encode()
    return label.encode() + b"\x00" + json.dumps(dict(fields), sort_keys=True, separators=(",", ":"),
                                                 ensure_ascii=True, default=str).encode()


def load_or_create_data_key(path: str | os.PathLike) -> bytes:
    """Return the 32-byte data key stored (base64) at `path`, creating it with mode 0600."""
    key_path = Path(path)
    if not key_path.exists():
        key_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n")
    try:
        key = base64.b64decode(key_path.read_text().strip(), validate=True)
    except ValueError:
        raise ValueError(f"DATA_KEY_FILE {key_path} is not base64") from None
    if len(key) != 32:
        raise ValueError(f"DATA_KEY_FILE {key_path} must hold 32 bytes, holds {len(key)}")
    return key


def _subkey(secret_key: str, use: str) -> bytes:
    """A key of its own for one use, derived from SECRET_KEY (HKDF, info "intake/<use>/v1")."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"intake/{use}/v1".encode()
                ).derive(secret_key.encode())


class Vault:
    """Encrypts and decrypts values at rest with the server's data key."""

    def __init__(self, data_key: bytes, secret_key: str):
        self._aead = AESGCM(data_key)
        self._sender_hmac_key = _subkey(secret_key, "sender-key")
        # Keys the receipt hash (storage.sealing.receipt_secrets): a stolen database alone cannot
        # be searched for receipts.
        self.receipt_pepper = _subkey(secret_key, "receipt-pepper")
        # Keys the digests of provider message ids (storage.conversations): no provider id is
        # stored in clear, so none can be matched against a provider's logs or another table.
        self._provider_hmac_key = _subkey(secret_key, "provider-id")
        # Keys the digests that find or count things without opening them: registration numbers,
        # identity attempts, one-time codes, imported rows (storage.registrations).
        self._lookup_hmac_key = _subkey(secret_key, "lookup")
        # Keys the audit log's hash chain (storage.audit_log): without SECRET_KEY no one can
        # write a chain that holds.
        self.audit_key = _subkey(secret_key, "audit-chain")

    # The one pair through which everything the data key protects is sealed and opened (key
    # rotation re-wraps through it: storage.resealing).
    def seal(self, plaintext: bytes, purpose: str, row: Mapping | None = None) -> bytes:
        """Encrypt bytes for one column (`purpose`, e.g. "conversations.state") of one row (`row`:
        the fields that identify it, storage.binding); both must match on opening."""
        nonce = os.urandom(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, bound(purpose, row))

    def open(self, blob: bytes, purpose: str, row: Mapping | None = None, *, legacy: bool = False) -> bytes:
        """Decrypt what `seal` produced for the same purpose and row. A version-1 value (bound to
        the purpose only) opens only with `legacy`. AlteredError otherwise, logged as its kind."""
        version = blob[:1] if blob else b""
        if version == _VERSION:
            associated = bound(purpose, row)
        elif version == _LEGACY and legacy:
            associated = purpose.encode()
        else:
            raise refused(purpose)
        nonce, body = blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, associated)
        except InvalidTag:
            raise refused(purpose) from None

    @staticmethod
    def is_current(blob: bytes | None) -> bool:
        """Whether `blob` is already in the current (row-bound) format."""
        return bool(blob) and blob[:1] == _VERSION

    def seal_json(self, value, purpose: str, row: Mapping | None = None) -> bytes:
        """Encrypt a JSON-serialisable value."""
        return self.seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), purpose, row)

    def open_json(self, blob: bytes, purpose: str, row: Mapping | None = None, *, legacy: bool = False):
        """Decrypt a value sealed with `seal_json`."""
        return json.loads(self.open(blob, purpose, row, legacy=legacy))

    def sender_key(self, channel: str, address: str) -> str:
        """The pseudonym of one sender on one channel: hex HMAC-SHA256, stable across restarts."""
        message = f"{channel}\x00{address.strip()}".encode()
        return hmac.new(self._sender_hmac_key, message, hashlib.sha256).hexdigest()

    def lookup_digest(self, kind: str, value: str) -> bytes:
        """32 bytes that recognise `value` among values of its `kind` (say "registration")."""
        return hmac.new(self._lookup_hmac_key, f"{kind}\x00{value}".encode(), hashlib.sha256).digest()

    def dob_check(self, number_digest: bytes, date_of_birth: str) -> bytes:
        """The proof of a date of birth: keyed, then slowed with scrypt (N=256, r=4: 128 KiB and
        about 0.3 ms), so that someone holding the database and SECRET_KEY still pays about 10 s
        of a core per record to try every date of a century, while importing 100,000 rows stays
        quick. Bound to the record by its number's digest."""
        keyed = hmac.new(self._lookup_hmac_key, b"dob\x00" + number_digest + b"\x00" + date_of_birth.encode(),
                         hashlib.sha256).digest()
        return hashlib.scrypt(keyed, salt=number_digest, n=256, r=4, p=1, dklen=32)

    def provider_digest(self, channel: str, provider_id: str) -> bytes:
        """16 bytes that recognise one provider message id (a Twilio MessageSid, a Telegram
        update id) without storing it."""
        message = f"{channel}\x00{provider_id}".encode()
        return hmac.new(self._provider_hmac_key, message, hashlib.sha256).digest()[:16]
