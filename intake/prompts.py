"""Builders that fill a prompt's placeholders from the draft and the context, by name (a flow
step names its builder in `params`). They return strings or `Text`, which render per language."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from i18n.text import N_, Digits, Keyword, Text
from intake.messages import DRAFT_MEDIA
from intake.registration import EDUCATION, OCCUPATION, proved_registration
from intake.state import State

if TYPE_CHECKING:
    from intake.flows import Flow, Step


def format_receipt(receipt: str) -> str:
    """"482109375566123456" -> "482 109 375 566 123 456": easy to read out and write down. A
    receipt given before (16 or 12 digits) is shown as it was: "4821 0937 5566"."""
    size = 3 if len(receipt) == 18 else 4
    return " ".join(receipt[i:i + size] for i in range(0, len(receipt), size))


def choice_label(flow: str, step: str, value) -> Text:
    """The label of the option `value` of a shipped flow's step (what the person chose)."""
    from intake.flows import FLOWS

    return _label(FLOWS[flow].step(step), value)


def _label(step: Step, value) -> Text:
    return next((choice.label for choice in step.choices if choice.value == value), Text(N_("Not given")))


def _place(where, lang: str | None) -> object:
    if not isinstance(where, dict):
        return Text(N_("Not given"))
    return (lang == "my" and where.get("name_my")) or where["name_en"]


def _organisation(draft: dict) -> object:
    organisation = draft.get("organisation")
    if organisation == "typed" and draft.get("organisation_typed"):
        return Text(N_("{organisation} (not in our list)"), {"organisation": draft["organisation_typed"]})
    if not isinstance(organisation, dict):
        return Text(N_("I don't know"))
    if draft.get("send_to_them") == "avoid":
        return Text(N_("{organisation} (not sent to them)"), {"organisation": organisation["name"]})
    return organisation["name"]


def _contact(flow: Flow, draft: dict) -> object:
    if draft.get("contact") != "yes":
        return _label(flow.step("contact"), "no")  # the contact question's own "No"
    if draft.get("contact_how") == "other_number":
        return draft.get("contact_number", "")
    return _label(flow.step("contact_how"), draft.get("contact_how"))


# How a review line says a step's answer (a step's `review.value` names one): (flow, step, state).
SUMMARIES: dict[str, Callable[[Flow, Step, State], object]] = {
    "choice": lambda flow, step, state: _label(step, state.draft.get(step.store)),
    # A step that takes media counts its voice notes and photos among its messages.
    "count": lambda flow, step, state: len(state.draft.get(step.store, []))
    + (len(state.draft.get(DRAFT_MEDIA, [])) if step.media else 0),
    "place": lambda flow, step, state: _place(state.draft.get(step.store), state.lang),
    "organisation": lambda flow, step, state: _organisation(state.draft),
    "contact": lambda flow, step, state: _contact(flow, state.draft),
}


def offered(flow: Flow, ctx) -> Flow:
    """The flow with only the options this message's channel offers (`Choice.when`), so that an
    answer is said with the label the person was shown ("In this chat", not "On this number")."""
    carries = getattr(ctx, "carries", frozenset())
    return replace(flow, steps=tuple(
        replace(step, choices=tuple(c for c in step.choices if c.when is None or c.when in carries))
        for step in flow.steps))


def review(state: State, ctx) -> dict:
    """The review before sending: one line for each step of the flow that declares one."""
    flow = offered(ctx.flows[state.position.partition(".")[0]] if state.position else ctx.flows["report"], ctx)
    lines = tuple(replace(step.review.line, params={"value": SUMMARIES[step.review.value](flow, step, state)})
                  for step in flow.steps if step.review)
    return {"summary": lines}


def _given(value) -> object:
    return value if value else Text(N_("Not given"))


def on_record(state: State, ctx) -> dict:
    """What is on record, briefly, for the person who proved who they are. Needs are only
    counted: the words someone else holding the phone could read stay with the caseworker."""
    record = ctx.registry.on_record(proved_registration(state.draft))
    name = " ".join(part for part in (record.get("given_name"), record.get("family_name")) if part)
    needs = [code for code in (record.get("needs") or "").split(";") if code]
    lines = (
        Text(N_("Name: {value}"), {"value": _given(name)}),
        Text(N_("Date of birth: {value}"), {"value": _given(record.get("date_of_birth"))}),
        Text(N_("Phone: {value}"), {"value": _given(record.get("phone"))}),
        Text(N_("Township: {value}"), {"value": _given(record.get("township_name"))}),
        Text(N_("Address: {value}"), {"value": _given(record.get("address"))}),
        Text(N_("Education: {value}"), {"value": EDUCATION.get(record.get("education") or "", Text(N_("Not given")))}),
        Text(N_("Work: {value}"), {"value": OCCUPATION.get(record.get("occupation") or "", Text(N_("Not given")))}),
        # Translators: {value} is how many needs are on record (a number), never which.
        Text(N_("Needs on record: {value}"), {"value": Digits(str(len(needs)))}),
    )
    return {"record": lines}


def emergency(state: State, ctx) -> dict | None:
    """The general emergency lines (None when the directory lists none)."""
    contacts = ctx.directory.emergency_contacts(state.lang)
    return {"contacts": contacts} if contacts else None


def area_emergency(state: State, ctx) -> dict | None:
    """For someone who said they are in danger, once they named the place: that township's and
    its state's emergency lines, those not already shown with the general ones. None (nothing to
    say) otherwise."""
    where = state.draft.get("where")
    if state.draft.get("danger") != "yes" or not isinstance(where, dict):
        return None
    seen = set(ctx.directory.emergency_contacts(state.lang).splitlines())
    lines = [line for line in ctx.directory.area_emergency_contacts(
        state.lang, (where.get("pcode"), where.get("state_pcode"))).splitlines() if line and line not in seen]
    return {"contacts": "\n".join(dict.fromkeys(lines))} if lines else None


def sent(state: State, ctx) -> dict:
    """The receipt, and how to check on the report with it (the main menu's option, as shown)."""
    return {"receipt": Digits(format_receipt(ctx.receipt)), "menu": Keyword("menu"),
            "check": Text(N_("Check a report"))}


# A builder returns the prompt's parameters; an information step's builder may return None, when
# it has nothing to say, and the step is then passed over.
BUILDERS: dict[str, Callable[[State, object], dict | None]] = {
    "emergency": emergency,
    "area_emergency": area_emergency,
    "organisation": lambda state, ctx: {"organisation": state.draft["organisation"]["name"]},
    "organisation_typed": lambda state, ctx: {"organisation": state.draft["organisation_typed"]},
    "review": review,
    "receipt": sent,
    "record": on_record,
}
