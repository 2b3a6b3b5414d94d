"""Playing a report the way a person does, on any channel, with answers keyed by step name.

The player reads each reply, recognises which question of the flow it asks (by the question's
wording in the shipped catalogs, in every language), and answers it from a table keyed by the
step names of `intake.flows` (`danger`, `organisation`, `account`, ...). A choice is picked by its
label (the flow's label, translated, looked up among the options the reply offers) and sent as
its number, typed or pressed as the channel does it; anything else is typed. Adding a question to
the flow therefore means one line in `REPORT_ANSWERS` below, not an edit of every test.

    player = play_report(Sms(phone), organisation="EHP", child="yes")  # a whole report
    player.receipt                                   # "482109375566"
    player = Player(Telegram(person), language="my")
    player.play(until="review")                      # stop when the review is asked
    assert "Demo Relief Agency" in player.reply.text
    player.play()                                    # answer the review ("send") and so on

An answer is a choice value of the step ("no", "this_month", "send"; for the change step the name
of the step to change, for the language step a language code), `Typed(text)` to type it
whatever it says, or any other text, which is typed. A list answers the step's visits in order
(the account's parts; a second visit after "Change an answer"). A collecting step (`append`, the
account) whose answers do not end with a choice is ended with its own choice ("I have finished").

Adapters: `Sms` for the Twilio webhook (`tests.conftest.Phone`, `tests.support.http_clients.HttpPhone`,
replies inline or through the fake Twilio API), `Telegram` for a `tests.support.telegram_chat.Person`
(buttons pressed, or numbers typed), `Lines` for anything that answers text with text (the pure
engine). Each keeps a transcript of both sides of the conversation.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, Sequence, Union

from i18n.catalogs import Catalogs
from i18n.languages import own_name
from i18n.text import Text
from i18n.zawgyi import _to_unicode, should_convert, zawgyi_form
from intake.flows import END, FLOWS, LANGUAGE, MENU, REPORT, Step, find_step

ASCII_DIGITS = "0123456789"
MYANMAR_DIGITS = "၀၁၂၃၄၅၆၇၈၉"


@dataclass(frozen=True)
class Typed:
    """Type this text, even if it is also the value of one of the step's choices."""

    text: str


Move = Union[str, Typed]
Answer = Union[Move, Sequence[Move]]

# The answers of a whole report, keyed by the step names of intake.flows.REPORT: the one place to
# add a new question's answer. Unvisited steps' answers are not used (no contact: no number).
# The organisation and places are tests.support.directory's.
REPORT_ANSWERS: dict[str, Answer] = {
    "danger": "no",
    "organisation": "Demo Relief Agency",
    "organisation_confirm": "yes",
    "organisation_unlisted": "typed",
    "account": "Someone from the distribution asked me for money.",
    "when": "this_month",
    "where": "Sittwe",
    "affected": "self",
    "child": "no",
    "contact": "no",
    "contact_how": "this_number",
    "contact_number": "09 4501 2345",
    "review": "send",
    "cancel_confirm": "yes",
}


@dataclass(frozen=True)
class Writer:
    """How someone writing in one language types a report: the first message, the organisation
    and the place as they would type them, the account, and the digits they type numbers in."""

    language: str
    greeting: str
    organisation: str
    account: str
    place: str
    digits: str = ASCII_DIGITS

    def answers(self) -> dict[str, Answer]:
        return {"organisation": self.organisation, "account": self.account, "where": self.place}


# One writer per offered language, and Burmese typed in Zawgyi (it arrives in the report in Unicode).
WRITERS: dict[str, Writer] = {
    "en": Writer("en", "hello", "Demo Relief", "He asked me for money to stay on the list.", "Sittwe"),
    "my": Writer("my", "မင်္ဂလာပါ", "ဒီမို ကယ်ဆယ်ရေး", "စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။", "စစ်တွေ", MYANMAR_DIGITS),
    "my-zawgyi": Writer("my", zawgyi_form("မင်္ဂလာပါ"), zawgyi_form("ဒီမို ကယ်ဆယ်ရေး"),
                        zawgyi_form("စာရင်းမှာ ဆက်ရှိဖို့ ငွေတောင်းတယ်။"), zawgyi_form("စစ်တွေ"), MYANMAR_DIGITS),
    "kac": Writer("kac", "kaja ai i", "DRA", "Ngai hpe ja hpyi ai.", "Sittwe"),
    "ksw": Writer("ksw", "ဂီၤလၢအဂ့ၤ", "DRA", "အဝဲယ့ၣ်ကျိၣ်စ့ လၢယၤ.", "Sittwe", MYANMAR_DIGITS),
    "shn": Writer("shn", "မႂ်ႇသုင်", "DRA", "မၼ်းယွၼ်းငိုၼ်း ၵဝ်ယူႇ။", "Sittwe"),
}


class PlayError(AssertionError):
    """The conversation went somewhere the answers did not foresee."""


@dataclass(frozen=True)
class Reply:
    """What the service answered one message: every message's text joined by new lines, the
    numbered options of the last one, and what the channel returned (`raw`)."""

    text: str
    options: tuple[tuple[int, str], ...]
    raw: object = None


# ---- recognising the question a reply asks -------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_OPTION = re.compile(r"^(\d+)\. (.+)$")
# A receipt number as the bot shows it: 18 digits in six groups of three ("482 109 375 566 123
# 456"), or a receipt of before, 16 or 12 digits in groups of four ("4821 0937 5566").
_RECEIPT = re.compile(r"(?<!\d)(?:\d{3}(?: \d{3}){5}|\d{4}(?: \d{4}){2,3})(?!\d)")


def _terminal(step: Step) -> bool:
    return step.is_info and step.goto == END


def _pattern(template: str) -> tuple[re.Pattern, int]:
    """A prompt template as a regular expression over whole lines, and how many of its characters
    are literal (the more, the more specific). A placeholder alone on its lines (a list: the
    emergency lines, the review's summary) takes any number of lines, others part of one line."""
    parts, literal, position = [], 0, 0
    for match in _PLACEHOLDER.finditer(template):
        before = template[position:match.start()]
        parts.append(re.escape(before))
        literal += len(before)
        alone = (match.start() == 0 or template[match.start() - 1] == "\n") and \
                (match.end() == len(template) or template[match.end()] == "\n")
        parts.append(r"(?s:.+)" if alone else r"[^\n]+?")
        position = match.end()
    parts.append(re.escape(template[position:]))
    literal += len(template) - position
    return re.compile(r"(?m)^" + "".join(parts) + r"$"), literal


@lru_cache(maxsize=1)
def catalogs() -> Catalogs:
    return Catalogs()


@lru_cache(maxsize=1)
def _prompts() -> tuple[tuple[str, re.Pattern, int], ...]:
    """(position, pattern, literal length) for every question a person answers in the report and
    on the way to it, and the report's endings, in every shipped language."""
    found = []
    for flow in (FLOWS["language"], FLOWS["menu"], REPORT):
        for step in flow.steps:
            if step.is_info and not _terminal(step):
                continue  # shown on the way to the next question, never where a conversation waits
            for text in (step.prompt, step.again):
                if text is None:
                    continue
                templates = {text.msgid} | {catalogs().translate(code, text) for code in catalogs().shipped}
                for template in templates:
                    found.append((f"{flow.name}.{step.name}", *_pattern(template)))
    return tuple(found)


def read_zawgyi(reply: Reply) -> Reply:
    """A reply written for a Zawgyi phone, read back in Unicode (ICU's Zawgyi-my on all of it)."""
    convert = _to_unicode().transliterate
    return Reply(convert(reply.text), tuple((number, convert(label)) for number, label in reply.options), reply.raw)


def recognise(text: str) -> str | None:
    """The position ("report.when") whose question the reply asks last, or None."""
    best = None
    for position, pattern, literal in _prompts():
        for match in pattern.finditer(text):
            rank = (match.end(), literal)
            if best is None or rank > best[0]:
                best = (rank, position)
    return best[1] if best else None


def options_in(lines: Sequence[str]) -> tuple[tuple[int, str], ...]:
    """The numbered options ("2. No", "၂. No") at the end of a message or on its buttons."""
    found = []
    for line in reversed(lines):
        match = _OPTION.match(line)
        if not match:
            break
        found.append((int(match[1]), match[2]))
    return tuple(reversed(found))


def choice_labels(position: str, value: str) -> list[Text] | None:
    """The labels a choice value goes by on a step (None: not a choice of that step)."""
    step = find_step(position)
    if step.choices_from == "languages":
        return [Text(own_name(value), literal=True)] if value in catalogs().shipped else None
    if step.choices_from == "editable":
        flow = FLOWS[position.partition(".")[0]]
        return [s.edit_label for s in flow.steps if s.name == value and s.edit_label] or None
    return [choice.label for choice in step.choices if choice.value == value] or None


# ---- the player ------------------------------------------------------------------------------------


def qualify(name: str) -> str:
    """"danger" -> "report.danger"; "menu.main" unchanged."""
    return name if "." in name else f"{REPORT.name}.{name}"


def _moves(position: str, answer: Answer) -> list[Move]:
    moves = [answer] if isinstance(answer, (str, Typed)) else list(answer)
    step = find_step(position)
    if step.append and step.is_choice and len(step.choices) == 1 and \
            not (moves and isinstance(moves[-1], str) and choice_labels(position, moves[-1])):
        moves.append(step.choices[0].value)  # the account's parts, then "I have finished"
    return moves


class Player:
    """Plays one conversation into the report flow over `channel`, answering each question from
    `answers` (step name -> answer, over REPORT_ANSWERS). `language` is the conversation's:
    chosen at the language question if it is asked, and the one option labels are read in."""

    def __init__(self, channel, *, language: str = "en", greeting: str = "hello",
                 answers: Mapping[str, Answer] | None = None, **more: Answer):
        self.channel = channel
        self.language = language
        self.greeting = greeting
        table = {LANGUAGE: language, MENU: "report", **REPORT_ANSWERS, **(answers or {}), **more}
        unknown = [name for name in table if not _known(qualify(name))]
        if unknown:
            raise KeyError(f"no such step in the flows: {', '.join(unknown)}")
        self.answers = {qualify(name): _moves(qualify(name), answer) for name, answer in table.items()}
        self.used: dict[str, int] = {}
        self.zawgyi_replies = 0  # replies that were written in Zawgyi (read back in Unicode)
        self.heard = 0  # replies in all
        self.reply: Reply | None = None
        self.position: str | None = None

    @property
    def transcript(self) -> list[str]:
        return self.channel.transcript

    @property
    def receipt(self) -> str | None:
        """The receipt number the last reply gave, digits only (in the digits it was written in)."""
        match = _RECEIPT.search(self.reply.text if self.reply else "")
        return match[0].replace(" ", "") if match else None

    @property
    def finished(self) -> bool:
        return self.position is not None and _terminal(find_step(self.position))

    def _heard(self, reply: Reply) -> Reply:
        if should_convert("\n".join([reply.text, *(label for _, label in reply.options)])):
            # written for a Zawgyi phone: read it back as the flow's texts are written
            reply = read_zawgyi(reply)
            self.zawgyi_replies += 1
        self.heard += 1
        self.reply = reply
        self.position = recognise(reply.text)
        if self.position is None:
            raise PlayError("the reply asks no question of the flow:\n" + self._story())
        return reply

    def _story(self) -> str:
        return "\n".join(self.transcript[-40:])

    def move(self) -> Reply:
        """Answer the question the conversation is at (the first move sends the greeting)."""
        if self.reply is None:
            return self._heard(self.channel.send(self.greeting))
        position = self.position
        if self.finished:
            raise PlayError(f"the conversation is over ({position}):\n" + self._story())
        moves = self.answers.get(position)
        if moves is None:
            raise PlayError(f"no answer for {position}: add one to tests/support/play.py REPORT_ANSWERS\n"
                            + self._story())
        done = self.used.get(position, 0)
        if done >= len(moves):
            raise PlayError(f"{position} is asked again ({done + 1} times) and no answer is left for it:\n"
                            + self._story())
        self.used[position] = done + 1
        move = moves[done]
        labels = choice_labels(position, move) if isinstance(move, str) else None
        if labels is None:
            return self._heard(self.channel.send(move.text if isinstance(move, Typed) else move))
        return self._heard(self.channel.choose(self.reply, self._number(labels, move)))

    def _number(self, labels: list[Text], value: str) -> int:
        """The number of the option offered with one of `labels`: as the conversation's language
        says it, else as any shipped language does."""
        offered = dict((label, number) for number, label in self.reply.options)
        for codes in ((self.language,), catalogs().shipped):
            for label in labels:
                for code in codes:
                    said = catalogs().translate(code, label)
                    if said in offered:
                        return offered[said]
        raise PlayError(f"{self.position}: no option for {value!r} among {list(offered)}:\n" + self._story())

    def play(self, until: str | None = None) -> Reply:
        """Answer question after question until the conversation is at `until` (a step name of
        the report, or "menu.main"), or, without `until`, until the report is sent or cancelled.
        Returns the last reply."""
        target = qualify(until) if until else None
        if target and not _known(target):
            raise KeyError(f"no such step in the flows: {until}")
        while self.reply is None or self.position != target:
            if self.finished:
                if target:
                    raise PlayError(f"the conversation ended before {target}:\n" + self._story())
                break
            self.move()
        return self.reply


def _known(position: str) -> bool:
    try:
        find_step(position)
    except KeyError:
        return False
    return True


def play_report(channel, *, until: str | None = None, **options) -> Player:
    """A whole report (or one played until a question) over `channel`; returns the player, whose
    `reply` is the last answer (the receipt) and `receipt` its number. Options: Player's."""
    player = Player(channel, **options)
    player.play(until)
    return player


def masked(lines: Sequence[str]) -> list[str]:
    """A transcript with its receipt number masked, so that it can be compared from run to run."""
    return [_RECEIPT.sub(lambda match: re.sub(r"\d", "#", match[0]), line) for line in lines]


# ---- channels --------------------------------------------------------------------------------------


def _number_in(digits: str, number: int) -> str:
    return str(number).translate(str.maketrans(ASCII_DIGITS, digits))


class Lines:
    """A channel that answers each text with message bodies: `exchange(text) -> str | list[str]`
    (the pure engine's `Chat.send`). Numbers are typed in `digits`."""

    def __init__(self, exchange: Callable[[str], object], *, digits: str = ASCII_DIGITS):
        self.exchange = exchange
        self.digits = digits
        self.transcript: list[str] = []
        self.exchanges: list[tuple[str, list[str]]] = []  # (what was sent, the bodies answered)

    def bodies(self, text: str) -> list[str]:
        answer = self.exchange(text)
        return [answer] if isinstance(answer, str) else list(answer)

    def send(self, text: str) -> Reply:
        self.transcript.append(f"> {text}")
        bodies = self.bodies(text)
        self.exchanges.append((text, bodies))
        for body in bodies:
            self.transcript.extend(f"< {line}" for line in body.split("\n"))
            self.transcript.append("<")
        return Reply("\n".join(bodies), options_in(bodies[-1].split("\n")) if bodies else (), bodies)

    def choose(self, reply: Reply, number: int) -> Reply:
        return self.send(_number_in(self.digits, number))


def twiml_bodies(response) -> list[str]:
    """The <Message> bodies of a TwiML answer (a Flask test response or a requests one)."""
    data = response.data if hasattr(response, "data") else response.content
    root = ET.fromstring(data)
    assert root.tag == "Response", data
    return [element.text or "" for element in root.findall("Message")]


class Sms(Lines):
    """A phone texting the Twilio webhook (`Phone`, or `HttpPhone` over real HTTP): every
    message must be answered 200 with TwiML. With `twilio` (a FakeTwilio) the replies that went
    through the outbox (SMS_REPLY_MODE=outbox) are read from what it delivered to the phone.
    `sids` are the MessageSids sent."""

    def __init__(self, phone, *, digits: str = ASCII_DIGITS, twilio=None):
        super().__init__(self._exchange, digits=digits)
        self.phone = phone
        self.twilio = twilio
        self.sids: list[str] = []

    def _exchange(self, text: str) -> list[str]:
        params = self.phone.params(text)
        self.sids.append(params["MessageSid"])
        before = len(self.twilio.delivered) if self.twilio else 0
        response = self.phone.post(params)
        assert response.status_code == 200, (response.status_code, text)
        bodies = twiml_bodies(response)
        if self.twilio is not None:
            bodies += [sent.body for sent in self.twilio.delivered[before:] if sent.to == self.phone.number]
        return bodies


class Telegram:
    """A person in a private chat with the bot (`tests.support.telegram_chat.Person`): choices
    are pressed on the buttons, or with `press=False` typed as numbers in `digits`."""

    def __init__(self, person, *, press: bool = True, digits: str = ASCII_DIGITS):
        self.person = person
        self.press = press
        self.digits = digits
        self.transcript: list[str] = []

    def _heard(self, messages: list[dict]) -> Reply:
        options = ()
        for message in messages:
            self.transcript.extend(f"< {line}" for line in message["text"].split("\n"))
            labels = [row[0]["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", [])]
            self.transcript.extend(f"< [{label}]" for label in labels)
            self.transcript.append("<")
            if labels:
                options = options_in(labels)
        return Reply("\n".join(m["text"] for m in messages), options, messages)

    def send(self, text: str) -> Reply:
        self.transcript.append(f"> {text}")
        return self._heard(self.person.say(text))

    def choose(self, reply: Reply, number: int) -> Reply:
        if not self.press:
            return self.send(_number_in(self.digits, number))
        [keyboard] = [m for m in reply.raw if m.get("reply_markup")][-1:]
        index = [n for n, _ in options_in([row[0]["text"] for row in
                                           keyboard["reply_markup"]["inline_keyboard"]])].index(number)
        self.transcript.append(f"> [{keyboard['reply_markup']['inline_keyboard'][index][0]['text']}]")
        return self._heard(self.person.press(keyboard, index + 1))
