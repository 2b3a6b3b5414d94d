"""The conversation engine: (saved state, one inbound message, context) -> result.

Pure (ARCHITECTURE.md principle 1): no Flask, no database, no network, no clock of its own (the time is
the message's). The host loads the state, calls `step`, stores the new state, applies the effects
and sends the replies.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from datetime import timedelta
from typing import Callable, Mapping

from i18n.normalise import clean, match_key, read_number
from i18n.zawgyi import zawgyi_form
from intake.flows import END, FLOWS, KEYWORDS, LANGUAGE, MENU, RESUME, Choice, Flow, Step, find_step, qualified
from i18n.text import N_, Digits, Keyword, Option, Outbound, Text
from intake.effects import Effect, EraseRegistration, RequestChange, SubmitReport, Wipe, Ended
from intake.messages import Inbound
from intake.ports import Directory, FollowUp, Registry
from intake.prompts import BUILDERS
from intake.registration import proved_registration
from intake.state import State
from intake.validators import VALIDATORS, Invalid

# After this many invalid answers in a row, every re-prompt also points to MENU and HELP.
INVALID_BEFORE_MENU_HINT = 3


@dataclass(frozen=True)
class Context:
    """What the engine may look up: offered languages and translations (read-only)."""

    languages: tuple[str, ...]
    translate: Callable[[str, Text], str]  # (language, text) -> translated string, no params
    language_names: Mapping[str, str]  # code -> the language's own name
    service_name: str = "Community Feedback"
    timeout: timedelta = timedelta(minutes=30)
    # Directory look-ups for the report flow (organisations, places, emergency contacts); None
    # when the deployment has no directory yet, and the report flow then says it is unavailable.
    directory: Directory | None = None
    # Registration look-ups for "update my details", bound to this message's sender; None (or
    # not `available`) when no registrations were imported, and the flow then says so.
    registry: Registry | None = None
    # Receipt look-ups for "check a report", bound to this message's sender; None when the host
    # offers none, and the flow then says it is unavailable.
    followup: FollowUp | None = None
    # A fresh receipt number the host drew for this message, used if a report is sent now.
    receipt: str | None = None
    # What the channel of this message carries (intake.messages.Inbound.carries: "number",
    # "chat"); a choice with `when` is offered only where its channel carries that.
    carries: frozenset[str] = frozenset()
    # first message -> the language it is probably written in (among those offered), or None.
    guess_language: Callable[[str], str | None] | None = None
    # The conversation itself, as data: the flows, the global keywords, the validators that read
    # typed answers and the builders that fill prompts. The shipped ones unless a host (a test)
    # gives its own.
    flows: Mapping[str, Flow] = field(default_factory=lambda: FLOWS)
    keywords: Mapping[str, Text] = field(default_factory=lambda: KEYWORDS)
    validators: Mapping[str, Callable] = field(default_factory=lambda: VALIDATORS)
    builders: Mapping[str, Callable] = field(default_factory=lambda: BUILDERS)

    @property
    def default_language(self) -> str:
        return self.languages[0]


@dataclass(frozen=True)
class Result:
    """The outcome of one step. `state.position is None` means no conversation is open.

    `inbound_sensitive` / `replies_sensitive`: this message, or the replies, belong to a sensitive
    flow, so a channel that can delete messages should remember them for the `Wipe`."""

    state: State
    replies: list[Outbound]
    effects: tuple[Effect, ...] = ()
    inbound_sensitive: bool = False
    replies_sensitive: bool = False
    reply_lang: str | None = None  # the replies' language when not the new state's (after EXIT)

    @property
    def lang(self) -> str | None:
        """The language to render the replies in."""
        return self.reply_lang or self.state.lang


def _sensitive(state: State | None, flows: Mapping[str, Flow]) -> bool:
    """In a sensitive flow, or changing language in the middle of one."""
    if state is None:
        return False
    position = state.resume if state.position == LANGUAGE and state.resume else state.position
    return bool(position) and flows[position.partition(".")[0]].sensitive


@lru_cache(maxsize=4096)
def _accepted(translate, languages: tuple[str, ...], msgid: str, context: str | None, literal: bool) -> frozenset[str]:
    """The match keys of every way to say a text in the offered languages, and in Zawgyi spelling
    (catalogs do not change while the process runs, so this is computed once per text)."""
    text = Text(msgid, context=context, literal=literal)
    words = set(msgid.split("|"))
    for lang in languages:
        words.update(translate(lang, text).split("|"))
    words |= {zawgyi_form(word) for word in words}  # as phones typing Zawgyi spell them
    return frozenset(match_key(word) for word in words if word.strip())


class _Turn:
    """Builds the result of one inbound message (notes first, then the next prompt)."""

    def __init__(self, state: State, ctx: Context):
        self.state = state
        self.ctx = ctx
        self.parts: list[Text] = []
        self.options: tuple[Option, ...] = ()
        self.effects: list[Effect] = []
        self.cut = 0  # characters the channel dropped from this message (Inbound.cut)

    @property
    def lang(self) -> str:
        return self.state.lang or self.ctx.default_language

    def say(self, msgid: str, **params) -> None:
        self.parts.append(Text(msgid, params))

    def answers(self, text: Text) -> frozenset[str]:
        """Every word that selects `text`: its English source and each offered translation."""
        return _accepted(self.ctx.translate, self.ctx.languages, text.msgid, text.context, text.literal)

    def options_of(self, step: Step) -> list[tuple[Option, Choice]]:
        if step.choices_from == "languages":
            choices = [Choice(code, Text(self.ctx.language_names[code], literal=True), step.goto or MENU)
                       for code in self.ctx.languages]
        elif step.choices_from == "editable":
            flow = self.ctx.flows[self.state.position.partition(".")[0]]
            choices = [Choice(s.name, s.edit_label, f"{flow.name}.{s.name}") for s in flow.steps if s.edit_label]
        else:
            choices = [choice for choice in step.choices if choice.when is None or choice.when in self.ctx.carries]
        return [(Option(n, c.value, c.label), c) for n, c in enumerate(choices, start=1)]

    def enter(self, target: str, remember: bool = True) -> None:
        """Move to `target` and show its prompt; information steps chain on to the next one."""
        if target == END:
            self.state.position, self.state.history, self.state.draft = None, [], {}
            self.state.resume = self.state.edit_return = None
            self.options = ()
            return
        if target == RESUME:
            target, self.state.resume, remember = self.state.resume or MENU, None, False
        position = qualified(target, self.ctx.flows)
        flow_name = position.partition(".")[0]
        if position == self.state.edit_return:
            self.state.edit_return = None  # reached the review by the ordinary way
        if self.state.edit_return and self.step_at(position).edit_label and position != self.state.position:
            # Changing one answer: once it is given, straight back to the review.
            position, self.state.edit_return, remember = self.state.edit_return, None, False
        requires = self.ctx.flows[flow_name].requires
        resource = getattr(self.ctx, requires) if requires else None
        if requires and (resource is None or not getattr(resource, "available", True)):
            self.say(N_("This is not available yet. Please try again later."))
            position = MENU
        if position == MENU:  # nothing of a flow left behind survives the menu, not even a way back
            self.state.history = []
            self.state.draft = {}
            self.state.edit_return = self.state.resume = None
        elif remember and self.state.position not in (None, position, LANGUAGE) and position != LANGUAGE:
            # The language step is left through RESUME, never through history.
            self.state.history.append(self.state.position)
        self.state.position = position
        self.state.invalid = 0
        self.prompt()

    def step_at(self, position: str) -> Step:
        return find_step(position, self.ctx.flows)

    def prompt(self, again: bool = False) -> None:
        step = self.step_at(self.state.position)
        text = step.again if again and step.again else step.prompt
        params = {"service": self.ctx.service_name}
        if step.params:
            built = self.ctx.builders[step.params](self.state, self.ctx)
            if built is None and step.is_info:  # nothing to say here: straight on
                self.enter(step.goto, remember=False)
                return
            params.update(built)
        self.parts.append(replace(text, params={**params, **text.params}))
        if step.is_info:
            self.enter(step.goto, remember=False)
            return
        self.options = tuple(option for option, _ in self.options_of(step))

    def start(self, first_text: str = "") -> None:
        """A new conversation: in the remembered language, or the one the first message is
        written in; the language question only when neither is known (it costs an SMS)."""
        self.state.history, self.state.draft, self.state.resume = [], {}, None
        self.state.position = self.state.edit_return = None
        if self.state.lang is None and len(self.ctx.languages) > 1 and self.ctx.guess_language:
            self.state.lang = self.ctx.guess_language(first_text)
        if self.state.lang is None and len(self.ctx.languages) > 1:
            self.enter(LANGUAGE, remember=False)
        else:
            self.state.lang = self.lang
            self.enter(MENU)

    def answer(self, text: str) -> None:
        step = self.step_at(self.state.position)
        choice = self.match_choice(step, text) if step.is_choice else None
        if choice is not None:
            return self.choose(step, choice)
        if step.validator is None:
            return self.invalid(Text(N_("Please reply with one of the numbers below.")))
        outcome = self.ctx.validators[step.validator](clean(text), self.ctx, MappingProxyType(self.state.draft))
        if isinstance(outcome, Invalid):
            if outcome.goto:  # start that part again (its prompt follows the reason)
                self.parts.append(outcome.reason)
                return self.enter(outcome.goto, remember=False)
            return self.invalid(outcome.reason)
        self.effects.extend(outcome.effects)
        self.parts.extend(outcome.notes)
        if self.cut:  # the channel kept only the start of a long message: never cut without a word
            self.say(N_("Your message was too long. We kept the first {kept} characters. Please send the rest in "
                        "another message."), kept=Digits(str(len(text))))
        if step.append:
            self.state.draft.setdefault(step.store, []).append(outcome.value)
            self.state.invalid = 0
            return self.prompt(again=True)
        self.state.draft[outcome.store or step.store] = outcome.value
        self.enter(outcome.goto or step.goto)

    def choose(self, step: Step, choice: Choice) -> None:
        if choice.requires and not self.state.draft.get(choice.requires):
            return self.invalid(choice.missing)
        if step.store and not step.append:  # on a collecting step the choice only ends the collection
            self.state.draft[step.store] = choice.value
        for action in (step.action, choice.action):
            if action:
                ACTIONS[action](self, step, choice)
        if step.choices_from == "editable":
            review = self.state.position.rsplit(".", 1)[0] + ".review"
            self.enter(choice.goto)
            self.state.edit_return = review
            return
        self.enter(choice.goto)

    def match_choice(self, step: Step, text: str) -> Choice | None:
        number, key = read_number(text), match_key(text)
        for option, choice in self.options_of(step):
            if number == option.number:
                return choice
            words = self.answers(choice.label) | {match_key(choice.value)}
            if choice.answers is not None:
                words |= self.answers(choice.answers)
            if key and key in words:
                return choice
        return None

    def invalid(self, reason: Text) -> None:
        self.state.invalid += 1
        self.parts.append(reason)
        if self.state.invalid >= INVALID_BEFORE_MENU_HINT:
            self.say(N_("Need help? Send {menu} for the main menu or {help} for help."),
                     menu=Keyword("menu"), help=Keyword("help"))
        step = self.step_at(self.state.position)
        self.prompt(again=bool(step.append and self.state.draft.get(step.store)))

    def keyword(self, text: str) -> str | None:
        key = match_key(text)
        if not key:
            return None
        for name, words in self.ctx.keywords.items():
            if key in self.answers(words):
                return name
        return None

    def result(self) -> Result:
        replies = [Outbound(tuple(self.parts), self.options)] if self.parts else []
        return Result(self.state, replies, tuple(self.effects))


def _set_language(turn: _Turn, step: Step, choice: Choice) -> None:
    turn.state.lang = choice.value


def _submit(turn: _Turn, step: Step, choice: Choice) -> None:
    turn.effects.append(SubmitReport(dict(turn.state.draft), turn.ctx.receipt))


def _request_change(turn: _Turn, step: Step, choice: Choice) -> None:
    """A choice step whose `store` names the field a person changes (education, language…)."""
    turn.effects.append(RequestChange(proved_registration(turn.state.draft), step.store, choice.value))


def _erase(turn: _Turn, step: Step, choice: Choice) -> None:
    turn.effects.append(EraseRegistration(proved_registration(turn.state.draft)))


# What a step's or a choice's `action` does when a choice is made (flows name them).
ACTIONS: dict[str, Callable[[_Turn, Step, Choice], None]] = {
    "set_language": _set_language,
    "submit": _submit,
    "request_change": _request_change,
    "erase": _erase,
}


def step(state: State | None, inbound: Inbound, ctx: Context) -> Result:
    """Advance one conversation by one inbound message."""
    was_sensitive = _sensitive(state, ctx.flows)
    result = _step(state, inbound, ctx)
    is_sensitive = _sensitive(result.state, ctx.flows)
    wipe = (Wipe(),) if was_sensitive and not is_sensitive else ()
    return replace(result, effects=result.effects + wipe, inbound_sensitive=was_sensitive or is_sensitive,
                   replies_sensitive=is_sensitive)


def _step(state: State | None, inbound: Inbound, ctx: Context) -> Result:
    state = State.from_json(state.to_json()) if state else State()  # never mutate the caller's
    ctx = replace(ctx, carries=inbound.carries)
    if state.lang is not None and state.lang not in ctx.languages:
        state.lang, state.position = None, None  # withdrawn by the operator: start again
    turn = _Turn(state, ctx)
    turn.cut = inbound.cut
    now = inbound.received_at
    timed_out = bool(state.position and state.last_active and now - state.last_active > ctx.timeout)
    state.last_active = now

    keyword = turn.keyword(inbound.text)
    if keyword == "exit":
        # Forget everything kept for the sender, the language too: the next person holding the
        # phone is answered as a first contact. This answer is still in the language it ended in.
        turn.say(N_("Ended. This conversation was deleted."))
        turn.effects.append(Ended())
        turn.state = State()
        return replace(turn.result(), reply_lang=state.lang)

    if timed_out:
        turn.say(N_("We started again because there was no reply for a while."))
        state.position = None
    if state.position is None:
        if keyword == "language":
            turn.enter(LANGUAGE, remember=False)
        else:
            turn.start(inbound.text)
        return turn.result()

    if inbound.media_count:
        turn.say(N_("We can only read text. Please type your answer."))
        turn.prompt()
    elif keyword == "menu":
        turn.enter(MENU)
    elif keyword == "back":
        if state.position == LANGUAGE:
            turn.enter(RESUME)
        elif state.history:
            turn.enter(state.history.pop(), remember=False)
        else:
            turn.prompt()
    elif keyword == "help":
        turn.say(N_("{menu}: main menu. {back}: go back. {language}: change language. "
                    "{exit}: end and delete this chat."),
                 menu=Keyword("menu"), back=Keyword("back"), language=Keyword("language"),
                 exit=Keyword("exit"))
        turn.prompt()
    elif keyword == "language":
        if state.position != LANGUAGE:
            state.resume = state.position
        turn.enter(LANGUAGE, remember=False)
    else:
        turn.answer(inbound.text)
    return turn.result()
