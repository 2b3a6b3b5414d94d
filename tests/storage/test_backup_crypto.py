"""The backup file's encryption: sealed to each recipient, and any edit, reordering or cut found."""

from __future__ import annotations

import io
import os

import pytest

from storage.backup_crypto import (CHUNK, MAGIC, BackupCryptoError, decrypt_stream, encrypt_stream, new_identity,
                                   parse_identity, parse_recipient)

DATA = os.urandom(3 * CHUNK + 123)


def sealed(*identities, data: bytes = DATA) -> bytes:
    out = io.BytesIO()
    encrypt_stream([data[:1000], data[1000:]], out, [parse_recipient(i.public) for i in identities])
    return out.getvalue()


def opened(blob: bytes, identity) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(blob), identity))


def test_each_recipient_opens_it_and_no_one_else():
    first, second = new_identity(), new_identity()
    blob = sealed(first, second)
    assert blob.startswith(MAGIC) and DATA[:64] not in blob
    assert opened(blob, first) == DATA == opened(blob, parse_identity("# comment\n" + second.text()))
    with pytest.raises(BackupCryptoError, match="not sealed to that identity"):
        opened(blob, new_identity())


@pytest.mark.parametrize("data", [b"", b"x", os.urandom(CHUNK), os.urandom(2 * CHUNK)])
def test_any_length_round_trips(data):
    me = new_identity()
    assert opened(sealed(me, data=data), me) == data


def test_edited_reordered_or_cut_files_do_not_open():
    me, other = new_identity(), new_identity()
    blob = sealed(me)
    header_end = blob.index(b"\n", len(MAGIC)) + 1
    body = blob[header_end:]
    size = CHUNK + 16
    chunks = [body[i:i + size] for i in range(0, len(body), size)]
    swapped = blob[:header_end] + chunks[1] + chunks[0] + b"".join(chunks[2:])
    cut_at_a_chunk = blob[:header_end] + b"".join(chunks[:-1])
    flipped = bytearray(blob)
    flipped[-5] ^= 1
    # A recipient stanza taken from another file: the header's digest no longer matches.
    foreign = sealed(me, other)
    grafted = foreign[:foreign.index(b"\n", len(MAGIC)) + 1] + body
    for broken in (swapped, cut_at_a_chunk, bytes(flipped), grafted, b"not a backup"):
        with pytest.raises(BackupCryptoError):
            opened(broken, me)


def test_keys_are_checked_when_read():
    with pytest.raises(ValueError):
        parse_recipient("intake-backup-public-short")
    with pytest.raises(BackupCryptoError):
        parse_identity("intake-backup-public-" + "A" * 43)
