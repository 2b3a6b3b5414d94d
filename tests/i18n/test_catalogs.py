"""Every shipped catalog is complete, not fuzzy, keeps its placeholders, and compiles."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALES_DIR, Catalogs

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"N_": None, "P_": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def source_messages() -> set[tuple[str, str | None]]:
    """(msgid, context) of every marked string in the code, as `make translations` extracts."""
    found = set()
    for folder in ("intake", "bot", "i18n"):
        for _file, _line, message, _comments, context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
            found.add((message, context))
    return found


CATALOG_FILES = sorted(LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))


def test_extraction_finds_the_flow_strings():
    messages = source_messages()
    assert ("Report a concern", None) in messages
    assert ("exit|quit", "keyword") in messages
    assert len(messages) > 20


@pytest.mark.parametrize("po_path", CATALOG_FILES, ids=lambda p: p.parent.parent.name)
def test_catalog_is_complete_and_sound(po_path):
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    entries = {(m.id, m.context): m for m in catalog if m.id}
    missing = source_messages() - set(entries)
    assert not missing, f"not in {po_path}: {sorted(missing)} (run make translations)"
    for key, message in entries.items():
        assert message.string, f"untranslated: {key}"
        assert not message.fuzzy, f"fuzzy: {key}"
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(message.string)), \
            f"placeholders differ: {key}"
        if key[1] in ("keyword", "answers"):
            assert all(word.strip() for word in message.string.split("|")), f"empty alternative: {key}"
    write_mo(io.BytesIO(), catalog)  # compiles


def test_every_catalog_loads():
    assert set(Catalogs().shipped) == {"en"} | {p.parent.parent.name for p in CATALOG_FILES}


def flow_texts():
    """Every translatable Text the flow definitions and keywords declare."""
    from intake.flows import FLOWS, KEYWORDS

    for text in KEYWORDS.values():
        yield text
    for flow in FLOWS.values():
        for step in flow.steps:
            yield from filter(None, (step.prompt, step.again, step.edit_label))
            for choice in step.choices:
                yield from filter(None, (choice.label, choice.answers, choice.missing))


def test_extraction_catches_every_string_of_the_flow_data():
    """`make translations` uses Babel's own Python extractor: the N_ and P_ markers in the flow
    definitions make prompts, choices, accepted answers and keywords extractable as they are."""
    extracted = source_messages()
    missing = {(t.msgid, t.context) for t in flow_texts() if not t.literal} - extracted
    assert not missing
    assert ("done|finished", "answers") in extracted and ("Add to what happened", None) in extracted


def test_a_missing_string_falls_back_to_burmese_before_english(tmp_path):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from i18n.text import Text

    for code, entries in {"my": {"Only in Burmese": "ဗမာလို သာ", "Everywhere": "နေရာတိုင်း"},
                          "kac": {"Everywhere": "Shara shagu"}}.items():
        catalog = Catalog(locale="my" if code == "my" else None, domain="messages")
        for msgid, translation in entries.items():
            catalog.add(msgid, translation)
        folder = tmp_path / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / "messages.po").open("wb") as handle:
            write_po(handle, catalog)
    catalogs = Catalogs(tmp_path)
    assert catalogs.translate("kac", Text("Everywhere")) == "Shara shagu"
    assert catalogs.translate("kac", Text("Only in Burmese")) == "ဗမာလို သာ"  # Burmese before English
    assert catalogs.translate("kac", Text("Nowhere")) == "Nowhere"  # then the English source


def test_dates_are_formatted_even_where_babel_has_no_locale_data():
    from datetime import datetime

    from i18n.numbers import format_datetime

    moment = datetime(2026, 11, 25, 9, 30)
    assert format_datetime("kac", moment) == format_datetime("en", moment) == "25 Nov 2026, 09:30:00"
    assert format_datetime("my", moment).startswith("၂၀၂၆")  # Myanmar digits
    assert format_datetime("ksw", moment) == format_datetime("my", moment)
    assert format_datetime("shn", moment).startswith("2026")  # CLDR: Shan writes Latin digits
