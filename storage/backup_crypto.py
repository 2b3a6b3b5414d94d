"""The backup file's encryption: a random file key sealed to one or more backup public keys, the
snapshot encrypted with it in chunks (after age's design).

Why public keys, not a passphrase: backups are written unattended (cron, a timer), so whatever the
server uses to write them it holds. With a passphrase (in an environment variable or a file on the
server) anyone who seizes the server could read every backup ever made, and a backup carries the
data key and `SECRET_KEY` (below). With public keys the server holds only the public half
(`BACKUP_RECIPIENTS`): it can write backups and read none of them. The private half (the backup
*identity*, `keys backup-keygen`) is kept off the server by who must be able to restore (the
operator, and a second person, say the PSEA Network's coordinator: each their own identity,
every backup sealed to all of them).

The file:

    intake-backup/1\\n                         magic and format version, in clear
    {"chunk": 65536, "recipients": [...]}\\n   JSON, in clear: per recipient its key id, an ephemeral
                                              X25519 public key and the file key sealed to it
    chunk 0, chunk 1, ... chunk n             AES-256-GCM under the file key, each `chunk` bytes of
                                              plaintext + 16 bytes of tag; nonce = 11-byte counter
                                              + 1 byte "last chunk" flag; associated data = the
                                              SHA-256 of the two header lines

so a header edited (a recipient added or removed), chunks reordered, dropped or cut off at the end
all fail to open. Nothing in clear says what database it is, when it was taken or what it holds.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"intake-backup/1\n"
CHUNK = 64 * 1024
_TAG = 16
_MAX_HEADER = 64 * 1024
PUBLIC_PREFIX = "intake-backup-public-"
SECRET_PREFIX = "intake-backup-secret-"  # noqa: S105 the prefix naming a file's kind, not a secret
_RAW = serialization.Encoding.Raw


class BackupCryptoError(Exception):
    """Not a backup file, no identity that opens it, or a damaged or truncated file."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Identity:
    """A backup private key; `public` is what BACKUP_RECIPIENTS names."""

    private: bytes

    @property
    def public(self) -> str:
        raw = X25519PrivateKey.from_private_bytes(self.private).public_key().public_bytes(
            _RAW, serialization.PublicFormat.Raw)
        return PUBLIC_PREFIX + _b64(raw)

    def text(self) -> str:
        return SECRET_PREFIX + _b64(self.private)


def new_identity() -> Identity:
    private = X25519PrivateKey.generate().private_bytes(_RAW, serialization.PrivateFormat.Raw,
                                                          serialization.NoEncryption())
    return Identity(private)


def parse_identity(text: str) -> Identity:
    """An identity from its file's text (comment lines starting with # are ignored)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) != 1 or not lines[0].startswith(SECRET_PREFIX):
        raise BackupCryptoError(f"not a backup identity (one line starting {SECRET_PREFIX})")
    try:
        raw = _unb64(lines[0][len(SECRET_PREFIX):])
    except ValueError:
        raise BackupCryptoError("the backup identity is damaged") from None
    if len(raw) != 32:
        raise BackupCryptoError("the backup identity is damaged")
    return Identity(raw)


def parse_recipient(text: str) -> bytes:
    """A backup public key (`intake-backup-public-...`) as 32 raw bytes; ValueError if it is not one."""
    text = text.strip()
    if not text.startswith(PUBLIC_PREFIX):
        raise ValueError(f"a backup public key starts with {PUBLIC_PREFIX}")
    try:
        raw = _unb64(text[len(PUBLIC_PREFIX):])
    except ValueError:
        raise ValueError("a backup public key is base64url after its prefix") from None
    if len(raw) != 32:
        raise ValueError("a backup public key is 32 bytes")
    return raw


def _key_id(public: bytes) -> str:
    return hashlib.sha256(b"intake-backup/key-id\x00" + public).hexdigest()[:16]


def _wrap_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient,
                info=b"intake/backup/v1/file-key").derive(shared)


def _seal_file_key(file_key: bytes, recipient: bytes) -> dict:
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
    key = _wrap_key(ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient)), ephemeral_public, recipient)
    # The wrapping key is used once, for this stanza: a fixed nonce is safe.
    wrapped = AESGCM(key).encrypt(bytes(12), file_key, b"intake/backup/v1/file-key")
    return {"id": _key_id(recipient), "epk": _b64(ephemeral_public), "key": _b64(wrapped)}


def _open_file_key(stanzas: list, identity: Identity) -> bytes:
    public = X25519PrivateKey.from_private_bytes(identity.private).public_key().public_bytes(
        _RAW, serialization.PublicFormat.Raw)
    for stanza in stanzas:
        if not isinstance(stanza, dict) or stanza.get("id") != _key_id(public):
            continue
        try:
            ephemeral = _unb64(stanza["epk"])
            shared = X25519PrivateKey.from_private_bytes(identity.private).exchange(
                X25519PublicKey.from_public_bytes(ephemeral))
            return AESGCM(_wrap_key(shared, ephemeral, public)).decrypt(bytes(12), _unb64(stanza["key"]),
                                                                       b"intake/backup/v1/file-key")
        except (InvalidTag, KeyError, TypeError, ValueError):
            break
    raise BackupCryptoError("this backup is not sealed to that identity (or its header was changed)")


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def encrypt_stream(chunks: Iterable[bytes], out: BinaryIO, recipients: list[bytes],
                   progress: Callable[[int], None] = lambda n: None) -> int:
    """Encrypt the bytes `chunks` yields (any sizes) to `out`, readable by each recipient's
    identity; returns the plaintext length."""
    if not recipients:
        raise BackupCryptoError("no backup public key to seal the backup to")
    file_key = AESGCM.generate_key(bit_length=256)
    header = MAGIC + json.dumps({"chunk": CHUNK, "recipients": [_seal_file_key(file_key, r) for r in recipients]},
                                separators=(",", ":")).encode() + b"\n"
    out.write(header)
    aead, context = AESGCM(file_key), hashlib.sha256(header).digest()
    buffer, counter, total = bytearray(), 0, 0
    for piece in chunks:
        buffer += piece
        total += len(piece)
        # Keep at least one byte back: the last chunk (flagged) is only known at the end.
        while len(buffer) > CHUNK:
            out.write(aead.encrypt(_nonce(counter, False), bytes(buffer[:CHUNK]), context))
            del buffer[:CHUNK]
            counter += 1
            progress(CHUNK)
    out.write(aead.encrypt(_nonce(counter, True), bytes(buffer), context))
    progress(len(buffer))
    return total


def decrypt_stream(source: BinaryIO, identity: Identity) -> Iterator[bytes]:
    """The plaintext of a backup file, chunk by chunk; BackupCryptoError when anything is wrong
    (checked before each chunk is given out: nothing unauthenticated is ever yielded)."""
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupCryptoError("not an intake backup file (or a format version this code does not read)")
    line = source.readline(_MAX_HEADER)
    if not line.endswith(b"\n"):
        raise BackupCryptoError("the backup's header is damaged")
    try:
        header = json.loads(line)
        chunk = int(header["chunk"])
        stanzas = list(header["recipients"])
    except (ValueError, KeyError, TypeError):
        raise BackupCryptoError("the backup's header is damaged") from None
    if not 0 < chunk <= 16 * 1024 * 1024:
        raise BackupCryptoError("the backup's header is damaged")
    aead = AESGCM(_open_file_key(stanzas, identity))
    context = hashlib.sha256(MAGIC + line).digest()
    counter, current = 0, source.read(chunk + _TAG)
    while True:
        following = source.read(chunk + _TAG)
        last = not following
        try:
            plaintext = aead.decrypt(_nonce(counter, last), current, context)
        except InvalidTag:
            raise BackupCryptoError("the backup is damaged or cut short" if last else
                                    "the backup is damaged (a chunk did not authenticate)") from None
        yield plaintext
        if last:
            return
        counter, current = counter + 1, following
