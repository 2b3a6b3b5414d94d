"""Zawgyi through the real webhooks (issue 12, points 2 and 3): a report typed in Zawgyi is
answered in Zawgyi throughout, over SMS and Telegram (buttons too), and reaches the focal point in
Unicode with what was typed beside it; UNICODE and ZAWGYI switch; the choice outlives the
conversation; Shan digits and Unicode that the detector mistakes for Zawgyi arrive as typed."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from i18n.zawgyi import myanmar_letters, well_formed_unicode, zawgyi_form
from intake.report import AS_TYPED
from storage.models import Referral
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import WRITERS, Player, Sms, Telegram, twiml_bodies
from tests.support.portal import PortalUser
from tests.support.telegram_chat import Person
from tests.support.telegram_updates import UpdateFactory

# An account with a date and a sum in it, and ရွာ ("village"): what the focal point must read.
ACCOUNT = "၄ ရက်နေ့က ရွာကို လာပြီး စာရင်းမှာ ဆက်ရှိဖို့ ငွေ ၅၀၀၀ တောင်းတယ်။"
TYPED = zawgyi_form(ACCOUNT)
SHAN_NUMBER = "႐႙ ႔႕႐ ႐႐႑ ႑႑႑"  # 09 450 001 111 in Shan digits
NOTE_ZAWGYI = zawgyi_form("ဇော်ဂျီနဲ့ ပြန်ဖြေပါမယ်")  # "replies are in Zawgyi now", drawn in Zawgyi
NOTE_UNICODE = "ယူနီကုဒ်နဲ့ ပြန်ဖြေပါမယ်"


@pytest.fixture
def app(every_language_app):
    return every_language_app


def channel(app, kind: str, digits: str):
    client = app.test_client()
    if kind == "sms":
        return Sms(Phone(client, "+959420000778"), digits=digits)
    return Telegram(Person(client, app.telegram, UpdateFactory(app.telegram), chat=778))  # buttons pressed


def sealed(app) -> dict:
    _, key = d.key_holder(app, app.seeded.dra, "DRA")
    return d.read_the_referral(app, key)


def referral_page(app) -> str:
    user = next(iter(_users(app)))
    portal = PortalUser(app.test_client())
    portal.login(user, "a long password!")
    with app.extensions["intake"].sessions() as session:
        case_ref = session.execute(select(Referral.case_ref)).scalar_one()
    response = portal.client.get(f"/portal/referrals/{case_ref}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def _users(app):
    from storage.models import User

    with app.extensions["intake"].sessions() as session:
        return [email for email in session.execute(select(User.email)).scalars()]


def replies_in(transcript: list[str]) -> list[str]:
    """The service's lines (and buttons) that hold enough Burmese to tell the encoding."""
    lines = [line[2:].strip("[]") for line in transcript if line.startswith("< ")]
    return [line for line in lines if myanmar_letters(line) >= 8]


@pytest.mark.parametrize("kind", ["sms", "telegram"])
def test_a_zawgyi_report_is_answered_in_zawgyi_and_reaches_the_focal_point_in_unicode(app, kind):
    writer = WRITERS["my-zawgyi"]
    player = Player(channel(app, kind, writer.digits), language="my", greeting=writer.greeting,
                    answers={**writer.answers(), "account": [TYPED, "done"]})
    player.play()
    assert player.position == "report.sent" and player.receipt
    # Every reply, from the first (the greeting is spelled the Zawgyi way) to the receipt, in Zawgyi.
    assert player.zawgyi_replies == player.heard > 10
    burmese = replies_in(player.transcript)
    assert burmese and not [line for line in burmese if well_formed_unicode(line) and zawgyi_form(line) != line]
    assert any(NOTE_ZAWGYI in line and "UNICODE" in line for line in burmese[:2])  # how to switch, once
    assert sum(NOTE_ZAWGYI in line for line in burmese) == 1
    # The focal point reads Unicode, with the numbers and the village intact, and what was typed.
    content = sealed(app)
    assert content["account"] == ACCOUNT
    assert content[AS_TYPED] == {"account": TYPED}
    page = referral_page(app)
    assert ACCOUNT in page
    details = re.search(r'<details class="as-typed"><summary>([^<]*)</summary><span class="text">([^<]*)</span>',
                        page)
    assert details and details[1] == "As typed (before conversion from Zawgyi)" and details[2] == TYPED


def test_a_unicode_report_keeps_no_copy_and_stays_in_unicode(app):
    """ရွာကို ("to the village") is what the detector alone took for Zawgyi: it arrives as typed."""
    writer = WRITERS["my"]
    player = Player(channel(app, "sms", writer.digits), language="my", greeting=writer.greeting,
                    answers={**writer.answers(), "account": ["ရွာကို", "done"]})
    player.play()
    assert player.position == "report.sent" and player.zawgyi_replies == 0
    content = sealed(app)
    assert content["account"] == "ရွာကို" and AS_TYPED not in content
    assert "As typed" not in referral_page(app)


def test_a_phone_number_in_shan_digits_is_accepted(app):
    writer = WRITERS["shn"]
    player = Player(channel(app, "sms", writer.digits), language="shn", greeting=writer.greeting,
                    answers={**writer.answers(), "contact": "yes", "contact_how": "other_number",
                             "contact_number": SHAN_NUMBER})
    player.play()
    assert player.position == "report.sent"
    assert player.used.get("report.contact_number") == 1  # accepted the first time, not re-asked
    assert sealed(app)["contact_number"] == "09450001111"


def texts(phone: Phone, body: str) -> str:
    response = phone.send(body)
    assert response.status_code == 200
    return "\n".join(twiml_bodies(response))


def test_switching_to_unicode_and_back(app):
    phone = Phone(app.test_client(), "+959420000779")
    menu = texts(phone, zawgyi_form("မင်္ဂလာပါ"))
    assert NOTE_ZAWGYI in menu and zawgyi_form("ဘာလုပ်လိုပါသလဲ") in menu
    # A short answer says nothing: the replies stay in Zawgyi.
    assert zawgyi_form("အန္တရာယ်") in texts(phone, "၁")
    switched = texts(phone, "unicode")
    assert NOTE_UNICODE in switched and "ZAWGYI" in switched and "အန္တရာယ်" in switched  # the question again
    # Chosen, so Zawgyi typing no longer switches it back by itself.
    assert "ဘယ်အဖွဲ့ကလဲ" in texts(phone, "၂") and "ကယ်ဆယ်ရေး" not in texts(phone, zawgyi_form("ဒီမို ကယ်ဆယ်ရေး"))
    assert NOTE_ZAWGYI in texts(phone, zawgyi_form("ဇော်ဂျီ"))  # the Burmese word, typed in Zawgyi
    # Remembered for the sender beyond the conversation, like the language.
    texts(phone, "exit")
    again = texts(phone, zawgyi_form("မင်္ဂလာပါ"))
    assert zawgyi_form("ဘာလုပ်လိုပါသလဲ") in again and NOTE_ZAWGYI not in again
