"""Golden transcripts: whole conversations over the SMS webhook, compared with files in
tests/golden/. After an intended change of wording, regenerate them with
`make test PYTEST_ARGS=--update-golden` and review the diff like any other change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Phone

GOLDEN = Path(__file__).parent.parent / "golden"

SCRIPTS = {
    "menu-en": ["Hello", "1", "1", "2", "3", "help", "xyz", "abc", "", "menu", "language", "back",
                "4", "2", "exit", "hi"],
    "menu-my": ["မင်္ဂလာပါ", "၂", "၁", "အကူအညီ", "ဟုတ်", "ဘာသာစကား", "နောက်သို့", "ထွက်"],
}


def play(client, inputs: list[str]) -> str:
    phone = Phone(client)
    lines = []
    for text in inputs:
        lines.append(f"> {text}")
        for body in phone.say(text):
            lines.extend(f"< {line}" for line in body.split("\n"))
            lines.append("<")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_transcript(request, client, name):
    transcript = play(client, SCRIPTS[name])
    path = GOLDEN / f"{name}.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(transcript, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with --update-golden and review it"
    assert transcript == path.read_text(encoding="utf-8")
