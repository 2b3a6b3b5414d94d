"""What a whole report costs over SMS in each shipped language: the segments of every message
both ways, played through the real SMS webhook. Prints a table; asserts nothing
(tests/i18n/test_sms_budget.py holds the Burmese report to its budget).

    .venv/bin/python tests/benchmarks/sms_cost.py              # the table
    .venv/bin/python tests/benchmarks/sms_cost.py --replies my # each reply of one case, with its cost
    .venv/bin/python tests/benchmarks/sms_cost.py --check      # checking a report, per language
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from i18n.sms import segments  # noqa: E402
from storage import reporter_messages  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Referral  # noqa: E402
from tests.conftest import PUBLIC_BASE_URL, TWILIO_TOKEN, Clock, Phone  # noqa: E402
from tests.support.directory import key_holder, with_directory  # noqa: E402
from tests.support.play import WRITERS, Player, Sms  # noqa: E402

LANGUAGES = ["my", "en", "kac", "ksw", "shn"]  # a Myanmar deployment: Burmese first


def _app():
    workdir = tempfile.mkdtemp()
    url = f"sqlite:///{workdir}/cost.sqlite3"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "c" * 40, "DATA_KEY_FILE": os.path.join(workdir, "k"),
                      "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
                      "LANGUAGES": LANGUAGES, "CLOCK": Clock()})
    return with_directory(app)


def exchanges(case: str) -> list[tuple[str, list[str]]]:
    """(what the person sent, the bodies answered) for each message of one whole report."""
    app = _app()
    runtime = app.extensions["intake"]
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


CHECK_LANGUAGES = {"en": "English", "kac": "Jingpho", "ksw": "S'gaw Karen", "my": "Burmese", "shn": "Shan"}


def check_segments(lang: str) -> int:
    """Reply segments of checking a report after the menu: the receipt question, the status with
    one short message from the organisation and the next question, the answer question, the thanks."""
    app = _app()
    runtime = app.extensions["intake"]
    writer = WRITERS[lang]
    reporter = Sms(Phone(app.test_client(), "+959420000888"), digits=writer.digits)
    player = Player(reporter, language=writer.language, greeting=writer.greeting, answers=writer.answers())
    player.play()
    user, key = key_holder(app, app.seeded.dra, "DRA")
    with runtime.sessions() as session:
        referral = session.execute(select(Referral).where(Referral.organisation_id == app.seeded.dra.id)).scalar_one()
        reporter_messages.write_to_reporter(session, referral, reporter_messages.report_key_of(referral, key),
                                            "Thank you for telling us. Which week was it?", author_id=user.id, now=runtime.clock())
        session.commit()
    sms = Sms(Phone(app.test_client(), "+959420000888"), digits=writer.digits)
    sms.send(writer.greeting)  # the menu, in the language remembered
    for text in ("3", player.receipt, "1", "It was the week of the distribution."):
        sms.send(text.translate(str.maketrans("0123456789", writer.digits)))
    runtime.close()
    return sum(segments(body).count for _, bodies in sms.exchanges[1:] for body in bodies)


def main() -> None:
    if sys.argv[1:2] == ["--replies"]:
        show_replies(sys.argv[2])
        return
    if sys.argv[1:2] == ["--check"]:
        print("| | " + " | ".join(CHECK_LANGUAGES.values()) + " |")
        print("|---|" + "---|" * len(CHECK_LANGUAGES))
        print("| segments of the replies | " + " | ".join(str(check_segments(code)) for code in CHECK_LANGUAGES)
              + " |")
        return
    print(f"offered languages: {', '.join(LANGUAGES)} (the first is the default)")
    print("| language | person's messages | their segments | replies | reply segments |")
    print("|---|---|---|---|---|")
    for case in ["en", "my", "my-zawgyi", "kac", "ksw", "shn"]:
        sent, sent_segments, replies, reply_segments = play(case)
        print(f"| {case} | {sent} | {sent_segments} | {replies} | {reply_segments} |")


if __name__ == "__main__":
    main()
