"""Zawgyi: the legacy font encoding many phones in Myanmar still type Burmese in.

Detection is Google's `myanmartools` model (a text is Zawgyi when its probability passes 0.95);
conversion is ICU's `Zawgyi-my` transliterator (PyICU). Only text the detector flags is
converted: Shan, Mon and Karen share code points with Zawgyi and would be corrupted.

For matching short replies (a keyword, a menu label) the detector has too little text to go on,
so instead the words we accept are also known in their Zawgyi spelling (`zawgyi_form`).
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import icu

with warnings.catch_warnings():
    # myanmartools 1.2 uses an importlib API deprecated on Python 3.11+; silence it here only.
    warnings.simplefilter("ignore", DeprecationWarning)
    from myanmartools import ZawgyiDetector

THRESHOLD = 0.95
_MYANMAR_BLOCK = range(0x1000, 0x10A0)


@lru_cache(maxsize=1)
def _detector() -> ZawgyiDetector:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ZawgyiDetector()


@lru_cache(maxsize=1)
def _to_unicode():
    return icu.Transliterator.createInstance("Zawgyi-my")


@lru_cache(maxsize=1)
def _to_zawgyi():
    return icu.Transliterator.createInstance("my-Zawgyi")


def has_myanmar_script(text: str) -> bool:
    return any(ord(char) in _MYANMAR_BLOCK for char in text)


def zawgyi_probability(text: str) -> float:
    """The detector's probability that `text` is Zawgyi (0 for text without Myanmar script)."""
    if not has_myanmar_script(text):
        return 0.0
    return max(0.0, _detector().get_zawgyi_probability(text))


def is_zawgyi(text: str) -> bool:
    return zawgyi_probability(text) > THRESHOLD


def to_unicode(text: str) -> str:
    """Unicode Burmese for Zawgyi text; any other text unchanged."""
    return _to_unicode().transliterate(text) if is_zawgyi(text) else text


@lru_cache(maxsize=4096)
def zawgyi_form(unicode_text: str) -> str:
    """How a word we accept (Unicode Burmese) looks when typed in Zawgyi."""
    if not has_myanmar_script(unicode_text):
        return unicode_text
    return _to_zawgyi().transliterate(unicode_text)
