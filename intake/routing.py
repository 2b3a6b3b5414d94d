"""Who receives a report (pure rules over a directory snapshot; unit-tested as a table).

* A named organisation with focal points: its focal points covering the report's township (a
  focal point covers a township by its P-code, by its state's P-code, or with "*"), else all of
  them.
* Unknown organisation, one the directory does not list (its name as typed is in the sealed
  report), a named organisation without focal points, or "do not send it to them" (the Reporting
  Framework's alternate channel): the PSEA Network's coordinators.
* A child involved, or the reporter in danger when reporting: urgent, with the shorter
  acknowledgement deadline (the notification says urgent; the referral page says why).
* The coordinators also get a non-identifying summary of every report, whoever receives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NAMED = "named"
UNKNOWN_ORGANISATION = "unknown_organisation"
UNLISTED_ORGANISATION = "unlisted_organisation"
NO_FOCAL_POINT = "no_focal_point"
ALTERNATE_CHANNEL = "alternate_channel"


@dataclass(frozen=True)
class DirectoryContact:
    id: int
    role: str  # focal_point, coordinator
    email: str | None = None
    phone: str | None = None
    telegram_chat_id: str | None = None
    townships: tuple[str, ...] = ("*",)
    languages: tuple[str, ...] = ()

    def covers(self, township_pcode: str | None) -> bool:
        if "*" in self.townships:
            return True
        return bool(township_pcode) and any(township_pcode.startswith(code) for code in self.townships)


@dataclass(frozen=True)
class DirectoryOrganisation:
    id: int
    name: str
    acronym: str
    aliases: tuple[str, ...] = ()
    is_network: bool = False
    contacts: tuple[DirectoryContact, ...] = ()

    def members(self, role: str) -> tuple[DirectoryContact, ...]:
        return tuple(contact for contact in self.contacts if contact.role == role)


@dataclass(frozen=True)
class Route:
    organisation_id: int
    reason: str
    notify: tuple[DirectoryContact, ...]
    urgent: bool


class RoutingError(Exception):
    """The directory has no PSEA Network to fall back on."""


def network_of(organisations: tuple[DirectoryOrganisation, ...]) -> DirectoryOrganisation:
    for organisation in organisations:
        if organisation.is_network:
            return organisation
    raise RoutingError("the directory has no PSEA Network organisation (a coordinator row)")


def notified(organisation: DirectoryOrganisation, township_pcode: str | None) -> tuple[DirectoryContact, ...]:
    """Who at an organisation hears of a case in this township: its focal points covering the
    township, else all of them (the PSEA Network: its coordinators, likewise)."""
    members = organisation.members("coordinator" if organisation.is_network else "focal_point")
    return tuple(contact for contact in members if contact.covers(township_pcode)) or members


def route(organisations: tuple[DirectoryOrganisation, ...], *, named_id: int | None,
          avoid_named: bool, township_pcode: str | None, child_involved: str, danger: str = "no",
          typed_organisation: bool = False) -> Route:
    """Decide which organisation receives the referral and which of its people are notified.
    `typed_organisation`: the reporter named an organisation the directory does not list."""
    network = network_of(organisations)
    urgent = child_involved == "yes" or danger == "yes"
    named = next((o for o in organisations if o.id == named_id), None)
    if named is not None and not avoid_named and not named.is_network:
        if named.members("focal_point"):
            return Route(named.id, NAMED, notified(named, township_pcode), urgent)
        reason = NO_FOCAL_POINT
    elif named is not None and avoid_named:
        reason = ALTERNATE_CHANNEL
    elif named is not None:  # the person named the network itself
        reason = NAMED
    else:
        reason = UNLISTED_ORGANISATION if typed_organisation else UNKNOWN_ORGANISATION
    return Route(network.id, reason, network.members("coordinator"), urgent)


def ack_deadline(received: datetime, urgent: bool, hours: int, urgent_hours: int) -> datetime:
    """When the receiving organisation must have acknowledged the referral."""
    return received + timedelta(hours=urgent_hours if urgent else hours)
