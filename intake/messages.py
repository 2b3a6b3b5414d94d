"""What enters the engine: one inbound message, verified and parsed by a channel. What leaves
it (`i18n.text.Outbound`) carries message ids and parameters, not rendered text: each channel
renders it in the conversation's language its own way (numbered lines on SMS, buttons on
Telegram).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Inbound:
    """One message from a person, already verified and parsed by a channel adapter.

    `sender_key` is the pseudonym of the sender (an HMAC), never the address itself.
    """

    channel: str
    sender_key: str
    text: str
    received_at: datetime
    provider_id: str | None = None
    media_count: int = 0
