"""A whole report in every shipped language, and in Burmese typed in Zawgyi, over SMS and
Telegram, through the webhooks. The account arrives in the sealed report in Unicode."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from i18n.zawgyi import zawgyi_form
from storage.models import Conversation
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.fake_telegram import FakeTelegram
from tests.support.telegram_updates import UpdateFactory

SECRET = "telegram-webhook-secret_0123"
LANGUAGES = ["en", "my", "kac", "ksw", "shn"]

# Per language: the first message, the organisation as typed, the account, the place, the digits
# people type for choices, and a word of the "Sent" message in that language.
CASES = {
    "en": ("hello", "Demo Relief", "He asked me for money to stay on the list.", "Sittwe", "123", "receipt"),
    "my": ("မင်္ဂလာပါ", "ဒီမို ကယ်ဆယ်ရေး", "စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။", "စစ်တွေ", "၁၂၃", "ပြေစာနံပါတ်"),
    "my-zawgyi": (zawgyi_form("မင်္ဂလာပါ"), zawgyi_form("ဒီမို ကယ်ဆယ်ရေး"),
                  zawgyi_form("စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။"), zawgyi_form("စစ်တွေ"), "၁၂၃", "ပြေစာနံပါတ်"),
    "kac": ("kaja ai i", "DRA", "Ngai hpe ja hpyi ai.", "Sittwe", "123", "nambat"),
    "ksw": ("ဂီၤလၢအဂ့ၤ", "DRA", "အဝဲယ့ၣ်ကျိၣ်စ့ လၢယၤ.", "Sittwe", "၁၂၃", "ဆှၢ"),
    "shn": ("မႂ်ႇသုင်", "DRA", "မၼ်းယွၼ်းငိုၼ်း ၵဝ်ယူႇ။", "Sittwe", "123", "မၢႆဝႂ်ႁပ်ႉ"),
}
EXPECTED_LANGUAGE = {"my-zawgyi": "my"}


@pytest.fixture
def app(make_app):
    telegram = FakeTelegram()
    telegram.start()
    application = make_app(LANGUAGES=LANGUAGES, TELEGRAM_BOT_TOKEN=telegram.token,
                           TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_API_BASE_URL=telegram.url)
    application.telegram = telegram
    yield d.with_directory(application)
    telegram.stop()


class SmsWriter:
    def __init__(self, app):
        self.phone = Phone(app.test_client(), "+959420000777")

    def say(self, text: str) -> str:
        return "\n".join(self.phone.say(text))


class TelegramWriter:
    def __init__(self, app):
        self.telegram = app.telegram
        self.updates = UpdateFactory(app.telegram)
        self.client = app.test_client()

    def say(self, text: str) -> str:
        before = len(self.telegram.sent_messages())
        response = self.client.post("/webhooks/telegram", json=self.updates.message(777, text),
                                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 200
        return "\n".join(m["text"] for m in self.telegram.sent_messages()[before:])


def sealed_account(app) -> str:
    _, key = d.key_holder(app, app.seeded.dra, "DRA")
    return d.read_the_referral(app, key)["account"]


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_whole_report(app, channel, case):
    greeting, organisation, account, place, digits, sent_word = CASES[case]
    one, two, _ = digits
    writer = SmsWriter(app) if channel == "sms" else TelegramWriter(app)
    menu = writer.say(greeting)
    if case == "en":  # an English greeting says nothing about the language: it is asked
        menu = writer.say("1")
    assert "Community Feedback" in menu
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(Conversation.language)).scalar_one() == EXPECTED_LANGUAGE.get(case, case)
    writer.say(one)  # report a concern
    writer.say(two)  # not in danger
    assert "DRA" in writer.say(organisation)  # "Is it Demo Relief Agency (DRA)?"
    writer.say(one)  # yes
    writer.say(account)
    writer.say(one)  # finished
    writer.say(two)  # this month
    assert writer.say(place)  # a place in the gazetteer, as typed
    for answer in (one, two, one):  # me, no child, no contact
        review = writer.say(answer)
    assert "Demo Relief Agency (DRA)" in review and ("Sittwe" in review or "စစ်တွေ" in review)
    sent = writer.say(one)
    assert sent_word in sent
    # Burmese arrives in Unicode however it was typed; every other language exactly as typed.
    expected = CASES["my"][2] if case.startswith("my") else account
    assert sealed_account(app) == expected
