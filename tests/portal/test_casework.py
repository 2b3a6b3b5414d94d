"""A referral's life in the portal: status, category, assignee and notes on a timeline, each
audited; the list filtered, searched and exported without content; referring a case on to
another organisation; writing to the reporter (and to their phone, when they agreed)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from storage import casework, outbox, reporter_messages, sealing
from storage.models import (
    AuditEntry, Contact, OutboxMessage, Organisation, Referral, ReferralEvent, ReporterMessage, User,
)
from tests.portal.conftest import PortalUser


def text_of(response) -> str:
    return response.get_data(as_text=True)


def rows(app, model, *where):
    with app.extensions["intake"].sessions() as db:
        return db.execute(select(model).where(*where)).scalars().all()


def referral_row(app, case_ref) -> Referral:
    return rows(app, Referral, Referral.case_ref == case_ref)[0]


def post(user: PortalUser, case_ref: str, action: str, **data):
    return user.post_form(f"/portal/referrals/{case_ref}/{action}", data, token_from=f"/portal/referrals/{case_ref}")


@pytest.fixture
def save(world, portal_user):
    portal_user.login(world.emails["save"])
    return portal_user


def test_a_status_past_received_acknowledges_and_closing_is_dated(app, client, world, save, clock):
    case_ref = world.case_refs["SAVE"][0]
    response = post(save, case_ref, "status", status="preliminary_assessment")
    assert response.status_code == 303 and response.headers["Location"] == f"/portal/referrals/{case_ref}"
    referral = referral_row(app, case_ref)
    assert referral.status == "preliminary_assessment" and referral.acknowledged_at == clock()
    assert referral.next_escalation_at is None and referral.closed_at is None

    clock.advance(hours=2)
    post(save, case_ref, "status", status="not_substantiated")
    assert referral_row(app, case_ref).closed_at == clock()
    page = text_of(client.get(f"/portal/referrals/{case_ref}"))
    assert '<dd id="status">Closed: not substantiated</dd>' in page and "The status is changed." in page
    timeline = page[page.index('id="timeline"'):]
    assert timeline.index("Receipt acknowledged") < timeline.index("Status set to Preliminary assessment") \
        < timeline.index("Status set to Closed: not substantiated")
    assert "save@example.org" in timeline

    post(save, case_ref, "status", status="under_investigation")  # reopened
    assert referral_row(app, case_ref).closed_at is None
    actions = [(e.action, e.detail) for e in rows(app, AuditEntry, AuditEntry.referral_id == referral.id)]
    assert ("acknowledge", None) in actions and ("status", "not_substantiated") in actions
    assert ("status", "under_investigation") in actions


@pytest.mark.parametrize("action, field, value", [("status", "status", "referred"), ("status", "status", "closed"),
                                                  ("category", "category", "gossip"), ("assign", "assignee", "x1")])
def test_a_value_the_form_does_not_offer_is_refused_with_the_reason_and_changes_nothing(
        app, world, save, action, field, value):
    case_ref = world.case_refs["SAVE"][0]
    response = post(save, case_ref, action, **{field: value})
    assert response.status_code == 422
    assert 'id="form-error"' in text_of(response)
    referral = referral_row(app, case_ref)
    assert (referral.status, referral.category, referral.assigned_to) == ("received", "unknown", None)
    assert rows(app, ReferralEvent, ReferralEvent.referral_id == referral.id) == []


def test_category_and_assignment_within_the_organisation_only(app, world, save):
    case_ref = world.case_refs["SAVE"][0]
    assert post(save, case_ref, "category", category="sexual_exploitation").status_code == 303
    assert referral_row(app, case_ref).category == "sexual_exploitation"

    users = {user.email: user.id for user in rows(app, User)}
    for outsider in ("care@example.org", "save_new@example.org"):  # another organisation; no key yet
        response = post(save, case_ref, "assign", assignee=str(users[outsider]))
        assert response.status_code == 422 and "colleague of your organisation" in text_of(response)
    assert post(save, case_ref, "assign", assignee=str(users["save@example.org"])).status_code == 303
    assert referral_row(app, case_ref).assigned_to == users["save@example.org"]
    assert post(save, case_ref, "assign", assignee="").status_code == 303
    assert referral_row(app, case_ref).assigned_to is None


def test_a_note_is_sealed_to_the_organisation_and_shown_on_the_timeline(app, client, world, save):
    case_ref = world.case_refs["SAVE"][0]
    note = "Called the field office Zq4 <script>alert(1)</script>"
    assert post(save, case_ref, "note", note=note).status_code == 303
    [event] = rows(app, ReferralEvent, ReferralEvent.kind == "note")
    assert b"Zq4" not in event.note
    save_key = sealing.unwrap(rows(app, Organisation, Organisation.acronym == "SAVE")[0].recovery_wrap,
                              world.recovery_keys["SAVE"])
    save = rows(app, Organisation, Organisation.acronym == "SAVE")[0]
    assert sealing.open_sealed(save_key, event.note, casework.note_bind(event, save.id)).decode() == note
    page = text_of(client.get(f"/portal/referrals/{case_ref}"))
    assert "Called the field office Zq4 &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page


def test_an_empty_or_too_long_note_is_refused_and_what_was_typed_is_kept(app, world, save):
    case_ref = world.case_refs["SAVE"][0]
    assert "The note is empty." in text_of(post(save, case_ref, "note", note="   "))
    long_note = "Kx9 " + "a" * 4000
    response = post(save, case_ref, "note", note=long_note)
    assert response.status_code == 422 and "at most 4000 characters" in text_of(response)
    assert long_note in text_of(response)  # in the textarea again
    assert rows(app, ReferralEvent, ReferralEvent.kind == "note") == []


def test_the_list_is_filtered_searched_and_paged(app, client, world, save, clock):
    urgent, normal = world.case_refs["SAVE"][1], world.case_refs["SAVE"][0]

    def listed(query: str) -> set[str]:
        response = client.get(f"/portal/?{query}")
        assert response.status_code == 200
        return set(re.findall(r'href="/portal/referrals/(R-[A-Z0-9]{6})"', text_of(response)))

    assert listed("") == {urgent, normal}
    assert listed("urgent=yes") == {urgent} and listed("urgent=no") == {normal}
    assert listed(f"q={normal[:5].lower()}") >= {normal} and listed(f"q={normal}") == {normal}
    assert listed("month=" + clock().strftime("%Y-%m")) == {urgent, normal} and listed("month=2001-01") == set()
    assert listed("township=MMR013017") == {urgent, normal} and listed("township=MMR999999") == set()
    post(save, normal, "status", status="under_investigation")
    assert listed("status=under_investigation") == {normal}
    clock.advance(hours=13)  # the urgent one is past its 12-hour deadline, unacknowledged
    save.login(world.emails["save"])  # the session ended meanwhile
    assert listed("overdue=1") == {urgent}
    assert "No referral matches these filters." in text_of(client.get("/portal/?status=substantiated"))
    for bad in ("status=lost", "urgent=maybe", "month=2026-13", "township=%3Cb%3E", "q=" + "R" * 20):
        response = client.get(f"/portal/?{bad}")
        assert response.status_code == 400 and "cannot be filtered by that" in text_of(response)


def test_the_export_is_metadata_only(app, client, world, save):
    response = client.get("/portal/referrals.csv?urgent=yes")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(text_of(response))))
    assert [row["case_ref"] for row in table] == [world.case_refs["SAVE"][1]]
    assert table[0]["urgent"] == "yes" and table[0]["child_involved"] == "yes" and table[0]["status"] == "received"
    body = text_of(response)
    assert all(account[:3] not in body for account in world.accounts.values())  # the Qx markers
    assert "4500" not in body  # the reporter's number
    assert [e.action for e in rows(app, AuditEntry)][-1] == "export_referrals"


def _organisation_key(app, world, acronym):
    return sealing.unwrap(rows(app, Organisation, Organisation.acronym == acronym)[0].recovery_wrap,
                          world.recovery_keys[acronym])


def test_referring_on_seals_the_case_to_the_other_organisation_and_tells_its_focal_points(
        app, client, world, save, portal_user, clock):
    case_ref = world.case_refs["SAVE"][0]
    care = rows(app, Organisation, Organisation.acronym == "CARE")[0]
    response = post(save, case_ref, "refer", organisation=str(care.id))
    assert response.status_code == 303, text_of(response)
    old = referral_row(app, case_ref)
    [new] = rows(app, Referral, Referral.referred_from_id == old.id)
    assert old.status == "referred" and old.sealed_key is None  # access not kept
    assert new.organisation_id == care.id and new.status == "received" and new.report_id == old.report_id
    page = text_of(client.get(f"/portal/referrals/{case_ref}"))
    assert "did not keep access" in page and world.accounts[case_ref] not in page
    assert "Referred on to CARE" in page

    [notice] = rows(app, OutboxMessage, OutboxMessage.dedupe_key.startswith(f"referral:{new.case_ref}:"))
    _, payload = outbox.open_row(None, app.extensions["intake"].vault, notice)
    assert new.case_ref in payload["body"] and world.accounts[case_ref] not in payload["body"]

    client.post("/portal/logout", data={"csrf_token": save.token("/portal/")})
    portal_user.login(world.emails["care"])
    care_page = text_of(client.get(f"/portal/referrals/{new.case_ref}"))
    assert world.accounts[case_ref] in care_page and "Referred here by SAVE" in care_page
    assert client.get(f"/portal/referrals/{case_ref}").status_code == 404  # SAVE's referral is not CARE's


def test_keeping_access_after_referring_on(app, client, world, save):
    case_ref = world.case_refs["SAVE"][0]
    care = rows(app, Organisation, Organisation.acronym == "CARE")[0]
    post(save, case_ref, "refer", organisation=str(care.id), keep_access="yes")
    old = referral_row(app, case_ref)
    assert old.status == "referred" and old.sealed_key is not None
    page = text_of(client.get(f"/portal/referrals/{case_ref}"))
    assert world.accounts[case_ref] in page and 'action="/portal/referrals/%s/refer"' % case_ref not in page
    again = post(save, case_ref, "status", status="closed_other")
    assert again.status_code == 422 and "followed by the organisation it went to" in text_of(again)


def test_a_case_cannot_go_to_an_organisation_with_nobody_to_tell_or_one_that_has_it(app, world, save):
    case_ref = world.case_refs["SAVE"][0]
    with app.extensions["intake"].sessions() as db:
        for contact in db.execute(select(Contact).join(Organisation).where(Organisation.acronym == "CARE")).scalars():
            contact.active = False
        db.commit()
    care = rows(app, Organisation, Organisation.acronym == "CARE")[0]
    response = post(save, case_ref, "refer", organisation=str(care.id))
    assert response.status_code == 422 and "no focal point in the directory" in text_of(response)
    assert referral_row(app, case_ref).status == "received"
    assert len(rows(app, Referral, Referral.report_id == referral_row(app, case_ref).report_id)) == 1
    save_org = rows(app, Organisation, Organisation.acronym == "SAVE")[0]
    assert post(save, case_ref, "refer", organisation=str(save_org.id)).status_code == 422
    assert post(save, case_ref, "refer", organisation="").status_code == 422


def test_the_network_refers_a_case_it_received_to_an_organisation(app, client, world, portal_user):
    portal_user.login(world.emails["coord"])
    case_ref = world.case_refs["PSEAN"][0]
    save_org = rows(app, Organisation, Organisation.acronym == "SAVE")[0]
    assert post(portal_user, case_ref, "refer", organisation=str(save_org.id)).status_code == 303
    [new] = rows(app, Referral, Referral.referred_from_id == referral_row(app, case_ref).id)
    assert new.organisation_id == save_org.id


def test_a_message_to_the_reporter_opens_with_the_report_key_only(app, client, world, save):
    case_ref = world.case_refs["SAVE"][0]
    text = "Thank you. Can you tell us which week it was? Mk2 <img src=x onerror=alert(1)>"
    assert post(save, case_ref, "message", message=text).status_code == 303
    [row] = rows(app, ReporterMessage)
    assert row.direction == "out" and b"Mk2" not in row.body and not row.sent_out
    referral = referral_row(app, case_ref)
    report_key = reporter_messages.report_key_of(referral, _organisation_key(app, world, "SAVE"))
    with app.extensions["intake"].sessions() as db:
        from storage.models import Report
        report = db.get(Report, referral.report_id)
        assert [m.text for m in reporter_messages.for_reporter(db, report, report_key)] == [text]
    page = text_of(client.get(f"/portal/referrals/{case_ref}"))
    assert "Mk2 &lt;img src=x onerror=alert(1)&gt;" in page and "not read yet" in page
    assert "Message written to the reporter" in page
    assert rows(app, OutboxMessage, OutboxMessage.purpose == "reporter") == []


def test_a_message_goes_to_the_reporters_phone_only_when_they_agreed(app, client, world, save):
    agreed, silent = world.case_refs["SAVE"][1], world.case_refs["SAVE"][0]
    assert 'id="send-out"' in text_of(client.get(f"/portal/referrals/{agreed}"))
    assert 'id="send-out"' not in text_of(client.get(f"/portal/referrals/{silent}"))
    refused = post(save, silent, "message", message="Hello", send_out="yes")
    assert refused.status_code == 422 and "did not agree to be contacted" in text_of(refused)
    assert rows(app, ReporterMessage) == []

    assert post(save, agreed, "message", message="Please call us back Wp3", send_out="yes").status_code == 303
    [queued] = rows(app, OutboxMessage, OutboxMessage.purpose == "reporter")
    vault = app.extensions["intake"].vault
    assert queued.channel == "sms"
    recipient, payload = outbox.open_row(None, vault, queued)
    assert recipient == "+95 9 4500 1234"
    assert "Wp3" in payload["body"]
    assert rows(app, ReporterMessage)[0].sent_out
    assert "also sent to their phone" in text_of(client.get(f"/portal/referrals/{agreed}"))


def test_an_empty_or_too_long_message_is_refused_and_kept(app, world, save):
    case_ref = world.case_refs["SAVE"][0]
    assert post(save, case_ref, "message", message=" ").status_code == 422
    long_text = "Jv8 " + "b" * 1000
    response = post(save, case_ref, "message", message=long_text)
    assert response.status_code == 422 and "at most 1000 characters" in text_of(response)
    assert long_text in text_of(response)
    assert rows(app, ReporterMessage) == []
