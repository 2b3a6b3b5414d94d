"""Which languages are offered, and what each is called in its own script."""

from __future__ import annotations

from typing import Callable

from babel import Locale, UnknownLocaleError

from i18n.normalise import match_key
from i18n.zawgyi import is_zawgyi, zawgyi_form
from i18n.text import P_, Text

# Letters only these languages use, inside the Myanmar Unicode block: a first message written
# with them says which language it is in. Anything else in Myanmar script is taken for Burmese.
_SCRIPT_MARKERS = {
    "shn": set(range(0x1075, 0x1082)) | set(range(0x1082, 0x108E)) | set(range(0x1090, 0x109A)),
    "ksw": set(range(0x1061, 0x1065)),
}
_MYANMAR_BLOCK = range(0x1000, 0x10A0)
# Translators: greetings people open a conversation with, "|"-separated, in your language and as
# people spell it in Latin letters (e.g. "mingalaba" for Burmese).
GREETINGS = P_("greeting", "hello|hi|hey|good morning|good afternoon|good evening")

# Babel (CLDR) has no data for some languages of Myanmar; their own names, for the menu.
_OWN_NAMES = {
    "kac": "Jinghpaw",
    "ksw": "ကညီကျိာ်",
    "mnw": "ဘာသာမန်",
}


class UnknownLanguageError(ValueError):
    """LANGUAGES names a code that has no catalog."""


def own_name(code: str) -> str:
    """The language's name in itself ("မြန်မာ" for my), for language menus."""
    if code in _OWN_NAMES:
        return _OWN_NAMES[code]
    try:
        name = Locale.parse(code).get_display_name(code)
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:] if name else code


def guess(text: str, offered: tuple[str, ...], translate: Callable[[str, Text], str]) -> str | None:
    """The language a first message is probably in, among those offered; None if unclear.

    A greeting of one of the languages decides first (in Zawgyi spelling too: a short Zawgyi
    greeting is too little for the detector, and Zawgyi uses code points S'gaw Karen uses). Then
    the script: Shan or Karen letters, else Myanmar script is Burmese. English greetings are
    everyone's ("hi" says nothing about what a person reads), so they choose nothing."""
    key = match_key(text)
    if not key:
        return None
    english = {match_key(word) for word in GREETINGS.msgid.split("|")}
    for code in offered:
        words = [word for word in translate(code, GREETINGS).split("|") if word.strip()]
        keys = {match_key(form) for word in words for form in (word, zawgyi_form(word))} - english
        if any(key == word or key.startswith(word + " ") for word in keys):
            return code
    points = {ord(char) for char in text}
    if not points & set(_MYANMAR_BLOCK):
        return None
    if not is_zawgyi(text):
        for code, markers in _SCRIPT_MARKERS.items():
            if points & markers and code in offered:
                return code
    return "my" if "my" in offered else None


def offered(requested: list[str], shipped: tuple[str, ...]) -> tuple[str, ...]:
    """The languages to offer: `requested` in its order (first = default), or all shipped."""
    if not requested:
        return shipped
    unknown = [code for code in requested if code not in shipped]
    if unknown:
        raise UnknownLanguageError(
            f"LANGUAGES names {', '.join(unknown)}, which has no catalog; shipped: {', '.join(shipped)}")
    return tuple(dict.fromkeys(requested))
