"""What enters the engine: one inbound message, verified and parsed by a channel. What leaves
it (`i18n.text.Outbound`) carries message ids and parameters, not rendered text: each channel
renders it in the conversation's language its own way (numbered lines on SMS, buttons on
Telegram).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    """

    channel: str
    sender_key: str
    text: str
    received_at: datetime
    provider_id: str | None = None
    media_count: int = 0
    cut: int = 0
    address_carries: frozenset[str] | None = None

    @property
    def carries(self) -> frozenset[str]:
        return CARRIES.get(self.channel, frozenset()) if self.address_carries is None else self.address_carries
