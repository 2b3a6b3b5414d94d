"""Which languages are offered, and what each is called in its own script."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

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


def offered(requested: list[str], shipped: tuple[str, ...]) -> tuple[str, ...]:
    """The languages to offer: `requested` in its order (first = default), or all shipped."""
    if not requested:
        return shipped
    unknown = [code for code in requested if code not in shipped]
    if unknown:
        raise UnknownLanguageError(
            f"LANGUAGES names {', '.join(unknown)}, which has no catalog; shipped: {', '.join(shipped)}")
    return tuple(dict.fromkeys(requested))
