"""The portal's catalog (domain `portal`): every page string is marked for gettext, extracted the way
`make translations` extracts it, translated in every shipped portal catalog (no empty or fuzzy
entry), with the same placeholders and the same HTML tags, and it compiles."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from i18n.catalogs import LOCALES_DIR

ROOT = Path(__file__).resolve().parents[2]
# The Makefile's `-k` options for the portal domain (babel-portal.cfg adds gettext_noop).
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
TAG = re.compile(r"</?[a-z]+\b[^>]*>")
PORTAL_CATALOGS = sorted(LOCALES_DIR.glob("*/LC_MESSAGES/portal.po"))
TEMPLATES = sorted((ROOT / "portal" / "templates" / "portal").glob("*.html"))
# Text a template may show as it is: a format hint, not words.
LITERAL_TEXT = {"YYYY-MM"}


def source_messages() -> set[str]:
    """The msgid of every marked string of the portal's code and templates."""
    with (ROOT / "babel-portal.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT, method_map, options_map, keywords=KEYWORDS)}


def entries(path: Path) -> dict[str, object]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {(message.id if isinstance(message.id, str) else message.id[0]): message
            for message in catalog if message.id}


def test_extraction_finds_template_python_and_noop_marked_strings():
    found = source_messages()
    assert {"Skip to content", "Log out",  # base.html
            "Your role (%(role)s) does not give access to %(what)s.",  # portal/current.py
            "Not found",  # blueprint.ERROR_TEXT, lazy_gettext
            "Email or password is wrong",  # auth.LOGIN_FAILED, gettext_noop
            "%(num)d change waiting"} <= found  # ngettext in a template
    assert len(found) > 300


def test_the_template_is_current():
    """`make translations` was run after the last string changed."""
    assert set(entries(ROOT / "i18n" / "portal.pot")) == source_messages()


@pytest.mark.parametrize("po_path", PORTAL_CATALOGS, ids=lambda path: path.parent.parent.name)
def test_portal_catalog_is_complete_and_sound(po_path):
    found = entries(po_path)
    assert set(found) == source_messages(), "run make translations"
    for msgid, message in found.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {msgid!r}"
        assert not message.fuzzy, f"fuzzy: {msgid!r}"
        for string in strings:
            # Jinja fills every template string with `%`, so a lone "%" would break the page.
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(string)), \
                f"placeholders differ: {msgid!r}"
            assert "%" not in PLACEHOLDER.sub("", string).replace("%%", ""), f"stray %: {msgid!r}"
            # Template translations are markup: the same tags, and no "<" or "&" of their own.
            assert TAG.findall(msgid) == TAG.findall(string), f"tags differ: {msgid!r}"
            assert TAG.sub("", string).count("<") == TAG.sub("", msgid).count("<"), f"stray <: {msgid!r}"
            assert string.count("&") == msgid.count("&"), f"stray &: {msgid!r}"
    with po_path.open("rb") as handle:
        write_mo(io.BytesIO(), read_po(handle))  # compiles


@pytest.mark.parametrize("po_path", PORTAL_CATALOGS, ids=lambda path: path.parent.parent.name)
def test_the_header_names_the_project_as_the_bot_catalog_does(po_path):
    with po_path.open("rb") as handle:
        portal = read_po(handle)
    with (po_path.parent / "messages.po").open("rb") as handle:
        bot = read_po(handle)
    assert portal.project == bot.project and portal.language_team == bot.language_team
    assert portal.plural_forms == bot.plural_forms
    assert "Reviewed: no" in portal.header_comment


def bare_text(template: str) -> list[str]:
    """Words a template shows without gettext: its text and its readable attributes, once every
    Jinja expression, statement and comment is taken out."""
    text = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", template, flags=re.S)
    shown = re.findall(r'\b(?:aria-label|placeholder|title|alt)="([^"]*)"', text)
    shown += re.sub(r"<[^>]*>", "\n", text).splitlines()
    return [line.strip() for line in shown if re.search(r"[A-Za-z]", line) and line.strip() not in LITERAL_TEXT]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_every_template_string_goes_through_gettext(template):
    assert bare_text(template.read_text()) == []


def test_the_template_check_sees_bare_text():
    assert bare_text('<p>{{ _("Fine") }}</p><nav aria-label="Pages"><a>Older</a> {{ x }}</nav>') == ["Pages", "Older"]
    assert bare_text('<input placeholder="YYYY-MM">{% if a %}{{ b }}{% endif %}') == []
