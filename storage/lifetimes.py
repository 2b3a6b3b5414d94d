"""How long each kind of record is kept, and the purge that deletes what outlived it (run by the
worker every minute and by `flask --app app purge`). The README's "What is kept, and for how
long" lists every table; this module holds the rules the storage layer can apply by itself (the
Telegram wipe, which calls out, stays in bot.delivery). Functions take the session first and
never commit; the purge is written to the audit log as counts, never content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from storage import audit_log, conversations, followup, logins, media, outbox, portal_sessions, self_service
from storage.models import (
    ApiToken, ChatMessage, Conversation, InboundMessage, MediaItem, Referral, ReferralEvent, Report,
    ReporterMessage,
)
from storage.reports import CLOSING_STATUSES

# A voice note or photo never sent with a report lives as long as a draft could still hold it: a
# draft ends after the conversation timeout of silence, and a conversation with no such silence
# for a day is beyond any report (an item dropped by a draft that ended is deleted at once).
UNSENT_MEDIA_MARGIN = timedelta(hours=24)
# The audit entry's detail holds at most 255 characters: longer counts go in several entries.
_DETAIL = 255


@dataclass(frozen=True)
class Lifetimes:
    """Every lifetime the purge applies, from the settings (the README's configuration table)."""

    draft: timedelta
    stored_reply: timedelta
    replay_window: timedelta
    conversation: timedelta
    outbox: timedelta
    closed_case_years: int
    audit_years: int
    api_token: timedelta
    pending_change_days: int
    rejected_change_days: int
    identity_lockout_minutes: int
    receipt_check_minutes: int

    @classmethod
    def from_settings(cls, settings) -> Lifetimes:
        return cls(draft=timedelta(minutes=settings.conversation_timeout_minutes),
                   stored_reply=timedelta(minutes=settings.stored_reply_minutes),
                   replay_window=timedelta(days=settings.replay_window_days),
                   conversation=timedelta(days=settings.conversation_retention_days),
                   outbox=timedelta(days=settings.outbox_retention_days),
                   closed_case_years=settings.closed_case_retention_years,
                   audit_years=settings.audit_retention_years,
                   api_token=timedelta(days=settings.api_token_days),
                   pending_change_days=settings.pending_change_days,
                   rejected_change_days=settings.rejected_change_days,
                   identity_lockout_minutes=settings.identity_lockout_minutes,
                   receipt_check_minutes=settings.receipt_check_lockout_minutes)


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` calendar years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def purge(session: Session, now: datetime, lifetimes: Lifetimes) -> dict[str, int]:
    """Delete everything past its lifetime; returns how many rows of each kind went (or were
    cleared). Writes nothing to the audit log: `record` does, with these counts."""
    counts = conversations.purge(session, now, lifetimes.draft, lifetimes.stored_reply, lifetimes.replay_window)
    counts["idle_conversations"] = purge_idle_conversations(session, now, lifetimes.conversation)
    counts["finished_outbox_messages"] = outbox.purge_finished(session, now, lifetimes.outbox)
    counts["unsent_media_items"] = media.purge_unlinked(session, now, lifetimes.draft + UNSENT_MEDIA_MARGIN)
    counts["expired_portal_sessions"] = portal_sessions.purge_expired(session, now)
    counts["login_failures"] = logins.purge_failures(session, now)
    counts["expired_api_tokens"] = session.execute(delete(ApiToken).where(
        ApiToken.created_at <= now - lifetimes.api_token)).rowcount
    counts |= self_service.purge(session, now, pending_days=lifetimes.pending_change_days,
                                 rejected_days=lifetimes.rejected_change_days,
                                 lockout_minutes=lifetimes.identity_lockout_minutes,
                                 windows=dict.fromkeys((followup.SENDER, followup.EVERYONE),
                                                       max(lifetimes.receipt_check_minutes,
                                                           lifetimes.identity_lockout_minutes)))
    counts |= purge_closed_cases(session, years_before(now, lifetimes.closed_case_years))
    counts["audit_entries"] = audit_log.purge_before(session, years_before(now, lifetimes.audit_years))
    return counts


def purge_idle_conversations(session: Session, now: datetime, lifetime: timedelta) -> int:
    """Delete the rows (a sender's pseudonym, remembered language and encoding) of conversations
    with nothing open that began more than `lifetime` ago. The day a conversation began is the
    only time kept of it once its draft ends (a later one would line up with a report it sent),
    so that day starts the clock: someone who writes again after it is asked their language
    again. A conversation still linked to a handled message or a chat message is left to those
    rows' own (short) lifetimes."""
    started = now.replace(hour=0, minute=0, second=0, microsecond=0) - lifetime
    return session.execute(delete(Conversation).where(
        Conversation.state.is_(None), Conversation.created_at < started,
        ~exists().where(InboundMessage.conversation_id == Conversation.id),
        ~exists().where(ChatMessage.conversation_id == Conversation.id))).rowcount


def purge_closed_cases(session: Session, closed_before: datetime) -> dict[str, int]:
    """Delete the reports whose every referral is closed (or was referred on) and whose last
    closure was before `closed_before`, with all that hangs on them: their referrals and
    timelines (the notes are timeline events), the messages to and from the reporter, the voice
    notes and photos. A case with one referral still open is kept whole."""
    other = aliased(Referral)
    still_open = exists().where(other.report_id == Report.id,
                                other.status.not_in((*CLOSING_STATUSES, "referred")))
    recently_closed = exists().where(other.report_id == Report.id, other.closed_at >= closed_before)
    ever_closed = exists().where(other.report_id == Report.id, other.closed_at.is_not(None))
    reports = select(Report.id).where(ever_closed, ~still_open, ~recently_closed)
    report_ids = list(session.execute(reports).scalars())
    counts = {"closed_cases": 0, "referrals": 0, "referral_events": 0, "reporter_messages": 0,
              "case_media_items": 0}
    for chunk in (report_ids[start:start + 500] for start in range(0, len(report_ids), 500)):
        referrals = select(Referral.id).where(Referral.report_id.in_(chunk))
        counts["reporter_messages"] += session.execute(delete(ReporterMessage).where(
            ReporterMessage.report_id.in_(chunk))).rowcount
        counts["referral_events"] += session.execute(delete(ReferralEvent).where(
            ReferralEvent.referral_id.in_(referrals))).rowcount
        counts["case_media_items"] += session.execute(delete(MediaItem).where(
            MediaItem.report_id.in_(chunk))).rowcount
        # A referral referred on names the one it came from: cut those links, then all go at once.
        session.execute(update(Referral).where(Referral.report_id.in_(chunk)).values(referred_from_id=None))
        counts["referrals"] += session.execute(delete(Referral).where(Referral.report_id.in_(chunk))).rowcount
        counts["closed_cases"] += session.execute(delete(Report).where(Report.id.in_(chunk))).rowcount
    return counts


def describe(counts: dict[str, int]) -> list[str]:
    """The counts that are not zero, as audit details of at most 255 characters each
    ("closed_cases=1 referrals=2"): names and numbers, never content."""
    parts = [f"{name}={count}" for name, count in counts.items() if count]
    details, line = [], ""
    for part in parts:
        if line and len(line) + 1 + len(part) > _DETAIL:
            details.append(line)
            line = part
        else:
            line = f"{line} {part}" if line else part
    if line:
        details.append(line)
    return details


def record(session: Session, now: datetime, counts: dict[str, int], *, always: bool = False) -> None:
    """Write the purge to the audit log, as counts only (nothing when nothing went, unless
    `always`: an operator's `purge` is recorded either way)."""
    details = describe(counts) or (["nothing"] if always else [])
    for detail in details:
        audit_log.audit(session, now=now, action="purge", detail=detail)
