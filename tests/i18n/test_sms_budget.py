"""SMS cost budgets: every reply the engine can give, in every shipped language, laid out as SMS,
fits its budget; and nothing in Latin-script languages is forced into UCS-2.

Budgets (segments per reply; a segment is 160 GSM-7 characters, or 70 UCS-2 units, 153 / 67 when
split):

| reply | GSM-7 (en, kac) | UCS-2 (my, ksw, shn) |
|---|---|---|
| a question with its choices | 1 | 3 |
| the review, or the emergency lines (operator's text) | 2 | 4 |
| a note (help, a reason, "not available") then the question | 2 | 5 |
| a note then the review | 3 | 6 |

The first message before a language is chosen is priced in the language of the deployment's
default (and English); see test_language_menu_budget. Burmese is priced twice: in Unicode, and
converted for a phone that writes Zawgyi ("my-zawgyi"), as those replies are sent. In Burmese,
every report or check question whose length the wording decides fits one segment, and a whole
report costs at most 18 reply segments (issue 12; tests/benchmarks/sms_cost.py prints each
language's figure).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.channels.layout import as_text
from i18n.catalogs import Catalogs
from i18n.render import Renderer
from i18n.sms import segments
from intake import engine
from intake.engine import Context
from intake.flows import FLOWS, KEYWORDS, find_step
from intake.messages import Inbound
from intake.state import State
from tests.conftest import Phone
from tests.support.directory import with_directory
from tests.support.play import WRITERS, Player, Sms

CATALOGS = Catalogs()
LANGUAGES = CATALOGS.shipped
LATIN = {"en", "kac"}
ZAWGYI = "my-zawgyi"  # Burmese replies for a Zawgyi phone
READERS = (*LANGUAGES, ZAWGYI)
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
BUDGET = {"question": (1, 3), "long question": (2, 4), "note": (2, 5), "note and review": (3, 6)}
LONG_QUESTIONS = {"report.review", "report.emergency"}
DRAFT = {"organisation": {"id": 1, "name": "Demo Relief Agency (DRA)"}, "send_to_them": "avoid",
         "account": ["a", "b", "c"], "when": "this_month", "affected": "other", "child": "unknown",
         "where": {"pcode": "MMR012001", "state_pcode": "MMR012", "name_en": "Sittwe", "name_my": "စစ်တွေ"},
         "contact": "yes", "contact_how": "other_number", "contact_number": "+959450001111",
         "organisation_typed": "Rakhine Women's Union", "danger": "yes"}


class Directory:
    available = True

    def emergency_contacts(self, lang):
        return "Police (demo): 199\nWomen's helpline (demo): 09 000 000 000"

    def area_emergency_contacts(self, lang, areas):
        return "Rakhine women's protection line (demo): 0000-12"

    def match_organisation(self, text):
        return None

    def match_township(self, text):
        return None


def context() -> Context:
    return Context(languages=LANGUAGES, translate=CATALOGS.translate, directory=Directory(),
                   language_names={code: code for code in LANGUAGES}, receipt="482109375566")


def replies(reader: str, position: str, text: str, invalid: int = 0) -> list[str]:
    lang, zawgyi = ("my", True) if reader == ZAWGYI else (reader, False)
    state = State(lang=lang, position=position, draft=dict(DRAFT), invalid=invalid, last_active=T0,
                  encoding="zawgyi" if zawgyi else None)
    result = engine.step(state, Inbound("sms", "k", text, T0 + timedelta(minutes=1)), context())
    renderer = Renderer(CATALOGS, LANGUAGES, KEYWORDS)
    zawgyi = result.state.encoding == "zawgyi"  # as bot.channels.inbox renders
    return [as_text(renderer.render(result.state.lang, outbound, zawgyi)) for outbound in result.replies]


QUESTIONS = [f"{flow.name}.{step.name}" for flow in FLOWS.values() for step in flow.steps if not step.is_info]


def check(text: str, lang: str, kind: str) -> None:
    gsm_budget, ucs_budget = BUDGET[kind]
    cost = segments(text)
    if lang in LATIN:
        assert cost.encoding == "GSM-7", f"{lang}: decorative characters force UCS-2: {text!r}"
    budget = gsm_budget if cost.encoding == "GSM-7" else ucs_budget
    assert cost.count <= budget, f"{lang} {kind}: {cost.count} segments ({cost.units} units) > {budget}: {text!r}"


@pytest.mark.parametrize("lang", READERS)
@pytest.mark.parametrize("position", QUESTIONS)
def test_each_question_fits_its_budget(lang, position):
    [text] = replies(lang, position, "help")  # help note, then the question
    check(text, lang, "note and review" if position == "report.review" else "note")
    kind = "long question" if position in LONG_QUESTIONS else "question"
    question = text.split("\n", 1)[1]  # the question alone, without the help line
    check(question, lang, kind)


@pytest.mark.parametrize("lang", READERS)
@pytest.mark.parametrize("position", QUESTIONS)
def test_invalid_answers_and_the_hint_fit_their_budget(lang, position):
    for invalid in (0, 2):  # the first invalid answer, then the third (with the MENU/HELP hint)
        [text] = replies(lang, position, "🙂", invalid=invalid)
        check(text, lang, "note and review" if position == "report.review" else "note")


@pytest.mark.parametrize("lang", READERS)
def test_notes_before_the_menu_fit(lang):
    for text in (*replies(lang, "menu.main", "2"), *replies(lang, "report.when", "menu")):
        check(text, lang, "note")


@pytest.mark.parametrize("languages", [("en", "my"), ("my", "en", "kac", "ksw", "shn")])
def test_language_menu_budget(languages):
    """The very first reply: the question in the default language and English, then every
    offered language in its own name."""
    ctx = Context(languages=languages, translate=CATALOGS.translate,
                  language_names={"en": "English", "my": "မြန်မာ", "kac": "Jinghpaw", "ksw": "ကညီကျိာ်",
                                  "shn": "တႆး"})
    result = engine.step(None, Inbound("sms", "k", "hello", T0), ctx)
    text = as_text(Renderer(CATALOGS, languages, KEYWORDS).render(None, result.replies[0]))
    assert segments(text).count <= 3, text


# ---- Burmese: every plain question in one segment, a whole report in at most 18 (issue 12) --------

BURMESE_REPORT_BUDGET = 18  # reply segments of a whole report over SMS (English: 16)


def _plain_question(position: str) -> bool:
    """A report or check question whose prompt fills in nothing (no organisation name, summary or
    list of contacts, whose length the wording does not decide) and offers at most five choices."""
    step = find_step(position)
    return position.split(".")[0] in ("report", "check") and not step.params and not step.choices_from \
        and "{" not in step.prompt.msgid and len(step.choices) <= 5


@pytest.mark.parametrize("position", [p for p in QUESTIONS if _plain_question(p)])
def test_each_plain_burmese_question_fits_one_segment(position):
    [text] = replies("my", position, "help")
    question = text.split("\n", 1)[1]  # the question and its choices, without the help line
    cost = segments(question)
    assert cost.count == 1, f"{position}: {cost.units} UTF-16 units > 70: {question!r}"


def test_a_whole_burmese_report_costs_at_most_18_reply_segments(make_app):
    """The report tests/benchmarks/sms_cost.py plays (every question of the flow as a person
    answers it, through the SMS webhook, Burmese the default), held to its budget. It prices the
    catalog's words, in Unicode; replies converted for a Zawgyi phone are priced where they are
    converted."""
    app = with_directory(make_app(LANGUAGES=["my", "en", "kac", "ksw", "shn"]))
    writer = WRITERS["my"]
    sms = Sms(Phone(app.test_client(), "+959420000888"), digits=writer.digits)
    player = Player(sms, language=writer.language, greeting=writer.greeting, answers=writer.answers())
    player.play()
    assert player.position == "report.sent" and player.receipt
    costs = [(segments(body).count, body) for _, bodies in sms.exchanges for body in bodies]
    total = sum(count for count, _ in costs)
    assert total <= BURMESE_REPORT_BUDGET, f"{total} reply segments > {BURMESE_REPORT_BUDGET}:\n" + \
        "\n".join(f"[{count}] {body}" for count, body in costs)


def test_zawgyi_replies_are_priced_as_sent():
    """The Zawgyi replies really are converted (so the budgets above price what is sent)."""
    [unicode] = replies("my", "report.when", "help")
    [zawgyi] = replies(ZAWGYI, "report.when", "help")
    assert zawgyi != unicode and zawgyi == __import__("i18n.zawgyi").zawgyi.zawgyi_form(unicode)


@pytest.mark.parametrize("text", ["ဇော်ဂျီ", "zawgyi", "UNICODE"])
def test_switching_encoding_fits(text):
    for reader in ("my", ZAWGYI):
        for reply in replies(reader, "report.when", text):
            check(reply, "my", "note")
