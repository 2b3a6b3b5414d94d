"""Messages between the organisations a case reached and its reporter.

A message to the reporter is encrypted with the report key: the reporter opens it with the
receipt (which unwraps that key), and the organisations that hold the case can read back what
they wrote. A message from the reporter is sealed to each organisation handling the case, so the
server alone can open neither. Functions take the session first and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import binding, sealing
from storage.crypto import AlteredError
from storage.models import Organisation, Referral, ReporterMessage, Report
from storage.reports import open_report_key

_TO_REPORTER = b"intake/reporter-message/v1"
# The longest message either side may write: what an SMS conversation can still carry.
MAX_LENGTH = 1000


@dataclass(frozen=True)
class Message:
    """One message as its reader sees it."""

    id: int
    direction: str  # out (to the reporter), in (from the reporter)
    text: str
    created_at: datetime
    read_at: datetime | None
    author_id: int | None
    sent_out: bool


def report_key_of(referral: Referral, organisation_private_key: bytes) -> bytes:
    """The report key, opened with the key of the referral's organisation."""
    if referral.sealed_key is None:
        raise sealing.SealError("this organisation no longer holds the case")
    return open_report_key(referral, organisation_private_key)


def write_to_reporter(session: Session, referral: Referral, report_key: bytes, text: str, *,
                      author_id: int, now: datetime, sent_out: bool = False) -> ReporterMessage:
    """A message the reporter will see the next time they check the report with the receipt."""
    message = ReporterMessage(report_id=referral.report_id, referral_id=referral.id, direction="out",
                              author_id=author_id, created_at=now, sent_out=sent_out, body=b"")
    session.add(message)
    session.flush()  # its id first: the text is bound to it
    message.body = sealing.encrypt_text(report_key, text[:MAX_LENGTH], _TO_REPORTER, _bind(message))
    session.flush()
    return message


def _bind(row: ReporterMessage) -> bytes:
    """What a message's body is bound to: the message, its report, its referral, its direction."""
    return binding.sealed_label("reporter_messages", "body", {
        "id": row.id, "report_id": row.report_id, "referral_id": row.referral_id, "direction": row.direction})


def open_message(row: ReporterMessage, *, report_key: bytes | None = None, private_key: bytes | None = None) -> str:
    """A message's text (to the reporter with the report key; from them with the organisation's
    key); AlteredError, logged as its kind, when the body is not this row's."""
    legacy = binding.legacy_for(row, "reporter_messages")
    try:
        if row.direction == "out":
            return sealing.decrypt_text(report_key, row.body, _TO_REPORTER, _bind(row), legacy=legacy)
        return sealing.open_sealed(private_key, row.body, _bind(row), legacy=legacy).decode()
    except sealing.SealError:
        raise binding.refused("reporter_messages.body") from None


def handling_referrals(session: Session, report_id: int) -> list[Referral]:
    """The referrals that receive what the reporter writes: those still holding the case (not
    referred on, key kept); if the case was referred on everywhere, every one that kept a key."""
    holding = list(session.execute(select(Referral).where(Referral.report_id == report_id,
                                                          Referral.sealed_key.is_not(None))
                                   .order_by(Referral.id)).scalars())
    active = [referral for referral in holding if referral.status != "referred"]
    return active or holding


def add_reporter_answer(session: Session, report: Report, text: str, *, now: datetime) -> list[ReporterMessage]:
    """What the reporter wrote, sealed to each organisation handling the case."""
    written = []
    for referral in handling_referrals(session, report.id):
        organisation = session.get(Organisation, referral.organisation_id)
        message = ReporterMessage(report_id=report.id, referral_id=referral.id, direction="in", created_at=now,
                                  body=b"")
        session.add(message)
        session.flush()
        message.body = sealing.seal_to(organisation.public_key, text[:MAX_LENGTH].encode(), _bind(message))
        written.append(message)
    session.flush()
    return written


def for_reporter(session: Session, report: Report, report_key: bytes) -> list[Message]:
    """The messages organisations wrote to the reporter, oldest first, opened with the report key.
    One that does not open as its row's (moved from another report, edited) is left out, and
    logged as its kind: the reporter never reads a message meant for someone else."""
    rows = session.execute(select(ReporterMessage).where(ReporterMessage.report_id == report.id,
                                                         ReporterMessage.direction == "out")
                           .order_by(ReporterMessage.created_at, ReporterMessage.id)).scalars()
    messages = []
    for row in rows:
        try:
            messages.append(_message(row, open_message(row, report_key=report_key)))
        except AlteredError:
            continue
    return messages


def mark_read(session: Session, message_ids: list[int], now: datetime) -> int:
    """Note when the reporter first read these messages; returns how many were new to them."""
    count = 0
    for row in session.execute(select(ReporterMessage).where(ReporterMessage.id.in_(message_ids),
                                                             ReporterMessage.read_at.is_(None))).scalars():
        row.read_at = now
        count += 1
    return count


def conversation(session: Session, referral: Referral, organisation_private_key: bytes) -> list[Message]:
    """What the organisation of `referral` and the reporter wrote each other, oldest first: every
    message to the reporter (whichever organisation wrote it) and the answers sealed to this one."""
    report_key = report_key_of(referral, organisation_private_key)
    rows = session.execute(
        select(ReporterMessage).where(ReporterMessage.report_id == referral.report_id,
                                      (ReporterMessage.direction == "out") | (ReporterMessage.referral_id == referral.id))
        .order_by(ReporterMessage.created_at, ReporterMessage.id)).scalars()
    messages = []
    for row in rows:
        messages.append(_message(row, open_message(row, report_key=report_key, private_key=organisation_private_key)))
    return messages


def _message(row: ReporterMessage, text: str) -> Message:
    return Message(row.id, row.direction, text, row.created_at, row.read_at, row.author_id, row.sent_out)
