"""Numbers and dates as each language writes them.

CLDR gives Burmese Myanmar digits (၁၂၃) as its default numbering system, but Babel's formatters
print Latin digits, so the digits are mapped here. S'gaw Karen, which Babel does not know, is
written in Myanmar script with Myanmar digits too; Shan's CLDR default is Latin digits.
Languages without Babel data borrow a neighbour's date formats.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime as babel_format_datetime

MYANMAR_DIGITS = "၀၁၂၃၄၅၆၇၈၉"
NATIVE_DIGITS = {"my": MYANMAR_DIGITS, "ksw": MYANMAR_DIGITS}
# Babel has no locale data for these: format dates as this language does.
FORMAT_LOCALE = {"kac": "en_GB", "ksw": "my", "en": "en_GB"}


def native_digits(lang: str | None, text: str) -> str:
    """`text` with ASCII digits written in the language's own digits, where it has them."""
    digits = NATIVE_DIGITS.get(lang or "")
    if not digits:
        return text
    return text.translate(str.maketrans("0123456789", digits))


def format_datetime(lang: str, moment: datetime, format: str = "medium") -> str:
    """A date and time in the language's format and digits (`moment` already in the right zone)."""
    return native_digits(lang, babel_format_datetime(moment, format, locale=FORMAT_LOCALE.get(lang, lang)))
