"""Zawgyi is recognised and converted; the other languages of Myanmar script pass untouched."""

from __future__ import annotations

import warnings

import pytest

from i18n.normalise import clean, read_number
from i18n.zawgyi import is_zawgyi, to_unicode, zawgyi_form, zawgyi_probability

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
