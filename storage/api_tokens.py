"""Bearer tokens for the coordinators' API (`/api/v1`): made by the operator's `tokens create`,
shown once, and kept only as a keyed digest (`Vault.lookup_digest`), so that a copy of the
database holds no token anyone could use, and cannot even be checked for one without SECRET_KEY.
Functions take the session first and never commit."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.crypto import Vault
from storage.models import ApiToken

DIGEST_KIND = "api-token"
MAX_NAME = 100
# A token in use is stamped at most this often: every API call need not be a write.
USE_STAMP_INTERVAL = timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be made as asked; the message says why."""


def issue(session: Session, vault: Vault, *, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new token named `name` (what it is for); returns its row and the token itself, which is
    stored nowhere."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise TokenError(f"give the token a name of 1 to {MAX_NAME} characters (what or who it is for)")
    token = secrets.token_urlsafe(32)
    row = ApiToken(name=name, token_digest=vault.lookup_digest(DIGEST_KIND, token), created_at=now)
    session.add(row)
    session.flush()
    return row, token


def find(session: Session, vault: Vault, token: str) -> ApiToken | None:
    """The live (not revoked) token row for `token`, or None."""
    row = session.execute(select(ApiToken).where(
        ApiToken.token_digest == vault.lookup_digest(DIGEST_KIND, token))).scalar_one_or_none()
    return row if row is not None and row.revoked_at is None else None


def needs_stamp(row: ApiToken, now: datetime) -> bool:
    """Whether this use should be recorded in `last_used_at` (see USE_STAMP_INTERVAL)."""
    return row.last_used_at is None or now - row.last_used_at >= USE_STAMP_INTERVAL


def stamp(session: Session, token_id: int, now: datetime) -> None:
    """Record that the token was used now."""
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = now


def all_tokens(session: Session) -> list[ApiToken]:
    """Every token, revoked ones too, oldest first."""
    return list(session.execute(select(ApiToken).order_by(ApiToken.id)).scalars())


def revoke(session: Session, token_id: int, now: datetime) -> tuple[ApiToken | None, bool]:
    """Revoke a token for good: (its row, whether it was live until now); (None, False) when there
    is no such token. Revoking it again keeps the first time."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return row, False
    row.revoked_at = now
    return row, True
