"""What a whole report costs over SMS in each shipped language: the segments of every message
both ways, played through the real SMS webhook. Prints a table; asserts nothing
(tests/i18n/test_sms_budget.py holds the Burmese report to its budget).

    .venv/bin/python tests/benchmarks/sms_cost.py              # the table
    .venv/bin/python tests/benchmarks/sms_cost.py --replies my # each reply of one case, with its cost
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import create_app  # noqa: E402
from i18n.sms import segments  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.conftest import PUBLIC_BASE_URL, TWILIO_TOKEN, Clock, Phone  # noqa: E402
from tests.support.directory import with_directory  # noqa: E402
from tests.support.play import WRITERS, Player, Sms  # noqa: E402

LANGUAGES = ["my", "en", "kac", "ksw", "shn"]  # a Myanmar deployment: Burmese first


def exchanges(case: str) -> list[tuple[str, list[str]]]:
    """(what the person sent, the bodies answered) for each message of one whole report."""
    workdir = tempfile.mkdtemp()
    url = f"sqlite:///{workdir}/cost.sqlite3"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "c" * 40, "DATA_KEY_FILE": os.path.join(workdir, "k"),
                      "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                      "LANGUAGES": LANGUAGES, "CLOCK": Clock()})
    runtime = with_directory(app).extensions["intake"]
    writer = WRITERS[case]
    sms = Sms(Phone(app.test_client(), "+959420000888"), digits=writer.digits)
    Player(sms, language=writer.language, greeting=writer.greeting, answers=writer.answers()).play()
    runtime.close()
    return sms.exchanges


def play(case: str) -> tuple[int, int, int, int]:
    """(messages sent by the person, their segments, replies, reply segments) for one report."""
    played = exchanges(case)
    sent = len(played)
    sent_segments = sum(segments(text).count for text, _ in played)
    replies = sum(len(bodies) for _, bodies in played)
    reply_segments = sum(segments(body).count for _, bodies in played for body in bodies)
    return sent, sent_segments, replies, reply_segments


def show_replies(case: str) -> None:
    """Each reply of one case's report: its segments, its UTF-16 units (or septets), its text."""
    total = 0
    for sent, bodies in exchanges(case):
        print(f"> {sent}")
        for body in bodies:
            cost = segments(body)
            total += cost.count
            print(f"  [{cost.count} segment(s), {cost.units} {'units' if cost.encoding == 'UCS-2' else 'septets'}]")
            print("  " + body.replace("\n", "\n  "))
    print(f"reply segments: {total}")


def main() -> None:
    if sys.argv[1:2] == ["--replies"]:
        show_replies(sys.argv[2])
        return
    print(f"offered languages: {', '.join(LANGUAGES)} (the first is the default)")
    print("| language | person's messages | their segments | replies | reply segments |")
    print("|---|---|---|---|---|")
    for case in ["en", "my", "my-zawgyi", "kac", "ksw", "shn"]:
        sent, sent_segments, replies, reply_segments = play(case)
        print(f"| {case} | {sent} | {sent_segments} | {replies} | {reply_segments} |")


if __name__ == "__main__":
    main()
