"""One digit system per message (issue 12): a catalog writes numbers in the digits the renderer
writes that language's option numbers, receipts and counts in (i18n.numbers.native_digits:
Myanmar digits for Burmese and S'gaw Karen, ASCII for Jingpho and Shan, whose CLDR default is
Latin digits and whose phones type them), so no message mixes two systems. A phone-number example
("+95 9 ...") is written as it is typed on a keypad."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALES_DIR
from i18n.numbers import MYANMAR_DIGITS, native_digits
from tests.i18n.test_sms_budget import QUESTIONS, replies

SYSTEMS = {"ASCII": "0123456789", "Myanmar": MYANMAR_DIGITS, "Shan": "႐႑႒႓႔႕႖႗႘႙"}
PHONE_EXAMPLE = re.compile(r"\+[\d ]+")
CATALOG_FILES = sorted(LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))


def systems(text: str) -> set[str]:
    return {name for name, digits in SYSTEMS.items() if any(digit in text for digit in digits)}


@pytest.mark.parametrize("po_path", CATALOG_FILES, ids=lambda p: p.parent.parent.name)
def test_each_message_writes_numbers_in_its_languages_digits(po_path):
    lang = po_path.parent.parent.name
    own = systems(native_digits(lang, "0123456789"))
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id:
            used = systems(PHONE_EXAMPLE.sub("", message.string))
            assert used <= own, f"{lang}: {message.id!r} is written in {used}, its numbers in {own}: " \
                                f"{message.string!r}"


@pytest.mark.parametrize("position", QUESTIONS)
def test_every_shan_reply_uses_one_digit_system(position):
    for text in (*replies("shn", position, "help"), *replies("shn", position, "🙂")):
        assert systems(PHONE_EXAMPLE.sub("", text)) <= {"ASCII"}, text
