"""The one path every inbound message takes, whatever the channel (DESIGN.md "One inbound
message travels one way"): lock the conversation, drop duplicates, run the engine, store the new
state and the answer. Runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from i18n.render import Rendered
from intake import engine
from intake.engine import Ended
from intake.messages import Inbound
from storage import conversations


@dataclass(frozen=True)
class Handled:
    """The replies to one inbound message; `duplicate` when the provider sent it before."""

    replies: list[Rendered]
    duplicate: bool = False


def _to_json(rendered: Rendered) -> dict:
    return {"paragraphs": list(rendered.paragraphs), "options": [list(o) for o in rendered.options]}


def _from_json(data: dict) -> Rendered:
    return Rendered(tuple(data["paragraphs"]), tuple((n, label) for n, label in data["options"]))


def handle(session: Session, runtime, inbound: Inbound) -> Handled:
    """Process one message. The caller commits (and only then sends anything inline)."""
    conversation = conversations.lock_conversation(session, inbound.channel, inbound.sender_key,
                                                   inbound.received_at)
    if inbound.provider_id:
        handled = conversations.find_handled(session, inbound.channel, inbound.provider_id)
        if handled is not None:
            stored = conversations.stored_replies(runtime.vault, handled)
            return Handled([_from_json(item) for item in stored], duplicate=True)

    state = conversations.load_state(runtime.vault, conversation)
    result = engine.step(state, inbound, runtime.context)
    replies = [runtime.renderer.render(result.state.lang, outbound) for outbound in result.replies]

    conversations.save_state(runtime.vault, conversation, result.state)
    conversation.turns += 1
    for effect in result.effects:
        if isinstance(effect, Ended):
            conversations.erase_conversation(session, conversation)
    if inbound.provider_id:
        conversations.record_handled(session, runtime.vault, conversation, inbound.provider_id,
                                     inbound.received_at, [_to_json(reply) for reply in replies])
    return Handled(replies)
