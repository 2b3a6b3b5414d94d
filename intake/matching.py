"""Typo-tolerant matching of what a person typed against known names (organisations, places),
in any script. Pure; uses rapidfuzz for the edit-distance scoring.

People type a name with what they would say around it: "Mawlamyine Township", "in Sittwe",
"မော်လမြိုင်မြို့နယ်မှာ", "ကမ္ဘာ့စားနပ်ရိက္ခာအစီအစဉ်က", an acronym read out in Burmese letters
("ယူအန်အိတ်ချ်စီအာ"). `Rules` (from the lists in i18n/answers: `[places]`, `[organisations]`,
`[letters]`) say what to take off and how letters are spelled; Burmese is compared without its
spaces (it is written without them between words). A short name must still match nearly exactly,
and two candidates equally close are a question to ask again, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Hashable, Iterable, Mapping

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein

from i18n.natural_answers import answer_key, shipped, strip_affixes
from i18n.normalise import match_key
from i18n.zawgyi import has_myanmar_script, zawgyi_form

# Below this score a guess is more likely wrong than right; the person is asked to retype.
THRESHOLD = 85
# Acronyms are short: one wrong letter is another organisation, so they must be near-exact.
SHORT = 4
SHORT_THRESHOLD = 90
_LATIN_ACRONYM = re.compile(r"[A-Za-z]{2,10}")
_SPELLED_LETTERS = re.compile(r"[a-z]( [a-z]){1,9}")


@dataclass(frozen=True)
class Candidate:
    key: Hashable
    names: tuple[str, ...]  # name, acronym, aliases: every way people refer to it
    # Which of the names are Latin acronyms, also recognised spelled out in another script's
    # letter names (UNHCR as "ယူအန်အိတ်ချ်စီအာ").
    acronyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    """What people add around a name (`before`, `after`: keys, longest first) and how Latin
    letters are spelled in other scripts (`letters`: letter -> keys, the usual spelling first)."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    letters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@lru_cache(maxsize=4)
def shipped_rules(kind: str) -> Rules:
    """The shipped rules for "places" or "organisations" (i18n/answers, every language)."""
    answers = shipped()
    before, after = answers.affixes(kind)
    return Rules(before, after, answers.letter_names())


@lru_cache(maxsize=65536)  # the directory's names come back with every message
def _key(text: str) -> str:
    """The comparison form: case, Zawgyi, punctuation and the spaces inside Burmese do not count."""
    return answer_key(text)


def spelled_out(acronym: str, letters: Mapping[str, tuple[str, ...]]) -> str | None:
    """An acronym in the usual spelling of its letters' names ("UNHCR" -> "ယူအန်အိတ်ချ်စီအာ")."""
    if not _LATIN_ACRONYM.fullmatch(acronym) or not all(letters.get(c) for c in acronym.casefold()):
        return None
    return "".join(letters[c][0] for c in acronym.casefold())


def _read_letters(key: str, letters: Mapping[str, tuple[str, ...]]) -> set[str]:
    """Every Latin reading of `key` as a run of letter names ("ဒီအာအေ" -> {"dra"}); empty if none."""
    if not key or not has_myanmar_script(key):
        return set()
    spellings = [(name, letter) for letter, names in letters.items() for name in names]
    readings: dict[int, set[str]] = {len(key): {""}}
    for start in range(len(key) - 1, -1, -1):
        found = set()
        for name, letter in spellings:
            if key.startswith(name, start) and start + len(name) in readings:
                found |= {letter + rest for rest in readings[start + len(name)]}
        if found:
            readings[start] = set(sorted(found)[:16])  # a few readings are plenty
    return {reading for reading in readings.get(0, ()) if len(reading) >= 2}


def _forms(text: str, rules: Rules) -> list[str]:
    """What the typed text may be once the words around a name are taken off: the text itself
    first, then the shorter forms; an acronym typed as letters ("U.N.H.C.R") and one spelled in
    Burmese letter names, read back in Latin letters."""
    key = _key(text)
    if not key:
        return []
    forms = [key] + sorted(strip_affixes(key, rules.before, rules.after) - {key}, key=len, reverse=True)
    for form in list(forms):
        if _SPELLED_LETTERS.fullmatch(form):
            forms.append(form.replace(" ", ""))
        forms.extend(sorted(_read_letters(form, rules.letters)))
    return list(dict.fromkeys(forms))


def _names(candidate: Candidate, rules: Rules) -> set[str]:
    names = set(candidate.names)
    for acronym in candidate.acronyms:
        spelled = spelled_out(acronym, rules.letters)
        if spelled:
            names.add(spelled)
    names |= {zawgyi_form(name) for name in names}  # as phones typing Zawgyi spell them
    return {key for key in map(_key, names) if key}


def _score(query: str, key: str) -> float:
    if len(query) <= SHORT + 2 or len(key) <= SHORT + 2:
        # Short names: near-exact only, but one slip (UNHRC for UNHCR) is forgiven when the name
        # is long enough for a single edit not to make it another one.
        score = fuzz.ratio(query, key)
        if min(len(query), len(key)) >= SHORT and DamerauLevenshtein.distance(query, key) <= 1:
            score = max(score, SHORT_THRESHOLD)
        return score if score >= SHORT_THRESHOLD else 0
    return max(fuzz.ratio(query, key), fuzz.token_set_ratio(query, key))


def _decide(scored: list[tuple[float, Hashable]]) -> Hashable | None:
    if not scored:
        return None
    scored.sort(key=lambda item: item[0], reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0] and scored[0][1] != scored[1][1]:
        return None
    return scored[0][1]


def best_match(text: str, candidates: Iterable[Candidate], rules: Rules | None = None) -> Hashable | None:
    """The key of the candidate that best matches `text`, or None when nothing is close enough
    (or two different candidates are equally close: better to ask again than to guess).

    With `rules`, the words people add around a name are taken off first and acronyms are also
    read in other scripts' letter names; without, the text is compared as typed."""
    if rules is None:
        return _plain_match(text, candidates)
    candidates = list(candidates)
    forms = _forms(text, rules)
    if not forms:
        return None
    names = {candidate.key: _names(candidate, rules) for candidate in candidates}
    # Exact first, the text as typed before any shorter form; two candidates named alike: ask.
    for form in forms:
        exact = {key for key, keys in names.items() if form in keys}
        if len(exact) == 1:
            return exact.pop()
        if exact:
            return None
    scored = []
    for candidate in candidates:
        best = max((_score(form, key) for form in forms for key in names[candidate.key]), default=0.0)
        if best >= THRESHOLD:
            scored.append((best, candidate.key))
    return _decide(scored)


def _plain_match(text: str, candidates: Iterable[Candidate]) -> Hashable | None:
    """The text compared as typed (no affixes taken off, Burmese spaces kept)."""
    query = match_key(text)
    if not query:
        return None
    scored: list[tuple[float, Hashable]] = []
    for candidate in candidates:
        best = 0.0
        for name in candidate.names:
            key = match_key(name)
            if not key:
                continue
            if key == query:
                return candidate.key
            best = max(best, _score(query, key))
        if best >= THRESHOLD:
            scored.append((best, candidate.key))
    return _decide(scored)
