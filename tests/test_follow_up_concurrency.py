"""Two reporters checking their reports at the same moment, through the real server (threaded, as
`make run` starts it) with the real Argon2 cost, as tests/test_concurrency.py does for Send: each
check's derivation runs with no transaction open, so neither waits on the other's locks, and
nothing is left holding one afterwards."""

from __future__ import annotations

import requests

from tests.support.http_clients import HttpPhone
from tests.support.play import Sms, play_report
from tests.test_concurrency import REPORT, real_costs, server, together  # noqa: F401 (fixtures)

RECEIVED = "Your report was received. It is waiting for someone to look at it."


def test_two_checks_at_once_through_the_real_server(server):  # noqa: F811 (the fixture)
    phones = [HttpPhone(server, f"+95945000020{n}") for n in range(2)]
    receipts = []
    for phone in phones:
        receipts.append(play_report(Sms(phone), **REPORT).receipt)
        phone.send("hi")
        assert "receipt number" in phone.send("3").text
    checks = together(*[lambda p=p, r=r: p.send(r) for p, r in zip(phones, receipts)])
    for answer in checks:
        assert isinstance(answer, requests.Response) and answer.status_code == 200, answer
        assert RECEIVED in answer.text
    later = HttpPhone(server, "+959450000209")  # the next check goes through too
    later.send("hi")
    later.send("1")
    later.send("3")
    assert "We found no report with that number." in later.send("111122223333444455").text
