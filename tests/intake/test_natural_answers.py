"""The natural-answer lists (i18n/answers/*.toml) against the shipped flows and catalogs: every
entry names a real question and choice, no word picks two choices of one question in any mix of
languages, nothing negated can say yes, and the loader refuses data that would break these."""

from __future__ import annotations

from dataclasses import replace

import pytest

from i18n.catalogs import Catalogs
from i18n.natural_answers import AFFIRMATIVE, AnswerDataError, Answers, load, parse, shipped
from i18n.zawgyi import zawgyi_form
from intake import engine
from intake.engine import Context, _choice_words
from intake.flows import FLOWS, Choice
from intake.state import State

CATALOGS = Catalogs()
SHIPPED = CATALOGS.shipped
ANSWERS = shipped()


def context(languages=SHIPPED, answers=ANSWERS) -> Context:
    return Context(languages=tuple(languages), translate=CATALOGS.translate,
                   language_names={code: code for code in languages}, answers=answers)


def choice_steps():
    for flow in FLOWS.values():
        for step in flow.steps:
            if step.is_choice:
                yield f"{flow.name}.{step.name}", step


def options(ctx: Context, position: str, step, carries: frozenset[str] = frozenset({"number"})) -> list[Choice]:
    """The choices offered at `position` on a channel that carries `carries` (by default, as SMS:
    a phone number)."""
    turn = engine._Turn(State(lang=ctx.languages[0], position=position), replace(ctx, carries=carries))
    return [choice for _, choice in turn.options_of(step)]


def words_of(ctx: Context, position: str, step, choice: Choice) -> frozenset[str]:
    texts = tuple((t.msgid, t.context, t.literal) for t in (choice.label, choice.answers) if t is not None)
    return _choice_words(ctx.answers, ctx.translate, ctx.languages, position, choice.value, texts,
                         step.choices_from == "languages")


def test_every_listed_question_and_choice_exists():
    ctx = context()
    steps = dict(choice_steps())
    for code, data in ANSWERS.by_language.items():
        for position, table in data.steps.items():
            assert position in steps, f"{code}.toml names {position}, which is no choice question"
            values = {choice.value for choice in options(ctx, position, steps[position])}
            assert set(table) <= values, f"{code}.toml {position}: {set(table) - values} are not its choices"
        assert set(data.languages) <= set(SHIPPED), f"{code}.toml [languages] names a language with no catalog"
    assert set(ANSWERS.by_language) == set(SHIPPED)  # a list for every shipped language


@pytest.mark.parametrize("languages", [SHIPPED, ("en", "my"), ("my",), ("shn", "my"), ("kac",), ("ksw", "en")])
def test_no_word_picks_two_choices_of_one_question(languages):
    ctx = context(languages)
    clashes = []
    for position, step in choice_steps():
        owner: dict[str, str] = {}
        for choice in options(ctx, position, step):
            for word in words_of(ctx, position, step, choice):
                if owner.setdefault(word, choice.value) != choice.value:
                    clashes.append(f"{position}: {word!r} picks {owner[word]} and {choice.value}")
    assert clashes == []


def test_nothing_negated_can_pick_a_yes():
    ctx = context()
    negated = []
    for position, step in choice_steps():
        for choice in options(ctx, position, step):
            if choice.value in AFFIRMATIVE:
                negated += [f"{position} {choice.value}: {word!r}" for word in words_of(ctx, position, step, choice)
                            if ANSWERS.negated_key(word)]
    assert negated == []


def pick(position: str, text: str, languages=("en", "my"), answers=ANSWERS) -> str | None:
    ctx = context(languages, answers)
    turn = engine._Turn(State(lang=languages[0], position=position, draft={"account": ["…"]}), ctx)
    choice = turn.match_choice(turn.step_at(position), text)
    return choice.value if choice else None


@pytest.mark.parametrize("text", ["မဟုတ်ပါဘူး", "မဟုတ်", "not yes", "yes not", "no yes", "ဟုတ် မဟုတ်",
                                  "ဟုတ်ကဲ့ မဟုတ်ပါဘူး", "hote kae ma hote bu"])
def test_a_negation_is_never_read_as_yes(text):
    assert pick("report.danger", text) != "yes"
    assert pick("report.contact", text) != "yes"


def test_a_word_inside_a_reply_picks_nothing():
    # ဟုတ် is in မဟုတ်ပါဘူး, "yes" in "yesterday", "no" in "not now, later": only whole replies count.
    assert pick("report.child", "ဟုတ်ပါတယ်ဆိုပြီးမှ") is None
    assert pick("report.danger", "yesterday") is None
    assert pick("report.contact", "no way yes") is None


def test_zawgyi_spellings_are_understood():
    assert pick("report.danger", zawgyi_form("ဟုတ်ပါတယ်")) == "yes"
    assert pick("report.danger", zawgyi_form("မဟုတ်ပါဘူး")) == "no"
    assert pick("report.contact", zawgyi_form("မဆက်သွယ်ပါနဲ့")) == "no"
    assert pick("report.danger", zawgyi_form("ဟုတ်ကဲ့") + zawgyi_form("ရှင့်")) == "yes"


def test_fillers_and_spaces_do_not_matter():
    assert pick("report.danger", "Yes, please!") == "yes"
    assert pick("report.contact", "No thank you") == "no"
    assert pick("report.danger", "ဟုတ် ပါ တယ် ရှင့်") == "yes"
    assert pick("report.danger", "please") is None  # a filler alone says nothing


def test_the_same_word_means_what_the_question_means():
    assert pick("report.contact", "ok") == "yes"
    assert pick("report.danger", "ok") is None  # "ok" to "are you in danger?" may be "I'm ok"
    assert pick("report.danger", "I'm ok") == "no"
    assert pick("report.organisation_confirm", "no") == "retype"
    assert pick("check.next", "no") == "done"


def test_without_the_lists_only_numbers_labels_and_catalog_words_work():
    assert pick("report.danger", "ဟုတ်ပါတယ်", answers=None) is None
    assert pick("report.danger", "yes", answers=None) == "yes"
    assert pick("report.danger", "1", answers=None) == "yes"


def test_the_language_question_understands_language_names():
    for text, code in [("burmese", "my"), ("Myanmar", "my"), ("မြန်မာ", "my"), ("bama", "my"), ("kachin", "kac"),
                       ("Jinghpaw", "kac"), ("shan", "shn"), ("karen", "ksw"), ("sgaw", "ksw"), ("english", "en"),
                       ("အင်္ဂလိပ်", "en"), ("ရှမ်း", "shn"), (zawgyi_form("မြန်မာ"), "my")]:
        assert pick("language.choose", text, languages=SHIPPED) == code, text
    # Only offered languages can be chosen.
    assert pick("language.choose", "shan", languages=("en", "my")) is None


# --- the loader refuses data that would break the rules ---------------------------------------

def answers_of(**tables) -> Answers:
    return Answers({"xx": parse("xx", tables)})


@pytest.mark.parametrize("tables, message", [
    ({"any": {"yes": ["not really"]}, "negation": {"patterns": [r"\bnot\b"]}}, "is negated"),
    ({"steps": {"report.danger": {"yes": ["don't"]}}, "negation": {"patterns": [r"\bdont\b"]}}, "is negated"),
    ({"fillers": {"after": ["not"]}, "negation": {"patterns": [r"\bnot\b"]}}, "a filler must not"),
    ({"steps": {"report.contact": {"yes": ["fine"], "no": ["fine"]}}}, "listed for both"),
    ({"any": {"no": ["nah"]}, "steps": {"report.contact": {"yes": ["nah"], "no": ["nope"]}}}, "listed for both"),
    ({"steps": {"report.contact": {"yes": ["@agreee"]}}}, "names no list"),
    ({"lists": {"a": ["@b"], "b": ["@a"]}, "any": {"yes": ["@a"]}}, "refers back"),
    ({"answers": {"yes": ["y"]}}, "unknown table"),
    ({"any": {"yes": "yes"}}, "list of non-empty strings"),
    ({"steps": {"contact": {"yes": ["y"]}}}, "flow.step"),
    ({"negation": {"patterns": ["("]}}, "not a regular expression"),
    ({"letters": {"ab": ["x"]}}, "capital Latin letter"),
])
def test_bad_data_is_refused_with_its_place(tables, message):
    with pytest.raises(AnswerDataError, match=message):
        answers_of(**tables)


def test_a_broken_file_is_refused(tmp_path):
    (tmp_path / "en.toml").write_text('[any]\nyes = ["yes"\n', encoding="utf-8")
    with pytest.raises(AnswerDataError, match="en.toml: not valid TOML"):
        load(tmp_path)


def test_drafts_are_marked_for_review():
    assert set(ANSWERS.drafts) == {"kac", "ksw", "shn"}
