"""The caseworkers' queue of registration changes and the "who needs what" counts.

Records are built with `storage.registrations.write_details` and changes asked for with
`storage.changes.request_change`, the functions production uses. Covered: the queue in plain
words (and refused to other roles), filters and pages, approving several at once (record, clear
columns, history, nothing readable at rest), rejecting (a reason required, kept sealed), a change
decided twice (one after the other, and by two caseworkers at the same moment) applied once, two
changes of one record approved at the same moment both kept, the outcome queued for the person in their language with no value in it, and the needs page and CSV
with small counts and the totals that would give them away hidden.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from intake.registration import DETAIL_FIELDS, OUTCOME_APPROVED, OUTCOME_REJECTED
from portal.changes import NEED_REASON, NONE_TICKED, needs_table
from storage import change_review, outbox
from storage.changes import open_history_value, open_reply_to, request_change
from storage.models import (
    AuditEntry, NeedCount, OutboxMessage, Registration, RegistrationChange, RegistrationHistory, Township, User,
)
from storage.registrations import open_details, phone_key, write_details
from tests.portal.test_at_rest import copy_running_database

OLD_PHONE, NEW_PHONE = "+959450001111", "+959450009999"
CHAT_ID = "734001122"
NEEDS_WORDS = "I cannot walk since the flood"
HOUSEHOLD_WORDS = "my son was born in October"
NEW_ADDRESS = "House 7, Lanmadaw Street, ward 3"
REASON = "The new township is outside our area; please come to the office"


@dataclass
class Queue:
    """What the fixture asked for: change ids by name, record ids by registration number."""

    changes: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)


def record_details(number: str, **values) -> dict:
    details = dict.fromkeys(DETAIL_FIELDS, "")
    details.update(registration_number=number, group_number="G-" + number, given_name="Aye Aye Khaing",
                   family_name="Myint Myat",
                   date_of_birth="1990-04-17", sex="F", phone=OLD_PHONE, township="MMR013017",
                   address="No. 12, Strand Road", education="MIDL", occupation="DAYL", needs="SM", language="my")
    details.update(values)
    return details


def add_record(db, vault, now, number: str, **values) -> Registration:
    row = Registration(status="active", updated_at=now)
    write_details(vault, row, record_details(number, **values), now)
    db.add(row)
    db.flush()
    return row


@pytest.fixture
def queue(app, world, clock) -> Queue:
    """Three records and their changes, asked for a minute apart (so oldest first is this order):

    * MMR-17-0123 (Botahtaung), by SMS in Burmese: phone, township (to Hpa-An), education, needs.
    * MMR-17-0456 (Hpa-An), on Telegram in English: address, household.
    * MMR-17-0789 (Botahtaung), erased by the person: the erasure, for the record."""
    runtime = app.extensions["intake"]
    vault = runtime.vault
    built = Queue()
    with runtime.sessions() as db:
        db.add(Township(pcode="MMR003001", state_pcode="MMR003", state_name_en="Kayin", name_en="Hpa-An",
                        name_my="ဘားအံ"))
        first = add_record(db, vault, clock(), "MMR-17-0123")
        second = add_record(db, vault, clock(), "MMR-17-0456", township="MMR003001", language="en", phone="")
        erased = add_record(db, vault, clock(), "MMR-17-0789")
        # What the person's erasure leaves (storage.self_service.erase): no details, no township.
        erased.details, erased.erased_at, erased.township_pcode, erased.status = None, clock(), None, "inactive"
        built.records = {"MMR-17-0123": first.id, "MMR-17-0456": second.id, "MMR-17-0789": erased.id}
        sms = {"channel": "sms", "language": "my", "reply_to": {"channel": "sms", "address": OLD_PHONE}}
        telegram = {"channel": "telegram", "language": "en", "reply_to": {"channel": "telegram", "address": CHAT_ID}}
        for name, registration, old, new, how in (
                ("phone", first, OLD_PHONE, NEW_PHONE, sms),
                ("township", first, "MMR013017", "MMR003001", sms),
                ("education", first, "MIDL", "HIGH", sms),
                ("needs", first, "SM", {"codes": ["DS", "PG"], "words": NEEDS_WORDS}, sms),
                ("address", second, "No. 12, Strand Road", NEW_ADDRESS, telegram),
                ("household", second, None, {"words": HOUSEHOLD_WORDS}, telegram),
                ("erasure", erased, None, None, {"channel": "sms", "language": "my", "reply_to": None})):
            clock.advance(minutes=1)
            change = request_change(db, vault, registration, kind=name, old_value=old, new_value=new, now=clock(),
                                    **how)
            db.flush()
            built.changes[name] = change.id
        db.commit()
    clock.advance(hours=1)
    return built


def text_of(response) -> str:
    return response.get_data(as_text=True)


def decide(portal_user, ids, decision: str, reason: str = "", **extra):
    """Post the queue's form as a browser would (the token from a page the caseworker may see)."""
    return portal_user.post_form("/portal/changes/decide", {"change_id": [str(i) for i in ids],
                                                            "decision": decision, "reason": reason, **extra},
                                 token_from="/portal/needs")


def rows(app, model, *where):
    with app.extensions["intake"].sessions() as db:
        return db.execute(select(model).where(*where).order_by(model.id)).scalars().all()


def change(app, change_id) -> RegistrationChange:
    return rows(app, RegistrationChange, RegistrationChange.id == change_id)[0]


def record(app, queue, number) -> Registration:
    return rows(app, Registration, Registration.id == queue.records[number])[0]


def user_id(app, email) -> int:
    return rows(app, User, User.email == email)[0].id


def replies(app) -> list[tuple[str, str, dict]]:
    """(channel, recipient, payload) of every queued reply, opened with the server's data key."""
    vault = app.extensions["intake"].vault
    return [(row.channel, *outbox.open_row(None, vault, row))
            for row in rows(app, OutboxMessage, OutboxMessage.purpose == "reply")]


def queue_rows(page: str) -> list[str]:
    return re.findall(r'<tr id="change-(\d+)">', page)


# --- the queue ----------------------------------------------------------------------------------

def test_a_caseworker_lands_on_the_queue_and_reads_each_change_in_plain_words(app, client, world, portal_user,
                                                                              queue):
    assert portal_user.login(world.emails["caseworker"]).headers["Location"] == "/portal/changes"
    response = client.get("/portal/changes")
    page = text_of(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in \
        response.headers["Content-Security-Policy"]
    # Oldest first, every pending change.
    assert queue_rows(page) == [str(queue.changes[name]) for name in
                                ("phone", "township", "education", "needs", "address", "household", "erasure")]
    assert "7 changes waiting" in page
    for number in ("MMR-17-0123", "MMR-17-0456", "MMR-17-0789"):
        assert number in page

    def cell(name: str) -> str:
        row = page[page.index(f'<tr id="change-{queue.changes[name]}">'):]
        return re.sub(r"\s+", " ", row[:row.index("</tr>")])

    assert "Phone number" in cell("phone") and f"{OLD_PHONE}</span> → <span class=\"text\">{NEW_PHONE}" in cell("phone")
    assert "SMS" in cell("phone") and "Botahtaung" in cell("phone")
    assert "Botahtaung (MMR013017)</span> → <span class=\"text\">Hpa-An (MMR003001)" in cell("township")
    assert "Middle</span> → <span class=\"text\">High school" in cell("education")
    assert "MIDL" not in page and "HIGH" not in page  # codes are shown as their labels
    assert "Disability, Pregnant or lactating" in cell("needs") and NEEDS_WORDS in cell("needs")
    assert "Serious medical condition" in cell("needs")  # what the record holds now
    assert NEW_ADDRESS in cell("address") and "Telegram" in cell("address") and "Hpa-An" in cell("address")
    assert HOUSEHOLD_WORDS in cell("household")
    assert "Erase personal details" in cell("erasure") and "This cannot be undone." in cell("erasure")
    assert "Done already" in cell("erasure") and "Not recorded" in cell("erasure")  # no township left
    # The nav takes a caseworker to the queue and the counts, not to referrals.
    assert 'href="/portal/changes">Changes</a>' in page and 'href="/portal/needs">Needs</a>' in page
    assert 'href="/portal/">Referrals</a>' not in page

    opened = [row for row in rows(app, AuditEntry) if row.action == "open_changes"]
    assert [row.user_id for row in opened] == [user_id(app, world.emails["caseworker"])]
    assert OLD_PHONE not in (opened[0].detail or "") and "7 shown" in opened[0].detail


@pytest.mark.parametrize("name, role", [("save", "focal point"), ("coord", "coordinator")])
def test_the_queue_is_refused_to_roles_that_do_not_decide_changes(app, client, world, portal_user, queue, name,
                                                                  role):
    portal_user.login(world.emails[name])
    response = client.get("/portal/changes")
    assert response.status_code == 403
    assert f"Your role ({role}) does not give access to the changes queue." in text_of(response)
    assert "MMR-17-0123" not in text_of(response) and NEW_PHONE not in text_of(response)
    refused = portal_user.post_form("/portal/changes/decide", {"change_id": str(queue.changes["phone"]),
                                                                "decision": "approve"})
    assert refused.status_code == 403
    assert change(app, queue.changes["phone"]).status == "pending"
    assert not any(row.action == "open_changes" for row in rows(app, AuditEntry))


def test_an_admin_may_open_the_queue(client, world, portal_user, queue):
    portal_user.login(world.emails["admin"])
    assert client.get("/portal/changes").status_code == 200


def test_the_queue_filters_by_township_and_kind_and_pages_by_fifty(app, client, world, portal_user, queue, clock):
    runtime = app.extensions["intake"]
    with runtime.sessions() as db:
        many = db.get(Registration, queue.records["MMR-17-0456"])
        for number in range(55):
            clock.advance(seconds=1)
            request_change(db, runtime.vault, many, kind="address", old_value="", new_value=f"Plot {number}",
                           channel="sms", language="en", reply_to=None, now=clock())
        db.commit()
    portal_user.login(world.emails["caseworker"])
    first = text_of(client.get("/portal/changes"))
    assert len(queue_rows(first)) == 50 and "62 changes waiting" in first and "page 1 of 2" in first
    assert queue_rows(first)[0] == str(queue.changes["phone"])
    assert 'href="/portal/changes?page=2"' in first
    second = text_of(client.get("/portal/changes?page=2"))
    assert len(queue_rows(second)) == 12 and "Plot 54" in second and "Plot 42" not in second
    assert len(queue_rows(text_of(client.get("/portal/changes?page=99")))) == 12  # past the end: the last page

    hpa_an = text_of(client.get("/portal/changes?township=MMR003001"))
    assert "57 changes waiting (filtered)" in hpa_an and "MMR-17-0123" not in hpa_an
    assert '<option value="MMR003001" selected>Hpa-An</option>' in hpa_an
    erasures = text_of(client.get("/portal/changes?kind=erasure"))
    assert queue_rows(erasures) == [str(queue.changes["erasure"])]
    both = text_of(client.get("/portal/changes?township=MMR003001&kind=household"))
    assert queue_rows(both) == [str(queue.changes["household"])]
    assert queue_rows(text_of(client.get("/portal/changes?kind=nonsense"))) == queue_rows(first)


# --- deciding -----------------------------------------------------------------------------------

def test_approving_several_at_once_applies_each_and_keeps_history_sealed(app, client, world, portal_user, queue,
                                                                         clock, tmp_path):
    vault = app.extensions["intake"].vault
    portal_user.login(world.emails["caseworker"])
    ticked = [queue.changes[name] for name in ("phone", "township", "education", "needs")]
    response = decide(portal_user, ticked, "approve")
    assert response.status_code == 302 and response.headers["Location"] == "/portal/changes"
    page = text_of(client.get("/portal/changes"))
    assert "Approved 4 changes." in page
    assert queue_rows(page) == [str(queue.changes[name]) for name in ("address", "household", "erasure")]

    person = record(app, queue, "MMR-17-0123")
    details = open_details(vault, person)
    assert details == record_details("MMR-17-0123", phone=NEW_PHONE, township="MMR003001", education="HIGH",
                                     needs="SM;DS;PG")
    assert person.phone_key == phone_key(vault, NEW_PHONE) != phone_key(vault, OLD_PHONE)
    assert person.township_pcode == "MMR003001" and person.updated_at == clock()

    caseworker = user_id(app, world.emails["caseworker"])
    for change_id in ticked:
        decided = change(app, change_id)
        assert (decided.status, decided.decided_by, decided.decided_at) == ("approved", caseworker, clock())
        assert decided.reason is None
    history = rows(app, RegistrationHistory)
    assert [(row.change_id, row.field, open_history_value(vault, row, "old_value"), open_history_value(vault, row, "new_value"))
            for row in history] == [
        (queue.changes["phone"], "phone", OLD_PHONE, NEW_PHONE),
        (queue.changes["township"], "township", "MMR013017", "MMR003001"),
        (queue.changes["education"], "education", "MIDL", "HIGH"),
        (queue.changes["needs"], "needs", "SM", "SM;DS;PG")]
    assert all(row.registration_id == person.id and row.changed_at == clock() for row in history)
    assert [(row.action, row.detail) for row in rows(app, AuditEntry) if row.action == "approve_change"] == [
        ("approve_change", f"change {change_id}") for change_id in ticked]

    # Nothing of it is readable in the database (the record's new clear column shows the copy is whole).
    copy = copy_running_database(app, tmp_path / "copy")
    assert phone_key(vault, NEW_PHONE).encode() in copy.raw
    for secret in (NEW_PHONE, OLD_PHONE, NEEDS_WORDS, "MMR-17-0123", "High school", "Aye Aye Khaing", "Strand Road"):
        assert secret.encode() not in copy.raw, secret


def test_an_approved_township_moves_the_records_other_waiting_changes_with_it(app, client, world, portal_user,
                                                                               queue):
    portal_user.login(world.emails["caseworker"])
    decide(portal_user, [queue.changes["township"]], "approve")
    assert change(app, queue.changes["education"]).township_pcode == "MMR003001"
    hpa_an = text_of(client.get("/portal/changes?township=MMR003001"))
    assert str(queue.changes["education"]) in queue_rows(hpa_an)


def test_rejecting_needs_a_reason_and_keeps_it_sealed(app, client, world, portal_user, queue, tmp_path):
    vault = app.extensions["intake"].vault
    portal_user.login(world.emails["caseworker"])
    before = open_details(vault, record(app, queue, "MMR-17-0123"))
    ticked = [queue.changes["township"], queue.changes["education"]]

    refused = decide(portal_user, ticked, "reject", reason="   ")
    page = text_of(refused)
    assert refused.status_code == 400 and NEED_REASON in page and 'role="alert"' in page
    assert page.count("checked") == 2  # the ticks are kept for the second try
    assert [change(app, change_id).status for change_id in ticked] == ["pending", "pending"]
    assert replies(app) == [] and rows(app, RegistrationHistory) == []

    nothing = decide(portal_user, [], "reject", reason=REASON)
    assert nothing.status_code == 400 and NONE_TICKED in text_of(nothing)

    response = decide(portal_user, ticked, "reject", reason=f"  {REASON}\n")
    assert response.status_code == 302
    assert "Rejected 2 changes." in text_of(client.get("/portal/changes"))
    for change_id in ticked:
        rejected = change(app, change_id)
        assert rejected.status == "rejected" and change_review.open_reason(vault, rejected) == REASON
    assert open_details(vault, record(app, queue, "MMR-17-0123")) == before
    assert record(app, queue, "MMR-17-0123").township_pcode == "MMR013017"
    assert rows(app, RegistrationHistory) == []
    told = replies(app)
    assert len(told) == 2 and all(REASON not in payload["body"] for _channel, _to, payload in told)
    copy = copy_running_database(app, tmp_path / "copy")
    assert REASON.encode() not in copy.raw and b"outside our area" not in copy.raw


def test_an_erasure_is_acknowledged_not_rejected(app, client, world, portal_user, queue):
    portal_user.login(world.emails["caseworker"])
    erasure = queue.changes["erasure"]
    decide(portal_user, [erasure], "reject", reason="no")
    assert "it can only be acknowledged" in text_of(client.get("/portal/changes"))
    assert change(app, erasure).status == "pending"
    decide(portal_user, [erasure], "approve")
    assert change(app, erasure).status == "approved"
    assert rows(app, RegistrationHistory) == [] and replies(app) == []
    assert record(app, queue, "MMR-17-0789").details is None


def test_a_change_decided_twice_is_applied_once(app, client, world, portal_user, queue):
    portal_user.login(world.emails["caseworker"])
    needs = queue.changes["needs"]
    decide(portal_user, [needs], "approve")
    client.get("/portal/changes")  # read the flash
    again = decide(portal_user, [needs, queue.changes["education"]], "approve")
    assert again.status_code == 302
    page = text_of(client.get("/portal/changes"))
    assert "Approved 1 change." in page and "Skipped 1 change: already decided by someone else" in page
    rejected = decide(portal_user, [needs], "reject", reason=REASON)
    assert rejected.status_code == 302
    assert "Skipped 1 change" in text_of(client.get("/portal/changes"))
    assert change(app, needs).status == "approved" and change(app, needs).reason is None
    assert [row.field for row in rows(app, RegistrationHistory, RegistrationHistory.change_id == needs)] == ["needs"]
    assert len(replies(app)) == 2  # one for each change, once
    vault = app.extensions["intake"].vault
    assert open_details(vault, record(app, queue, "MMR-17-0123"))["needs"] == "SM;DS;PG"


def while_the_first_holds(runtime, first_decision, second_decision, waits_for: str):
    """Decide `first_decision` in an open transaction, start `second_decision` in another thread,
    check that it waits (for `waits_for`), then commit the first; returns the second's outcome."""
    first = runtime.sessions()
    try:
        first_decision(first)
        outcome = {}

        def second():
            with runtime.sessions() as session:
                outcome["done"] = second_decision(session)
                session.commit()

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), f"the second decision did not wait for {waits_for}"
        first.commit()
    finally:
        first.close()
    thread.join(10)
    assert not thread.is_alive()
    return outcome["done"]


def test_two_caseworkers_deciding_at_the_same_moment_apply_a_change_once(app, world, queue, clock):
    runtime = app.extensions["intake"]
    needs = queue.changes["needs"]
    first_user, second_user = user_id(app, world.emails["caseworker"]), user_id(app, world.emails["admin"])

    def deciding(session, user):
        return change_review.decide(session, runtime.vault, [needs], decision="approve", reason=None, user_id=user,
                                    now=clock(), render=runtime.renderer.text)

    def first(session):
        assert deciding(session, first_user).decided == [needs]  # locked, not committed yet

    second = while_the_first_holds(runtime, first, lambda session: deciding(session, second_user), "the first")
    assert second.decided == [] and second.skipped == [needs]
    assert change(app, needs).decided_by == first_user
    assert len(rows(app, RegistrationHistory, RegistrationHistory.change_id == needs)) == 1
    assert len(replies(app)) == 1


def test_two_caseworkers_approving_changes_of_one_record_at_once_lose_neither(app, world, queue, clock):
    runtime = app.extensions["intake"]
    users = user_id(app, world.emails["caseworker"]), user_id(app, world.emails["admin"])

    def approving(session, name, user):
        return change_review.decide(session, runtime.vault, [queue.changes[name]], decision="approve", reason=None,
                                    user_id=user, now=clock(), render=runtime.renderer.text)

    def first(session):
        assert approving(session, "phone", users[0]).decided == [queue.changes["phone"]]

    second = while_the_first_holds(runtime, first, lambda session: approving(session, "education", users[1]),
                                   "the record")
    assert second.decided == [queue.changes["education"]]
    details = open_details(runtime.vault, record(app, queue, "MMR-17-0123"))
    assert (details["phone"], details["education"]) == (NEW_PHONE, "HIGH")  # neither overwrote the other


def test_a_form_without_its_token_changes_nothing(app, client, world, portal_user, queue):
    portal_user.login(world.emails["caseworker"])
    response = client.post("/portal/changes/decide", data={"change_id": str(queue.changes["phone"]),
                                                           "decision": "approve"})
    assert response.status_code == 400 and "Form expired" in text_of(response)
    assert change(app, queue.changes["phone"]).status == "pending"
    assert decide(portal_user, [queue.changes["phone"]], "maybe").status_code == 400
    assert decide(portal_user, ["1; drop table"], "approve").status_code == 400
    assert change(app, queue.changes["phone"]).status == "pending"


# --- telling the person -------------------------------------------------------------------------

def test_the_outcome_is_queued_in_the_persons_language_to_the_right_address_and_says_no_value(
        app, client, world, portal_user, queue, monkeypatch):
    runtime = app.extensions["intake"]
    renderer_text = runtime.renderer.text
    # The catalogs may not translate these yet: mark which language each was rendered in.
    monkeypatch.setattr(runtime.renderer, "text", lambda lang, text: f"[{lang}] {renderer_text(lang, text)}")
    approved_my = f"[my] {renderer_text('my', OUTCOME_APPROVED)}"
    rejected_my = f"[my] {renderer_text('my', OUTCOME_REJECTED)}"
    approved_en = f"[en] {renderer_text('en', OUTCOME_APPROVED)}"

    portal_user.login(world.emails["caseworker"])
    decide(portal_user, [queue.changes["phone"], queue.changes["address"], queue.changes["erasure"]], "approve")
    decide(portal_user, [queue.changes["education"]], "reject", reason=REASON)
    assert replies(app) == [
        ("sms", NEW_PHONE, {"body": approved_my}),  # a new number: told there, by SMS
        ("telegram", CHAT_ID, {"body": approved_en, "buttons": []}),
        ("sms", OLD_PHONE, {"body": rejected_my}),
    ]  # the erasure left no address to tell: nothing for it
    for _channel, _to, payload in replies(app):
        for value in (NEW_PHONE, OLD_PHONE, NEW_ADDRESS, "High school", "HIGH", REASON, "MMR-17"):
            assert value not in payload["body"]
    vault = runtime.vault
    for name in ("phone", "address", "education"):
        assert change(app, queue.changes[name]).reply_to is None and \
            open_reply_to(vault, change(app, queue.changes[name])) is None
    assert change(app, queue.changes["township"]).reply_to is not None  # not decided: still waiting to tell
    assert {row.status for row in rows(app, OutboxMessage, OutboxMessage.purpose == "reply")} == {"pending"}


# --- who needs what -----------------------------------------------------------------------------

@pytest.fixture
def needs(app, world, queue):
    """Declared needs: November in Botahtaung and Hpa-An (and one with no township), October too."""
    with app.extensions["intake"].sessions() as db:
        for group, pcode, month, count in (
                ("DS", "MMR013017", "2026-11", 5), ("DS", "MMR003001", "2026-11", 1),
                ("SM", "MMR013017", "2026-11", 2), ("PG", "MMR013017", "2026-11", 4),
                ("PG", "MMR003001", "2026-11", 3), ("SV", None, "2026-11", 1),
                ("DS", "MMR013017", "2026-10", 7), ("PG", "MMR003001", "2026-10", 2)):
            db.add(NeedCount(need_group=group, township_pcode=pcode or "", month=month, declared=count))
        db.commit()


def cells_of(page: str, row_id: str) -> list[str]:
    row = page[page.index(f'<tr id="{row_id}">'):]
    return re.findall(r'<td class="number">([^<]*)</td>', row[:row.index("</tr>")])


@pytest.mark.parametrize("name", ["caseworker", "coord", "admin"])
def test_who_needs_what_counts_by_group_and_township_and_hides_small_counts(client, world, portal_user, needs,
                                                                            name):
    portal_user.login(world.emails[name])
    response = client.get("/portal/needs?month=2026-11")
    page = text_of(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Who needs what" in page and "in 2026-11" in page
    headings = re.findall(r'<th scope="col" class="number">([^<]*)</th>', page)
    assert headings == ["Botahtaung", "Hpa-An", "No township", "Total"]
    assert "Disability" in page and "Pregnant or lactating" in page
    # Under 3 is "<3"; a total adding up a hidden count is hidden too, or 6 - 5 would give the 1 away.
    assert cells_of(page, "need-DS") == ["5", "&lt;3", "0", "hidden"]
    assert cells_of(page, "need-SM") == ["&lt;3", "0", "0", "hidden"]
    assert cells_of(page, "need-PG") == ["4", "3", "0", "7"]
    assert cells_of(page, "need-SV") == ["0", "0", "&lt;3", "hidden"]
    assert cells_of(page, "need-TR") == ["0", "0", "0", "0"]
    assert cells_of(page, "need-totals") == ["hidden", "hidden", "hidden", "hidden"]
    assert len(re.findall(r'<tr id="need-', page)) == 13  # every need group, and the totals

    october = text_of(client.get("/portal/needs?month=2026-10"))
    assert cells_of(october, "need-DS") == ["7", "0", "7"] and cells_of(october, "need-PG") == ["0", "&lt;3", "hidden"]
    everything = text_of(client.get("/portal/needs"))
    assert cells_of(everything, "need-DS") == ["12", "&lt;3", "0", "hidden"]
    assert '<option value="2026-11">2026-11</option>' in everything

    empty = text_of(client.get("/portal/needs?month=2026-01"))
    assert "No needs declared in 2026-01." in empty and '<option value="2026-01" selected>' in empty

    bad = client.get("/portal/needs?month=November")
    assert bad.status_code == 400 and "YYYY-MM" in text_of(bad)


def test_the_needs_csv_is_the_same_table_with_the_same_hiding(client, world, portal_user, needs):
    portal_user.login(world.emails["coord"])
    response = client.get("/portal/needs.csv?month=2026-11")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="needs-2026-11.csv"'
    assert response.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in response.headers
    table = list(csv.reader(io.StringIO(text_of(response))))
    assert table[0] == ["Need group", "Code", "Botahtaung (MMR013017)", "Hpa-An (MMR003001)", "No township", "Total"]
    by_code = {line[1]: line for line in table[1:]}
    assert by_code["DS"] == ["Disability", "DS", "5", "<3", "0", "hidden"]
    assert by_code["PG"] == ["Pregnant or lactating", "PG", "4", "3", "0", "7"]
    assert by_code["SM"][2:] == ["<3", "0", "0", "hidden"]
    assert table[-1] == ["Total", "", "hidden", "hidden", "hidden", "hidden"]
    assert len(table) == 14
    assert client.get("/portal/needs.csv").headers["Content-Disposition"] == \
        'attachment; filename="needs-all-months.csv"'
    assert client.get("/portal/needs.csv?month=2026-13").status_code == 400


def test_totals_are_shown_when_nothing_they_add_up_is_hidden(app):
    with app.app_context():  # the need groups' names come through the catalogs
        table = needs_table([("DS", "A", 5), ("DS", "B", 3), ("PG", "A", 4)], {"A": "Alpha", "B": "Beta"}, 3)
        hidden = needs_table([("DS", "A", 5), ("DS", "B", 2)], {}, 3)
    assert table.columns == [("A", "Alpha"), ("B", "Beta")]
    assert table.rows[0] == ("DS", "Disability", ["5", "3"], "8")
    assert table.column_totals == ["9", "3"] and table.total == "12" and not table.suppressed
    assert hidden.rows[0][2:] == (["5", "<3"], "hidden") and hidden.column_totals == ["5", "hidden"]
    assert hidden.total == "hidden" and hidden.suppressed


def test_the_needs_page_is_refused_to_focal_points(client, world, portal_user, needs):
    portal_user.login(world.emails["save"])
    for path in ("/portal/needs", "/portal/needs.csv"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Your role (focal point) does not give access to the needs counts." in text_of(response)
