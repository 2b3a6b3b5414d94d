"""Reports and referrals: filing a sealed report, reading it with an organisation's key,
acknowledging, and the audit log. Functions take the session first and never commit."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import binding, sealing
from storage.models import Organisation, Referral, Report

# UN system-wide status terms (ARCHITECTURE.md "Domain words").
STATUSES = ("received", "acknowledged", "preliminary_assessment", "under_investigation",
            "substantiated", "not_substantiated", "closed_other", "referred")
# Where a case ends: one of these statuses closes it.
CLOSING_STATUSES = ("substantiated", "not_substantiated", "closed_other")
# What the allegation is (the UN system-wide data's categories).
CATEGORIES = ("sexual_exploitation", "sexual_abuse", "other", "unknown")
# Case references focal points read out on the phone: no 0/O, 1/I/L.
_CASE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CASE_REF = re.compile(f"R-[{_CASE_ALPHABET}]{{6}}")


@dataclass(frozen=True)
class NewReport:
    """Everything needed to file a report. `content` is sealed; the rest is routing metadata."""

    recipient_organisation_id: int
    route: str
    named_organisation_id: int | None
    incident_period: str
    township_pcode: str | None
    state_pcode: str | None
    child_involved: str
    affected: str
    urgent: bool
    contact_allowed: bool
    # Derived from the receipt number beforehand (sealing.receipt_secrets is deliberately slow,
    # and must not run while the filing transaction holds its locks).
    receipt: sealing.ReceiptSecrets
    content: dict = field(default_factory=dict)


class ReceiptTaken(Exception):
    """The new receipt's lookup part already finds a report: the host draws another receipt and
    handles the message again (before anything is filed or shown)."""


def receipt_taken(session: Session, lookup: str) -> bool:
    """Whether a report is already found by this receipt lookup digest."""
    return session.execute(select(Report.id).where(Report.receipt_lookup == lookup)).first() is not None


def new_case_ref(session: Session) -> str:
    """A short reference ("R-7KQ3MX") unique among referrals."""
    while True:
        ref = "R-" + "".join(secrets.choice(_CASE_ALPHABET) for _ in range(6))
        if not session.execute(select(Referral.id).where(Referral.case_ref == ref)).first():
            return ref


def file_report(session: Session, new: NewReport, *, now: datetime,
                ack_deadline: datetime) -> tuple[Report, Referral]:
    """Seal and store a report and its first referral. The report key is sealed to the receiving
    organisation and wrapped for the receipt; neither it nor the receipt is stored. ReceiptTaken
    when the receipt's lookup part already finds a report (checked here; the unique index on
    `receipt_lookup` is the last word, see bot.channels.inbox)."""
    if receipt_taken(session, new.receipt.lookup):
        raise ReceiptTaken
    organisation = session.get(Organisation, new.recipient_organisation_id)
    # Written first with nothing sealed, so that the content and the wrap can be bound to its id.
    report = Report(
        receipt_lookup=new.receipt.lookup, named_organisation_id=new.named_organisation_id, route=new.route,
        received_month=now.strftime("%Y-%m"), incident_period=new.incident_period,
        township_pcode=new.township_pcode, state_pcode=new.state_pcode, child_involved=new.child_involved,
        affected=new.affected, urgent=new.urgent, contact_allowed=new.contact_allowed, content=b"",
        receipt_wrap=b"", receipt_salt=new.receipt.salt,
        receipt_kdf=sealing.receipt_kdf_text(new.receipt.kdf) if new.receipt.kdf else None, created_at=now)
    session.add(report)
    session.flush()
    row = binding.report_row(report)
    report_key, report.content = sealing.encrypt_content(new.content, binding.sealed_label("reports", "content", row))
    report.receipt_wrap = sealing.wrap_for_receipt(report_key, new.receipt,
                                                   binding.sealed_label("reports", "receipt_wrap", row))
    referral = Referral(case_ref=new_case_ref(session), report_id=report.id, organisation_id=organisation.id,
                        sealed_key=None, status="received", created_at=now, ack_deadline=ack_deadline,
                        escalations=0, next_escalation_at=ack_deadline)
    session.add(referral)
    session.flush()
    referral.sealed_key = seal_report_key(organisation.public_key, report_key, referral)
    session.flush()
    return report, referral


def seal_report_key(public_key: bytes, report_key: bytes, referral: Referral) -> bytes:
    """The report key sealed to an organisation, bound to the referral (id, report, organisation)."""
    return sealing.seal_to(public_key, report_key,
                           binding.sealed_label("referrals", "sealed_key", binding.referral_row(referral)))


def open_report_key(referral: Referral, organisation_private_key: bytes) -> bytes:
    """The report key of a referral, opened with its organisation's private key; AlteredError
    (logged as its kind) when the sealed key is not this referral's."""
    try:
        return sealing.open_sealed(organisation_private_key, referral.sealed_key,
                                   binding.sealed_label("referrals", "sealed_key", binding.referral_row(referral)),
                                   legacy=binding.legacy_for(referral, "referrals"))
    except sealing.SealError:
        raise binding.refused("referrals.sealed_key") from None


def open_content(report: Report, report_key: bytes) -> dict:
    """A report's content, opened with its key; AlteredError (logged as its kind) when the
    content is not this report's or its routing columns were edited."""
    try:
        return sealing.decrypt_content(report_key, report.content,
                                       binding.sealed_label("reports", "content", binding.report_row(report)),
                                       legacy=binding.legacy_for(report, "reports"))
    except sealing.SealError:
        raise binding.refused("reports.content") from None


def open_with_receipt(report: Report, secrets_: sealing.ReceiptSecrets) -> bytes:
    """The report key, unwrapped with the receipt's secrets; AlteredError when the wrap is not
    this report's (or its routing columns were edited)."""
    try:
        return sealing.unwrap_with_receipt(report.receipt_wrap, secrets_,
                                           binding.sealed_label("reports", "receipt_wrap", binding.report_row(report)),
                                           legacy=binding.legacy_for(report, "reports"))
    except sealing.SealError:
        raise binding.refused("reports.receipt_wrap") from None


def read_referral(session: Session, referral: Referral, organisation_private_key: bytes) -> dict:
    """The sealed content of a referral, opened with its organisation's private key."""
    report = session.get(Report, referral.report_id)
    return open_content(report, open_report_key(referral, organisation_private_key))


def find_referral(session: Session, organisation_id: int, case_ref: str) -> Referral | None:
    """A referral of this organisation by case reference; None for any other organisation's
    (and for anything that is not a case reference at all)."""
    if not CASE_REF.fullmatch(case_ref):
        return None
    return session.execute(select(Referral).where(Referral.case_ref == case_ref,
                                                  Referral.organisation_id == organisation_id)).scalar_one_or_none()


def overdue_referrals(session: Session, now: datetime) -> list[tuple[Referral, Organisation]]:
    """Unacknowledged referrals whose next escalation is due, with their organisations, locked
    for this transaction (another worker skips them)."""
    return [tuple(row) for row in session.execute(
        select(Referral, Organisation).join(Organisation, Organisation.id == Referral.organisation_id)
        .where(Referral.acknowledged_at.is_(None), Referral.next_escalation_at <= now)
        .order_by(Referral.id).with_for_update(of=Referral, skip_locked=True))]


def acknowledge(session: Session, referral: Referral, user_id: int, now: datetime) -> bool:
    """Mark a referral acknowledged (stops escalations). False if it already was."""
    if referral.acknowledged_at is not None:
        return False
    referral.acknowledged_at = now
    referral.acknowledged_by = user_id
    referral.next_escalation_at = None
    if referral.status == "received":
        referral.status = "acknowledged"
    return True
