"""Zawgyi: the legacy font encoding many phones in Myanmar still type Burmese in.

Detection is Google's `myanmartools` model (a text is Zawgyi when its probability passes 0.95);
conversion is ICU's `Zawgyi-my` transliterator (PyICU), and `my-Zawgyi` the other way for the
replies to a person whose phone draws Zawgyi (`to_zawgyi`).

The detector alone damages some text, so `to_unicode` converts only when three checks agree:

1. the text uses no code point Zawgyi never assigns (Shan digits 8 and 9, Khamti and Shan tone
   letters U+109A-109F, the Pali and Mon letters U+1050-1059 and U+105B-105F): such text is Shan,
   Mon or Karen, not Zawgyi;
2. it is not already well-formed Unicode Burmese (`well_formed_unicode`, a syllable-structure
   check): `ရွာကို` ("to the village") is valid Unicode, though the detector calls it Zawgyi for
   `ရှာကို`, and stays as typed;
3. the detector is sure, judged on the text without its numbers.

Numbers survive: a run of digits standing alone, or of two digits or more (Myanmar digits
U+1040-1049, Shan digits U+1090-1099), is kept out of the transliteration, so `၄ ရက်` keeps its 4
and `႑႕` stays Shan 15. A single `၀` touching letters, and a `၄` before `င`, are still converted
(Zawgyi typists write them for `ဝ` and `၎`).

For matching short replies (a keyword, a menu label) the detector has too little text to go on,
so instead the words we accept are also known in their Zawgyi spelling (`zawgyi_form`).
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

import icu

with warnings.catch_warnings():
    # myanmartools 1.2 uses an importlib API deprecated on Python 3.11+; silence it here only.
    warnings.simplefilter("ignore", DeprecationWarning)
    from myanmartools import ZawgyiDetector

THRESHOLD = 0.95
LANGUAGE = "my"  # the language written in Zawgyi (Shan, Karen and Mon have no Zawgyi replies)
_MYANMAR_BLOCK = range(0x1000, 0x10A0)

# Code points of the Myanmar block that the Zawgyi font never assigns (checked against the
# Zawgyi-to-Unicode rules Google ships): their presence means Shan, Mon or Karen, not Zawgyi.
NOT_ZAWGYI = re.compile("[\u1050-\u1059\u105b-\u105f\u1098-\u109f]")
_DIGIT = "\u1040-\u1049\u1090-\u1099"
_DIGITS = re.compile(f"[{_DIGIT}]+")
_LETTER_OR_MARK = re.compile(f"[\u1000-\u103f\u104c-\u104f\u1050-\u108f]")

# Unicode Burmese, one syllable at a time: the storage order of UTN #11 (medials, then E, upper
# and lower vowels, AA, anusvara, dot below, asat, visarga), each slot at most once.
_CONSONANT = "\u1000-\u102a\u103f\u104c-\u104f"  # consonants, independent vowels, symbols
_SLOT = {"\u103b": 1, "\u103c": 2, "\u103d": 3, "\u103e": 4, "\u1031": 5, "\u102d": 6, "\u102e": 6,
         "\u1032": 6, "\u102f": 7, "\u1030": 7, "\u102b": 8, "\u102c": 8, "\u1036": 9, "\u1037": 10,
         "\u103a": 11, "\u1038": 12}
_IS_CONSONANT = re.compile(f"[{_CONSONANT}]")
_VIRAMA, _ASAT, _NGA = "\u1039", "\u103a", "\u1004"
# Medials no Burmese word puts on these letters: medial ya or ra on ya, ra, wa or a, medial wa on
# wa. Zawgyi's wa-hswe is Unicode's medial ra, so Zawgyi `ရြာ` (ရွာ, a village) is caught here.
_NO_MEDIAL = {"\u103b": "\u101a\u101b\u101d\u1021", "\u103c": "\u101a\u101b\u101d\u1021", "\u103d": "\u101d"}
# A consonant stacks under one of its own row (ဒုက္ခ, မန္တလေး, ကမ္ဘာ), or in a few loans; Zawgyi's
# asat is Unicode's virama, so Zawgyi `ဟုတ္ကဲ့` reads as an impossible stack `တ္က`.
_ROWS = ("\u1000\u1001\u1002\u1003\u1004", "\u1005\u1006\u1007\u1008\u1009\u100a",
         "\u100b\u100c\u100d\u100e\u100f", "\u1010\u1011\u1012\u1013\u1014",
         "\u1015\u1016\u1017\u1018\u1019")
_OTHER_STACKS = {"\u101f\u1019", "\u101c\u101c", "\u101e\u101e", "\u100a\u1005"}


def _stacks(upper: str, lower: str) -> bool:
    return any(upper in row and lower in row for row in _ROWS) or upper + lower in _OTHER_STACKS


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


def myanmar_letters(text: str) -> int:
    """How many letters and marks of the Myanmar block `text` holds (digits and punctuation not
    counted): how much there is for the detector to judge."""
    return len(_LETTER_OR_MARK.findall(text))


def zawgyi_probability(text: str) -> float:
    """The detector's probability that `text` is Zawgyi (0 for text without Myanmar script)."""
    if not has_myanmar_script(text):
        return 0.0
    return max(0.0, _detector().get_zawgyi_probability(text))


def is_zawgyi(text: str) -> bool:
    """The detector alone: sure that `text` is Zawgyi (see `should_convert` for the decision)."""
    return zawgyi_probability(text) > THRESHOLD


def well_formed_unicode(text: str) -> bool:
    """Whether every Myanmar syllable of `text` is Burmese in Unicode's storage order (UTN #11):
    a consonant (with kinzi and stacked consonants), then its marks in order, each once. Zawgyi
    breaks this almost always (E before the consonant, U+1039 as asat, its own glyph code points
    U+1060-1097). Text without Burmese letters is not judged (False)."""
    if not _IS_CONSONANT.search(text):
        return False
    slot = None  # None: no consonant yet to carry a mark; 0 just after one; -1 after a virama
    previous = consonant = ""
    kinzi = False
    for char in text:
        if _IS_CONSONANT.match(char):
            if slot == -1 and previous == _VIRAMA and not (kinzi or _stacks(consonant, char)):
                return False
            slot, consonant = 0, char  # a new syllable, or a stacked consonant in the same one
        elif char in _SLOT:
            rank = _SLOT[char]
            if slot is None or slot == -1 or consonant in _NO_MEDIAL.get(char, ""):
                return False
            if rank <= slot and not (previous == _ASAT and char in "\u102f\u103b"):  # ကျွန်ုပ်, ယောက်ျား
                return False
            slot = rank
        elif char == _VIRAMA:
            # a stack (consonant + virama + consonant) or kinzi (nga + asat + virama)
            kinzi = previous == _ASAT and consonant == _NGA and slot == 11
            if slot is None or (slot != 0 and not kinzi):
                return False
            slot = -1
        elif ord(char) in _MYANMAR_BLOCK and not ("\u1040" <= char <= "\u104b"):
            return False  # Zawgyi's glyph code points, or another language's letters
        else:
            if slot == -1:
                return False  # a virama must be followed by a consonant
            slot = None
        previous = char
    return slot != -1


def _kept_digits(text: str) -> list[tuple[int, int]]:
    """The spans of digit runs that are numbers, to be kept out of the conversion."""
    spans = []
    for match in _DIGITS.finditer(text):
        run, start, end = match.group(), match.start(), match.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        touching = bool(_LETTER_OR_MARK.match(before) or _LETTER_OR_MARK.match(after))
        if touching and (run == "\u1040" or (run == "\u1044" and after == _NGA)
                         or any("\u1090" <= char <= "\u1097" for char in run)):
            continue  # ၀ for ဝ, ၄ for ၎, or Zawgyi's own letters (႐, ႕ …) inside a word
        spans.append((start, end))
    return spans


def _without_numbers(text: str) -> str:
    spans = _kept_digits(text)
    for start, end in reversed(spans):
        text = text[:start] + " " + text[end:]
    return text


def should_convert(text: str, known_zawgyi: bool = False) -> bool:
    """Whether `text` is Zawgyi to convert: no code point Zawgyi lacks, not well-formed Unicode
    Burmese (unless the sender is `known_zawgyi`: then text valid in both encodings, like
    `ရွာကို`, is read as they meant it), and the detector sure of it without the numbers."""
    if not has_myanmar_script(text) or NOT_ZAWGYI.search(text):
        return False
    if not known_zawgyi and well_formed_unicode(text):
        return False
    return is_zawgyi(_without_numbers(text))


def _convert(text: str) -> str:
    """ICU's Zawgyi-to-Unicode, around the numbers (each piece between them on its own)."""
    pieces, last = [], 0
    for start, end in _kept_digits(text):
        pieces.append(_to_unicode().transliterate(text[last:start]))
        pieces.append(text[start:end])
        last = end
    pieces.append(_to_unicode().transliterate(text[last:]))
    return "".join(pieces)


def to_unicode(text: str, known_zawgyi: bool = False) -> str:
    """Unicode Burmese for Zawgyi text; any other text unchanged (see `should_convert`)."""
    return _convert(text) if should_convert(text, known_zawgyi) else text


@lru_cache(maxsize=4096)
def zawgyi_form(unicode_text: str) -> str:
    """How a word we accept (Unicode Burmese) looks when typed in Zawgyi."""
    if not has_myanmar_script(unicode_text):
        return unicode_text
    return _to_zawgyi().transliterate(unicode_text)


def to_zawgyi(unicode_text: str) -> str:
    """A reply (Unicode Burmese) as a Zawgyi-font phone draws it; digits are left as they are."""
    return zawgyi_form(unicode_text) if has_myanmar_script(unicode_text) else unicode_text
