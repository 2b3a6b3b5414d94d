"""A whole report in every shipped language, and in Burmese typed in Zawgyi, over SMS and
Telegram, through the webhooks, numbers typed in the digits people of each language type. The
account arrives in the sealed report in Unicode."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.flows import LANGUAGE
from storage.models import Conversation
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import WRITERS, Player, Sms, Telegram
from tests.support.telegram_chat import Person
from tests.support.telegram_updates import UpdateFactory

# A word of the "Sent" message in each language.
SENT_WORD = {"en": "Receipt number", "my": "ကုဒ်နံပါတ်", "my-zawgyi": "ကုဒ်နံပါတ်", "kac": "nambat", "ksw": "ဆှၢ",
             "shn": "မၢႆဝႂ်ႁပ်ႉ"}


@pytest.fixture
def app(every_language_app):
    return every_language_app


def sealed_account(app) -> str:
    _, key = d.key_holder(app, app.seeded.dra, "DRA")
    return d.read_the_referral(app, key)["account"]


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("case", sorted(WRITERS))
def test_a_whole_report(app, channel, case):
    writer = WRITERS[case]
    client = app.test_client()
    if channel == "sms":
        played = Sms(Phone(client, "+959420000777"), digits=writer.digits)
    else:  # everything typed, the numbers too
        person = Person(client, app.telegram, UpdateFactory(app.telegram), chat=777)
        played = Telegram(person, press=False, digits=writer.digits)
    player = Player(played, language=writer.language, greeting=writer.greeting, answers=writer.answers())
    assert "Community Feedback" in player.play(until="menu.main").text
    # An English greeting says nothing about the language: it is asked; every other greeting chooses it.
    assert (LANGUAGE in player.used) == (case == "en")
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(Conversation.language)).scalar_one() == writer.language
    assert "DRA" in player.play(until="organisation_confirm").text  # "Is it Demo Relief Agency (DRA)?"
    player.play(until="where")
    player.move()
    assert player.position == "report.affected"  # a place in the gazetteer, as typed
    review = player.play(until="review").text
    assert "Demo Relief Agency (DRA)" in review and ("Sittwe" in review or "စစ်တွေ" in review)
    sent = player.play().text
    assert SENT_WORD[case] in sent
    # Burmese arrives in Unicode however it was typed; every other language exactly as typed.
    expected = WRITERS["my"].account if case.startswith("my") else writer.account
    assert sealed_account(app) == expected
