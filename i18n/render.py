"""Turning an engine `Outbound` into text in one language. Channels decide the layout."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Mapping

from i18n.catalogs import Catalogs
from i18n.numbers import native_digits
from i18n.text import Digits, Keyword, Outbound, Text
from i18n.zawgyi import LANGUAGE as ZAWGYI_LANGUAGE, to_zawgyi

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel: body paragraphs and numbered options, in `lang`."""

    paragraphs: tuple[str, ...]
    options: tuple[tuple[int, str], ...] = ()
    lang: str = "en"

    def number(self, number: int) -> str:
        """An option's number as this language writes it (၁, ၂ … in Burmese)."""
        return native_digits(self.lang, str(number))


class _Params(dict):
    """Leaves an unknown placeholder visible instead of raising (a catalog slip is not a 500)."""

    def __missing__(self, key):
        return "{" + key + "}"


class Renderer:
    """Renders outbound messages for one deployment's catalogs and offered languages.
    `keywords` are the words a `Keyword` parameter names (the engine's global keywords)."""

    def __init__(self, catalogs: Catalogs, languages: tuple[str, ...], keywords: Mapping[str, Text]):
        self.catalogs = catalogs
        self.languages = languages
        self.keywords = keywords
        # Before a person has chosen: the default language and English. Not every offered one:
        # each line of Burmese-script text costs SMS segments, and the language menu lists every
        # language in its own name anyway.
        self.unknown_reader = tuple(dict.fromkeys([languages[0], *(["en"] if "en" in languages else [])]))

    def keyword(self, lang: str, name: str) -> str:
        """The word people are told to send for a keyword, e.g. MENU."""
        return self.catalogs.translate(lang, self.keywords[name]).split("|")[0].upper()

    def _param(self, lang: str, value) -> object:
        """A placeholder's value: keywords and nested texts render in `lang`; lines join."""
        if isinstance(value, Keyword):
            return self.keyword(lang, value.name)
        if isinstance(value, Text):
            return self.text(lang, value)
        if isinstance(value, tuple):
            return "\n".join(str(self._param(lang, item)) for item in value)
        if isinstance(value, (int, Digits)):
            return native_digits(lang, str(value))
        return value

    def text(self, lang: str, text: Text, zawgyi: bool = False) -> str:
        """One paragraph, placeholders filled; `every_language` text gives one line per language.
        `zawgyi`: the Burmese of it as a Zawgyi-font phone draws it (see `render`)."""
        if text.every_language:
            lines = [self.text(code, Text(text.msgid, text.params, text.context), zawgyi)
                     for code in self.unknown_reader]
            return "\n".join(dict.fromkeys(lines))
        if zawgyi and lang == ZAWGYI_LANGUAGE:
            return to_zawgyi(self.text(lang, text))
        template = self.catalogs.translate(lang, text)
        if not text.params:
            return template
        params = _Params({name: self._param(lang, value) for name, value in text.params.items()})
        try:
            return template.format_map(params)
        except (ValueError, IndexError):
            log.warning("malformed placeholder in %s catalog; using the English source", lang)
            return text.msgid.format_map(params)

    def render(self, lang: str | None, outbound: Outbound, zawgyi: bool = False) -> Rendered:
        """Render in `lang`; with no language chosen yet, in the default language and English.
        `zawgyi`: for a person whose phone writes Burmese in Zawgyi, the Burmese text (never
        another language's) converted after the catalogs, options too; numbers stay digits."""
        unknown = lang is None
        if unknown:
            lang = self.languages[0]
            parts = [replace(part, every_language=True) for part in outbound.parts]
        else:
            parts = list(outbound.parts)
        return Rendered(
            tuple(self.text(lang, part, zawgyi) for part in parts),
            tuple((option.number, self.text(lang, option.label, zawgyi)) for option in outbound.options),
            "en" if unknown else lang,  # numbers everyone reads until a language is chosen
        )
