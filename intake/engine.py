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

from i18n.languages import GREETINGS
from i18n.natural_answers import AFFIRMATIVE, Answers, answer_key, shipped as shipped_answers
from i18n.normalise import as_typed, clean, match_key, read_number
from i18n.zawgyi import LANGUAGE as ZAWGYI_LANGUAGE, myanmar_letters, should_convert, zawgyi_form, zawgyi_probability
from intake.flows import END, FLOWS, KEYWORDS, LANGUAGE, MENU, RESUME, Choice, Flow, Step, find_step, qualified
from i18n.text import N_, Digits, Keyword, Option, Outbound, Text
from intake.effects import Effect, EraseRegistration, RequestChange, SubmitReport, Wipe, Ended
from intake.messages import DRAFT_MEDIA, MAX_MEDIA_ITEMS, MEDIA_KINDS, Inbound
from intake.ports import Directory, FollowUp, Registry
from intake.prompts import BUILDERS
from intake.report import AS_TYPED
from intake.registration import proved_registration
from intake.state import State
from intake.validators import VALIDATORS, Invalid

# After this many invalid answers in a row, every re-prompt also points to MENU and HELP.
INVALID_BEFORE_MENU_HINT = 3
# How much Myanmar text (letters and marks, not digits) a message needs before it tells how the
# person's phone writes Burmese: a menu number or a one-word answer says nothing, so it never
# flips the replies back and forth. Back to Unicode only when the detector is sure of it.
ENCODING_EVIDENCE = 8
UNICODE_BELOW = 0.05
# Why a voice note or photo was not kept (`intake.messages.Media.problem`, or too many already).
MEDIA_REFUSED = {
    "too_big": N_("That file is too big. Please send a shorter one."),
    "failed": N_("We could not get that file. Please send it again."),
    "not_fetched": N_("We could not get that file. Please send it again."),
    "unsupported": N_("We can take text, voice notes and photos only."),
    "text_only": N_("We can only read text. Please type your answer."),
    "too_many": N_("We cannot take more files for this report."),
}


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
    # The natural answers people give at a choice, beside its number and label ("ok", "yes please",
    # "ဟုတ်ပါတယ်", "don't contact me"): i18n/answers, the shipped lists unless a host gives its own.
    # None: only numbers, labels and the catalogs' answer words (how the engine read replies before).
    answers: Answers | None = field(default_factory=shipped_answers)

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


@lru_cache(maxsize=64)
def _zawgyi_greetings(translate, languages: tuple[str, ...]) -> frozenset[str]:
    """Greetings as only a Zawgyi phone spells them: a first `မဂၤလာပါ` is too short for the
    detector, but says how the phone writes."""
    words = {word for lang in languages for word in translate(lang, GREETINGS).split("|") if word.strip()}
    return frozenset({match_key(zawgyi_form(word)) for word in words} - {match_key(word) for word in words})


@lru_cache(maxsize=4096)
def _choice_words(answers: Answers | None, translate, languages: tuple[str, ...], position: str, value: str,
                  texts: tuple[tuple[str, str | None, bool], ...], languages_step: bool) -> frozenset[str]:
    """Every key that picks one choice: its value, its label and answer words in every offered
    language (and their Zawgyi spelling), and the natural answers listed for it (by value, and for
    this step); for the language question, the names people type for the language."""
    keys = {match_key(value)}
    for msgid, context, literal in texts:
        keys |= _accepted(translate, languages, msgid, context, literal)
    if answers is None:
        return frozenset(keys)
    words = {answer_key(key) for key in keys} | answers.words(languages, position, value)
    if languages_step:
        words |= answers.language_names(languages, value)
    return frozenset(word for word in words if word)


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

    def follow_encoding(self, text: str) -> None:
        """Note how the person's phone writes Burmese, from what they typed (unless they chose):
        Zawgyi when there is enough text and i18n.zawgyi would convert it, or when it greets in
        Zawgyi spelling; Unicode again only when the detector is sure. The first reply in Zawgyi
        says how to switch back."""
        if self.state.encoding_chosen:
            return
        typed = as_typed(text)
        enough = myanmar_letters(typed) >= ENCODING_EVIDENCE
        greeting = self.state.position is None and match_key(typed) in _zawgyi_greetings(self.ctx.translate,
                                                                                          self.ctx.languages)
        if (enough and should_convert(typed)) or greeting:
            if self.state.encoding != "zawgyi" and self.state.lang in (None, ZAWGYI_LANGUAGE):  # replies change
                self.say(N_("Replies are in Zawgyi now. For Unicode, send {unicode}."), unicode=Keyword("unicode"))
            self.state.encoding = "zawgyi"
        elif enough and zawgyi_probability(typed) < UNICODE_BELOW:
            self.state.encoding = "unicode"

    def choose_encoding(self, encoding: str) -> None:
        """UNICODE or ZAWGYI: the replies follow that from now on, whatever the text looks like."""
        self.state.encoding, self.state.encoding_chosen = encoding, True
        if encoding == "zawgyi":
            self.say(N_("Replies are in Zawgyi now. For Unicode, send {unicode}."), unicode=Keyword("unicode"))
        else:
            self.say(N_("Replies are in Unicode now. For Zawgyi, send {zawgyi}."), zawgyi=Keyword("zawgyi"))

    def keep_typed(self, typed: str, cleaned: str, value: object) -> None:
        """Keep what the person typed beside the Unicode it became, when they differ."""
        if typed != cleaned and isinstance(value, str):
            self.state.draft.setdefault(AS_TYPED, {})[value] = typed  # see intake.report.sealed_content

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
        cleaned = clean(text, zawgyi=self.state.encoding == "zawgyi")
        outcome = self.ctx.validators[step.validator](cleaned, self.ctx, MappingProxyType(self.state.draft))
        if isinstance(outcome, Invalid):
            if outcome.goto:  # start that part again (its prompt follows the reason)
                self.parts.append(outcome.reason)
                return self.enter(outcome.goto, remember=False)
            return self.invalid(outcome.reason)
        self.effects.extend(outcome.effects)
        self.parts.extend(outcome.notes)
        self.keep_typed(as_typed(text), cleaned, outcome.value)
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
        if choice.requires and not self.state.draft.get(choice.requires) \
                and not (step.media and self.state.draft.get(DRAFT_MEDIA)):
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
        """The choice a reply picks: its number, or exactly one of its words (never part of a
        word, so "ဟုတ်" cannot be read inside "မဟုတ်ပါဘူး"); None when no choice, or more than one,
        fits (better to ask again than to guess)."""
        options = self.options_of(step)
        number = read_number(text)
        for option, choice in options:
            if number == option.number:
                return choice
        answers = self.ctx.answers
        if answers is None:
            key = match_key(text)
            forms = frozenset({key} if key else ())
        else:
            forms = answers.forms(text, self.ctx.languages)
        if not forms:
            return None
        position = self.state.position or qualified(step.name, self.ctx.flows)
        words = {}
        for _, choice in options:
            texts = tuple((t.msgid, t.context, t.literal) for t in (choice.label, choice.answers) if t is not None)
            words[choice.value] = _choice_words(answers, self.ctx.translate, self.ctx.languages, position,
                                                choice.value, texts, step.choices_from == "languages")
        picked = {value for value, keys in words.items() if forms & keys}
        if not picked and answers is not None:
            # Two or three whole answers in a row ("yes, sure", "no, don't call me"): each part must
            # pick the same one choice, else nothing is read.
            for parts in answers.parts(text, self.ctx.languages):
                readings = [{value for value, keys in words.items() if part & keys} for part in parts]
                if all(len(reading) == 1 for reading in readings) and len(set().union(*readings)) == 1:
                    picked |= readings[0]
        if len(picked) != 1:
            return None
        value = picked.pop()
        choice = next(choice for _, choice in options if choice.value == value)
        if answers is not None and choice.value in AFFIRMATIVE and answers.negated(text):
            return None  # a negated reply never says yes, whatever a list says
        return choice

    def media(self, inbound: Inbound) -> None:
        """Voice notes and photos: kept (their descriptors, with the host's handles) at a step
        that takes them, with any caption as a typed answer; elsewhere, a word on where they are
        taken. Every item not kept says why, in the person's language."""
        step = self.step_at(self.state.position)
        if not step.media:
            takes = any(item.kind in MEDIA_KINDS and item.problem not in ("unsupported", "text_only")
                        for item in inbound.media)
            self.say(N_("Please type your answer. You can send a voice note or photo when you tell us what "
                        "happened.") if takes else N_("We can only read text. Please type your answer."))
            return self.prompt()
        kept = self.state.draft.setdefault(DRAFT_MEDIA, [])
        reasons: list[str] = []
        taken = 0
        for item in inbound.media:
            if item.kept and len(kept) < MAX_MEDIA_ITEMS:
                kept.append({"ref": item.ref, "key": item.key, "kind": item.kind,
                             "content_type": item.content_type, "size": item.size})
                taken += 1
                continue
            reason = "too_many" if item.kept else item.problem
            if reason not in reasons:
                reasons.append(reason)
        for reason in reasons:
            self.parts.append(Text(MEDIA_REFUSED.get(reason, MEDIA_REFUSED["unsupported"])))
        if not kept:
            self.state.draft.pop(DRAFT_MEDIA)
        if inbound.text.strip():  # a caption is part of the account
            return self.answer(inbound.text)
        if taken:
            self.state.invalid = 0
            return self.prompt(again=True)
        self.state.invalid += 1  # nothing kept: the question again, not "Received"
        self.prompt()

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
        # How the phone writes Burmese belongs to the phone, not to the conversation that ended.
        turn.state.encoding, turn.state.encoding_chosen = state.encoding, state.encoding_chosen
        return replace(turn.result(), reply_lang=state.lang)

    if keyword in ("unicode", "zawgyi"):
        turn.choose_encoding(keyword)
    else:
        turn.follow_encoding(inbound.text)

    if timed_out:
        turn.say(N_("We started again because there was no reply for a while."))
        state.position = None
    if state.position is None:
        if keyword == "language":
            turn.enter(LANGUAGE, remember=False)
        else:
            turn.start(inbound.text)
        return turn.result()

    if inbound.media:
        turn.media(inbound)
    elif keyword in ("unicode", "zawgyi"):
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
