"""Segment counting against the 3GPP limits."""

from __future__ import annotations

import pytest

from i18n.sms import is_gsm7, segments


@pytest.mark.parametrize("text, encoding, units, count", [
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),  # extension characters count twice
    ("€" * 81, "GSM-7", 162, 2),
    ("က" * 70, "UCS-2", 70, 1),
    ("က" * 71, "UCS-2", 71, 2),
    ("က" * 134, "UCS-2", 134, 2),
    ("က" * 135, "UCS-2", 135, 3),
    ("a" * 69 + "’", "UCS-2", 70, 1),  # one curly apostrophe makes English UCS-2
    ("🙂" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
    ("🙂" * 36, "UCS-2", 72, 2),
])
def test_segments(text, encoding, units, count):
    result = segments(text)
    assert (result.encoding, result.units, result.count) == (encoding, units, count)


def test_gsm7_alphabet():
    assert is_gsm7("Hello, 1. Report a concern\n2. Don't know @ £5")
    assert not is_gsm7("don’t") and not is_gsm7("မြန်မာ") and not is_gsm7("naïve")
