"""Routing rules, as a table."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from intake.routing import (ALTERNATE_CHANNEL, NAMED, NO_FOCAL_POINT, UNKNOWN_ORGANISATION, UNLISTED_ORGANISATION,
                            DirectoryContact as C, DirectoryOrganisation as O, RoutingError,
                            ack_deadline, route)

NETWORK = O(1, "PSEA Network", "PSEAN", is_network=True, contacts=(C(10, "coordinator"), C(11, "coordinator")))
AGENCY = O(2, "Demo Relief Agency", "DRA", contacts=(
    C(20, "focal_point", townships=("MMR013017",)),  # one township
    C(21, "focal_point", townships=("MMR012",)),  # a whole state
    C(22, "focal_point", townships=("MMR001001", "MMR001002")),
))
EVERYWHERE = O(3, "Example Health Partners", "EHP", contacts=(C(30, "focal_point"),))
NO_FP = O(4, "Quiet Org", "QO", contacts=())
DIRECTORY = (NETWORK, AGENCY, EVERYWHERE, NO_FP)


@pytest.mark.parametrize("named, avoid, township, child, org, reason, notified, urgent", [
    (2, False, "MMR013017", "no", 2, NAMED, {20}, False),  # the township's focal point
    (2, False, "MMR012003", "no", 2, NAMED, {21}, False),  # covered through its state
    (2, False, "MMR001002", "unknown", 2, NAMED, {22}, False),
    (2, False, "MMR005001", "no", 2, NAMED, {20, 21, 22}, False),  # nobody local: all of them
    (2, False, None, "no", 2, NAMED, {20, 21, 22}, False),  # no place given: all of them
    (3, False, "MMR013017", "no", 3, NAMED, {30}, False),  # "*" covers everywhere
    (None, False, "MMR013017", "no", 1, UNKNOWN_ORGANISATION, {10, 11}, False),
    (4, False, None, "no", 1, NO_FOCAL_POINT, {10, 11}, False),
    (2, True, "MMR013017", "no", 1, ALTERNATE_CHANNEL, {10, 11}, False),  # not to them
    (1, False, None, "no", 1, NAMED, {10, 11}, False),  # the network named itself
    (2, False, "MMR013017", "yes", 2, NAMED, {20}, True),  # a child: urgent
    (None, False, None, "yes", 1, UNKNOWN_ORGANISATION, {10, 11}, True),
])
def test_route(named, avoid, township, child, org, reason, notified, urgent):
    decision = route(DIRECTORY, named_id=named, avoid_named=avoid, township_pcode=township, child_involved=child)
    assert (decision.organisation_id, decision.reason) == (org, reason)
    assert {contact.id for contact in decision.notify} == notified
    assert decision.urgent is urgent


@pytest.mark.parametrize("named, typed, danger, child, org, reason, urgent", [
    (2, False, "yes", "no", 2, NAMED, True),  # in danger when reporting: urgent
    (2, False, "no", "no", 2, NAMED, False),
    (None, True, "no", "no", 1, UNLISTED_ORGANISATION, False),  # a name the directory lacks: the network
    (None, True, "yes", "unknown", 1, UNLISTED_ORGANISATION, True),
    (None, False, "yes", "no", 1, UNKNOWN_ORGANISATION, True),
    (2, True, "no", "no", 2, NAMED, False),  # a listed organisation wins over a stale typed name
])
def test_danger_and_an_unlisted_organisation(named, typed, danger, child, org, reason, urgent):
    decision = route(DIRECTORY, named_id=named, avoid_named=False, township_pcode="MMR013017",
                     child_involved=child, danger=danger, typed_organisation=typed)
    assert (decision.organisation_id, decision.reason, decision.urgent) == (org, reason, urgent)


def test_no_network_is_an_error():
    with pytest.raises(RoutingError):
        route((AGENCY,), named_id=2, avoid_named=False, township_pcode=None, child_involved="no")


def test_deadlines():
    t = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    assert ack_deadline(t, False, 24, 12) == datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
    assert ack_deadline(t, True, 24, 12) == datetime(2026, 11, 24, 21, 0, tzinfo=timezone.utc)
