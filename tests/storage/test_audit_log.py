"""The audit log's hash chain: `audit verify` passes an intact log and names the first broken
entry of one edited, one with an entry deleted, one reordered; removing the newest entries is
seen at the head; entries from before the chain join it; concurrent writers append in turn."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, update

from storage import audit_log
from storage.models import AuditEntry, AuditHead


@pytest.fixture
def runtime(app):
    return app.extensions["intake"]


def write(runtime, count: int) -> list[int]:
    with runtime.transaction() as session:
        for number in range(count):
            audit_log.audit(session, now=runtime.clock(), action="open_referral", detail=f"entry {number}")
    with runtime.sessions() as session:
        return list(session.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars())


def tamper(runtime, statement) -> None:
    with runtime.sessions() as session:
        session.execute(statement)
        session.commit()


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_an_intact_log_verifies_and_prints_its_head(app, runtime):
    write(runtime, 5)
    result = verify(app)
    assert result.exit_code == 0 and "intact: 5 entries" in result.output
    with runtime.sessions() as session:
        assert session.get(AuditHead, 1).chain.hex() in result.output


def test_an_edited_entry_is_named(app, runtime):
    ids = write(runtime, 5)
    tamper(runtime, update(AuditEntry).where(AuditEntry.id == ids[2]).values(detail="nothing happened"))
    result = verify(app)
    assert result.exit_code == 1 and f"broken at entry {ids[2]}:" in result.output


def test_a_deleted_entry_breaks_the_one_after_it(app, runtime):
    ids = write(runtime, 5)
    tamper(runtime, delete(AuditEntry).where(AuditEntry.id == ids[1]))
    result = verify(app)
    assert result.exit_code == 1 and f"broken at entry {ids[2]}:" in result.output


def test_reordered_entries_are_seen(app, runtime):
    ids = write(runtime, 5)
    with runtime.sessions() as session:
        first, second = (session.get(AuditEntry, ids[1]), session.get(AuditEntry, ids[3]))
        (first.detail, first.chain), (second.detail, second.chain) = (second.detail, second.chain), \
            (first.detail, first.chain)
        session.commit()
    result = verify(app)
    assert result.exit_code == 1 and f"broken at entry {ids[1]}:" in result.output


def test_removing_the_newest_entries_is_seen_at_the_head(app, runtime):
    ids = write(runtime, 5)
    tamper(runtime, delete(AuditEntry).where(AuditEntry.id >= ids[3]))
    result = verify(app)
    assert result.exit_code == 1 and "broken at its end" in result.output


def test_entries_from_before_the_chain_join_it_in_order(app, runtime):
    with runtime.sessions() as session:  # as the migration leaves a log written before it
        session.add_all([AuditEntry(at=runtime.clock(), action="login", detail="old") for _ in range(3)])
        session.commit()
    write(runtime, 1)
    result = verify(app)
    assert result.exit_code == 0 and "intact: 4 entries" in result.output


def test_concurrent_writers_append_one_after_the_other(app, runtime):
    errors = []

    def writer():
        try:
            write(runtime, 10)
        except Exception as error:  # reported below; a thread's exception would be lost
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    result = verify(app)
    assert result.exit_code == 0 and "intact: 40 entries" in result.output


def test_a_portal_login_is_a_chained_entry(app, runtime, client):
    from storage import accounts
    from tests.support.portal import PortalUser

    portal_user = PortalUser(client)
    with runtime.transaction() as session:
        accounts.create_user(session, email="admin@example.org", role="admin", password="a long admin password",
                             organisation=None, now=runtime.clock())
    portal_user.login("admin@example.org", "a long admin password")
    with runtime.sessions() as session:
        actions = session.execute(select(AuditEntry.action, AuditEntry.chain)).all()
    assert [action for action, _ in actions] == ["login"] and all(chain for _, chain in actions)
    assert verify(app).exit_code == 0
