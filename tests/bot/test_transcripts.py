"""Golden transcripts: whole conversations, both sides, compared with files in tests/golden/.
The menu over SMS, and a whole report in every offered language (and Burmese typed in Zawgyi)
over SMS and Telegram, played by tests/support/play.py with the receipt number masked. After an
intended change of wording, regenerate them with `make test PYTEST_ARGS=--update-golden` and
review the diff like any other change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import WRITERS, Player, Sms, Telegram, masked
from tests.support.telegram_chat import Person, telegram_settings
from tests.support.telegram_updates import UpdateFactory

GOLDEN = Path(__file__).parent.parent / "golden"
LANGUAGES = ["en", "my", "kac", "ksw", "shn"]

SCRIPTS = {
    "menu-en": ["Hello", "1", "1", "2", "3", "help", "xyz", "abc", "", "menu", "language", "back",
                "4", "2", "exit", "hi"],
    "menu-my": ["မင်္ဂလာပါ", "၂", "၁", "အကူအညီ", "ဟုတ်", "ဘာသာစကား", "နောက်သို့", "ထွက်"],
}

# The report's way through every question: in danger (the emergency lines), "I have finished"
# before writing anything, contact on another number, and one answer changed at the review.
WHOLE_REPORT = {
    "danger": "yes",
    "contact": "yes",
    "contact_how": "other_number",
    "review": ["change", "send"],
    "change": "when",
    "when": ["this_month", "this_week"],
}


def check(request, name: str, lines: list[str]) -> None:
    transcript = "\n".join(lines) + "\n"
    path = GOLDEN / f"{name}.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(transcript, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with --update-golden and review it"
    assert transcript == path.read_text(encoding="utf-8"), f"{path.name} differs: a wording change? " \
                                                           "run with --update-golden and review the diff"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_transcript(request, client, name):
    sms = Sms(Phone(client))
    for text in SCRIPTS[name]:
        sms.send(text)
    check(request, name, sms.transcript)


@pytest.fixture
def report_app(make_app, telegram):
    return d.with_directory(make_app(LANGUAGES=LANGUAGES, **telegram_settings(telegram)))


@pytest.mark.parametrize("channel", ["sms", "telegram"])
@pytest.mark.parametrize("case", sorted(WRITERS))
def test_a_whole_report_transcript(request, report_app, telegram, clock, case, channel):
    writer = WRITERS[case]
    client = report_app.test_client()
    if channel == "sms":
        played = Sms(Phone(client), digits=writer.digits)  # numbers typed as the writer types them
    else:
        played = Telegram(Person(client, telegram, UpdateFactory(telegram, clock=clock)))  # buttons pressed
    player = Player(played, language=writer.language, greeting=writer.greeting,
                    answers={**writer.answers(), **WHOLE_REPORT,
                             "account": ["done", writer.account, "done"]})
    player.play()
    assert player.position == "report.sent" and player.receipt
    check(request, f"report-{case}-{channel}", masked(player.transcript))
