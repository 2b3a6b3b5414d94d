"""A conversation's saved state, and how it round-trips through JSON (it is stored sealed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime


@dataclass
class State:
    """Where one conversation is. `position` is "flow.step"; None means no conversation is open
    (the next message starts one). `lang` outlives conversations, and so does `encoding`: how the
    person's phone writes Burmese ("zawgyi" or "unicode", None until known), which the replies
    follow; `encoding_chosen` when the person said so (UNICODE / ZAWGYI), not guessed."""

    lang: str | None = None
    encoding: str | None = None
    encoding_chosen: bool = False
    position: str | None = None
    history: list[str] = field(default_factory=list)  # positions BACK returns to, newest last
    invalid: int = 0  # invalid answers in a row at the current step
    draft: dict = field(default_factory=dict)  # answers collected so far
    resume: str | None = None  # where to return after a language change
    edit_return: str | None = None  # the review to return to while changing one answer
    last_active: datetime | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["last_active"] = self.last_active.isoformat() if self.last_active else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "State":
        data = dict(data)
        if data.get("last_active"):
            data["last_active"] = datetime.fromisoformat(data["last_active"])
        return cls(**data)
