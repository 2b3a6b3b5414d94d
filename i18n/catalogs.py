"""Babel catalogs: loading, fallback chains, and translating one `Text`.

Catalogs are read from the `.po` files at start-up and compiled in memory, so a deployment can
never run with a stale `.mo`. English is the source language: its "catalog" is the msgids.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from i18n.text import Text

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"
# Where a language's catalog lacks a string, try these before the English source: people who
# read Jingpho, S'gaw Karen or Shan in Myanmar mostly read Burmese too.
FALLBACKS: dict[str, tuple[str, ...]] = {"kac": ("my",), "ksw": ("my",), "shn": ("my",), "mnw": ("my",)}


class Catalogs:
    """All shipped catalogs, each chained to its fallbacks."""

    def __init__(self, directory: Path = LOCALES_DIR, domain: str = "messages"):
        """`domain`: `messages` (what people are told over SMS and Telegram) or `portal` (the
        portal's pages, which are translated into fewer languages)."""
        loaded: dict[str, Translations] = {}
        for po_path in sorted(directory.glob(f"*/LC_MESSAGES/{domain}.po")):
            code = po_path.parent.parent.name
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=None, domain=domain)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
            buffer.seek(0)
            loaded[code] = Translations(fp=buffer)
        self._chains: dict[str, NullTranslations] = {SOURCE_LANGUAGE: NullTranslations()}
        for code, translations in loaded.items():
            chain = Translations(fp=None)
            chain.add_fallback(translations)
            for fallback in FALLBACKS.get(code, ()):
                if fallback in loaded:
                    chain.add_fallback(loaded[fallback])
            self._chains[code] = chain

    @property
    def shipped(self) -> tuple[str, ...]:
        """Language codes with a catalog, English first."""
        return (SOURCE_LANGUAGE, *sorted(code for code in self._chains if code != SOURCE_LANGUAGE))

    def translate(self, lang: str, text: Text) -> str:
        """The translation of `text` in `lang` (parameters not yet filled in)."""
        if text.literal:
            return text.msgid
        chain = self.chain(lang)
        if text.context:
            return chain.pgettext(text.context, text.msgid)
        return chain.gettext(text.msgid)

    def chain(self, lang: str) -> NullTranslations:
        """The translations of `lang` with its fallbacks (English's are the msgids themselves)."""
        return self._chains.get(lang) or self._chains[SOURCE_LANGUAGE]
