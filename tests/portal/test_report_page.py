"""A report played over SMS through POST /webhooks/twilio, opened in the portal: every field of
the report's schema shows exactly once, with the words the reporter chose, and nothing else
repeats it (the clear routing columns and the sealed content once both printed the place, the
organisation, who was affected and the contact consent)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from intake.report import FIELDS, MEDIA, TYPED_ORGANISATION
from storage.models import Referral
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import Player, Sms
from tests.support.portal import PortalUser

NUMBER = "+959450123987"
ACCOUNT = ["The storekeeper Zq7 asked for money <b>twice</b>.", "Near the warehouse."]
PASSWORD = "a long password!"  # tests.support.directory.key_holder's


@pytest.fixture
def app(make_app):
    return d.with_directory(make_app())


def play_report(phone: Phone, **contact) -> None:
    """Every question answered, the danger one with yes; `contact` answers the contact questions
    (by step name, tests/support/play.py)."""
    player = Player(Sms(phone), danger="yes", organisation="demo relif agency", account=ACCOUNT,
                    where="botahtaung", affected="other", child="yes", **contact)
    assert player.play(until="organisation").text.startswith("If you need help now")  # the emergency lines
    assert player.play(until="organisation_confirm").text.startswith("Is it Demo Relief Agency (DRA)?")
    assert player.play().text.startswith("Thank you, it was sent. Receipt number: ")


def open_the_referral(app) -> str:
    user, _ = d.key_holder(app, app.seeded.dra, "DRA")
    portal = PortalUser(app.test_client())
    portal.login(user.email, PASSWORD)
    with app.extensions["intake"].sessions() as session:
        case_ref = session.execute(select(Referral.case_ref)).scalar_one()
    response = portal.client.get(f"/portal/referrals/{case_ref}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def shown(page: str) -> dict[str, str]:
    """The report section's (label -> value text); asserts no label is there twice."""
    section = page[page.index('<dl class="report">'):]
    pairs = re.findall(r"<dt>([^<]*)</dt><dd>(.*?)</dd>", section[:section.index("</section>")], re.S)
    labels = [label for label, _ in pairs]
    assert len(labels) == len(set(labels)), labels
    return {label: html.unescape(re.sub(r"<[^>]+>", " ", value)) for label, value in pairs}


def every_label_once(page: str, labels) -> None:
    """Each label once on the whole page, anywhere (the report section or any other)."""
    for label in labels:
        assert len(re.findall(rf">\s*{re.escape(label)}\s*<", page)) == 1, label


def test_a_report_filed_by_sms_shows_each_field_exactly_once(app):
    play_report(Phone(app.test_client(), NUMBER), contact="yes", contact_how="other_number",
                contact_number="09 4501 2345")
    page = open_the_referral(app)
    fields = shown(page)
    expected = ["In danger when reporting", "Organisation named", "May it be sent to that organisation",
                "What happened", "When it happened", "Where it happened", "Who was affected", "Anyone under 18",
                "May the organisation make contact", "How to make contact", "Contact number"]
    assert list(fields) == expected
    every_label_once(page, expected)
    # The words they chose, each in its one place; the account as they typed it, escaped.
    assert fields["In danger when reporting"].strip() == "Yes"
    assert fields["Organisation named"].strip() == "Demo Relief Agency (DRA)"
    assert fields["May it be sent to that organisation"].strip() == "Yes"
    assert all(part in fields["What happened"] for part in ACCOUNT)
    assert "<b>twice</b>" not in page and "&lt;b&gt;twice&lt;/b&gt;" in page
    assert fields["When it happened"].strip() == "This month"
    assert fields["Where it happened"].strip() == "Botahtaung, Yangon (MMR013017)"
    assert fields["Who was affected"].strip() == "Someone else"
    assert fields["Anyone under 18"].strip() == "Yes"
    assert fields["May the organisation make contact"].strip() == "Yes"
    assert fields["How to make contact"].strip() == "On another number"
    assert fields["Contact number"].strip() == "0945012345"
    assert NUMBER not in page  # they gave another number: the one they wrote from is not filed
    # What the page said twice before the schema, in other words, is gone.
    for old in ("Place", "Happened", "Child involved", "Reporter may be contacted", "Contact", "Safety"):
        assert not re.search(rf"<dt>\s*{old}\s*</dt>", page), old
    assert "the person reporting" not in page and "does not want to be contacted" not in page


def test_every_field_of_the_schema_has_its_line(app):
    """The labels the page shows are the schema's, in the flow's order: a field the flow adds
    shows up without the portal naming it (the channel only comes with contact on this number,
    voice notes and photos only when some were sent: tests/bot/test_media.py)."""
    play_report(Phone(app.test_client(), NUMBER), contact="yes", contact_how="this_number")
    fields = shown(open_the_referral(app))
    # all but the organisation as typed, filed only when the directory does not know the name
    # (tests/bot/test_report_flow_fixes.py shows it), and the voice notes and photos
    assert list(fields) == [field.label.msgid for field in FIELDS if field.name not in (TYPED_ORGANISATION, MEDIA)]
    assert fields["How to make contact"].strip() == "On the number or chat they wrote from"
    assert fields["Contact number"].strip() == NUMBER and fields["Channel"].strip() == "SMS"


def test_a_contact_number_taken_back_before_sending_is_not_filed(app):
    phone = Phone(app.test_client(), NUMBER)
    play_report(phone, contact=["yes", "no"], contact_how="other_number", contact_number="09 4501 2345",
                review=["change", "send"], change="contact")  # a number; then changed, "Contact": no
    fields = shown(open_the_referral(app))
    assert fields["May the organisation make contact"].strip() == "No"
    assert "How to make contact" not in fields and "Contact number" not in fields and "Channel" not in fields
    assert "0945012345" not in str(fields)
