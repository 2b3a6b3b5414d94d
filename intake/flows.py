"""The conversation flows, declared as data (DESIGN.md principle 2).

A flow is a list of steps. A step has a prompt and either choices (each with the words that
select it and where it leads) or a validator (named in `intake.validators.VALIDATORS`) and the
draft field its answer fills. Adding a step or a choice is an edit here, nothing else.

Targets (`goto`) are "flow" (its first step), "flow.step", or RESUME (the step the person was
at before they asked to change language; the main menu if none).

`intake/flows.md` beside this file is generated from it by `python -m intake.diagram`; a test
keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from intake.messages import N_, P_, Text

RESUME = "@resume"
MENU = "menu.main"
LANGUAGE = "language.choose"


@dataclass(frozen=True)
class Choice:
    """One option of a choice step. `answers` are extra words (per language) that select it."""

    value: str
    label: Text
    goto: str
    answers: Text | None = None


@dataclass(frozen=True)
class Step:
    """One question. Exactly one of `choices`, `choices_from`, `validator` or `goto` applies.

    - choices: fixed options; choices_from: options built at run time ("languages");
    - validator + store: a typed answer, checked and saved into the draft under `store`;
    - goto alone: an information step that shows its prompt and moves straight on.
    `action` names a host-independent side effect of answering (e.g. "set_language").
    """

    name: str
    prompt: Text
    choices: tuple[Choice, ...] = ()
    choices_from: str | None = None
    validator: str | None = None
    store: str | None = None
    goto: str | None = None
    action: str | None = None

    @property
    def is_choice(self) -> bool:
        return bool(self.choices or self.choices_from)

    @property
    def is_info(self) -> bool:
        return not self.is_choice and self.validator is None


@dataclass(frozen=True)
class Flow:
    name: str
    steps: tuple[Step, ...]

    @property
    def start(self) -> Step:
        return self.steps[0]

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.name}.{name}")


def _soon(flow: str) -> Flow:
    """A branch whose capability has not landed yet: says so, then back to the menu."""
    return Flow(flow, (
        Step("soon", Text(N_("This is not available yet. Please try again later.")), goto=MENU),
    ))


FLOWS: dict[str, Flow] = {flow.name: flow for flow in (
    Flow("language", (
        Step("choose", Text(N_("Choose your language:"), every_language=True),
             choices_from="languages", action="set_language", goto=RESUME),
    )),
    Flow("menu", (
        Step("main", Text(N_("{service}. What would you like to do?")), choices=(
            Choice("report", Text(N_("Report a concern")), "report",
                   P_("answers", "report|concern|complaint")),
            Choice("update", Text(N_("Update my details")), "update",
                   P_("answers", "update|details|my details")),
            Choice("check", Text(N_("Check a report")), "check",
                   P_("answers", "check|status|follow up")),
            Choice("language", Text(N_("Change language")), LANGUAGE,
                   P_("answers", "language")),
        )),
    )),
    _soon("report"),
    _soon("update"),
    _soon("check"),
)}


# Words that work at any step, in every shipped language ("|" separates alternatives; the first
# is the one shown to people). STOP, START and HELP are reserved by carriers and Twilio on some
# numbers; quick exit therefore never relies on STOP.
KEYWORDS: dict[str, Text] = {
    "menu": P_("keyword", "menu"),
    "back": P_("keyword", "back"),
    "help": P_("keyword", "help"),
    "language": P_("keyword", "language|lang"),
    "exit": P_("keyword", "exit|quit"),
}


def find_step(target: str) -> Step:
    """The step a target "flow" or "flow.step" names."""
    flow_name, _, step_name = target.partition(".")
    flow = FLOWS[flow_name]
    return flow.step(step_name) if step_name else flow.start


def qualified(target: str) -> str:
    """"flow" -> "flow.<first step>"; "flow.step" unchanged."""
    flow_name, _, step_name = target.partition(".")
    return f"{flow_name}.{step_name or FLOWS[flow_name].start.name}"


def check_flows() -> None:
    """Fail loudly at import if a goto names a step that does not exist (a data typo)."""
    from intake.validators import VALIDATORS

    for flow in FLOWS.values():
        for step in flow.steps:
            targets = [choice.goto for choice in step.choices] + ([step.goto] if step.goto else [])
            for target in targets:
                if target != RESUME:
                    find_step(target)
            if step.validator and step.validator not in VALIDATORS:
                raise KeyError(f"{flow.name}.{step.name}: unknown validator {step.validator}")
            if step.validator and not step.store:
                raise ValueError(f"{flow.name}.{step.name}: a validator needs a draft field to store")


check_flows()
