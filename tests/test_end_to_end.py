"""Issue 3, as its users live it: a person reports over SMS; the focal point of the organisation
named gets an e-mail through a real SMTP server, with no account text in it; the coordinator gets
the summary; the focal point logs in to the portal, reads the account, and acknowledges."""

from __future__ import annotations

import re

from bot.delivery.worker import OutboxWorker
from storage import accounts
from tests.conftest import Phone
from tests.support import directory as d
from tests.support.play import Sms, play_report
from tests.support.portal import PortalUser
from tests.support.smtp_sink import SmtpSink

ACCOUNT = "The storekeeper Vb8-unique said I must meet him at night to get the tarpaulin."


def test_report_by_sms_to_acknowledgement_in_the_portal(make_app):
    with SmtpSink() as sink:
        app = make_app(SMTP_HOST=sink.host, SMTP_PORT=sink.port, SMTP_FROM="intake@example.org")
        runtime = app.extensions["intake"]
        with runtime.sessions() as session:
            seeded = d.seed_directory(session, runtime.clock())
            user = accounts.create_user(session, email=d.DRA_YANGON_EMAIL, role="focal_point",
                                        password="focal point passphrase", organisation=seeded.dra,
                                        now=runtime.clock())
            accounts.grant_with_recovery_key(session, seeded.dra, user, seeded.recovery["DRA"], runtime.clock())
            session.commit()

        phone = Phone(app.test_client(), "+959450111222")
        receipt = play_report(Sms(phone), organisation="DRA", account=ACCOUNT, where="Botahtaung").reply.text
        assert receipt.startswith("Thank you, it was sent. Receipt number: ")

        assert OutboxWorker(runtime).run_once() == 2  # the worker runs every 2 s under make run
        mail = {m.rcpt_tos[0]: m for m in sink.messages}
        notice, summary = mail[d.DRA_YANGON_EMAIL], mail[d.COORDINATOR_EMAIL]
        assert "Vb8-unique" not in notice.body and "storekeeper" not in notice.body
        assert "Place: Botahtaung" in summary.body and "Vb8-unique" not in summary.body
        link = re.search(r"https://intake\.example\.org(/portal/referrals/R-[A-Z0-9]{6})", notice.body).group(1)

    browser = PortalUser(app.test_client())
    response = browser.client.get(link)
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
    browser.login(d.DRA_YANGON_EMAIL, "focal point passphrase")
    page = browser.client.get(link).get_data(as_text=True)
    assert ACCOUNT in page
    case_ref = link.rsplit("/", 1)[1]
    assert browser.post_form(f"{link}/acknowledge", token_from=link).status_code == 303
    listing = browser.client.get("/portal/").get_data(as_text=True)
    assert case_ref in listing and "acknowledged" in listing.lower()
