"""How many answers, typed as people type them, the engine understands: the answer set
(tests/data/answer_set.tsv: language, question, typed answer, expected choice or "refuse") played
through the real engine (`intake.engine.step`, the shipped flows' questions and words, the shipped
catalogs and natural-answer lists) at each question. Prints, per language and per question, the
answers understood correctly, those refused, and the FALSE ACCEPTS (an answer read as a choice it
does not mean, or one that should have been refused): the figure that must stay 0. With
`--compare`, the same before the natural-answer lists (numbers, labels and catalog words only,
places and organisations compared as typed).

    .venv/bin/python tests/benchmarks/answer_acceptance.py [--compare] [--before] [--markdown]

Places and organisations are matched against the demo gazetteer and directory (storage/demo) and
two more organisations with Burmese names (`EXTRA_ORGANISATIONS`), through `intake.matching` as
`storage.directory_lookup` calls it.

How a reply is read back: each question is asked in a copy of its flow whose choices and typed
answers lead to a marker step of their own, so the step the engine moves to names the choice
(the words, labels and questions are the shipped ones; only where they lead differs).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from i18n.catalogs import Catalogs  # noqa: E402
from i18n.languages import own_name  # noqa: E402
from i18n.text import Text  # noqa: E402
from i18n.zawgyi import zawgyi_form  # noqa: E402
from intake import engine  # noqa: E402
from intake.engine import Context  # noqa: E402
from intake.flows import FLOWS, Flow, Step  # noqa: E402
from intake.matching import Candidate, best_match, shipped_rules  # noqa: E402
from intake.messages import Inbound  # noqa: E402
from intake.registration import IDENTITY, identity_of  # noqa: E402
from intake.state import State  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ANSWER_SET = REPO / "tests" / "data" / "answer_set.tsv"
DEMO = REPO / "storage" / "demo"
REFUSE = "refuse"
YES_NO = ("report.danger", "report.child", "report.contact")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
# Organisations people name by a Burmese name or acronym, beside the demo directory's.
EXTRA_ORGANISATIONS = [
    ("WFP", "World Food Programme", "ကမ္ဘာ့စားနပ်ရိက္ခာအစီအစဉ်;World Food Program"),
    ("UNHCR", "UN Refugee Agency", "ကုလသမဂ္ဂ ဒုက္ခသည်များဆိုင်ရာ မဟာမင်းကြီးရုံး;UN Refugee Agency"),
]


@dataclass(frozen=True)
class Entry:
    line: int
    language: str
    question: str  # "flow.step"
    text: str
    expected: str  # a choice value, a P-code or acronym for typed places and organisations, or "refuse"


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    got: str  # what the engine read ("refuse" when it asked again)

    @property
    def correct(self) -> bool:
        return self.got == self.entry.expected

    @property
    def false_accept(self) -> bool:
        return self.got != REFUSE and self.got != self.entry.expected


def read_set(path: Path = ANSWER_SET) -> list[Entry]:
    """The answer set; a typed answer written `zawgyi:…` is that Unicode text typed in Zawgyi."""
    entries = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or row[0].startswith("#") or row[0] == "language":
                continue
            if len(row) != 4:
                raise ValueError(f"{path.name} line {number}: 4 tab-separated columns expected, got {len(row)}")
            language, question, text, expected = row
            if text.startswith("zawgyi:"):
                text = zawgyi_form(text.removeprefix("zawgyi:"))
            entries.append(Entry(number, language, question, text, expected))
    return entries


# ---- the directory the place and organisation questions are matched against -------------------

class DemoDirectory:
    """The demo gazetteer and directory, looked up as storage.directory_lookup does (pure)."""

    available = True

    def __init__(self, natural: bool = True):
        self.natural = natural
        with (DEMO / "townships.csv").open(encoding="utf-8") as handle:
            self.townships = list(csv.DictReader(handle))
        organisations = {}
        with (DEMO / "directory.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                organisations[row["acronym"]] = (row["organisation"], row["aliases"])
        for acronym, name, aliases in EXTRA_ORGANISATIONS:
            organisations[acronym] = (name, aliases)
        self.organisations = organisations

    @staticmethod
    def _names(*names: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*names, *(zawgyi_form(name) for name in names if name)]))

    def match_organisation(self, text):
        candidates = [Candidate(acronym, self._names(name, acronym, *_split(aliases)), acronyms=(acronym,))
                      for acronym, (name, aliases) in self.organisations.items()]
        if not self.natural:  # as before: no acronym spelling, no affixes taken off
            candidates = [replace(candidate, acronyms=()) for candidate in candidates]
        key = best_match(text, candidates, shipped_rules("organisations") if self.natural else None)
        return None if key is None else {"id": key, "name": key}

    def match_township(self, text):
        candidates = [Candidate(t["pcode"], self._names(t["name_en"], t["name_my"], t["pcode"],
                                                        *(_split(t.get("aliases")) if self.natural else ())))
                      for t in self.townships]
        key = best_match(text, candidates, shipped_rules("places") if self.natural else None)
        return None if key is None else {"pcode": key, "state_pcode": key[:6], "name_en": key, "name_my": key}

    def emergency_contacts(self, lang):
        return "(demo)"


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(";") if part.strip())


# ---- asking one question, and reading back which choice the engine took -----------------------

PROBE = "probe"


def _marker(position: str, value: str) -> str:
    return f"{PROBE}.{position.replace('.', '-')}-{value}"


@lru_cache(maxsize=1)
def probe_flows() -> dict[str, Flow]:
    """The shipped flows, each choice and typed answer leading to a marker step of its own."""
    flows, markers = {}, []
    for flow in FLOWS.values():
        steps = []
        for step in flow.steps:
            position = f"{flow.name}.{step.name}"
            choices = tuple(replace(choice, goto=_marker(position, choice.value), action=None, requires=None)
                            for choice in step.choices)
            markers += [choice.goto for choice in choices]
            goto = step.goto
            if step.is_choice or step.validator:
                goto = _marker(position, "typed") if step.goto else None
                if goto:
                    markers.append(goto)
            action = step.action if step.action == "set_language" else None
            steps.append(replace(step, choices=choices, goto=goto, action=action, params=None))
        flows[flow.name] = replace(flow, steps=tuple(steps), requires=None)
    flows[PROBE] = Flow(PROBE, tuple(Step(marker.partition(".")[2], Text("-"), validator="free_text", store="probe")
                                      for marker in dict.fromkeys(markers)))
    return flows


@lru_cache(maxsize=8)
def context(language: str, natural: bool) -> Context:
    catalogs = _catalogs()
    languages = (language, *(code for code in catalogs.shipped if code != language))
    return Context(languages=languages, translate=catalogs.translate,
                   language_names={code: own_name(code) for code in languages},
                   directory=DemoDirectory(natural), flows=probe_flows(),
                   answers=engine.shipped_answers() if natural else None)


@lru_cache(maxsize=1)
def _catalogs() -> Catalogs:
    return Catalogs()


def ask(entry: Entry, natural: bool = True) -> str:
    """What the engine reads `entry.text` as at `entry.question`: a choice value (a language code
    at the language question, the step to change at "which answer"), the P-code or acronym of a
    typed place or organisation, or "refuse"."""
    ctx = context(entry.language, natural)
    # As far into the flow as the question needs: something written, and (for "update my details")
    # the person proved who they are.
    draft = {"account": ["…"], IDENTITY: identity_of(1, proved=True)}
    state = State(lang=entry.language, position=entry.question, draft=draft, last_active=T0)
    result = engine.step(state, Inbound("sms", "k" * 64, entry.text, T0), ctx)
    position = result.state.position or ""
    if not position.startswith(PROBE + "."):
        if entry.question.endswith(".change") and position != entry.question and position:
            return position.partition(".")[2]  # "which answer to change" leads to that answer's step
        return REFUSE
    value = position.rsplit("-", 1)[1]
    step = engine.find_step(entry.question, ctx.flows)
    if step.choices_from == "languages":  # the language question sets it; "update my details" stores it
        return (result.state.draft.get(step.store) if step.store else result.state.lang) or REFUSE
    if value == "typed" and step.validator:  # a typed answer the validator read (not a choice "typed")
        answer = result.state.draft.get(step.store)
        return answer.get("pcode") or answer.get("id") if isinstance(answer, dict) else REFUSE
    return value


def evaluate(entries: list[Entry], natural: bool = True) -> list[Outcome]:
    return [Outcome(entry, ask(entry, natural)) for entry in entries]


# ---- the tables -------------------------------------------------------------------------------

@dataclass
class Tally:
    entries: int = 0
    to_accept: int = 0
    accepted: int = 0  # expected to be accepted, and read as what they mean
    refused: int = 0  # expected to be accepted, but asked again
    should_refuse: int = 0
    refused_right: int = 0
    false_accepts: int = 0

    def add(self, outcome: Outcome) -> None:
        self.entries += 1
        if outcome.entry.expected == REFUSE:
            self.should_refuse += 1
            self.refused_right += outcome.got == REFUSE
        else:
            self.to_accept += 1
            self.accepted += outcome.correct
            self.refused += outcome.got == REFUSE
        self.false_accepts += outcome.false_accept

    @property
    def rate(self) -> str:
        return f"{100 * self.accepted / self.to_accept:.0f}%" if self.to_accept else "-"


def tallies(outcomes: list[Outcome], by) -> dict[str, Tally]:
    table: dict[str, Tally] = defaultdict(Tally)
    for outcome in outcomes:
        table[by(outcome.entry)].add(outcome)
        table["all"].add(outcome)
    return dict(table)


def render(title: str, after: dict[str, Tally], before: dict[str, Tally] | None, markdown: bool) -> str:
    head = ["", "answers", "to accept", "accepted", "refused", "FALSE ACCEPTS", "refusals right"]
    if before is not None:
        head[3:3] = ["accepted before"]
        head.insert(-1, "false accepts before")
    rows = []
    for name in sorted(after, key=lambda name: (name == "all", name)):
        t = after[name]
        row = [name, str(t.entries), str(t.to_accept), f"{t.accepted} ({t.rate})", str(t.refused),
               str(t.false_accepts), f"{t.refused_right}/{t.should_refuse}"]
        if before is not None:
            b = before[name]
            row[3:3] = [f"{b.accepted} ({b.rate})"]
            row.insert(-1, str(b.false_accepts))
        rows.append(row)
    if markdown:
        lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    fmt = lambda row: "  ".join(cell.ljust(width) for cell, width in zip(row, widths))  # noqa: E731
    return "\n".join([title, fmt(head), *map(fmt, rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=ANSWER_SET)
    parser.add_argument("--before", action="store_true", help="only the matching before the natural-answer lists")
    parser.add_argument("--compare", action="store_true", help="before and after, side by side")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables (for the README)")
    parser.add_argument("--show", action="store_true", help="list every answer not read as expected")
    args = parser.parse_args(argv)
    entries = read_set(args.set)
    after = evaluate(entries, natural=not args.before)
    before = evaluate(entries, natural=False) if args.compare else None
    yes_no = lambda outcomes: [o for o in outcomes if o.entry.question in YES_NO]  # noqa: E731
    tables = (("By language", lambda e: e.language, lambda outcomes: outcomes),
              ("By question", lambda e: e.question, lambda outcomes: outcomes),
              ("The yes/no questions (danger, under 18, contact), by language", lambda e: e.language, yes_no))
    for title, by, which in tables:
        if which(after):
            print(render(title, tallies(which(after), by), tallies(which(before), by) if before else None,
                         args.markdown))
            print()
    if args.show:
        for outcome in after:
            if not outcome.correct:
                e = outcome.entry
                print(f"line {e.line}: {e.language} {e.question} {e.text!r}: expected {e.expected}, got {outcome.got}")
    counts = Counter(outcome.false_accept for outcome in after)
    print(f"false accepts: {counts[True]}")
    return 1 if counts[True] else 0


if __name__ == "__main__":
    sys.exit(main())
