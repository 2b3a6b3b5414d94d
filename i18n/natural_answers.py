"""Answers as people give them: the natural words that pick a choice, kept as data beside the
catalogs (`i18n/answers/<lang>.toml`), so that a reviewer extends them without touching code.

A choice is picked by its number, its label in any offered language (the catalogs) and, from
these files, the words people really reply with: "ok", "yes please", "ဟုတ်ပါတယ်", "that's all",
"don't contact me". Each file has

- `[any]`: words by choice *value*, for every step that offers a choice with that value
  (`yes`, `no`, `unknown`, `done`, `skip`, `send`, `change`, `cancel`, `this_week`, ...);
- `[steps."flow.step"]`: words by choice value for one question only, where the meaning
  depends on the question ("no" to "may they contact you?" is also "don't contact me");
- `[lists]`: named lists that the tables above include with "@name" (they apply nowhere by
  themselves; an "@name" may also name a value of `[any]`);
- `[fillers]`: polite and filler words taken off the start (`before`) or the end (`after`) of a
  reply before it is compared ("please", "thanks", "ပါ", "ရှင့်", "ခင်ဗျာ");
- `[negation]`: regular expressions that say a reply is negated ("not", "n't", "မ" + verb,
  "ဘူး"): no word listed for a `yes` may match one, no filler may, and a negated reply only ever
  picks a choice through a word that is negated too;
- `[languages]`: names of the shipped languages, by code, as people type them ("burmese");
- `[places]`, `[organisations]`: what people add around a place or an organisation's name
  (`before`, `after`: "Township", "မြို့နယ်", "မှာ", "က"), taken off before matching;
- `[letters]`: how the Latin letters are spelled out in this script (UNHCR as
  "ယူအန်အိတ်ချ်စီအာ"), the first spelling of each being the usual one.

Matching is exact after normalisation (case, Zawgyi spelling, spaces inside Burmese, fillers):
never a substring, so `မဟုတ်ပါဘူး` can never be read as `ဟုတ်`. The lowest layer: imports nothing
of the project outside i18n.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from i18n.normalise import match_key
from i18n.zawgyi import zawgyi_form

ANSWERS_DIR = Path(__file__).parent / "answers"
ENGLISH = "en"
_TABLES = {"draft", "any", "steps", "lists", "fillers", "negation", "languages", "places", "organisations",
           "letters"}
_AFFIX_KINDS = ("places", "organisations")
# Choices that say yes to something: no word that picks one may be negated, and a negated reply
# never picks one (at any step).
AFFIRMATIVE = ("yes", "send", "erase", "this_number", "typed")
_MYANMAR = re.compile(r"[\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff]")
# Inside a reply, punctuation separates words like a space does; apostrophes join ("don't" = "dont").
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u2018`\u02bc"))
_SEPARATORS = re.compile(r"[\s,.;:!?\"()\[\]{}\u2026/\\|+*&_=~\u104a\u104b-]+")
# Burmese is written without spaces between words: a space between two Myanmar letters says nothing.
# (Digits count as Burmese here: "၁၈ နှစ်အောက်" is "18နှစ်အောက်".)
_LETTERS = "\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff"
_MYANMAR_SPACE = re.compile(rf"(?<=[{_LETTERS}0-9])\s+(?=[{_LETTERS}])|(?<=[{_LETTERS}])\s+(?=[0-9])")
# A Myanmar-script affix may only be taken off at a syllable boundary: not before a stacked
# consonant (virama) nor, at the start, before a sign that belongs to the syllable.
_VIRAMA = "\u1039"
_DEPENDENT = re.compile(r"[\u102b-\u1030\u1032-\u103a\u103c-\u103e\u105e-\u1060\u1062-\u1064\u1067-\u106d"
                        r"\u1071-\u1074\u1082-\u108d\u108f\u109a-\u109d]")


# Three or more of the same Latin letter, as when a key is held down ("nooo", "yesss"): one.
_STRETCHED = re.compile(r"([a-z])\1{2,}")


class AnswerDataError(ValueError):
    """A data file is malformed or contradicts itself; the message names the file and the entry."""


def answer_key(text: str) -> str:
    """The form replies and listed words are compared in: `match_key`, apostrophes dropped,
    punctuation as spaces, no spaces inside Burmese."""
    key = match_key(text).translate(_APOSTROPHES)
    key = _SEPARATORS.sub(" ", key).strip()
    return _MYANMAR_SPACE.sub("", key)


def _is_myanmar(text: str) -> bool:
    return bool(_MYANMAR.search(text))


def _spellings(word: str) -> set[str]:
    """A listed word's keys: as written, and as a phone typing Zawgyi spells it."""
    return {key for key in (answer_key(word), answer_key(zawgyi_form(word))) if key}


def strip_affixes(key: str, before: Iterable[str], after: Iterable[str]) -> set[str]:
    """`key` and every form left by taking affixes off its start (`before`) and end (`after`),
    repeatedly; never the empty string. Latin affixes are whole words; Myanmar-script ones are
    taken off at a syllable boundary (Burmese has no spaces to go by)."""
    before, after = tuple(before), tuple(after)
    forms, todo = {key}, [key]
    while todo:
        current = todo.pop()
        for affix in before:
            rest = _drop_start(current, affix)
            if rest and rest not in forms:
                forms.add(rest)
                todo.append(rest)
        for affix in after:
            rest = _drop_end(current, affix)
            if rest and rest not in forms:
                forms.add(rest)
                todo.append(rest)
    return forms


def _drop_start(key: str, affix: str) -> str | None:
    if not affix or not key.startswith(affix) or len(key) == len(affix):
        return None
    rest = key[len(affix):]
    if _is_myanmar(affix[-1]):
        if _DEPENDENT.match(rest) or rest.startswith(_VIRAMA):
            return None
    elif not rest.startswith(" "):
        return None
    return rest.strip()


def _drop_end(key: str, affix: str) -> str | None:
    if not affix or not key.endswith(affix) or len(key) == len(affix):
        return None
    rest = key[:-len(affix)]
    if _is_myanmar(affix[0]):
        if rest.endswith(_VIRAMA) or _DEPENDENT.match(affix):
            return None
    elif not rest.endswith(" "):
        return None
    return rest.strip()


@dataclass(frozen=True)
class LanguageAnswers:
    """One file's content, checked, with "@name" references resolved (words as written)."""

    code: str
    draft: bool
    any: Mapping[str, tuple[str, ...]]
    steps: Mapping[str, Mapping[str, tuple[str, ...]]]
    fillers_before: tuple[str, ...]
    fillers_after: tuple[str, ...]
    negation: tuple[re.Pattern, ...]
    languages: Mapping[str, tuple[str, ...]]
    affixes: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]  # kind -> (before, after)
    letters: Mapping[str, tuple[str, ...]]


def _words(where: str, value) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(word, str) and word.strip() for word in value):
        raise AnswerDataError(f"{where}: must be a list of non-empty strings")
    return tuple(value)


def _table(where: str, value) -> dict:
    if not isinstance(value, dict):
        raise AnswerDataError(f"{where}: must be a table")
    return value


def parse(code: str, data: Mapping, source: str = "") -> LanguageAnswers:
    """Check one language's data (as `tomllib` reads it) and resolve its "@name" references."""
    source = source or f"{code}.toml"
    unknown = sorted(set(data) - _TABLES)
    if unknown:
        raise AnswerDataError(f"{source}: unknown table(s) {', '.join(unknown)} "
                              f"(expected {', '.join(sorted(_TABLES))})")
    lists = {name: _words(f"{source} [lists] {name}", words)
             for name, words in _table(f"{source} [lists]", data.get("lists", {})).items()}
    raw_any = {value: _words(f"{source} [any] {value}", words)
               for value, words in _table(f"{source} [any]", data.get("any", {})).items()}

    def resolve(where: str, words: tuple[str, ...], seen: tuple[str, ...] = ()) -> tuple[str, ...]:
        out: list[str] = []
        for word in words:
            if not word.startswith("@"):
                out.append(word)
                continue
            name = word[1:]
            if name in seen:
                raise AnswerDataError(f"{where}: {word} refers back to itself")
            if name not in lists and name not in raw_any:
                raise AnswerDataError(f"{where}: {word} names no list of [lists] or value of [any]")
            out.extend(resolve(where, lists.get(name) or raw_any[name], (*seen, name)))
        return tuple(dict.fromkeys(out))

    any_words = {value: resolve(f"{source} [any] {value}", words, (value,)) for value, words in raw_any.items()}
    steps: dict[str, dict[str, tuple[str, ...]]] = {}
    for position, table in _table(f"{source} [steps]", data.get("steps", {})).items():
        if position.count(".") != 1:
            raise AnswerDataError(f"{source} [steps.\"{position}\"]: a step is named \"flow.step\"")
        steps[position] = {value: resolve(f"{source} [steps.\"{position}\"] {value}", _words(
            f"{source} [steps.\"{position}\"] {value}", words)) for value, words in _table(
            f"{source} [steps.\"{position}\"]", table).items()}
    fillers = _table(f"{source} [fillers]", data.get("fillers", {}))
    negation = _table(f"{source} [negation]", data.get("negation", {}))
    patterns = []
    for pattern in _words(f"{source} [negation] patterns", negation.get("patterns", [])):
        try:
            patterns.append(re.compile(pattern))
        except re.error as error:
            raise AnswerDataError(f"{source} [negation] patterns: {pattern!r} is not a regular expression "
                                  f"({error})") from None
    affixes = {}
    for kind in _AFFIX_KINDS:
        table = _table(f"{source} [{kind}]", data.get(kind, {}))
        affixes[kind] = (_words(f"{source} [{kind}] before", table.get("before", [])),
                         _words(f"{source} [{kind}] after", table.get("after", [])))
    letters = {}
    for letter, names in _table(f"{source} [letters]", data.get("letters", {})).items():
        if not (len(letter) == 1 and "A" <= letter <= "Z"):
            raise AnswerDataError(f"{source} [letters]: {letter!r} is not a capital Latin letter")
        letters[letter] = _words(f"{source} [letters] {letter}", names)
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        raise AnswerDataError(f"{source}: draft must be true or false")
    return LanguageAnswers(
        code=code, draft=draft, any=any_words, steps=steps,
        fillers_before=_words(f"{source} [fillers] before", fillers.get("before", [])),
        fillers_after=_words(f"{source} [fillers] after", fillers.get("after", [])),
        negation=tuple(patterns),
        languages={lang: _words(f"{source} [languages] {lang}", names)
                   for lang, names in _table(f"{source} [languages]", data.get("languages", {})).items()},
        affixes=affixes, letters=letters)


class Answers:
    """Every language's natural answers, checked together. Lists are read once; look-ups are
    cached (the data does not change while the process runs)."""

    def __init__(self, languages: Mapping[str, LanguageAnswers]):
        self.by_language = dict(languages)
        self._cache: dict[tuple, frozenset[str]] = {}
        self._check()

    # -- checks made when the data is loaded ------------------------------------------------------

    def _check(self) -> None:
        for code, data in self.by_language.items():
            for words, where in self._affirmative(data):
                for word in words:
                    if self.negated_key(answer_key(word)):
                        raise AnswerDataError(f"{code}.toml {where}: {word!r} is negated, so it can never mean yes")
            for word in (*data.fillers_before, *data.fillers_after):
                if self.negated_key(answer_key(word)):
                    raise AnswerDataError(f"{code}.toml [fillers]: {word!r} is negated; a filler must not "
                                          "change the meaning")
            for position, table in data.steps.items():
                self._check_distinct(f"{code}.toml [steps.\"{position}\"]",
                                     {value: (*data.any.get(value, ()), *words) for value, words in table.items()})
            self._check_distinct(f"{code}.toml [languages]", dict(data.languages))

    @staticmethod
    def _affirmative(data: LanguageAnswers):
        for value in AFFIRMATIVE:
            yield data.any.get(value, ()), f"[any] {value}"
            for position, table in data.steps.items():
                yield table.get(value, ()), f"[steps.\"{position}\"] {value}"

    @staticmethod
    def _check_distinct(where: str, table: Mapping[str, Iterable[str]]) -> None:
        owner: dict[str, str] = {}
        for value, words in table.items():
            for word in words:
                for key in _spellings(word):
                    if owner.setdefault(key, value) != value:
                        raise AnswerDataError(f"{where}: {word!r} is listed for both {owner[key]} and {value}")

    # -- what the engine asks -------------------------------------------------------------------

    def _offered(self, languages: Iterable[str]) -> tuple[LanguageAnswers, ...]:
        """English words are always understood (the catalogs' source language), then the offered ones."""
        codes = dict.fromkeys((ENGLISH, *languages))
        return tuple(self.by_language[code] for code in codes if code in self.by_language)

    def words(self, languages: tuple[str, ...], position: str, value: str) -> frozenset[str]:
        """The keys of the words that pick choice `value` at step `position` ("flow.step")."""
        cache_key = ("words", languages, position, value)
        if cache_key not in self._cache:
            keys: set[str] = set()
            for data in self._offered(languages):
                for word in (*data.any.get(value, ()), *data.steps.get(position, {}).get(value, ())):
                    keys |= _spellings(word)
            self._cache[cache_key] = frozenset(keys)
        return self._cache[cache_key]

    def language_names(self, languages: tuple[str, ...], code: str) -> frozenset[str]:
        """The keys of the names people type for language `code`, in every offered language."""
        cache_key = ("names", languages, code)
        if cache_key not in self._cache:
            keys: set[str] = set()
            for data in self._offered(languages):
                for word in data.languages.get(code, ()):
                    keys |= _spellings(word)
            self._cache[cache_key] = frozenset(keys)
        return self._cache[cache_key]

    def _fillers(self, languages: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
        cache_key = ("fillers", languages)
        if cache_key not in self._cache:
            before: set[str] = set()
            after: set[str] = set()
            for data in self._offered(languages):
                for word in data.fillers_before:
                    before |= _spellings(word)
                for word in data.fillers_after:
                    after |= _spellings(word)
            self._cache[cache_key] = (frozenset(before), frozenset(after))
        return self._cache[cache_key]

    def forms(self, text: str, languages: tuple[str, ...]) -> frozenset[str]:
        """The keys a reply is compared by: itself, and what is left once fillers are taken off."""
        key = answer_key(text)
        if not key:
            return frozenset()
        before, after = self._fillers(languages)
        stretched = _STRETCHED.sub(r"\1", key)
        if stretched != key:  # "yesss", "nooo": a letter held down
            key = stretched
        # Longest first, so "thank you" goes before "you" could ever be looked at.
        return frozenset(strip_affixes(key, sorted(before, key=len, reverse=True),
                                       sorted(after, key=len, reverse=True)))

    def parts(self, text: str, languages: tuple[str, ...], most: int = 3) -> list[tuple[frozenset[str], ...]]:
        """The ways to read a reply as two or three whole answers said one after the other ("yes,
        sure", "no, don't call me"), each part as `forms` gives it. Only where words are separated
        by spaces (Latin letters; Burmese is written without them), and only short replies."""
        tokens = answer_key(text).split(" ")
        if not 2 <= len(tokens) <= 8:
            return []
        before, after = self._fillers(languages)
        splits = []
        for count in range(2, most + 1):
            for cuts in _cuts(len(tokens), count):
                pieces = [" ".join(tokens[a:b]) for a, b in zip((0, *cuts), (*cuts, len(tokens)))]
                if any(piece in before or piece in after for piece in pieces):
                    continue  # a filler is not an answer ("yes" + "please" is the form "yes")
                splits.append(tuple(self.forms(piece, languages) for piece in pieces))
        return splits

    def negated_key(self, key: str) -> bool:
        """The key contains a negation of any language ("not", "မ" + verb, "ဘူး", "ဢမ်ႇ")."""
        return any(pattern.search(key) for data in self.by_language.values() for pattern in data.negation)

    def negated(self, text: str) -> bool:
        return self.negated_key(answer_key(text))

    # -- what place and organisation matching asks ----------------------------------------------

    def affixes(self, kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(before, after): the keys of what people add around a place's or an organisation's
        name, in every language (a name may be typed in any script), longest first."""
        cache_key = ("affixes", kind)
        if cache_key not in self._cache:
            before: set[str] = set()
            after: set[str] = set()
            for data in self.by_language.values():
                words_before, words_after = data.affixes.get(kind, ((), ()))
                for word in words_before:
                    before |= _spellings(word)
                for word in words_after:
                    after |= _spellings(word)
            self._cache[cache_key] = (tuple(sorted(before, key=len, reverse=True)),
                                      tuple(sorted(after, key=len, reverse=True)))
        return self._cache[cache_key]

    def letter_names(self) -> Mapping[str, tuple[str, ...]]:
        """Latin letter -> the keys of its spellings in other scripts (the usual one first)."""
        cache_key = ("letters",)
        if cache_key not in self._cache:
            table: dict[str, list[str]] = {}
            for data in self.by_language.values():
                for letter, names in data.letters.items():
                    spelled = table.setdefault(letter.casefold(), [])
                    for name in names:
                        for key in (answer_key(name), answer_key(zawgyi_form(name))):
                            if key and key not in spelled:
                                spelled.append(key)
            self._cache[cache_key] = {letter: tuple(names) for letter, names in table.items()}
        return self._cache[cache_key]

    @property
    def drafts(self) -> tuple[str, ...]:
        """Languages whose lists are careful drafts still waiting for a native speaker's review."""
        return tuple(code for code, data in self.by_language.items() if data.draft)


def _cuts(length: int, count: int) -> list[tuple[int, ...]]:
    """Where to cut `length` tokens into `count` non-empty runs."""
    if count == 1:
        return [()]
    return [(first, *(first + cut for cut in rest)) for first in range(1, length - count + 2)
            for rest in _cuts(length - first, count - 1)]


def load(directory: Path = ANSWERS_DIR) -> Answers:
    """Read and check every `<lang>.toml` in `directory`; AnswerDataError says what is wrong."""
    languages = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as error:
            raise AnswerDataError(f"{path.name}: not valid TOML ({error})") from None
        languages[path.stem] = parse(path.stem, data, path.name)
    return Answers(languages)


@lru_cache(maxsize=1)
def shipped() -> Answers:
    """The shipped lists (i18n/answers), read once per process."""
    return load()
