"""What a whole report costs over SMS in each shipped language: the segments of every message
both ways, played through the real SMS webhook. Prints a table; asserts nothing.

    .venv/bin/python tests/benchmarks/sms_cost.py
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


def play(case: str) -> tuple[int, int, int, int]:
    """(messages sent by the person, their segments, replies, reply segments) for one report."""
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
    sent = len(sms.exchanges)
    sent_segments = sum(segments(text).count for text, _ in sms.exchanges)
    replies = sum(len(bodies) for _, bodies in sms.exchanges)
    reply_segments = sum(segments(body).count for _, bodies in sms.exchanges for body in bodies)
    return sent, sent_segments, replies, reply_segments


def main() -> None:
    print(f"offered languages: {', '.join(LANGUAGES)} (the first is the default)")
    print("| language | person's messages | their segments | replies | reply segments |")
    print("|---|---|---|---|---|")
    for case in ["en", "my", "my-zawgyi", "kac", "ksw", "shn"]:
        sent, sent_segments, replies, reply_segments = play(case)
        print(f"| {case} | {sent} | {sent_segments} | {replies} | {reply_segments} |")


if __name__ == "__main__":
    main()
