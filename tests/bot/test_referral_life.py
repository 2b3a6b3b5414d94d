"""The whole life of a referral, end to end through the real webhook and the real portal forms:
a report sent by SMS -> the focal point acknowledges it -> writes to the reporter -> the
reporter reads it over SMS with the receipt and answers -> the focal point reads the answer ->
refers the case on to the organisation it concerns, whose focal point reads it -> and closes it;
the reporter then learns it is closed. Every step leaves its line on the timeline and in the
audit log, whose chain still verifies."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage import audit_log
from storage.models import OutboxMessage, Referral, ReporterMessage
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import Player, Sms
from tests.support.portal import PortalUser

NUMBER = "+959450123987"
ACCOUNT = "The storekeeper said we get rice only if my sister visits him at night. Lf4-account"
TO_REPORTER = "Thank you for telling us. Is your sister safe now? Lf5-question"
ANSWER = "Yes, she is with our aunt. It is EHP's storekeeper. Lf6-answer"
RECEIPT_PROMPT = "Type your receipt number: the 18 digits you were given when you sent your report."
PASSWORD = "a long password!"


@pytest.fixture
def app(make_outbox_app):
    return d.with_directory(make_outbox_app())


def page(user: PortalUser, path: str) -> str:
    response = user.client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def submit(user: PortalUser, case_ref: str, action: str, **data) -> None:
    response = user.post_form(f"/portal/referrals/{case_ref}/{action}", data, token_from=f"/portal/referrals/{case_ref}")
    assert response.status_code == 303, response.get_data(as_text=True)


def check_report(phone: Phone, receipt: str) -> list[str]:
    """The reporter opens "Check a report" from the main menu and types the receipt."""
    if phone.say("hi")[0].startswith("Choose your language"):
        phone.say("1")
    assert phone.say("3") == [RECEIPT_PROMPT]
    return phone.say(receipt)


def test_the_life_of_a_referral(app):
    runtime = app.extensions["intake"]
    phone = Phone(app.test_client(), NUMBER)
    reporter = Player(Sms(phone), answers={"organisation": "Demo Relief Agency", "where": "Botahtaung",
                                           "account": [ACCOUNT]})
    reporter.play()
    receipt = reporter.receipt
    assert receipt and len(receipt) == 18

    d.key_holder(app, app.seeded.dra, "DRA")
    d.key_holder(app, app.seeded.ehp, "EHP")
    with runtime.sessions() as session:
        [referral] = session.execute(select(Referral)).scalars().all()
        case_ref = referral.case_ref

    # The focal point of the organisation named reads the report and acknowledges it.
    dra = PortalUser(app.test_client())
    dra.login("focal_point@dra.example.org", PASSWORD)
    assert ACCOUNT in page(dra, f"/portal/referrals/{case_ref}")
    submit(dra, case_ref, "acknowledge")
    submit(dra, case_ref, "status", status="preliminary_assessment")
    submit(dra, case_ref, "category", category="sexual_exploitation")
    submit(dra, case_ref, "note", note="Spoke with the camp manager. Lf7-note")
    submit(dra, case_ref, "message", message=TO_REPORTER)

    # The reporter checks over SMS with the receipt alone, reads the message, answers.
    replies = check_report(phone, receipt)
    assert "Your report is being looked at." in replies[0] and TO_REPORTER in replies[0]
    assert phone.say("1") == ["Type your message. Only the people handling your report can read it."]
    assert phone.say(ANSWER) == ["Thank you. Your message was passed on."]

    # The focal point sees the message was read, and reads the answer.
    referral_page = page(dra, f"/portal/referrals/{case_ref}")
    assert ANSWER.replace("'", "&#39;") in referral_page and "read by the reporter" in referral_page
    assert "The reporter wrote" in referral_page

    # The storekeeper works for EHP: the case is referred on, and DRA keeps no access.
    submit(dra, case_ref, "refer", organisation=str(app.seeded.ehp.id))
    with runtime.sessions() as session:
        [onward] = session.execute(select(Referral).where(Referral.referred_from_id.is_not(None))).scalars().all()
        onward_ref = onward.case_ref
        told = session.execute(select(OutboxMessage.dedupe_key)
                               .where(OutboxMessage.dedupe_key.startswith(f"referral:{onward_ref}:"))).scalars().all()
    assert told  # EHP's focal point is notified
    after = page(dra, f"/portal/referrals/{case_ref}")
    assert ACCOUNT not in after and "did not keep access" in after

    ehp = PortalUser(app.test_client())
    ehp.login("focal_point@ehp.example.org", PASSWORD)
    ehp_page = page(ehp, f"/portal/referrals/{onward_ref}")
    assert ACCOUNT in ehp_page and TO_REPORTER in ehp_page and "Referred here by DRA" in ehp_page
    assert "Lf7-note" not in ehp_page  # DRA's internal notes stay DRA's
    submit(ehp, onward_ref, "status", status="under_investigation")
    submit(ehp, onward_ref, "status", status="substantiated")

    # The reporter learns it is closed; nothing new is waiting for them.
    replies = check_report(phone, receipt)
    assert replies[0].startswith("The work on your report is finished and it is closed.")
    assert phone.say("2") == ["Thank you. We have closed this for you."]

    timeline = page(ehp, f"/portal/referrals/{onward_ref}")
    timeline = timeline[timeline.index('id="timeline"'):]
    assert re.search(r"Referred here by DRA.*Status set to Under investigation.*Status set to Closed: substantiated",
                     timeline, re.S)
    with runtime.sessions() as session:
        closed = session.get(Referral, onward.id)
        assert closed.status == "substantiated" and closed.closed_at is not None
        assert session.get(Referral, referral.id).status == "referred"
        directions = [m.direction for m in session.execute(select(ReporterMessage)
                                                           .order_by(ReporterMessage.id)).scalars()]
        assert directions == ["out", "in"]
        assert audit_log.verify(session).intact
