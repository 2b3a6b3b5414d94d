"""The directory as the engine and the router see it: organisations with their contacts,
places, emergency contacts. Read from the database once per message, lazily (most messages
never need it)."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.matching import Candidate, best_match, shipped_rules
from intake.routing import DirectoryContact, DirectoryOrganisation
from i18n.zawgyi import zawgyi_form
from storage.models import Contact, EmergencyContact, Organisation, Township


def _with_zawgyi(*names: str) -> tuple[str, ...]:
    """The names, and the Burmese ones also as typed in Zawgyi (too short for the detector)."""
    return tuple(dict.fromkeys([*names, *(zawgyi_form(name) for name in names if name)]))


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(";") if part.strip())


class DirectoryLookup:
    """Read-only look-ups over the directory tables, for one message's transaction."""

    def __init__(self, session: Session, fallback_language: str = "en"):
        self.session = session
        self.fallback_language = fallback_language

    @cached_property
    def organisations(self) -> tuple[DirectoryOrganisation, ...]:
        contacts: dict[int, list[DirectoryContact]] = {}
        for row in self.session.execute(select(Contact).where(Contact.active.is_(True))).scalars():
            contacts.setdefault(row.organisation_id, []).append(DirectoryContact(
                id=row.id, role=row.role, email=row.email, phone=row.phone,
                telegram_chat_id=row.telegram_chat_id, townships=_split(row.townships) or ("*",),
                languages=_split(row.languages)))
        return tuple(
            DirectoryOrganisation(id=o.id, name=o.name, acronym=o.acronym, aliases=_split(o.aliases),
                                  is_network=o.is_network, contacts=tuple(contacts.get(o.id, ())))
            for o in self.session.execute(select(Organisation).order_by(Organisation.id)).scalars())

    @property
    def available(self) -> bool:
        """Reports can be taken: there is a PSEA Network to route them to."""
        return any(organisation.is_network for organisation in self.organisations)

    def match_organisation(self, text: str) -> dict | None:
        """{"id", "name"} of the organisation the text names, or None."""
        by_id = {o.id: o for o in self.organisations}
        key = best_match(text, [Candidate(o.id, _with_zawgyi(o.name, o.acronym, *o.aliases), acronyms=(o.acronym,))
                                for o in self.organisations], shipped_rules("organisations"))
        if key is None:
            return None
        organisation = by_id[key]
        return {"id": organisation.id, "name": f"{organisation.name} ({organisation.acronym})"}

    @cached_property
    def _townships(self) -> list[Township]:
        return list(self.session.execute(select(Township)).scalars())

    def match_township(self, text: str) -> dict | None:
        """{"pcode", "state_pcode", "name_en", "name_my"} of the place the text names (by its names,
        its P-code or one of the gazetteer's aliases: old names, other spellings), or None."""
        key = best_match(text, [Candidate(t.pcode, _with_zawgyi(t.name_en, t.name_my, t.pcode, *_split(t.aliases)))
                                for t in self._townships], shipped_rules("places"))
        if key is None:
            return None
        township = next(t for t in self._townships if t.pcode == key)
        return {"pcode": township.pcode, "state_pcode": township.state_pcode,
                "name_en": township.name_en, "name_my": township.name_my}

    def emergency_contacts(self, lang: str | None) -> str:
        """The general emergency lines, in the person's language where written, else the fallback."""
        return self._lines(self._emergency_rows("*"), lang)

    def area_emergency_contacts(self, lang: str | None, areas: tuple[str | None, ...]) -> str:
        """The lines of each area in turn (a township's P-code, then its state's), each area's in
        the person's language where written, else the fallback; "" when none has any."""
        found = [self._lines(self._emergency_rows(area), lang)
                 for area in dict.fromkeys(areas) if area and area != "*"]
        return "\n".join(lines for lines in found if lines)

    def _emergency_rows(self, area: str) -> list[EmergencyContact]:
        return list(self.session.execute(select(EmergencyContact).where(EmergencyContact.area == area)
                                         .order_by(EmergencyContact.id)).scalars())

    def _lines(self, rows: list[EmergencyContact], lang: str | None) -> str:
        for language in (lang, self.fallback_language):
            lines = [row.text for row in rows if row.language == language]
            if lines:
                return "\n".join(lines)
        return "\n".join(row.text for row in rows)
