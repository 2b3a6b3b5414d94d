"""Filing a report the engine has completed: route it, seal it, store it, notify (all inside the
message's transaction, so a report and its notifications exist together or not at all)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from bot.casework import notifications
from intake.engine import SubmitReport
from intake.prompts import choice_label
from intake.report import CHANNEL, MEDIA, TYPED_ORGANISATION, filed, sealed_content
from intake.routing import ack_deadline, network_of, route
from storage import media, reports
from storage.directory_lookup import DirectoryLookup
from storage.sealing import ReceiptSecrets

log = logging.getLogger(__name__)


def _content(answers: dict, address: str | None, channel: str) -> dict:
    """What only the receiving organisation (and the receipt) can read: the sealed fields of the
    report's schema (the account in the person's own words, the contact details they consented to
    give) and, when they asked to be contacted where they wrote from, that address."""
    content = sealed_content(answers)
    if content.get("contact_how") == "this_number" and address:
        content.update({"contact_number": address, CHANNEL: channel})
    return content


def file(session: Session, runtime, directory: DirectoryLookup, effect: SubmitReport, *, address: str | None,
         channel: str, now: datetime, receipt: ReceiptSecrets) -> str:
    """File the report under `receipt` (the secrets of `effect.receipt`, derived before the
    transaction began); returns the referral's case reference."""
    answers = effect.answers
    organisation = answers.get("organisation") if isinstance(answers.get("organisation"), dict) else None
    where = answers.get("where") if isinstance(answers.get("where"), dict) else None
    child = answers.get("child", "unknown")
    decision = route(directory.organisations, named_id=organisation["id"] if organisation else None,
                     avoid_named=answers.get("send_to_them") == "avoid",
                     township_pcode=where["pcode"] if where else None, child_involved=child,
                     danger=answers.get("danger", "no"),
                     typed_organisation=organisation is None and filed(answers, TYPED_ORGANISATION))
    settings = runtime.settings
    deadline = ack_deadline(now, decision.urgent, settings.ack_deadline_hours, settings.urgent_ack_deadline_hours)
    report, referral = reports.file_report(session, reports.NewReport(
        recipient_organisation_id=decision.organisation_id, route=decision.reason,
        named_organisation_id=organisation["id"] if organisation else None,
        incident_period=answers.get("when", "unknown"), township_pcode=where["pcode"] if where else None,
        state_pcode=where["state_pcode"] if where else None, child_involved=child,
        affected=answers.get("affected", "other"), urgent=decision.urgent,
        contact_allowed=answers.get("contact") == "yes", receipt=receipt,
        content=_content(answers, address, channel)), now=now,
        ack_deadline=deadline)
    # The voice notes and photos are the report's now: their keys are in its sealed content.
    media.link(session, [item["ref"] for item in answers.get(MEDIA) or () if isinstance(item, dict)], report.id)
    receiving = next(o for o in directory.organisations if o.id == decision.organisation_id)
    label = f"{receiving.name} ({receiving.acronym})"
    notifications.notify_referral(session, runtime, decision.notify, organisation=label,
                                  case_ref=referral.case_ref, urgent=decision.urgent, deadline=deadline, now=now)
    network = network_of(directory.organisations)
    if not receiving.is_network:  # the network's own referral already told its coordinators
        notifications.notify_summary(
            session, runtime, network.members("coordinator"), organisation=label, case_ref=referral.case_ref,
            month=report.received_month, place=where["name_en"] if where else None,
            child=choice_label("report", "child", child),
            now=now)
    log.info("report filed: referral %s, route %s, urgent %s", referral.case_ref, decision.reason, decision.urgent)
    return referral.case_ref
