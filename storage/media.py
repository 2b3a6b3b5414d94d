"""Voice notes and photos sent with a report: sealed the moment they arrive, opened only through
the report's sealed content. Functions that take a session never commit.

The report key does not exist until the person sends the report, and an item must not wait in
clear until then. So each item is encrypted at once (before any transaction, by the channel that
fetched it) with a fresh random key, AES-256-GCM, its id and kind as associated data; the key goes
into the conversation's draft (sealed with the data key, like every answer) and, when the report
is sent, into the report's content (sealed with the report key). From then on only who opens the
report (the receiving organisations, the receipt) holds the item's key: the database and the
server's own secrets together open nothing. An item whose report is never sent is deleted with
the draft (`discard`, when the draft ends unsent) or, for a draft abandoned, by the purge
(`purge_unlinked`).
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from storage.models import MediaItem

_NONCE_BYTES = 12
_PURPOSE = "media_items"


class MediaError(Exception):
    """An item that is not there, or did not authenticate with the key given."""


@dataclass(frozen=True)
class Sealed:
    """One item encrypted, not yet stored: `ref` is its row id, `key` (base64) what opens it."""

    ref: str
    key: str
    body: bytes
    kind: str
    content_type: str
    size: int


def _context(ref: str, kind: str) -> bytes:
    return f"{_PURPOSE}\x00{ref}\x00{kind}".encode()


def seal(data: bytes, *, kind: str, content_type: str) -> Sealed:
    """Encrypt one item with a key of its own (no session: call it before the unit of work)."""
    ref, key = secrets.token_hex(16), AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE_BYTES)
    body = nonce + AESGCM(key).encrypt(nonce, data, _context(ref, kind))
    return Sealed(ref, base64.urlsafe_b64encode(key).decode(), body, kind, content_type, len(data))


def store(session: Session, sealed: Sealed, now: datetime) -> None:
    """Keep a sealed item, linked to nothing yet."""
    session.add(MediaItem(id=sealed.ref, report_id=None, body=sealed.body, created_at=now))


def link(session: Session, refs: Iterable[str], report_id: int) -> int:
    """Give the items of a report being filed to it (only items still unlinked); returns how many."""
    refs = [ref for ref in refs if isinstance(ref, str)]
    if not refs:
        return 0
    return session.execute(update(MediaItem).where(MediaItem.id.in_(refs), MediaItem.report_id.is_(None))
                           .values(report_id=report_id)).rowcount


def open_item(session: Session, report_id: int, item: Mapping) -> bytes:
    """The bytes of `item` (an entry of the report's sealed content: ref, key, kind), which must
    belong to report `report_id`."""
    row = session.get(MediaItem, item.get("ref")) if isinstance(item.get("ref"), str) else None
    if row is None or row.report_id != report_id:
        raise MediaError("no such item in this report")
    try:
        key = base64.urlsafe_b64decode(item["key"])
        return AESGCM(key).decrypt(row.body[:_NONCE_BYTES], row.body[_NONCE_BYTES:],
                                   _context(row.id, item["kind"]))
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise MediaError("the item did not open with its key") from None


def discard(session: Session, refs: Iterable[str]) -> int:
    """Delete unlinked items a draft let go of (cancelled, quick exit, started again)."""
    refs = [ref for ref in refs if isinstance(ref, str)]
    if not refs:
        return 0
    return session.execute(delete(MediaItem).where(MediaItem.id.in_(refs), MediaItem.report_id.is_(None))).rowcount


def purge_unlinked(session: Session, now: datetime, lifetime: timedelta) -> int:
    """Delete items no report was sent with, older than a draft lives; returns how many."""
    return session.execute(delete(MediaItem).where(MediaItem.report_id.is_(None),
                                                   MediaItem.created_at < now - lifetime)).rowcount
