"""The one path every inbound message takes, whatever the channel (DESIGN.md "One inbound
message travels one way"): lock the conversation, drop duplicates, run the engine, store the new
state and the answer. Runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from bot import filing
from bot.directory_lookup import DirectoryLookup
from i18n.render import Rendered
from intake import engine
from intake.engine import Ended, SubmitReport
from intake.messages import Inbound
from storage import conversations, sealing


@dataclass(frozen=True)
class Handled:
    """The replies to one inbound message; `duplicate` when the provider sent it before."""

    replies: list[Rendered]
    duplicate: bool = False


def _to_json(rendered: Rendered) -> dict:
    return {"paragraphs": list(rendered.paragraphs), "options": [list(o) for o in rendered.options]}


def _from_json(data: dict) -> Rendered:
    return Rendered(tuple(data["paragraphs"]), tuple((n, label) for n, label in data["options"]))


def handle(session: Session, runtime, inbound: Inbound, address: str | None = None) -> Handled:
    """Process one message. The caller commits (and only then sends anything inline).

    `address` (the phone number or chat id) is used for one thing only: when the person agrees
    to be contacted "on this number", it goes into their sealed report."""
    conversation = conversations.lock_conversation(session, inbound.channel, inbound.sender_key,
                                                   inbound.received_at)
    if inbound.provider_id:
        handled = conversations.find_handled(session, inbound.channel, inbound.provider_id)
        if handled is not None:
            stored = conversations.stored_replies(runtime.vault, handled)
            return Handled([_from_json(item) for item in stored], duplicate=True)

    state = conversations.load_state(runtime.vault, conversation)
    directory = DirectoryLookup(session)
    context = replace(runtime.context, directory=directory, receipt=sealing.new_receipt())
    result = engine.step(state, inbound, context)
    replies = [runtime.renderer.render(result.state.lang, outbound) for outbound in result.replies]

    conversations.save_state(runtime.vault, conversation, result.state)
    conversation.turns += 1
    for effect in result.effects:
        if isinstance(effect, Ended):
            conversations.erase_conversation(session, conversation)
        elif isinstance(effect, SubmitReport):
            filing.file(session, runtime, directory, effect, address=address, channel=inbound.channel,
                        now=inbound.received_at)
    if inbound.provider_id:
        conversations.record_handled(session, runtime.vault, conversation, inbound.provider_id,
                                     inbound.received_at, [_to_json(reply) for reply in replies])
    return Handled(replies)
