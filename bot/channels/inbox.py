"""The one path every inbound message takes, whatever the channel (ARCHITECTURE.md "One inbound
message"): lock the conversation, drop duplicates, run the engine, store the new
state and the answer, all in one transaction that `receive` owns.

Filing a report and checking one both need a receipt's slow key derivation (Argon2id, ~0.1 s
and 64 MiB). Run inside the transaction it would hold the conversation's lock, and on SQLite the
whole database's write lock, for that long. So whatever needs a receipt's secrets asks this
message's `_Receipts` for them; if they are not derived yet, the transaction is rolled back, the
derivation runs with no transaction open, and the message is handled again with the same fresh
receipt number: the engine is deterministic, so it asks for the same secrets again, and a message
that meanwhile stopped needing them (a duplicate that came first) simply does not use them.

A new receipt whose lookup part already finds a report (one in 10^6 per report held) is drawn
again before anything is filed or shown: filing says so (`reports.ReceiptTaken`), or the unique
index on the lookup does when two messages drew the same part at once; either way the attempt
is rolled back and the message handled again under a fresh number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.casework import filing, followup, updates
from bot.delivery.worker import deliver_after_commit
from i18n.render import Rendered
from intake import engine
from intake.effects import (
    AddAnswer, Effect, Ended, EraseRegistration, MarkRead, RequestChange, SendCode, SubmitReport, Wipe,
)
from intake.messages import DRAFT_MEDIA, Inbound
from intake.state import State
from storage import conversations, media, reports, sealing
from storage.directory_lookup import DirectoryLookup
from storage.followup import FollowUpLookup, ReceiptLimits
from storage.registry_lookup import RegistryLookup
from storage.self_service import Lockout


@dataclass(frozen=True)
class Handled:
    """The replies to one inbound message, and what a channel needs to lay them out.

    `duplicate`: the provider sent this message before (the stored replies are returned).
    `stale`: a button from an earlier question was pressed; nothing was done.
    `position`: where the conversation now is (channels tag buttons with it, see `button_tag`).
    `inbound_sensitive`, `replies_sensitive`, `wipe`: see intake.engine.Result and Wipe."""

    replies: list[Rendered]
    duplicate: bool = False
    stale: bool = False
    conversation: object = None
    position: str | None = None
    inbound_sensitive: bool = False
    replies_sensitive: bool = False
    wipe: bool = False


class _ReceiptNeeded(Exception):
    """Something in this message needs a receipt's secrets that are not derived yet."""


class _Receipts:
    """The receipt secrets derived for one inbound message, kept over its attempts. Asking for
    those of a receipt not derived yet ends the attempt (`_ReceiptNeeded` rolls its transaction
    back); `receive` then derives them with nothing open, and handles the message again."""

    def __init__(self, pepper: bytes):
        self._pepper = pepper
        self._derived: dict[tuple, sealing.ReceiptSecrets] = {}
        self._wanted: list[tuple] = []

    def secrets_for(self, receipt: str, salt: bytes | None = None,
                    kdf: sealing.KdfParams | None = None) -> sealing.ReceiptSecrets:
        """A receipt's secrets: with the salt (and cost) of the report its lookup part found, or,
        with no salt, those of a new report (a fresh salt) or of an old 12-digit receipt."""
        wanted = (receipt, salt, kdf)
        if wanted not in self._derived:
            self._wanted.append(wanted)
            raise _ReceiptNeeded
        return self._derived[wanted]

    def derive_wanted(self) -> None:
        """Derive what the last attempt asked for (call it with no transaction open)."""
        while self._wanted:
            receipt, salt, kdf = wanted = self._wanted.pop()
            self._derived[wanted] = sealing.receipt_secrets(receipt, self._pepper, kdf, salt=salt)

    def lookup(self, receipt: str) -> str | None:
        return sealing.receipt_lookup(receipt, self._pepper)


def button_tag(position: str | None) -> str:
    """A short tag of a question, carried by its buttons so a press on an old one is recognised."""
    return hashlib.sha256((position or "").encode()).hexdigest()[:8]


def _to_json(rendered: Rendered) -> dict:
    return {"paragraphs": list(rendered.paragraphs), "options": [list(o) for o in rendered.options],
            "lang": rendered.lang}


def _from_json(data: dict) -> Rendered:
    return Rendered(tuple(data["paragraphs"]), tuple((n, label) for n, label in data["options"]),
                    data.get("lang", "en"))


def receive(runtime, inbound: Inbound, *, address: str | None = None, button: str | None = None,
            then: Callable[[Session, Handled], list[int]] | None = None,
            sealed_media: tuple[media.Sealed, ...] = ()) -> Handled:
    """Process one message in its own transaction and commit it.

    `address` (the phone number or chat id) is used for two things only: when the person agrees
    to be contacted "on this number", it goes into their sealed report; and a keyed digest of an
    SMS number tells "update my details" whether the text comes from the number on record. `button` is the tag of
    the question whose button was pressed, if the message is a button press. `then` is the
    channel's own work in the same transaction (queueing replies); it returns the outbox ids to
    send at once, which leave as soon as the transaction has committed. `sealed_media`: the
    message's voice notes and photos, fetched and sealed beforehand (bot.channels.media); those
    the engine keeps in the draft are stored, the others are dropped unstored."""
    receipt, receipts, redraws = sealing.new_receipt(), _Receipts(runtime.vault.receipt_pepper), 0
    while True:
        try:
            with runtime.transaction() as session:
                handled = _handle(session, runtime, inbound, address, button, receipt, receipts, sealed_media)
                if then is not None:
                    deliver_after_commit(session, runtime, then(session, handled))
            return handled
        except _ReceiptNeeded:
            receipts.derive_wanted()
        except reports.ReceiptTaken:
            receipt, redraws = _redraw(redraws), redraws + 1
        except IntegrityError:
            if not _receipt_taken(runtime, receipts.lookup(receipt)):
                raise
            receipt, redraws = _redraw(redraws), redraws + 1


# With half the lookup parts taken (450,000 reports held), 100 draws in a row all taken is a
# chance of 2^-100: reaching it means the receipts' lookup space is full, not bad luck.
_MAX_REDRAWS = 100


def _redraw(redraws: int) -> str:
    if redraws >= _MAX_REDRAWS:
        raise RuntimeError("no free receipt lookup part after 100 draws: too many reports are held")
    return sealing.new_receipt()


def _receipt_taken(runtime, lookup: str | None) -> bool:
    """After a unique-index failure: was it this message's new receipt, taken meanwhile?"""
    if lookup is None:
        return False
    with runtime.transaction() as session:
        return reports.receipt_taken(session, lookup)


@dataclass(frozen=True)
class _Work:
    """What an effect's applier may use: this message's transaction and where it came from."""

    session: Session
    runtime: object
    conversation: object
    directory: DirectoryLookup
    inbound: Inbound
    address: str | None
    receipts: _Receipts


def _file_report(work: _Work, effect: SubmitReport) -> None:
    lookup = work.receipts.lookup(effect.receipt)
    if lookup is not None and reports.receipt_taken(work.session, lookup):
        raise reports.ReceiptTaken  # before the derivation: a taken number costs no Argon2
    filing.file(work.session, work.runtime, work.directory, effect, address=work.address,
                channel=work.inbound.channel, now=work.inbound.received_at,
                receipt=work.receipts.secrets_for(effect.receipt))


# One applier for each kind of effect the engine emits (tests/intake check that none is missing).
APPLIERS: dict[type[Effect], Callable[[_Work, Effect], None]] = {
    Ended: lambda work, _effect: conversations.erase_conversation(work.session, work.conversation),
    Wipe: lambda work, _effect: conversations.unlink_handled(work.session, work.conversation),
    SubmitReport: _file_report,
    SendCode: lambda work, effect: deliver_after_commit(work.session, work.runtime, updates.send_code(work, effect)),
    RequestChange: updates.request_change,
    EraseRegistration: updates.erase,
    MarkRead: followup.mark_read,
    AddAnswer: followup.add_answer,
}


def _media_refs(answers: dict) -> set[str]:
    items = answers.get(DRAFT_MEDIA)
    return {item.get("ref") for item in items if isinstance(item, dict)} if isinstance(items, list) else set()


def _keep_media(session: Session, old: State, result: engine.Result, sealed: tuple[media.Sealed, ...],
                now) -> None:
    """Store the sealed items the engine kept (in the draft, or in a report being sent), before
    the effects (filing links them); delete those a draft let go of unsent."""
    kept = _media_refs(result.state.draft)
    for effect in result.effects:
        if isinstance(effect, SubmitReport):
            kept |= _media_refs(effect.answers)
    for item in sealed:
        if item.ref in kept:
            media.store(session, item, now)
    media.discard(session, _media_refs(old.draft) - kept)


def _handle(session: Session, runtime, inbound: Inbound, address: str | None, button: str | None,
            receipt: str, receipts: _Receipts, sealed_media: tuple[media.Sealed, ...] = ()) -> Handled:
    conversation = conversations.lock_conversation(session, inbound.channel, inbound.sender_key,
                                                   inbound.received_at)
    if inbound.provider_id:
        handled = conversations.find_handled(session, runtime.vault, inbound.channel, inbound.provider_id)
        if handled is not None:
            stored = conversations.stored_replies(runtime.vault, handled, conversation)
            return Handled([_from_json(item) for item in stored], duplicate=True, conversation=conversation)

    state = conversations.load_state(runtime.vault, conversation)
    if button is not None and button != button_tag(state.position):
        return Handled([], stale=True, conversation=conversation, position=state.position)
    directory = DirectoryLookup(session)
    registry = RegistryLookup(session, runtime.vault, sender_key=inbound.sender_key, origin=inbound.origin,
                              sender_phone=address if inbound.channel == "sms" else None,
                              now=inbound.received_at, lockout=Lockout.from_settings(runtime.settings),
                              can_send_sms="sms" in runtime.senders)
    follow_up = FollowUpLookup(session, runtime.vault, sender_key=inbound.sender_key, origin=inbound.origin,
                               now=inbound.received_at,
                               zone=runtime.settings.timezone, limits=ReceiptLimits.from_settings(runtime.settings),
                               secrets_for=receipts.secrets_for)
    result = engine.step(state, inbound, replace(runtime.context, directory=directory, registry=registry,
                                                 followup=follow_up, receipt=receipt))
    zawgyi = result.state.encoding == "zawgyi"  # the person's phone writes Burmese in Zawgyi
    replies = [runtime.renderer.render(result.lang, outbound, zawgyi) for outbound in result.replies]

    conversations.save_state(runtime.vault, conversation, result.state)
    conversation.turns += 1
    _keep_media(session, state, result, sealed_media, inbound.received_at)
    work = _Work(session, runtime, conversation, directory, inbound, address, receipts)
    for effect in result.effects:
        APPLIERS[type(effect)](work, effect)
    if inbound.provider_id:
        conversations.record_handled(session, runtime.vault, conversation, inbound.provider_id,
                                     inbound.received_at, [_to_json(reply) for reply in replies],
                                     unlinked=any(isinstance(effect, (Ended, Wipe)) for effect in result.effects))
    return Handled(replies, conversation=conversation, position=result.state.position,
                   inbound_sensitive=result.inbound_sensitive, replies_sensitive=result.replies_sensitive,
                   wipe=any(isinstance(effect, Wipe) for effect in result.effects))
