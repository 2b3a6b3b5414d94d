"""A referral's life after it arrives: status, category, assignee, internal notes, referring it
on to another organisation, and the timeline of all of it. Functions take the session first and
never commit; each change is one timeline event (what the focal point sees) and one audit entry
(what the operator can prove), written together.

Notes are sealed to the organisation's public key, so only its key holders can read them (an
organisation the case is referred on to does not read the notes of the one before). Transfers
seal the report key, never the content, to the receiving organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import binding, sealing
from storage.audit_log import audit
from storage.models import KeyGrant, Organisation, Referral, ReferralEvent, User
from storage.reports import CATEGORIES, CLOSING_STATUSES, STATUSES, acknowledge, new_case_ref, seal_report_key

# The statuses a focal point sets by hand; "referred" comes only from referring the case on.
SETTABLE_STATUSES = tuple(status for status in STATUSES if status != "referred")
MAX_NOTE_LENGTH = 4000


class CaseworkError(ValueError):
    """A change that cannot be made; the message says why, in words for the focal point."""


def _record(session: Session, referral: Referral, *, kind: str, user_id: int | None, now: datetime,
            value: str | None = None, note: bytes | None = None) -> ReferralEvent:
    event = ReferralEvent(referral_id=referral.id, at=now, user_id=user_id, kind=kind, value=value, note=note)
    session.add(event)
    audit(session, now=now, action=kind, user_id=user_id, referral_id=referral.id, detail=value)
    return event


def acknowledge_referral(session: Session, referral: Referral, *, user_id: int, now: datetime) -> bool:
    """Acknowledge receipt (stops the escalations); False if it already was."""
    if not acknowledge(session, referral, user_id, now):
        return False
    referral.status_changed_at = now
    _record(session, referral, kind="acknowledge", user_id=user_id, now=now)
    return True


def set_status(session: Session, referral: Referral, status: str, *, user_id: int, now: datetime) -> bool:
    """Move the referral to `status`; False when it is there already. A status past "received"
    acknowledges it too; a closing status sets when it closed, reopening clears that."""
    if status not in SETTABLE_STATUSES:
        raise CaseworkError("That is not a status a referral can be given.")
    if referral.status == "referred":
        raise CaseworkError("This case was referred on: its status is followed by the organisation it went to.")
    if status == referral.status:
        return False
    if status != "received":
        acknowledge_referral(session, referral, user_id=user_id, now=now)
    referral.status = status
    referral.status_changed_at = now
    referral.closed_at = now if status in CLOSING_STATUSES else None
    _record(session, referral, kind="status", value=status, user_id=user_id, now=now)
    return True


def set_category(session: Session, referral: Referral, category: str, *, user_id: int, now: datetime) -> bool:
    """Say what the allegation is; False when it was that already."""
    if category not in CATEGORIES:
        raise CaseworkError("That is not a category.")
    if category == referral.category:
        return False
    referral.category = category
    _record(session, referral, kind="category", value=category, user_id=user_id, now=now)
    return True


def colleagues(session: Session, organisation_id: int) -> list[User]:
    """The organisation's active accounts that can open its referrals (they hold its key)."""
    return list(session.execute(
        select(User).join(KeyGrant, (KeyGrant.user_id == User.id) & (KeyGrant.organisation_id == organisation_id))
        .where(User.organisation_id == organisation_id, User.active.is_(True)).order_by(User.email)).scalars())


def assign(session: Session, referral: Referral, assignee_id: int | None, *, user_id: int, now: datetime) -> bool:
    """Give the case to a colleague who can open it (None: to nobody); False if no change."""
    if assignee_id is not None and assignee_id not in {u.id for u in colleagues(session, referral.organisation_id)}:
        raise CaseworkError("A case can only be assigned to a colleague of your organisation who can open it.")
    if assignee_id == referral.assigned_to:
        return False
    referral.assigned_to = assignee_id
    _record(session, referral, kind="assign", value=str(assignee_id) if assignee_id else None, user_id=user_id,
            now=now)
    return True


def add_note(session: Session, referral: Referral, text: str, *, user_id: int, now: datetime) -> ReferralEvent:
    """An internal note, sealed to the organisation (the report's own readers cannot see it)."""
    text = text.strip()
    if not text:
        raise CaseworkError("The note is empty.")
    if len(text) > MAX_NOTE_LENGTH:
        raise CaseworkError(f"A note can be at most {MAX_NOTE_LENGTH} characters long; this one has {len(text)}.")
    organisation = session.get(Organisation, referral.organisation_id)
    event = _record(session, referral, kind="note", user_id=user_id, now=now)
    session.flush()  # its id first: the note is bound to it
    event.note = sealing.seal_to(organisation.public_key, text.encode(), note_bind(event, referral.organisation_id))
    return event


def note_bind(event: ReferralEvent, organisation_id: int) -> bytes:
    """What a note is bound to: its event, its referral and the organisation it is sealed to."""
    return binding.sealed_label("referral_events", "note", {
        "id": event.id, "referral_id": event.referral_id, "organisation_id": organisation_id})


def record_message(session: Session, referral: Referral, *, kind: str, user_id: int | None,
                   now: datetime) -> None:
    """A message written to the reporter ("message_out"), sent to their phone ("message_sent")
    or written by them ("message_in") joins the timeline and the audit log (its text is in
    reporter_messages)."""
    _record(session, referral, kind=kind, user_id=user_id, now=now)


def transfer_targets(session: Session, referral: Referral) -> list[Organisation]:
    """The organisations a case can be referred on to: every other one that does not have it yet."""
    holding = select(Referral.organisation_id).where(Referral.report_id == referral.report_id)
    return list(session.execute(select(Organisation).where(Organisation.id.not_in(holding))
                                .order_by(Organisation.is_network.desc(), Organisation.name)).scalars())


def refer_on(session: Session, referral: Referral, to_organisation_id: int, *, report_key: bytes,
             keep_access: bool, user_id: int, now: datetime, ack_deadline: datetime) -> Referral:
    """Refer the case on (the Reporting Framework's transfer): a new referral for the other
    organisation, with the report key sealed to its public key and its own deadline; this one
    becomes "referred" and, unless `keep_access`, gives up its key to the case."""
    if referral.status == "referred":
        raise CaseworkError("This case was already referred on.")
    target = session.get(Organisation, to_organisation_id)
    if target is None or target not in transfer_targets(session, referral):
        raise CaseworkError("The case cannot be referred to that organisation (it may have it already).")
    received = Referral(case_ref=new_case_ref(session), report_id=referral.report_id, organisation_id=target.id,
                        sealed_key=None, status="received",
                        category=referral.category, referred_from_id=referral.id, created_at=now,
                        status_changed_at=now, ack_deadline=ack_deadline, escalations=0,
                        next_escalation_at=ack_deadline)
    session.add(received)
    session.flush()  # its id first: the key is bound to it
    received.sealed_key = seal_report_key(target.public_key, report_key, received)
    acknowledge_referral(session, referral, user_id=user_id, now=now)
    referral.status = "referred"
    referral.status_changed_at = now
    if not keep_access:
        referral.sealed_key = None
        referral.assigned_to = None
    _record(session, referral, kind="refer_on", value=target.acronym, user_id=user_id, now=now)
    source = session.get(Organisation, referral.organisation_id)
    _record(session, received, kind="referred_in", value=source.acronym, user_id=user_id, now=now)
    return received


def referred_to(session: Session, referral: Referral) -> Organisation | None:
    """The organisation this referral was referred on to, if it was."""
    return session.execute(select(Organisation).join(Referral, Referral.organisation_id == Organisation.id)
                           .where(Referral.referred_from_id == referral.id)).scalar_one_or_none()


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a referral's timeline, ready to show."""

    at: datetime
    kind: str
    value: str | None
    who: str | None  # the account's e-mail; None for the service itself
    note: str | None = None


def timeline(session: Session, referral: Referral, organisation_private_key: bytes) -> list[TimelineEntry]:
    """What happened to the referral, oldest first, with its notes opened."""
    rows = session.execute(select(ReferralEvent, User.email).outerjoin(User, User.id == ReferralEvent.user_id)
                           .where(ReferralEvent.referral_id == referral.id)
                           .order_by(ReferralEvent.at, ReferralEvent.id))
    emails = {user.id: user.email for user in colleagues(session, referral.organisation_id)}
    entries = [TimelineEntry(referral.created_at, "received", None, None)]
    for event, email in rows:
        note = _open_note(event, referral, organisation_private_key) if event.note else None
        value = emails.get(int(event.value), event.value) if event.kind == "assign" and event.value else event.value
        entries.append(TimelineEntry(event.at, event.kind, value, email, note))
    return entries


def _open_note(event: ReferralEvent, referral: Referral, organisation_private_key: bytes) -> str:
    """A note's text; AlteredError (logged as its kind) when it is not this event's."""
    try:
        return sealing.open_sealed(organisation_private_key, event.note, note_bind(event, referral.organisation_id),
                                   legacy=binding.legacy_for(event, "referral_events")).decode()
    except sealing.SealError:
        raise binding.refused("referral_events.note") from None
