"""Answers as people give them, over the real SMS webhook: spoken Burmese, "don't contact me",
a language typed by name, places and organisations typed with what people add around them; and
the report they file says what they meant."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from i18n.catalogs import Catalogs
from i18n.text import Text
from i18n.zawgyi import zawgyi_form
from storage.demo import DEMO_DIR
from storage.gazetteer import import_townships
from storage.models import Report
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import Player, Sms, Typed

CATALOGS = Catalogs()


def said(lang: str, msgid: str) -> str:
    return CATALOGS.translate(lang, Text(msgid))


@pytest.fixture
def app(make_app):
    app = d.with_directory(make_app())
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:  # the demo gazetteer, with its aliases (Moulmein, Akyab)
        import_townships(session, (DEMO_DIR / "townships.csv").read_bytes())
        session.commit()
    return app


@pytest.fixture
def phone(app):
    return Phone(app.test_client(), "+959450777123")


def report_row(app) -> Report:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(Report)).scalar_one()


def sealed(app) -> dict:
    _, key = d.key_holder(app, app.seeded.dra, "DRA")
    return d.read_the_referral(app, key)


def test_spoken_burmese_picks_the_choices_and_the_report_says_so(app, phone):
    player = Player(Sms(phone), language="my", answers={
        "language.choose": Typed("မြန်မာ"),  # the language typed by name
        "danger": Typed("ဟုတ်ပါတယ်"),
        "organisation": Typed("ဒီမိုကယ်ဆယ်ရေးက"),  # the alias without its space, with က
        "organisation_confirm": Typed("ဟုတ်ကဲ့ရှင့်"),
        "account": [Typed("စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။"), Typed("ဒါပါပဲ")],
        "when": Typed("ဒီလ"),
        "where": Typed("မော်လမြိုင်မြို့နယ်မှာ"),
        "affected": Typed("ကျွန်မ"),
        "child": Typed("မပါဘူး"),
        "contact": Typed("မလိုပါဘူး"),
        "review": Typed("ပို့လိုက်ပါ"),
    })
    player.play(until="danger")
    assert said("my", "Are you in danger right now?") in player.reply.text
    assert said("my", "Please reply with one of the numbers below.") not in player.move().text  # understood
    player.play()
    assert player.receipt
    row = report_row(app)
    assert (row.incident_period, row.township_pcode, row.affected, row.child_involved, row.contact_allowed) == (
        "this_month", "MMR011001", "self", "no", False)
    assert row.named_organisation_id == app.seeded.dra.id
    content = sealed(app)
    assert content["danger"] == "yes"
    assert content["account"] == "စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။"  # "ဒါပါပဲ" ended it, it is not part of it


@pytest.mark.parametrize("typed", ["မဟုတ်ပါဘူး", zawgyi_form("မဟုတ်ပါဘူး"), "ma hote bu", "ဟင့်အင်း", "မရှိပါဘူးရှင့်"])
def test_a_negation_is_read_as_no_never_as_yes(app, phone, typed):
    player = Player(Sms(phone), language="my", answers={"danger": Typed(typed)})
    player.play(until="danger")
    assert said("my", "Please reply with one of the numbers below.") not in player.move().text
    player.play()
    assert sealed(app)["danger"] == "no"


def test_dont_contact_me_and_the_english_ways_of_saying_yes(app, phone):
    player = Player(Sms(phone), answers={
        "danger": Typed("no thanks"), "organisation": Typed("the DRA staff"), "organisation_confirm": Typed("yes please"),
        "account": [Typed("He asked me for money."), Typed("that's all")], "when": Typed("yesterday"),
        "where": Typed("Moulmein"), "affected": Typed("my friend"), "child": Typed("not sure"),
        "contact": Typed("Don't contact me."), "review": Typed("ok"),
    })
    player.play()
    assert player.receipt
    row = report_row(app)
    assert (row.incident_period, row.township_pcode, row.affected, row.child_involved, row.contact_allowed) == (
        "this_week", "MMR011001", "other", "unknown", False)


def test_an_answer_that_says_nothing_clear_is_asked_again(app, phone):
    player = Player(Sms(phone), answers={"danger": Typed("ok")})  # "ok" to "are you in danger?" may be "I'm ok"
    player.play(until="danger")
    again = player.move()
    assert "Please reply with one of the numbers below." in again.text
    assert again.text.rstrip().endswith("2. No")


@pytest.mark.parametrize("typed, pcode", [
    ("Mawlamyine Township", "MMR011001"), ("မော်လမြိုင်မြို့နယ်မှာ", "MMR011001"), ("Moulmein", "MMR011001"),
    ("Akyab", "MMR012001"), ("in Sittwe", "MMR012001"), ("စစ်တွေကနေ", "MMR012001"),
])
def test_places_as_people_type_them(app, phone, typed, pcode):
    player = Player(Sms(phone), answers={"where": Typed(typed)})
    player.play()
    assert report_row(app).township_pcode == pcode


@pytest.mark.parametrize("typed", ["ဒီမိုကယ်ဆယ်ရေး", "ဒီမို ကယ်ဆယ်ရေး မှာ", "ဒီအာအေ", "ဒီ အာ အေ က", "D.R.A", "DRA က"])
def test_organisations_as_people_type_them(app, phone, typed):
    player = Player(Sms(phone), answers={"organisation": Typed(typed)})
    player.play(until="organisation_confirm")
    assert "Is it Demo Relief Agency (DRA)?" in player.reply.text


@pytest.mark.parametrize("typed", ["D", "ဒီ", "ဒီအာ", "Agency"])
def test_no_organisation_from_a_letter_or_a_common_word(app, phone, typed):
    player = Player(Sms(phone), answers={"organisation": Typed(typed)})
    player.play(until="organisation")
    # Not taken for any organisation: asked whether to send the name as typed (to the Network).
    assert f"We could not find {typed} in our list." in player.move().text


def test_the_gazetteer_command_takes_the_aliases_column(make_app, tmp_path):
    app = d.with_directory(make_app())
    path = tmp_path / "townships.csv"
    path.write_text("pcode,state_pcode,state_name_en,name_en,name_my,aliases\n"
                    "MMR017001,MMR017,Ayeyarwady,Pathein,ပုသိမ်,Bassein;Pusein\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["gazetteer", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "townships: 1 new" in result.stdout
    player = Player(Sms(Phone(app.test_client(), "+959450777124")), answers={"where": Typed("Bassein")})
    player.play()
    assert report_row(app).township_pcode == "MMR017001"
