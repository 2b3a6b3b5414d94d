"""The report's schema is the report flow's: every answer the flow stores is one field, sealed or
kept in a clear column, never both; an answer taken back is not filed; and a question added to the
flow reaches the review, the sealed content and the portal's lines with no other edit."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from i18n.text import N_, Text
from intake import prompts
from intake.flows import FLOWS, REPORT, Choice, Field, Review, Step
from intake.report import CHANNEL, FIELDS, MEDIA, TYPED_ORGANISATION, schema, sealed_content, shown
from intake.state import State
from storage.models import Report

FULL = {"danger": "no", "organisation": {"id": 7, "name": "Demo Relief Agency (DRA)"}, "send_to_them": "yes",
        "account": ["one", "two"], "when": "this_month",
        "where": {"pcode": "MMR013017", "state_pcode": "MMR013", "name_en": "Botahtaung", "name_my": "x"},
        "affected": "self", "child": "no", "contact": "yes", "contact_how": "other_number",
        "contact_number": "+959450001234"}


def test_every_answer_the_flow_stores_is_one_field():
    # report.organisation_unlisted says how the organisation is given ("typed"): the same field;
    # the name as typed is filed under its own (stored by the organisation step's validator).
    stored = {step.store for step in REPORT.steps if step.store} | {TYPED_ORGANISATION}
    assert sorted(stored) == sorted(field.name for field in FIELDS if field.name not in (CHANNEL, MEDIA))
    assert len({field.name for field in FIELDS}) == len(FIELDS)


def test_clear_fields_are_report_columns_and_never_sealed_too():
    clear = [field for field in FIELDS if not field.sealed]
    assert {field.column for field in clear} <= set(Report.__table__.columns.keys())
    assert {field.name for field in clear} == {"organisation", "when", "where", "affected", "child", "contact"}
    content = sealed_content(FULL)
    assert set(content) == {"danger", "send_to_them", "account", "contact_how", "contact_number"}
    assert content["account"] == "one\n\ntwo"


@pytest.mark.parametrize("change, gone", [
    ({"contact": "no"}, {"contact_how", "contact_number"}),  # consent taken back
    ({"contact_how": "receipt_only"}, {"contact_number"}),  # a number typed, then "only the receipt"
])
def test_an_answer_taken_back_is_not_filed(change, gone):
    content = sealed_content({**FULL, **change})
    assert not gone & set(content)
    assert "+959450001234" not in str(content)


def test_words_for_the_portal_come_from_the_flow_unless_the_field_says_better():
    by_name = {field.name: field for field in FIELDS}
    assert by_name["when"].words["this_month"].msgid == "This month"  # the choice's own label
    assert by_name["affected"].words["self"].msgid == "The person reporting"  # not "Me"


def test_a_question_added_to_the_flow_is_reviewed_filed_and_shown():
    """One edit in the flow: a step with its field and review line."""
    question = Step("weapon", Text(N_("Was anyone armed?")), store="weapon",
                    choices=(Choice("yes", Text(N_("Yes")), "report.contact"),
                             Choice("no", Text(N_("No")), "report.contact")),
                    field=Field(Text("Anyone armed", literal=True)),
                    review=Review(Text("Anyone armed: {value}", literal=True)))
    steps = list(REPORT.steps)
    steps.insert(steps.index(REPORT.step("contact")), question)
    extended = replace(REPORT, steps=tuple(steps))
    context = SimpleNamespace(flows={**FLOWS, "report": extended})  # the flows the engine is given

    fields = schema(extended)
    content = sealed_content({**FULL, "weapon": "yes"}, fields)
    assert content["weapon"] == "yes"
    lines = shown(content, {}, fields)
    assert [(line.label.msgid, line.value.msgid) for line in lines if line.name == "weapon"] == [
        ("Anyone armed", "Yes")]
    summary = prompts.review(State(lang="en", position="report.review", draft={**FULL, "weapon": "yes"}), context)
    assert [line.msgid for line in summary["summary"]][-2:] == ["Anyone armed: {value}", "Contact: {value}"]


def test_content_from_before_the_schema_shows_once_as_the_field_it_was():
    old = {"account": "words", "organisation named": "X (X)", "place": "Sittwe (MMR012001)",
           "affected": "the person reporting", "contact": "does not want to be contacted",
           "safety": "said they were in danger when reporting", "later_question": "kept"}
    clear = {"organisation": "X (X)", "when": "this_year", "where": "Sittwe", "affected": "self", "child": "no",
             "contact": "no"}
    lines = shown(old, clear)
    names = [line.name for line in lines]
    assert names == ["danger", "organisation", "account", "when", "where", "affected", "child", "contact",
                     "later_question"]
    values = {line.name: line.value for line in lines}
    assert values["where"] == "Sittwe (MMR012001)" and values["contact"] == "does not want to be contacted"
    assert values["later_question"] == "kept"
