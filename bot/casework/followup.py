"""What "check a report" sets off, inside the message's transaction: the messages a reporter was
shown count as read, and what a reporter writes back is sealed to the organisations handling the
case, whose focal points are told (without the words) that it waits in the portal."""

from __future__ import annotations

import logging

from bot.casework import notifications
from intake.effects import AddAnswer, MarkRead
from intake.routing import notified
from storage import casework, reporter_messages
from storage.models import Referral, Report

log = logging.getLogger(__name__)


def mark_read(work, effect: MarkRead) -> None:
    reporter_messages.mark_read(work.session, list(effect.message_ids), work.inbound.received_at)


def add_answer(work, effect: AddAnswer) -> None:
    session, now = work.session, work.inbound.received_at
    report = session.get(Report, effect.report_id)
    if report is None:  # deleted while the reporter was writing: nobody is left to read it
        log.info("a reporter's answer was dropped: its report was deleted meanwhile")
        return
    organisations = {organisation.id: organisation for organisation in work.directory.organisations}
    written = reporter_messages.add_reporter_answer(session, report, effect.text, now=now)
    for message in written:
        referral = session.get(Referral, message.referral_id)
        organisation = organisations[referral.organisation_id]
        casework.record_message(session, referral, kind="message_in", user_id=None, now=now)
        notifications.notify_reporter_answer(
            session, work.runtime, notified(organisation, report.township_pcode),
            organisation=f"{organisation.name} ({organisation.acronym})", case_ref=referral.case_ref,
            key=f"reporter-answer:{message.id}", now=now)
    log.info("a reporter's answer was passed to %d organisation(s)", len(written))
