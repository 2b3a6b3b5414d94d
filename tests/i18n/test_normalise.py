"""What people type, reduced to a form that matches menu numbers, keywords and answers."""

from __future__ import annotations

import pytest

from i18n.normalise import clean, match_key, read_number


@pytest.mark.parametrize("text, number", [
    ("1", 1), (" 2 ", 2), ("3.", 3), ("၄", 4), ("၁၂", 12), ("႑", 1), ("٣", 3), ("\u200b1\u200c", 1),
    ("one", None), ("1a", None), ("", None), ("12345", None), ("-1", 1),
])
def test_read_number(text, number):
    assert read_number(text) == number


@pytest.mark.parametrize("text, key", [
    ("MENU", "menu"), ("  Menu!  ", "menu"), ("me\u200bnu", "menu"), ("ထွက်။", "ထွက်"),
    ("Report   a\tconcern", "report a concern"),
])
def test_match_key(text, key):
    assert match_key(text) == key


def test_clean_composes_and_keeps_the_words():
    decomposed = "e\u0301"
    assert clean(f"  {decomposed}\u200b  x ") == "\u00e9 x"
