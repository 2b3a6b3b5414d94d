"""Failed identity checks made at the same moment, from different senders, are all counted: the
attempt rows are locked while a check counts (PostgreSQL does not serialise them by itself)."""

from __future__ import annotations

import threading

from intake.registration import read_date_of_birth
from storage.registry_lookup import RegistryLookup
from storage.self_service import Lockout
from tests.support.registrations import NUMBER, register


def test_parallel_wrong_dates_from_many_senders_all_count(app):
    register(app)
    runtime = app.extensions["intake"]
    start = threading.Barrier(8)
    outcomes, errors = [], []

    def guess(sender: int):
        try:
            start.wait(10)
            with runtime.transaction() as session:
                registry = RegistryLookup(session, runtime.vault, sender_key=f"{sender:064d}", sender_phone=None,
                                          now=runtime.clock(), lockout=Lockout(5, 30), can_send_sms=True)
                outcomes.append(registry.check_identity(NUMBER, read_date_of_birth("01-01-1980")).outcome)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=guess, args=(sender,)) for sender in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(outcomes) == ["locked"] * 4 + ["mismatch"] * 4  # the fifth failure locked the number
    with runtime.transaction() as session:
        registry = RegistryLookup(session, runtime.vault, sender_key="x" * 64, sender_phone=None,
                                  now=runtime.clock(), lockout=Lockout(5, 30), can_send_sms=True)
        assert registry.check_identity(NUMBER, read_date_of_birth("17-04-1990")).outcome == "locked"
