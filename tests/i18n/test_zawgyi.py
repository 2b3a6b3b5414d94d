"""Zawgyi is recognised and converted; the other languages of Myanmar script pass untouched."""

from __future__ import annotations

import warnings

import pytest

from i18n.normalise import clean, read_number
from i18n.zawgyi import is_zawgyi, to_unicode, to_zawgyi, well_formed_unicode, zawgyi_form, zawgyi_probability

UNICODE = "ကျွန်မ အလုပ်သမားတစ်ယောက်က ငွေတောင်းတယ်။"
ZAWGYI = zawgyi_form(UNICODE)
# Texts in other languages written with Myanmar-block letters: never to be converted.
SHAN = "မႂ်ႇသုင်ၶႃႈ ၵူၼ်းတႆး"
MON = "ဘာသာမန် ညးမန်"
SGAW_KAREN = "ယအဲၣ်နၤ ကညီကျိာ်"


def test_zawgyi_is_detected_and_converted():
    assert ZAWGYI != UNICODE and is_zawgyi(ZAWGYI) and not is_zawgyi(UNICODE)
    assert to_unicode(ZAWGYI) == UNICODE
    assert clean(ZAWGYI) == UNICODE


@pytest.mark.parametrize("text", [SHAN, MON, SGAW_KAREN, UNICODE, "plain English", "Kaja ai i"])
def test_other_text_passes_through_unchanged(text):
    assert clean(text) == text
    assert zawgyi_probability(text) <= 0.95


def test_a_lone_digit_is_read_before_any_conversion():
    assert read_number("၄") == 4 and read_number(" ၄ ") == 4 and read_number("႔") == 4


@pytest.mark.parametrize("label", ["ဘာသာစကား ပြောင်းမယ်", "ဘာသာစကား"])
def test_a_menu_label_typed_in_zawgyi_selects_it(label):
    from intake.flows import LANGUAGE
    from tests.intake.test_engine import Chat, at_menu

    chat = at_menu(Chat(), "2")
    chat.send(zawgyi_form(label))
    assert chat.state.position == LANGUAGE


def test_quick_exit_typed_in_zawgyi():
    from tests.intake.test_engine import Chat, at_menu

    chat = at_menu(Chat(), "2")
    assert chat.send(zawgyi_form("ထွက်")) == "ပြီးပါပြီ။ ဒီမှာ ပြောထားတာတွေကို ဖျက်လိုက်ပါပြီ။"


def test_the_detector_import_warning_is_silenced_locally_only():
    import importlib

    import i18n.zawgyi

    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.reload(i18n.zawgyi)
        i18n.zawgyi._detector.cache_clear()
        i18n.zawgyi.zawgyi_probability(ZAWGYI)
    assert not [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert warnings.filters == before  # no filter was added for the whole process


# The fixed corpus: what a person types, and what the service must store (tests/data/zawgyi).
CASES_FILE = __import__("pathlib").Path(__file__).parents[1] / "data" / "zawgyi" / "cases.tsv"
CASES = [tuple(line.split("\t")[:3]) for line in CASES_FILE.read_text(encoding="utf-8").splitlines()
         if line and not line.startswith("#")]
SHAN_DIGITS = "႐႑႒႓႔႕႖႗႘႙"


@pytest.mark.parametrize("kind, typed, stored", CASES, ids=[f"{kind}-{n}" for n, (kind, _, _) in enumerate(CASES)])
def test_the_fixed_corpus_is_stored_as_it_should_be(kind, typed, stored):
    assert clean(typed) == stored


def test_the_fixed_corpus_covers_the_damage_it_guards_against():
    """The corpus holds the cases the detector alone got wrong, so it can fail."""
    def before(text):
        return i18n_zawgyi._to_unicode().transliterate(text) if zawgyi_probability(text) > 0.95 else text

    import i18n.zawgyi as i18n_zawgyi

    damaged = {kind for kind, typed, stored in CASES if before(typed) != stored}
    assert {"unicode", "zawgyi", "shan"} <= damaged


def test_unicode_that_the_detector_calls_zawgyi_stays_as_typed():
    assert is_zawgyi("ရွာကို")  # the detector alone would make it ရှာကို ("to search")
    assert well_formed_unicode("ရွာကို") and clean("ရွာကို") == "ရွာကို"
    assert clean(zawgyi_form("ရွာကို")) == "ရွာကို"  # typed in Zawgyi, the village all the same


@pytest.mark.parametrize("first", SHAN_DIGITS)
def test_shan_numbers_are_never_rewritten(first):
    for second in SHAN_DIGITS:
        assert clean(first + second) == first + second
    number = f"႐႙{first}႕႐႐႐႑႑႑႑"
    assert clean(number) == number and clean(f"+{number}") == f"+{number}"


def test_digits_survive_conversion():
    assert clean(zawgyi_form("၄ ရက်နေ့က")) == "၄ ရက်နေ့က"  # not ၎
    assert clean(zawgyi_form("ညီမလေး အသက် ၁၅ နှစ်ပါ။")) == "ညီမလေး အသက် ၁၅ နှစ်ပါ။"
    assert clean(zawgyi_form("၎င်းက ငွေတောင်းတယ်")) == "၎င်းက ငွေတောင်းတယ်"  # ၎ inside words still converts
    assert clean(zawgyi_form("ဝန်ထမ်းက ငွေတောင်းတယ်").replace("ဝ", "၀")) == "ဝန်ထမ်းက ငွေတောင်းတယ်"  # ၀ typed for ဝ


@pytest.mark.parametrize("text, expected", [
    ("ကျွန်ုပ်", True), ("ယောက်ျား", True), ("ဒုက္ခ", True), ("မင်္ဂလာပါ", True), ("ကမ္ဘာ", True),
    ("ရွာကို", True), ("ရြာကို", False), ("ဟုတ္ကဲ့", False), ("ေနာက္", False), ("အျခား", False),
    ("hello", False), ("မႂ်ႇသုင်", False),
])
def test_the_syllable_check(text, expected):
    assert well_formed_unicode(text) is expected


def test_a_zawgyi_reply_is_drawn_for_a_zawgyi_phone():
    assert to_zawgyi(UNICODE) == ZAWGYI and to_zawgyi("Demo Relief Agency (DRA)") == "Demo Relief Agency (DRA)"
    assert to_zawgyi("၁. ဟုတ်ကဲ့") == "၁. ဟုတ္ကဲ့"  # the option number stays a number
