"""Typo-tolerant matching of what a person typed against known names (organisations, places),
in any script. Pure; uses rapidfuzz for the edit-distance scoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Iterable

from rapidfuzz import fuzz
from rapidfuzz.distance import DamerauLevenshtein

from i18n.normalise import match_key

# Below this score a guess is more likely wrong than right; the person is asked to retype.
THRESHOLD = 85
# Acronyms are short: one wrong letter is another organisation, so they must be near-exact.
SHORT = 4
SHORT_THRESHOLD = 90


@dataclass(frozen=True)
class Candidate:
    key: Hashable
    names: tuple[str, ...]  # name, acronym, aliases: every way people refer to it


def best_match(text: str, candidates: Iterable[Candidate]) -> Hashable | None:
    """The key of the candidate that best matches `text`, or None when nothing is close enough
    (or two different candidates are equally close: better to ask again than to guess)."""
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
            if len(query) <= SHORT + 2 or len(key) <= SHORT + 2:
                # Short names: near-exact only, but one slip (UNHRC for UNHCR) is forgiven when
                # the name is long enough for a single edit not to make it another one.
                score = fuzz.ratio(query, key)
                if min(len(query), len(key)) >= SHORT and DamerauLevenshtein.distance(query, key) <= 1:
                    score = max(score, SHORT_THRESHOLD)
                score = score if score >= SHORT_THRESHOLD else 0
            else:
                score = max(fuzz.ratio(query, key), fuzz.token_set_ratio(query, key))
            best = max(best, score)
        if best >= THRESHOLD:
            scored.append((best, candidate.key))
    if not scored:
        return None
    scored.sort(key=lambda item: item[0], reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0] and scored[0][1] != scored[1][1]:
        return None
    return scored[0][1]
