"""The delivery worker: takes due outbox messages, hands each to its sender, records the attempt,
and reschedules failures with exponential backoff. Also runs, once a minute, the purge and the
escalation of overdue referrals.

One worker can run in-process (`make run`), or several as `flask --app app outbox work`: leases
and `SKIP LOCKED` keep them from sending the same message twice. Each message is leased on its
own, right before its send, so a slow provider cannot make a lease run out while the message
still waits its turn.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from functools import partial

from bot.casework.escalation import escalate_overdue
from bot.delivery.senders import PROVIDER_TIMEOUT_SECONDS, PermanentError, TransientError
from bot.delivery.telegram_wipe import wipe_abandoned
from bot.http import describe
from storage import conversations, logins, media, outbox, portal_sessions, self_service
from storage.unit_of_work import after_commit

log = logging.getLogger(__name__)

# A lease covers one send. It must outlast the longest send a sender allows itself: each network
# operation may take PROVIDER_TIMEOUT_SECONDS, and an SMTP delivery is about ten of them (connect,
# EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA...). A send that still outlives it may go twice; the
# e-mail's stable Message-ID then makes the copy recognisable.
LEASE = timedelta(seconds=15 * PROVIDER_TIMEOUT_SECONDS)
BATCH = 20  # messages per run_once, so that a busy queue still lets `run` purge and escalate
REPLY_RETENTION = timedelta(minutes=15)  # the answers given, for a provider's retry
OUTBOX_RETENTION = timedelta(days=2)  # finished outbox rows and their attempts
# A voice note or photo never sent with a report lives as long as a draft could still hold it: a
# draft ends after the conversation timeout of silence, and a conversation with no such silence
# for a day is beyond any report (an item dropped by a draft that ended is deleted at once).
UNSENT_MEDIA_MARGIN = timedelta(hours=24)


class OutboxWorker:
    """Delivers what the outbox holds. `senders` maps a channel to its sender."""

    def __init__(self, runtime, senders: dict | None = None):
        self.runtime = runtime
        self.senders = runtime.senders if senders is None else senders
        settings = runtime.settings
        self.max_attempts = settings.outbox_max_attempts
        self.backoff = settings.outbox_backoff_seconds
        self.backoff_cap = settings.outbox_backoff_cap_seconds

    def delay_after(self, attempts: int) -> timedelta:
        """Wait before the next try: base * 2^(attempts-1), capped."""
        return timedelta(seconds=min(self.backoff_cap, self.backoff * 2 ** min(attempts - 1, 30)))

    def run_once(self, ids: list[int] | None = None) -> int:
        """Deliver the messages due now, one after another, each claimed just before its send
        (only `ids`, if given: a webhook delivering its own replies at once). Each message is
        tried at most once per call, and at most BATCH of them; returns how many were attempted.
        Failures stay queued for the retries."""
        limit = BATCH if ids is None else len(ids)
        attempted: set[int] = set()
        while len(attempted) < limit and (delivery := self._claim(ids, attempted)) is not None:
            attempted.add(delivery.id)
            self._deliver(delivery)
        return len(attempted)

    def deliver(self, ids: list[int]) -> int:
        """Deliver these rows now; returns how many were attempted. A row queued behind another
        of its conversation goes once that one has been sent; a failure leaves it, and the rest
        of that conversation, to the retries."""
        return self.run_once(ids=ids)

    def _claim(self, ids: list[int] | None, skip: set[int]) -> outbox.Delivery | None:
        """Lease the next due message in a transaction of its own, committed before the send."""
        runtime = self.runtime
        with runtime.transaction() as session:
            delivery = outbox.claim_next(session, runtime.vault, runtime.clock(), set(self.senders), LEASE,
                                         ids=ids, skip=skip)
        return delivery

    def _deliver(self, delivery: outbox.Delivery) -> None:
        attempts = delivery.attempts
        sender = self.senders[delivery.channel]
        started = time.monotonic()
        outcome, error, reference, retry_at = "sent", None, None, None
        try:
            reference = sender.send(delivery.id, delivery.recipient, delivery.payload)
        except PermanentError as failure:
            outcome, error = "failed", str(failure)
        except Exception as failure:  # TransientError, or a bug / malformed payload: retried, counted
            # A TransientError says what failed; of anything else only the type is kept, because
            # an arbitrary exception's message may quote the content.
            error = str(failure) if isinstance(failure, TransientError) else f"unexpected {type(failure).__name__}"
            if attempts >= self.max_attempts:
                outcome = "failed"
            else:
                delay = self.delay_after(attempts)
                if getattr(failure, "retry_after", None):
                    delay = max(delay, timedelta(seconds=failure.retry_after))
                outcome, retry_at = "retry", self.runtime.clock() + delay
        duration_ms = int((time.monotonic() - started) * 1000)
        log_at = log.error if outcome == "failed" else log.info
        log_at("outbox %s via %s: %s (attempt %d)%s", delivery.id, delivery.channel, outcome, attempts,
               f": {error}" if error else "")
        with self.runtime.transaction() as session:
            outbox.record_attempt(session, delivery.id, attempt=attempts, now=self.runtime.clock(),
                                  outcome=outcome, duration_ms=duration_ms, error=error,
                                  provider_ref=reference, retry_at=retry_at)

    def escalate(self) -> int:
        """Queue escalations for referrals past their acknowledgement deadline."""
        with self.runtime.transaction() as session:
            count = escalate_overdue(session, self.runtime, self.runtime.clock())
        return count

    def purge(self) -> dict[str, int]:
        """Delete expired drafts, old duplicate-detection records, undeletable chat message ids,
        voice notes and photos no report was sent with, expired portal sessions, and self-service changes, codes and failed checks past their
        lifetimes."""
        runtime = self.runtime
        with runtime.transaction() as session:
            now = runtime.clock()
            counts = {"abandoned_chats_wiped": wipe_abandoned(session, runtime, now)}
            counts |= conversations.purge(session, now, runtime.context.timeout, REPLY_RETENTION,
                                          timedelta(days=runtime.settings.replay_window_days))
            counts["finished_outbox_messages"] = outbox.purge_finished(session, now, OUTBOX_RETENTION)
            counts["unsent_media_items"] = media.purge_unlinked(session, now, runtime.context.timeout + UNSENT_MEDIA_MARGIN)
            counts["expired_portal_sessions"] = portal_sessions.purge_expired(session, now)
            counts["login_failures"] = logins.purge_failures(session, now)
            settings = runtime.settings
            counts |= self_service.purge(session, now, pending_days=settings.pending_change_days,
                                         rejected_days=settings.rejected_change_days,
                                         lockout_minutes=settings.identity_lockout_minutes)
        if any(counts.values()):
            log.info("purged %s", ", ".join(f"{count} {name}" for name, count in counts.items()))
        return counts

    def run(self, stop: threading.Event, interval: float = 2.0, purge_every: float = 60.0) -> None:
        """Loop until `stop` is set: deliver while there is work, sleep `interval` when idle."""
        log.info("outbox worker started for %s", ", ".join(sorted(self.senders)) or "no configured channel")
        next_purge = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() >= next_purge:
                    self.purge()
                    self.escalate()
                    next_purge = time.monotonic() + purge_every
                if self.run_once():
                    continue
            except Exception as error:  # a database hiccup must not kill the worker; logged, retried
                log.error("outbox worker iteration failed: %s", describe(error))
            stop.wait(interval)


def deliver_after_commit(session, runtime, ids: list[int]) -> None:
    """Send these just-queued rows at once, when (and only if) the unit of work commits."""
    if ids:
        after_commit(session, partial(deliver_now, runtime, ids))


def deliver_now(runtime, ids: list[int]) -> None:
    """Try just-committed messages at once (a webhook's own replies); whatever fails stays
    queued for the worker's retries."""
    if ids:
        try:
            OutboxWorker(runtime).deliver(ids)
        except Exception as error:  # the rows are committed: the worker retries them
            log.error("immediate delivery failed (%s); the outbox worker will retry", describe(error))
