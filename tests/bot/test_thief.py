"""The README's "who can read what", tried as a thief would: a copy of the database and both of
the server's secrets, taken right after a report was sent over SMS."""

from __future__ import annotations

import pytest

from storage.models import Report
from tests.conftest import Phone
from tests.support.directory import with_directory
from tests.support.play import Sms, play_report
from tests.support.thief import links_to, steal

NUMBER = "+959421337420"
ACCOUNT = "The guard Zq7-private-words took my ration card"


@pytest.mark.parametrize("reply_mode", ["inline", "outbox"])
def test_a_thief_with_the_database_and_both_secrets_finds_no_receipt_and_no_link(make_app, fake_twilio,
                                                                                  reply_mode):
    """Right after a report is sent, a copy of the database plus `data.key` and `SECRET_KEY`
    holds neither the receipt (which would open the report) nor anything that ties the sender's
    conversation to the report: no stored answer, no provider id, no time near the report's."""
    app = with_directory(make_app(SMS_REPLY_MODE=reply_mode, TWILIO_API_BASE_URL=fake_twilio.url))
    runtime = app.extensions["intake"]
    sms = Sms(Phone(app.test_client(), NUMBER), twilio=fake_twilio)  # replies inline or through the outbox
    player = play_report(sms, organisation="DRA", account=ACCOUNT, where="skip")
    answers = [line for line in sms.transcript if line.startswith("< ")]
    [receipt] = [answer.split("number: ")[1].split(".")[0] for answer in answers if "Receipt number: " in answer]
    assert receipt.replace(" ", "") == player.receipt
    sids = sms.sids

    loot = steal(runtime)
    with runtime.sessions() as session:
        assert session.query(Report).count() == 1
    everything = loot.everything()
    assert receipt not in everything and receipt.replace(" ", "") not in everything
    for sid in sids:
        assert sid not in everything
    sender_key = runtime.vault.sender_key("sms", NUMBER)  # the thief computes a suspect's pseudonym
    assert links_to(loot, sender_key) == []
