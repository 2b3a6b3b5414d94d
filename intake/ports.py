"""What the engine may ask of the world outside it, as types: the host passes an object that
fits, the engine and the flows' validators call nothing else. (No database here: the host's
implementation, storage.directory_lookup.DirectoryLookup, reads it.)"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Directory(Protocol):
    """The look-ups of the report flow: organisations, places and emergency lines."""

    @property
    def available(self) -> bool:
        """Reports can be taken (there is a PSEA Network to route them to)."""

    def match_organisation(self, text: str) -> dict | None:
        """{"id", "name"} of the organisation the text names, or None."""

    def match_township(self, text: str) -> dict | None:
        """{"pcode", "state_pcode", "name_en", "name_my"} of the place the text names, or None."""

    def emergency_contacts(self, lang: str | None) -> str:
        """The emergency lines to show someone in danger, in their language where written."""
