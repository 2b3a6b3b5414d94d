"""What enters the engine: one inbound message, verified and parsed by a channel. What leaves
it (`i18n.text.Outbound`) carries message ids and parameters, not rendered text: each channel
renders it in the conversation's language its own way (numbered lines on SMS, buttons on
Telegram).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# What a person may send besides text, at a step that takes it (`intake.flows.Step.media`).
MEDIA_KINDS = ("voice", "audio", "photo")
# Why an item sent is not kept: too big for MAX_MEDIA_BYTES, could not be fetched from the
# provider, a kind we do not take, a channel that takes only text (MMS on SMS), or not fetched
# (the conversation was elsewhere).
MEDIA_PROBLEMS = ("too_big", "failed", "unsupported", "text_only", "not_fetched")
# Audio types browsers play, as providers name them: a voice note or audio file of another type
# is not taken, and the portal serves only these (and JPEG, which every photo is stored as).
AUDIO_TYPES = frozenset({"audio/ogg", "audio/opus", "audio/mpeg", "audio/mp3", "audio/mp4", "audio/m4a",
                         "audio/x-m4a", "audio/aac", "audio/wav", "audio/x-wav", "audio/wave", "audio/webm",
                         "audio/amr"})
PHOTO_TYPE = "image/jpeg"
# The draft key under which a step that takes media keeps what was sent (a list of descriptors).
DRAFT_MEDIA = "media"
# The most items one report keeps: each may be MAX_MEDIA_BYTES, and the database holds them.
MAX_MEDIA_ITEMS = 10


@dataclass(frozen=True)
class Media:
    """A voice note, audio file or photo that came with a message, already fetched and sealed by
    the host (or not, and `problem` says why). The engine never sees the bytes: `ref` and `key` are
    the host's opaque handles (which stored item, and what opens it), kept in the draft."""

    kind: str
    content_type: str = ""
    size: int = 0
    ref: str | None = None
    key: str | None = None
    problem: str | None = None

    @property
    def kept(self) -> bool:
        return self.ref is not None and self.problem is None


# What a channel's sender address is, for the person: a phone number they can be called or texted
# on, or a chat the organisation can write to through the bot. The simulator and the terminal
# carry neither (their sender is a random id).
CARRIES: dict[str, frozenset[str]] = {
    "sms": frozenset({"number"}),
    "whatsapp": frozenset({"number"}),
    "telegram": frozenset({"chat"}),
}


@dataclass(frozen=True)
class Inbound:
    """One message from a person, already verified and parsed by a channel adapter.

    `sender_key` is the pseudonym of the sender (an HMAC), never the address itself. `cut`: how
    many characters the channel dropped from the end of a text over its limit (the person is
    told). `carries`: what the sender's address is (see CARRIES); by default the channel's.
    `origin`: the client's network address (its /64 for IPv6) where that is the person's own (the
    simulator, whose sender is only a cookie anyone can drop), so that the receipt and identity
    checks count per address too; None for the webhooks (the address is the provider's).
    """

    channel: str
    sender_key: str
    text: str
    received_at: datetime
    provider_id: str | None = None
    media: tuple[Media, ...] = ()
    cut: int = 0
    address_carries: frozenset[str] | None = None
    origin: str | None = None

    @property
    def carries(self) -> frozenset[str]:
        return CARRIES.get(self.channel, frozenset()) if self.address_carries is None else self.address_carries
