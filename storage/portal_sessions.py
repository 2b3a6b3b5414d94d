"""Portal sessions: where a logged-in user's unlocked organisation key waits between requests.

The organisation's private key is opened once, at login, with the user's password. Keeping it for
the session without weakening the database at rest works like this:

* the login creates a random **token** and a random 32-byte **cookie key** K, and hands both to
  the browser (in the signed Flask session cookie) and to nobody else;
* the row stores only SHA-256(token) as its id and the organisation key AES-GCM-encrypted under K
  (bound to the row id), so a copy of the database, even with the server's data key and
  SECRET_KEY, holds nothing that opens the key.

A login that still needs its TOTP code is a **pending** row: its id is the hash of the token with
a domain prefix, so the lookup a normal request does (the plain hash) can never find it. When the
code is right the pending row is replaced by a fresh session with a new token and a new K.

Functions take the database session first and never commit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete
from sqlalchemy.orm import Session

from storage.models import PortalSession, User
from storage.sealing import SealError

_CONTEXT = b"intake/portal-session/v1|"
_PENDING_PREFIX = "totp-pending\x00"
# Long enough to open an authenticator app, short enough that a half-finished login dies soon.
PENDING_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Issued:
    """A new session: the row, and the two secrets that go to the browser and nowhere else."""

    row: PortalSession
    token: str
    cookie_key: bytes

    def cookie_key_text(self) -> str:
        return base64.b64encode(self.cookie_key).decode()


def session_id(token: str, *, pending: bool = False) -> str:
    """The row id for a cookie token (hex SHA-256; pending logins are domain-separated)."""
    return hashlib.sha256(((_PENDING_PREFIX if pending else "") + token).encode()).hexdigest()


def decode_cookie_key(text: str) -> bytes | None:
    """The cookie key from its base64 text, or None when it is not a 32-byte key."""
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return None
    return key if len(key) == 32 else None


def _seal(cookie_key: bytes, org_key: bytes, row_id: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(cookie_key).encrypt(nonce, org_key, _CONTEXT + row_id.encode())


def start(session: Session, user: User, org_key: bytes | None, *, now: datetime, lifetime: timedelta,
          pending: bool = False) -> Issued:
    """Create a session for `user` holding `org_key` (None: the user has no grant yet)."""
    token = secrets.token_urlsafe(32)
    cookie_key = secrets.token_bytes(32)
    row_id = session_id(token, pending=pending)
    row = PortalSession(id=row_id, user_id=user.id, created_at=now,
                        unlocked_key=None if org_key is None else _seal(cookie_key, org_key, row_id),
                        expires_at=now + (min(lifetime, PENDING_LIFETIME) if pending else lifetime))
    session.add(row)
    session.flush()
    return Issued(row=row, token=token, cookie_key=cookie_key)


def find(session: Session, token: str, *, now: datetime, pending: bool = False) -> PortalSession | None:
    """The live session for a cookie token; None if there is none or it has expired (expired rows
    are deleted by the purge: a look-up writes nothing)."""
    row = session.get(PortalSession, session_id(token, pending=pending))
    if row is not None and row.expires_at <= now:
        return None
    return row


def forget(session: Session, token: str, *, pending: bool = False) -> None:
    """Delete the row a cookie token names, if there is one (a session found expired or dead)."""
    session.execute(delete(PortalSession).where(PortalSession.id == session_id(token, pending=pending)))


def unlocked_key(row: PortalSession, cookie_key: bytes) -> bytes | None:
    """The organisation key kept in `row`, opened with the cookie key; None when the user had no
    grant at login. SealError when the cookie key is not the one the row was made with."""
    if row.unlocked_key is None:
        return None
    blob = row.unlocked_key
    try:
        return AESGCM(cookie_key).decrypt(blob[:12], blob[12:], _CONTEXT + row.id.encode())
    except (InvalidTag, ValueError):
        raise SealError("the session key does not open this session") from None


def end(session: Session, row: PortalSession) -> None:
    """Delete a session (logout, or a pending login replaced by the real one)."""
    session.delete(row)
    session.flush()


def purge_expired(session: Session, now: datetime) -> int:
    """Delete every session past its absolute expiry; returns how many. For the purge job."""
    return session.execute(delete(PortalSession).where(PortalSession.expires_at <= now)).rowcount
