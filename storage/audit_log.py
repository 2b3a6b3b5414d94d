"""The audit log, tamper-evident: each entry carries an HMAC (keyed with a server secret) of the
previous entry's and its own fields, so editing, deleting or reordering entries breaks the chain
from that point on, and only the server can forge a chain that holds. The head (the last entry,
its hash and the count) is kept in one row, locked while an entry is added, so that concurrent
writers append one after the other; `audit verify` prints it, for an operator to note elsewhere:
deleting the newest entries together with the head can only be seen against such a copy.

The key reaches the log through the session (`configure`), so that no caller can add an entry
that is not chained."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import insert_ignoring_duplicates
from storage.models import AuditEntry, AuditHead, User

_KEY = "audit.key"
GENESIS = bytes(32)


def configure(sessions: sessionmaker, key: bytes) -> None:
    """Give every session of `sessions` the key that chains audit entries."""
    sessions.configure(info={_KEY: key})


def _mac(key: bytes, previous: bytes, entry: AuditEntry) -> bytes:
    at = entry.at.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    fields = json.dumps([entry.id, at, entry.user_id, entry.action, entry.referral_id, entry.detail])
    return hmac.new(key, previous + fields.encode(), hashlib.sha256).digest()


def audit(session: Session, *, now: datetime, action: str, user_id: int | None = None,
          referral_id: int | None = None, detail: str | None = None) -> None:
    """Add one entry at the end of the chain. `detail` must never hold report content or personal data."""
    key = session.info[_KEY]
    head = _locked_head(session)
    entry = AuditEntry(at=now, user_id=user_id, action=action, referral_id=referral_id,
                       detail=detail[:255] if detail else None)
    session.add(entry)
    session.flush()  # its id is part of what is chained
    previous = head.chain or GENESIS
    if head.last_id is None:  # entries written before the log was chained join it now, in order
        for earlier in session.execute(select(AuditEntry).where(AuditEntry.id < entry.id)
                                       .order_by(AuditEntry.id)).scalars():
            earlier.chain = previous = _mac(key, previous, earlier)
            head.entries += 1
    entry.chain = _mac(key, previous, entry)
    head.last_id, head.chain, head.entries = entry.id, entry.chain, head.entries + 1


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked until the transaction ends (made if missing: the migration makes it,
    but an emptied database may not have it)."""
    locked = select(AuditHead).where(AuditHead.id == 1).with_for_update()
    head = session.execute(locked).scalar_one_or_none()
    if head is None:
        insert_ignoring_duplicates(session, AuditHead, id=1, last_id=None, chain=None, entries=0)
        head = session.execute(locked).scalar_one()
    return head


@dataclass(frozen=True)
class Verdict:
    entries: int
    head: bytes
    broken_at: int | None = None  # the first entry whose hash does not hold
    head_mismatch: bool = False  # every entry holds, but the head names another end
    anchor_forged: bool = False  # the chain's recorded start (after a purge) is not the server's
    purged: int = 0  # entries purged from the start after their lifetime
    anchor_id: int | None = None  # the last of them: the chain goes on from its hash

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.head_mismatch and not self.anchor_forged


def _anchor_mac(key: bytes, anchor_id: int, anchor_chain: bytes, purged: int) -> bytes:
    fields = json.dumps(["anchor", anchor_id, anchor_chain.hex(), purged])
    return hmac.new(key, fields.encode(), hashlib.sha256).digest()


def verify(session: Session) -> Verdict:
    """Check the chain from its start (the genesis, or the anchor a purge left) to the head."""
    key = session.info[_KEY]
    head = session.get(AuditHead, 1)
    previous, count, purged, anchor_id = GENESIS, 0, 0, None
    if head is not None and head.anchor_id is not None:
        anchor_id, purged = head.anchor_id, head.purged
        expected = _anchor_mac(key, head.anchor_id, head.anchor_chain or b"", head.purged)
        if head.anchor_chain is None or not hmac.compare_digest(head.anchor_mac or b"", expected):
            return Verdict(0, GENESIS, anchor_forged=True, purged=purged, anchor_id=anchor_id)
        previous = head.anchor_chain
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)).scalars():
        if (anchor_id is not None and entry.id <= anchor_id) or entry.chain is None \
                or not hmac.compare_digest(entry.chain, _mac(key, previous, entry)):
            return Verdict(count, previous, broken_at=entry.id, purged=purged, anchor_id=anchor_id)
        previous, count = entry.chain, count + 1
    last = session.execute(select(func.max(AuditEntry.id))).scalar()
    if last is None:
        last = anchor_id
    agrees = head is not None and head.last_id == last and head.entries == count and (head.chain or GENESIS) == previous
    return Verdict(count, previous, head_mismatch=not agrees, purged=purged, anchor_id=anchor_id)


def purge_before(session: Session, cutoff: datetime) -> int:
    """Delete the oldest entries, those written before `cutoff`, from the chain's start (never
    from its middle: an entry is kept while an older-numbered one is), and move the anchor to
    the last one deleted, so that the chain still verifies. Returns how many went."""
    key = session.info[_KEY]
    head = _locked_head(session)
    if head.last_id is None:  # entries not chained yet: the next entry chains them first
        return 0
    first_kept = session.execute(select(func.min(AuditEntry.id)).where(AuditEntry.at >= cutoff)).scalar()
    older = select(AuditEntry.id, AuditEntry.chain)
    if first_kept is not None:
        older = older.where(AuditEntry.id < first_kept)
    last = session.execute(older.order_by(AuditEntry.id.desc()).limit(1)).first()
    if last is None or last.chain is None:
        return 0
    count = session.execute(delete(AuditEntry).where(AuditEntry.id <= last.id)).rowcount
    head.anchor_id, head.anchor_chain = last.id, last.chain
    head.purged, head.entries = (head.purged or 0) + count, head.entries - count
    head.anchor_mac = _anchor_mac(key, head.anchor_id, head.anchor_chain, head.purged)
    return count


# --- reading it -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    """One page of the log, newest first, with the e-mail address of each entry's account."""

    entries: list[AuditEntry]
    emails: dict[int, str]
    page: int
    pages: int
    total: int


def latest(session: Session, *, page: int = 1, page_size: int = 50) -> Page:
    """Page `page` of the log, newest entries first (a page past the end shows the last)."""
    total = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    entries = session.execute(select(AuditEntry).order_by(AuditEntry.id.desc())
                              .offset((page - 1) * page_size).limit(page_size)).scalars().all()
    ids = {entry.user_id for entry in entries if entry.user_id is not None}
    emails = {row.id: row.email for row in session.execute(select(User.id, User.email).where(User.id.in_(ids)))}
    return Page(entries, emails, page, pages, total)
