"""The caseworkers' side of self-service changes (`storage.changes` is the person's side): the
queue of pending changes, opened with the server's data key; deciding them, once only, however
many caseworkers decide at the same moment; applying an approved change to its record, with a
history row per field changed; telling the person the outcome through the outbox (never the
values); and the counts of declared needs. Functions take the session first and never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from i18n.text import Text
from intake.registration import NEED_CODE, OUTCOME_APPROVED, OUTCOME_REJECTED
from storage import outbox
from storage.changes import change_row, history_row, open_change_value, open_reply_to, seal_value
from storage.binding import legacy_for
from storage.crypto import Vault
from storage.models import NeedCount, Registration, RegistrationChange, RegistrationHistory, Township
from storage.registrations import open_details, open_number, write_details

PAGE_SIZE = 50
REASON_PURPOSE = "registration.reason"
APPROVE, REJECT = "approve", "reject"
# Kinds whose new value becomes one detail of the record as it is.
FIELD_KINDS = ("phone", "township", "address", "education", "occupation", "language")
# Kinds an approval changes no field for: a household change is done in the registration system,
# and an erasure was applied by the person's own flow already (approving acknowledges it).
ACKNOWLEDGED_KINDS = ("household", "erasure")


@dataclass(frozen=True)
class QueueItem:
    """One pending change as the queue shows it: its row, the record's registration number, and
    the old and new values opened (JSON: a string, a dict, or None)."""

    change: RegistrationChange
    number: str
    old: object
    new: object
    erased_at: datetime | None


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int  # pending changes matching the filters, on every page
    page: int
    pages: int


def _pending(township: str | None, kind: str | None):
    conditions = [RegistrationChange.status == "pending"]
    if township:
        conditions.append(RegistrationChange.township_pcode == township)
    if kind:
        conditions.append(RegistrationChange.kind == kind)
    return conditions


def pending_changes(session: Session, vault: Vault, *, township: str | None = None, kind: str | None = None,
                    page: int = 1, per_page: int = PAGE_SIZE) -> QueuePage:
    """One page of the pending changes, oldest first (a page past the end is the last page)."""
    conditions = _pending(township, kind)
    total = session.execute(select(func.count(RegistrationChange.id)).where(*conditions)).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        select(RegistrationChange, Registration)
        .join(Registration, Registration.id == RegistrationChange.registration_id)
        .where(*conditions)
        .order_by(RegistrationChange.requested_at, RegistrationChange.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    items = [QueueItem(change, open_number(vault, registration), open_change_value(vault, change, "old_value"),
                       open_change_value(vault, change, "new_value"), registration.erased_at)
             for change, registration in rows]
    return QueuePage(items, total, page, pages)


def pending_townships(session: Session) -> list[str]:
    """The townships (P-codes) that have changes waiting, for the queue's filter."""
    return list(session.execute(
        select(RegistrationChange.township_pcode).distinct()
        .where(RegistrationChange.status == "pending", RegistrationChange.township_pcode.is_not(None))
        .order_by(RegistrationChange.township_pcode)).scalars())


def township_names(session: Session, pcodes: Iterable[str | None]) -> dict[str, str]:
    """P-code -> the township's English name, for the P-codes the gazetteer knows."""
    wanted = sorted({pcode for pcode in pcodes if pcode})
    if not wanted:
        return {}
    return dict(session.execute(select(Township.pcode, Township.name_en).where(Township.pcode.in_(wanted))).all())


# --- deciding -----------------------------------------------------------------------------------

@dataclass
class Decided:
    """What one decision did, by change id."""

    decided: list[int]  # approved (and applied) or rejected now
    skipped: list[int]  # no longer pending (decided by someone else, or purged): left alone
    not_applicable: list[tuple[int, str]]  # pending, but this decision cannot be taken: (id, why)


def seal_reason(vault: Vault, reason: str, change: RegistrationChange) -> bytes:
    return vault.seal(reason.encode(), REASON_PURPOSE, change_row(change, "reason"))


def open_reason(vault: Vault, change: RegistrationChange) -> str | None:
    return None if change.reason is None else vault.open(
        change.reason, REASON_PURPOSE, change_row(change, "reason"),
        legacy=legacy_for(change, "registration_changes")).decode()


def decide(session: Session, vault: Vault, change_ids: Iterable[int], *, decision: str, reason: str | None,
           user_id: int, now: datetime, render: Callable[[str, Text], str]) -> Decided:
    """Approve or reject the given changes, oldest first. Each is locked and then claimed by an
    UPDATE that only matches while it is still pending, so two caseworkers deciding the same
    change at once decide (and apply) it once: the second finds it decided and skips it.

    An approved change is applied to its record; a person who left an address to be told at is
    told the outcome (through the outbox, in the language of the change; `render` renders a Text)
    and the address is dropped. A rejection keeps its `reason`, sealed."""
    if decision not in (APPROVE, REJECT):
        raise ValueError(f"decision must be {APPROVE} or {REJECT}")
    if decision == REJECT and not (reason or "").strip():
        raise ValueError("a rejection needs a reason")
    done = Decided([], [], [])
    wanted = sorted(set(change_ids))
    if not wanted:
        return done
    # The records first, then the changes, each in one order: the order the person's own flow
    # (an erasure) and any other batch take them in too, so no two of them wait on each other.
    record_ids = sorted(session.execute(select(RegistrationChange.registration_id).distinct()
                                        .where(RegistrationChange.id.in_(wanted))).scalars())
    records = {registration.id: registration for registration in session.execute(
        select(Registration).where(Registration.id.in_(record_ids)).order_by(Registration.id)
        .with_for_update().execution_options(populate_existing=True)).scalars()}
    changes = session.execute(
        select(RegistrationChange).where(RegistrationChange.id.in_(wanted))
        .order_by(RegistrationChange.requested_at, RegistrationChange.id)
        .with_for_update().execution_options(populate_existing=True)).scalars().all()
    found = {change.id for change in changes}
    done.skipped.extend(change_id for change_id in wanted if change_id not in found)
    for change in changes:
        if change.status != "pending":
            done.skipped.append(change.id)
            continue
        registration = records[change.registration_id]
        why_not = _why_not(change, registration, decision)
        if why_not:
            done.not_applicable.append((change.id, why_not))
            continue
        reply_to = open_reply_to(vault, change)
        new_value = open_change_value(vault, change, "new_value")
        claimed = session.execute(
            update(RegistrationChange)
            .where(RegistrationChange.id == change.id, RegistrationChange.status == "pending")
            .values(status="approved" if decision == APPROVE else "rejected", decided_at=now, decided_by=user_id,
                    reason=seal_reason(vault, reason.strip(), change) if decision == REJECT else None, reply_to=None)
            .execution_options(synchronize_session="fetch"))
        if claimed.rowcount != 1:
            done.skipped.append(change.id)
            continue
        if decision == APPROVE:
            _apply(session, vault, change, registration, new_value, now)
        if reply_to is not None:
            _tell(session, vault, change, reply_to, new_value, decision, now, render)
        done.decided.append(change.id)
    session.flush()
    return done


def _why_not(change: RegistrationChange, registration: Registration, decision: str) -> str | None:
    if decision == REJECT and change.kind == "erasure":
        return "an erasure is done already: it can only be acknowledged (approve)"
    if decision == APPROVE and change.kind not in ACKNOWLEDGED_KINDS:
        if registration.details is None:
            return "the record's details were erased: there is nothing to change (reject it)"
        if change.kind not in FIELD_KINDS and change.kind != "needs":
            return f"unknown kind of change {change.kind!r}"
    return None


def merge_needs(recorded: str | None, codes: Iterable[str]) -> str:
    """The record's `;`-joined need codes with `codes` added (a code already there, or a group
    already there with a sub-code, is not added again; anything not a need code is ignored)."""
    have = [code.strip() for code in (recorded or "").split(";") if code.strip()]
    for code in codes:
        code = code.strip().upper() if isinstance(code, str) else ""
        if not NEED_CODE.fullmatch(code) or code in have:
            continue
        if len(code) == 2 and any(existing.startswith(code + "-") for existing in have):
            continue
        have.append(code)
    return ";".join(have)


def _apply(session: Session, vault: Vault, change: RegistrationChange, registration: Registration,
           new_value, now: datetime) -> None:
    """Write an approved change into its record (a history row per field that changed)."""
    if change.kind in ACKNOWLEDGED_KINDS:
        return
    details = open_details(vault, registration)
    field = change.kind
    before = details.get(field) or ""
    if field == "needs":
        codes = new_value.get("codes", []) if isinstance(new_value, dict) else []
        after = merge_needs(before, codes)
    else:
        after = new_value if isinstance(new_value, str) else ""
    if after == before:
        return
    details[field] = after
    write_details(vault, registration, details, now)
    history = RegistrationHistory(registration_id=registration.id, change_id=change.id, field=field, changed_at=now)
    session.add(history)
    session.flush()  # its id first: the values are bound to it
    history.old_value = seal_value(vault, before, history_row(history, "old_value"))
    history.new_value = seal_value(vault, after, history_row(history, "new_value"))
    if field == "township":
        # The queue files a record's other waiting changes under the record's township.
        session.execute(update(RegistrationChange)
                        .where(RegistrationChange.registration_id == registration.id,
                               RegistrationChange.status == "pending")
                        .values(township_pcode=registration.township_pcode)
                        .execution_options(synchronize_session="fetch"))


def _tell(session: Session, vault: Vault, change: RegistrationChange, reply_to: dict, new_value,
          decision: str, now: datetime, render: Callable[[str, Text], str]) -> None:
    """Queue the outcome for the person: to the address they wrote from, or, for an approved new
    phone number, to that number by SMS. The words say only accepted or not."""
    channel, address = reply_to.get("channel"), reply_to.get("address")
    if decision == APPROVE and change.kind == "phone" and isinstance(new_value, str) and new_value:
        channel, address = "sms", new_value
    if channel not in ("sms", "telegram") or not address:
        return
    body = render(change.language, OUTCOME_APPROVED if decision == APPROVE else OUTCOME_REJECTED)
    payload = {"body": body} if channel == "sms" else {"body": body, "buttons": []}
    # A random tag: a sent row must not name the change it told about.
    outbox.enqueue(session, vault, dedupe_key=f"outcome:{secrets.token_hex(8)}", channel=channel,
                   purpose="reply", recipient=str(address), payload=payload, now=now,
                   ordering_key=vault.sender_key(channel, str(address)))


# --- who needs what -----------------------------------------------------------------------------

def need_counts(session: Session, month: str | None = None) -> list[tuple[str, str | None, int]]:
    """(need group, township P-code or None, declarations) for one month (YYYY-MM) or all."""
    statement = select(NeedCount.need_group, NeedCount.township_pcode, func.sum(NeedCount.declared))
    if month:
        statement = statement.where(NeedCount.month == month)
    rows = session.execute(statement.group_by(NeedCount.need_group, NeedCount.township_pcode))
    return [(group, pcode or None, int(count)) for group, pcode, count in rows]


def need_months(session: Session) -> list[str]:
    """The months with declared needs, newest first."""
    return list(session.execute(select(NeedCount.month).distinct().order_by(NeedCount.month.desc())).scalars())
