"""The conversation flows, declared as data (DESIGN.md principle 2).

A flow is a list of steps. A step has a prompt and either choices (each with the words that
select it and where it leads) or a validator (named in `intake.validators.VALIDATORS`) and the
draft field its answer fills. Adding a step or a choice is an edit here, nothing else.

Targets (`goto`) are "flow" (its first step), "flow.step", RESUME (the step the person was at
before they asked to change language; the main menu if none) or END.

`intake/flows.md` beside this file is generated from it by `python -m intake.diagram`; a test
keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Mapping

from i18n.text import N_, P_, Text
from intake.followup import REPORT as REPORT_ID
from intake.registration import EDUCATION, IDENTITY, OCCUPATION
from intake.targets import END, LANGUAGE, MENU, RESUME

__all__ = ["END", "LANGUAGE", "MENU", "RESUME", "FLOWS", "KEYWORDS", "Choice", "Field", "Flow", "Review", "Step",
           "find_step", "qualified"]


@dataclass(frozen=True)
class Choice:
    """One option of a choice step. `answers` are extra words (per language) that select it.

    `action` names a domain action taken when it is chosen ("submit"); `requires` names a draft
    field that must be filled first, else `missing` is said and the question repeats. `when`
    names what the message's channel must carry for the option to be offered
    (`intake.messages.CARRIES`: "number", "chat")."""

    value: str
    label: Text
    goto: str
    answers: Text | None = None
    action: str | None = None
    requires: str | None = None
    missing: Text | None = None
    when: str | None = None


@dataclass(frozen=True)
class Field:
    """What a step's answer is in the filed report; its name is the step's `store`.

    `label` is what the portal calls it. `column` names the clear routing column that keeps it
    (`storage.models.Report`: routing, deadlines and counts read it without a key); a field with
    no column is sealed in the report's content, which only the receiving organisation and the
    receipt can open. `words` are the portal's words for coded answers where the step's choice
    labels (the reporter's own words: "Me") do not fit. `only_if` = (field, value): the answer is
    filed only when that other field was filed with that value (a number only with consent), so
    an answer the person later took back is never sent."""

    label: Text
    column: str | None = None
    words: Mapping[str, Text] = dataclass_field(default_factory=dict)
    only_if: tuple[str, str] | None = None


@dataclass(frozen=True)
class Review:
    """A step's line in the review before sending: `line`'s {value} is filled by the summary
    named `value` (`intake.prompts.SUMMARIES`; "choice" says the chosen option's label)."""

    line: Text
    value: str = "choice"


@dataclass(frozen=True)
class Step:
    """One question.

    - choices: fixed options; choices_from: options built at run time ("languages", "editable");
    - validator + store: a typed answer, checked and saved into the draft under `store`; a step
      may have both choices and a validator (a typed name, or "1. I don't know");
    - a choice step with `store` saves the chosen value there;
    - append: typed answers accumulate in a list (several SMS), `again` is said after each;
    - goto alone: an information step that shows its prompt and moves straight on;
    - params: the name of a builder in `intake.prompts` that fills the prompt's placeholders;
    - edit_label: the step is one of the answers the review lets the person change;
    - field: what the answer is in the filed report (`intake.report` derives the report's schema
      from these); review: its line in the review before sending;
    - media: voice notes and photos sent at this step are kept with the draft (`draft["media"]`)
      and count as an answer for the step's choices that require one.
    `action` names a step-level effect of answering (e.g. "set_language").
    """

    name: str
    prompt: Text
    choices: tuple[Choice, ...] = ()
    choices_from: str | None = None
    validator: str | None = None
    store: str | None = None
    goto: str | None = None
    action: str | None = None
    append: bool = False
    again: Text | None = None
    params: str | None = None
    edit_label: Text | None = None
    field: Field | None = None
    review: Review | None = None
    media: bool = False

    @property
    def is_choice(self) -> bool:
        return bool(self.choices or self.choices_from)

    @property
    def is_info(self) -> bool:
        return not self.is_choice and self.validator is None


@dataclass(frozen=True)
class Flow:
    """A named list of steps; `requires` names what the context must offer to enter it.
    A `sensitive` flow's messages, both ways, are wiped from the person's phone where the channel
    allows (Telegram) when it ends: sent, cancelled or quick exit."""

    name: str
    steps: tuple[Step, ...]
    requires: str | None = None
    sensitive: bool = False

    @property
    def start(self) -> Step:
        return self.steps[0]

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.name}.{name}")


# The yes / no / don't know labels, one string per question that offers them (the step, as the
# gettext context): "No" to "May the organisation contact you?" is not "No" to "Are you in danger?",
# and a language may need other words for each. Literal here so that Babel extracts them.
_YES_NO_LABELS: dict[str, tuple[Text, ...]] = {
    "report.danger": (P_("report.danger", "Yes"), P_("report.danger", "No")),
    "report.child": (P_("report.child", "Yes"), P_("report.child", "No"), P_("report.child", "I don't know")),
}


def _yes_no(use: str, yes: str, no: str, unknown: str | None = None) -> tuple[Choice, ...]:
    """Yes / No (/ I don't know) for the step `use` ("report.child"), labelled in its own words."""
    labels = _YES_NO_LABELS[use]
    choices = [Choice("yes", labels[0], yes, P_("answers", "yes|y")),
               Choice("no", labels[1], no, P_("answers", "no|n"))]
    if unknown:
        choices.append(Choice("unknown", labels[2], unknown, P_("answers", "don't know|dont know")))
    return tuple(choices)


# The report flow (issue 3). Short, because every SMS costs the sender money; anonymous by default;
# nothing in it names abuse or PSEA, in case someone else reads the phone. Each answer's `field`
# is what it becomes in the filed report (intake/report.py); `review` is its line before sending.
REPORT = Flow("report", requires="directory", sensitive=True, steps=(
    Step("danger", Text(N_("Are you in danger right now?")), store="danger",
         choices=_yes_no("report.danger", yes="report.emergency", no="report.organisation"),
         field=Field(Text(N_("In danger when reporting")))),
    Step("emergency", Text(N_("If you need help now, contact:\n{contacts}")), params="emergency",
         goto="report.organisation"),
    Step("organisation", Text(N_("Which organisation does the person you are reporting work for? "
                                 "Type its name.")),
         validator="organisation", store="organisation", goto="report.organisation_confirm",
         choices=(Choice("unknown", P_("report.organisation", "I don't know"), "report.privacy",
                         P_("answers", "don't know|dont know")),),
         edit_label=Text(N_("Organisation")),
         field=Field(Text(N_("Organisation named")), column="named_organisation_id"),
         review=Review(Text(N_("Organisation: {value}")), "organisation")),
    Step("organisation_confirm", Text(N_("Is it {organisation}?")), params="organisation", store="send_to_them",
         choices=(Choice("yes", P_("report.organisation_confirm", "Yes"), "report.privacy", P_("answers", "yes|y")),
                  Choice("avoid", Text(N_("Yes, but do not send this to them")), "report.privacy"),
                  Choice("retype", Text(N_("No, I will type it again")), "report.organisation")),
         field=Field(Text(N_("May it be sent to that organisation")), words={
             "yes": Text(N_("Yes")),
             "avoid": Text(N_("No: the reporter asked that it not be sent to them"))})),
    # A name the directory does not know is kept as typed, if the person wants (sealed, filed as
    # intake.report's "organisation_typed"); the report then goes to the PSEA Network.
    Step("organisation_unlisted", Text(N_("We could not find {organisation} in our list. Send the name as you "
                                          "typed it?")), params="organisation_typed", store="organisation",
         choices=(Choice("typed", Text(N_("Yes, send it as I typed it")), "report.privacy", P_("answers", "yes|y")),
                  Choice("retype", Text(N_("No, I will type it again")), "report.organisation"),
                  Choice("unknown", P_("report.organisation_unlisted", "I don't know"), "report.privacy",
                         P_("answers", "don't know|dont know")))),
    # Who can read the account, said in the same reply as its question.
    Step("privacy", Text(N_("Only the people handling your report can read what you write.")),
         goto="report.account"),
    Step("account", Text(N_("What happened? Write it in your own words. You can send several messages.")),
         validator="free_text", store="account", append=True,
         again=Text(N_("Received. Send more, or choose below when you have finished.")),
         choices=(Choice("done", P_("report.account", "I have finished"), "report.when", P_("answers", "done|finished"),
                         requires="account", missing=Text(N_("Please tell us what happened first."))),),
         edit_label=Text(N_("Add to what happened")),
         media=True,
         field=Field(Text(N_("What happened"))),
         review=Review(Text(N_("Messages about what happened: {value}")), "count")),
    Step("when", Text(N_("When did it happen?")), store="when", edit_label=Text(N_("When")), choices=(
        Choice("this_week", Text(N_("This week")), "report.where"),
        Choice("this_month", Text(N_("This month")), "report.where"),
        Choice("this_year", Text(N_("This year")), "report.where"),
        Choice("earlier", Text(N_("Before this year")), "report.where"),
        Choice("unknown", P_("report.when", "I don't know"), "report.where", P_("answers", "don't know|dont know")),
    ), field=Field(Text(N_("When it happened")), column="incident_period"),
        review=Review(Text(N_("When: {value}")))),
    Step("where", Text(N_("Where did it happen? Type the township or town.")),
         validator="township", store="where", goto="report.area_emergency", edit_label=Text(N_("Where")),
         choices=(Choice("skip", P_("report.where", "Skip this question"), "report.affected", P_("answers", "skip")),),
         field=Field(Text(N_("Where it happened")), column="township_pcode"),
         review=Review(Text(N_("Where: {value}")), "place")),
    # Someone in danger who named the place: that area's emergency lines, if they add any (the
    # builder has nothing to say otherwise, and the step is passed over).
    Step("area_emergency", Text(N_("If you need help now, contact:\n{contacts}")), params="area_emergency",
         goto="report.affected"),
    Step("affected", Text(N_("Who was affected?")), store="affected", edit_label=Text(N_("Who was affected")),
         choices=(Choice("self", Text(N_("Me")), "report.child"),
                  Choice("other", Text(N_("Someone else")), "report.child")),
         field=Field(Text(N_("Who was affected")), column="affected", words={
             "self": Text(N_("The person reporting")), "other": Text(N_("Someone else"))}),
         review=Review(Text(N_("Who was affected: {value}")))),
    Step("child", Text(N_("Was anyone affected under 18?")), store="child", edit_label=Text(N_("Anyone under 18")),
         choices=_yes_no("report.child", yes="report.contact", no="report.contact", unknown="report.contact"),
         field=Field(Text(N_("Anyone under 18")), column="child_involved"),
         review=Review(Text(N_("Anyone under 18: {value}")))),
    Step("contact", Text(N_("May the organisation contact you about this?")), store="contact",
         edit_label=Text(N_("Contact")),
         choices=(Choice("no", P_("report.contact", "No"), "report.review", P_("answers", "no|n")),
                  Choice("yes", P_("report.contact", "Yes"), "report.contact_how", P_("answers", "yes|y"))),
         field=Field(Text(N_("May the organisation make contact")), column="contact_allowed"),
         review=Review(Text(N_("Contact: {value}")), "contact")),
    Step("contact_how", Text(N_("How may they contact you?")), store="contact_how", choices=(
        Choice("this_number", Text(N_("On this number")), "report.review", when="number"),
        Choice("this_number", Text(N_("In this chat")), "report.review", when="chat"),
        Choice("other_number", Text(N_("On another number")), "report.contact_number"),
        Choice("receipt_only", Text(N_("Only through my receipt number")), "report.review"),
    ), field=Field(Text(N_("How to make contact")), only_if=("contact", "yes"), words={
        "this_number": Text(N_("On the number or chat they wrote from")),
        "other_number": Text(N_("On another number")),
        "receipt_only": Text(N_("Only through the receipt number (follow-up messages)"))})),
    Step("contact_number", Text(N_("Type the phone number they may use.")), validator="phone",
         store="contact_number", goto="report.review",
         field=Field(Text(N_("Contact number")), only_if=("contact_how", "other_number"))),
    Step("review", Text(N_("Please check:\n{summary}")), params="review", choices=(
        Choice("send", Text(N_("Send")), "report.sent", P_("answers", "send"), action="submit"),
        Choice("change", Text(N_("Change an answer")), "report.change", P_("answers", "change")),
        Choice("cancel", Text(N_("Cancel")), "report.cancel_confirm", P_("answers", "cancel")),
    )),
    Step("cancel_confirm", Text(N_("Cancel and delete this report?")), choices=(
        Choice("yes", Text(N_("Yes, delete it")), "report.cancelled", P_("answers", "yes|y")),
        Choice("no", Text(N_("No, go back")), "report.review", P_("answers", "no|n")),
    )),
    Step("change", Text(N_("Which answer do you want to change?")), choices_from="editable"),
    Step("sent", Text(N_("Thank you, it was sent. Receipt number: {receipt}. Keep it safe. It will be read soon. "
                         "To check on it, send {menu} and choose \"{check}\".")), params="receipt", goto=END),
    Step("cancelled", Text(N_("Cancelled. Nothing was sent.")), goto=END),
))

def _coded(codes: dict[str, Text], then: str) -> tuple[Choice, ...]:
    return tuple(Choice(code, label, then) for code, label in codes.items())


# "Update my details" (issue 10): prove who you are, then ask for changes from an allow-list;
# each becomes a pending change for a caseworker. Sensitive: on Telegram its messages are wiped
# when it ends, and nothing said here is ever repeated back in detail.
UPDATE = Flow("update", requires="registry", sensitive=True, steps=(
    Step("number", Text(N_("To update your details, type your registration number.")),
         validator="registration_number", store="reg_number", goto="update.birth"),
    Step("birth", Text(N_("Type your date of birth, for example 17-04-1990.")),
         validator="identity", store=IDENTITY, goto="update.choose"),
    Step("code", Text(N_("We sent a 6-digit code by SMS to the phone number on record. Type it here.")),
         validator="identity_code", store=IDENTITY, goto="update.choose"),
    Step("choose", Text(N_("What to change?")), choices=(
        Choice("phone", Text(N_("Phone number")), "update.phone", P_("answers", "phone")),
        Choice("place", Text(N_("Address")), "update.township", P_("answers", "township|address")),
        Choice("education", Text(N_("Education")), "update.education", P_("answers", "education|school")),
        Choice("occupation", Text(N_("Work")), "update.occupation", P_("answers", "work|job")),
        Choice("needs", Text(N_("Needs")), "update.needs", P_("answers", "needs")),
        Choice("prefer_language", Text(N_("Language")), "update.language"),
        Choice("household", Text(N_("Household")), "update.household", P_("answers", "household")),
        Choice("see", Text(N_("See my data")), "update.see", P_("answers", "see|my data")),
        Choice("erase", Text(N_("Erase my data")), "update.erase", P_("answers", "erase|delete")),
        Choice("done", P_("update.choose", "I have finished"), "update.done",
               P_("answers", "done|finished")),
    )),
    Step("phone", Text(N_("Type your new phone number. We will send a code to it.")),
         validator="new_phone", store="new_phone", goto="update.phone_code"),
    Step("phone_code", Text(N_("We sent a 6-digit code to the new number. Type it here.")),
         validator="new_phone_code", store="phone_confirmed", goto="update.requested"),
    Step("township", Text(N_("Which township do you live in now? Type its name.")),
         validator="township_change", store="township", goto="update.address",
         choices=(Choice("skip", P_("update.township", "Skip this question"), "update.address",
                         P_("answers", "skip")),)),
    Step("address", Text(N_("Type a short address: village, ward or block.")),
         validator="address", store="address", goto="update.requested",
         choices=(Choice("skip", P_("update.address", "Skip this question"), "update.requested",
                         P_("answers", "skip")),)),
    Step("education", Text(N_("Highest schooling finished?")), store="education",
         action="request_change", choices=_coded(EDUCATION, "update.requested")),
    Step("occupation", Text(N_("What work do you do now?")), store="occupation",
         action="request_change", choices=_coded(OCCUPATION, "update.requested")),
    Step("needs", Text(N_("Tell us in your own words what help you or your family need, for example: "
                          "I cannot walk, my child is sick, I am pregnant.")),
         validator="needs", store="needs", goto="update.needs_noted"),
    Step("needs_noted", Text(N_("Thank you. A caseworker will look at what you told us.")), goto="update.choose"),
    Step("language", Text(N_("Which language should we use with you?")), store="language",
         choices_from="languages", action="request_change", goto="update.requested"),
    Step("household", Text(N_("Tell us what changed in your household, for example a birth, a death "
                              "or someone who left.")),
         validator="household", store="household", goto="update.requested"),
    Step("requested", Text(N_("Thank you. A caseworker will check this, and we will tell you when it is done.")),
         goto="update.choose"),
    Step("see", Text(N_("On record:\n{record}")), params="record", goto="update.choose"),
    Step("erase", Text(N_("This deletes your name, birth date, phone, address and needs for good. You can no "
                          "longer update them here. Erase them?")), choices=(
        Choice("erase", Text(N_("Yes, erase them")), "update.erased", P_("answers", "erase"), action="erase"),
        Choice("keep", Text(N_("No, keep them")), "update.choose", P_("answers", "keep|no")),
    )),
    Step("erased", Text(N_("Your personal details were erased.")), goto=END),
    Step("done", Text(N_("Thank you. We have closed this for you.")), goto=END),
))

# "Check a report" (issue 11): the receipt number alone opens the report's status and the messages
# the organisations wrote to the reporter, who may write back. Sensitive: the receipt is a secret,
# so on Telegram the whole exchange is wiped when it ends; while it is open the conversation keeps
# the report's id, never the receipt or the report's key.
CHECK = Flow("check", requires="followup", sensitive=True, steps=(
    Step("receipt", Text(N_("Type your receipt number: the 18 digits you were given when you sent your report.")),
         validator="receipt", store=REPORT_ID, goto="check.next"),
    Step("next", Text(N_("Do you want to write to them?")), choices=(
        Choice("answer", Text(N_("Answer or add information")), "check.answer",
               P_("answers", "answer|add|write")),
        Choice("done", P_("check.next", "I have finished"), "check.done", P_("answers", "done|finished")),
    )),
    Step("answer", Text(N_("Type your message. Only the people handling your report can read it.")),
         validator="reporter_answer", store="answer", goto="check.sent"),
    Step("sent", Text(N_("Thank you. Your message was passed on.")), goto=END),
    Step("done", Text(N_("Thank you. We have closed this for you.")), goto=END),
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
    REPORT,
    UPDATE,
    CHECK,
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
    # How replies write Burmese: for phones with a Zawgyi font, or back to Unicode.
    "unicode": P_("keyword", "unicode"),
    "zawgyi": P_("keyword", "zawgyi"),
}


def find_step(target: str, flows: Mapping[str, Flow] = FLOWS) -> Step:
    """The step a target "flow" or "flow.step" names (among `flows`, the shipped ones unless given)."""
    flow_name, _, step_name = target.partition(".")
    flow = flows[flow_name]
    return flow.step(step_name) if step_name else flow.start


def qualified(target: str, flows: Mapping[str, Flow] = FLOWS) -> str:
    """"flow" -> "flow.<first step>"; "flow.step" unchanged."""
    flow_name, _, step_name = target.partition(".")
    return f"{flow_name}.{step_name or flows[flow_name].start.name}"


def check_flows() -> None:
    """Fail loudly at import if a goto names a step that does not exist (a data typo)."""
    from intake.validators import VALIDATORS

    for flow in FLOWS.values():
        for step in flow.steps:
            targets = [choice.goto for choice in step.choices] + ([step.goto] if step.goto else [])
            for target in targets:
                if target not in (RESUME, END):
                    find_step(target)
            if step.validator and step.validator not in VALIDATORS:
                raise KeyError(f"{flow.name}.{step.name}: unknown validator {step.validator}")
            if step.validator and not step.store:
                raise ValueError(f"{flow.name}.{step.name}: a validator needs a draft field to store")
            if (step.field or step.review) and not step.store:
                raise ValueError(f"{flow.name}.{step.name}: a report field needs the draft field it files")


check_flows()
