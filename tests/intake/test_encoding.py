"""How the engine follows the encoding a person's phone writes Burmese in, and keeps what they
typed beside the Unicode it became (the pure engine; the webhooks are in tests/bot/test_zawgyi.py)."""

from __future__ import annotations

from datetime import timedelta

from i18n.render import Renderer
from i18n.text import Outbound, Text
from i18n.zawgyi import zawgyi_form
from intake import engine
from intake.flows import KEYWORDS
from intake.messages import Inbound
from intake.report import AS_TYPED, sealed_content
from intake.state import State
from tests.intake.test_engine import CATALOGS, T0, make_context

LONG_ZAWGYI = zawgyi_form("စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။")
LONG_UNICODE = "ကျွန်မ အလုပ်သမားတစ်ယောက်က ငွေတောင်းတယ်။"
NOTE = "Replies are in Zawgyi now. For Unicode, send {unicode}."


def step(state: State, text: str, ctx=None) -> engine.Result:
    return engine.step(state, Inbound("sms", "k" * 64, text, T0 + timedelta(seconds=20)), ctx or make_context())


def notes(result: engine.Result) -> list[str]:
    return [part.msgid for reply in result.replies for part in reply.parts]


def at(position: str, lang: str = "my", **state) -> State:
    return State(lang=lang, position=position, last_active=T0, **state)


def test_enough_zawgyi_text_switches_the_replies_once():
    first = step(at("report.account"), LONG_ZAWGYI)
    assert first.state.encoding == "zawgyi" and notes(first).count(NOTE) == 1
    second = step(first.state, LONG_ZAWGYI)
    assert second.state.encoding == "zawgyi" and NOTE not in notes(second)


def test_short_replies_never_flip_it():
    for text in ("၁", "ဟုတ်", zawgyi_form("ဟုတ်ကဲ့"), "ok", "ရွာကို"):
        for encoding in ("zawgyi", "unicode", None):
            assert step(at("report.when", encoding=encoding), text).state.encoding == encoding, (text, encoding)


def test_back_to_unicode_only_on_unicode_the_detector_is_sure_of():
    assert step(at("report.account", encoding="zawgyi"), LONG_UNICODE).state.encoding == "unicode"
    # Numbers and Latin letters say nothing, however long.
    assert step(at("report.account", encoding="zawgyi"), "၀၉ ၄၅၀ ၀၀၁ ၁၁၁ DRA DRA DRA").state.encoding == "zawgyi"


def test_a_choice_made_with_a_keyword_holds():
    chosen = step(at("report.when", encoding="zawgyi"), "UNICODE")
    assert (chosen.state.encoding, chosen.state.encoding_chosen) == ("unicode", True)
    assert chosen.state.position == "report.when"  # the question again, after the note
    assert "Replies are in Unicode now. For Zawgyi, send {zawgyi}." in notes(chosen)
    assert step(chosen.state.__class__(**{**chosen.state.__dict__, "position": "report.account"}),
                LONG_ZAWGYI).state.encoding == "unicode"
    back = step(chosen.state, zawgyi_form("ဇော်ဂျီ"))
    assert (back.state.encoding, back.state.encoding_chosen) == ("zawgyi", True) and NOTE in notes(back)


def test_the_encoding_outlives_the_quick_exit_and_a_greeting_in_zawgyi_spelling_sets_it():
    ended = step(at("report.account", encoding="zawgyi", encoding_chosen=True), "exit")
    assert ended.state.position is None and ended.state.encoding == "zawgyi" and ended.state.encoding_chosen
    greeted = step(State(), zawgyi_form("မင်္ဂလာပါ"))  # too short for the detector
    assert greeted.state.encoding == "zawgyi" and NOTE in notes(greeted)


def test_no_note_for_a_language_whose_replies_do_not_change():
    ctx = make_context(languages=("en", "my", "shn"))
    result = step(at("report.account", lang="shn"), LONG_ZAWGYI, ctx)
    assert result.state.encoding == "zawgyi" and NOTE not in notes(result)


def test_what_was_typed_is_kept_beside_its_unicode_only_when_they_differ():
    state = at("report.account")
    state = step(state, LONG_UNICODE).state
    state = step(state, LONG_ZAWGYI).state  # the second message in Zawgyi
    unicode_second = "စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။"
    assert state.draft["account"] == [LONG_UNICODE, unicode_second]
    assert state.draft[AS_TYPED] == {unicode_second: LONG_ZAWGYI}
    content = sealed_content(state.draft)
    assert content["account"] == f"{LONG_UNICODE}\n\n{unicode_second}"
    assert content[AS_TYPED] == {"account": f"{LONG_UNICODE}\n\n{LONG_ZAWGYI}"}
    assert AS_TYPED not in sealed_content({"account": [LONG_UNICODE]})


def test_rendering_converts_burmese_only():
    renderer = Renderer(CATALOGS, ("my", "en", "shn"), KEYWORDS)
    outbound = Outbound((Text("Choose your language:"),))
    unknown = renderer.render(None, outbound, zawgyi=True).paragraphs[0]
    burmese, english = unknown.split("\n")
    in_unicode = renderer.text("my", Text("Choose your language:"))
    assert burmese == zawgyi_form(in_unicode) != in_unicode
    assert english == "Choose your language:"
    shan = renderer.render("shn", outbound, zawgyi=True).paragraphs[0]
    assert shan == renderer.text("shn", Text("Choose your language:"))
    assert renderer.render("my", outbound).paragraphs[0] == renderer.text("my", Text("Choose your language:"))
