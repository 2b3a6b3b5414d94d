"""The administrators' pages through the app: accounts (list, add, disable, enable, reset), the
directory (and its export), failed outbox messages (retried through a real SMTP relay) and the
audit log with its chain's state. Only admins reach them."""

from __future__ import annotations

import csv
import html as html_module
import io
import re

import pytest
from sqlalchemy import select

from bot.delivery.worker import OutboxWorker
from storage import accounts, outbox
from storage.models import AuditEntry, KeyGrant, OutboxMessage, User
from tests.portal.conftest import PASSWORD, PortalUser
from tests.support.smtp_sink import SmtpSink

ADMIN_PAGES = ["/portal/admin/", "/portal/admin/directory", "/portal/admin/directory.csv", "/portal/admin/outbox",
               "/portal/admin/audit"]


def stored(app, email) -> User | None:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def audited(app, action) -> list[tuple[int | None, str | None]]:
    with app.extensions["intake"].sessions() as session:
        return [tuple(row) for row in session.execute(
            select(AuditEntry.user_id, AuditEntry.detail).where(AuditEntry.action == action))]


def password_on(response) -> str:
    return re.search(r'id="new-password">([a-z2-9-]+)<', response.get_data(as_text=True)).group(1)


@pytest.fixture
def admin(world, portal_user) -> PortalUser:
    portal_user.login(world.emails["admin"])
    return portal_user


@pytest.mark.parametrize("role", ["save", "coord", "caseworker"])
def test_only_admins_reach_the_admin_pages(world, portal_user, role):
    portal_user.login(world.emails[role])
    for path in ADMIN_PAGES:
        assert portal_user.client.get(path).status_code == 403, path
    assert portal_user.post_form("/portal/admin/accounts", {"email": "x@example.org", "role": "admin"},
                                 token_from="/portal/account").status_code == 403


def test_the_accounts_list_shows_what_each_account_has(app, world, admin):
    page = admin.client.get("/portal/admin/").get_data(as_text=True)
    assert "6 accounts" in page
    row = re.search(rf'<tr id="account-{stored(app, world.emails["save_new"]).id}">(.*?)</tr>', page, re.S).group(1)
    assert "save_new@example.org" in row and "SAVE" in row and "Not yet" in row and "Never" in row
    own = re.search(rf'<tr id="account-{stored(app, world.emails["admin"]).id}">(.*?)</tr>', page, re.S).group(1)
    assert "This is you" in own and "Reset" not in own  # no way to lock oneself out from here


def test_an_added_account_gets_a_password_shown_once_and_sets_up_totp_at_its_first_login(app, world, admin):
    organisation = re.search(r'<option value="(\d+)">SAVE ·', admin.client.get("/portal/admin/").get_data(as_text=True))
    created = admin.post_form("/portal/admin/accounts", {"email": "New.FP@Example.org", "role": "focal_point",
                                                         "organisation": organisation.group(1)},
                              token_from="/portal/admin/")
    assert created.status_code == 200 and "Account created" in created.get_data(as_text=True)
    assert "cannot read SAVE's referrals yet" in created.get_data(as_text=True)
    password = password_on(created)
    user = stored(app, "new.fp@example.org")
    assert user.role == "focal_point" and user.totp_secret is None
    assert password not in user.password_hash and accounts.verify_password_hash(user.password_hash, password)
    assert audited(app, "account_created") == [(stored(app, world.emails["admin"]).id,
                                                f"account {user.id}, focal_point")]
    newcomer = PortalUser(app.test_client())
    assert newcomer.submit_login("new.fp@example.org", password).headers["Location"] == "/portal/login/enrol"
    assert newcomer.submit_code("new.fp@example.org").status_code == 302
    assert stored(app, "new.fp@example.org").totp_secret is not None


@pytest.mark.parametrize("form, message", [
    ({"email": "notanemail", "role": "admin"},
     "The account was not created: &#39;notanemail&#39; is not an e-mail address: An email address must have an "
     "@-sign."),
    ({"email": "save@example.org", "role": "admin"}, "an account for save@example.org exists already"),
    ({"email": "a@example.org", "role": "boss"}, "Choose a role."),
    ({"email": "a@example.org", "role": "focal_point"}, "a focal_point belongs to an organisation"),
    ({"email": "a@example.org", "role": "focal_point", "organisation": "99999"},
     "Choose an organisation from the list."),
])
def test_a_refused_account_says_why_and_keeps_what_was_typed(app, world, admin, form, message):
    refused = admin.post_form("/portal/admin/accounts", form, token_from="/portal/admin/")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert message in page and f'value="{html_module.escape(form["email"])}"' in page
    with app.extensions["intake"].sessions() as session:
        assert len(session.execute(select(User)).all()) == 6


def test_a_disabled_account_is_logged_out_at_once_and_enabled_again(app, world, admin):
    focal_point = PortalUser(app.test_client())
    focal_point.login(world.emails["care"])
    target = stored(app, world.emails["care"]).id
    disabled = admin.post_form(f"/portal/admin/accounts/{target}/active", {"active": "0"}, token_from="/portal/admin/")
    assert disabled.status_code == 302
    assert "care@example.org is disabled and logged out everywhere." in admin.client.get("/portal/admin/").get_data(
        as_text=True)
    assert focal_point.client.get("/portal/").status_code == 302
    assert focal_point.submit_login(world.emails["care"]).status_code == 401
    admin.post_form(f"/portal/admin/accounts/{target}/active", {"active": "1"}, token_from="/portal/admin/")
    assert stored(app, world.emails["care"]).active
    assert [detail for _, detail in audited(app, "account_disabled") + audited(app, "account_enabled")] == \
        [f"account {target}"] * 2
    assert focal_point.submit_login(world.emails["care"]).status_code == 302


def test_an_admin_cannot_disable_or_reset_their_own_account(app, world, admin):
    own = stored(app, world.emails["admin"]).id
    for path, form in ((f"/portal/admin/accounts/{own}/active", {"active": "0"}),
                       (f"/portal/admin/accounts/{own}/reset", {})):
        refused = admin.post_form(path, form, token_from="/portal/admin/")
        assert refused.status_code == 403 and "your own account" in refused.get_data(as_text=True)
    assert stored(app, world.emails["admin"]).active
    assert admin.post_form("/portal/admin/accounts/99999/reset", token_from="/portal/admin/").status_code == 404
    assert admin.post_form("/portal/admin/accounts/x/reset", token_from="/portal/admin/").status_code == 400


def test_a_reset_gives_a_new_password_and_takes_away_the_key_which_a_colleague_gives_again(app, world, admin, clock):
    email = world.emails["save"]
    target = stored(app, email)
    reset = admin.post_form(f"/portal/admin/accounts/{target.id}/reset", token_from="/portal/admin/")
    assert reset.status_code == 200
    assert "The reset took away the key the account held" in reset.get_data(as_text=True)
    password = password_on(reset)
    after = stored(app, email)
    assert after.totp_secret is None and after.public_key != target.public_key
    assert not accounts.verify_password_hash(after.password_hash, PASSWORD)
    assert audited(app, "account_reset")[0][1] == f"account {target.id}; 1 key grant(s) removed"
    person = PortalUser(app.test_client())
    assert person.submit_login(email).status_code == 401
    assert person.submit_login(email, password).headers["Location"] == "/portal/login/enrol"
    assert person.submit_code(email).status_code == 302
    assert "Not yet" in person.client.get("/portal/account").get_data(as_text=True)
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(KeyGrant).where(KeyGrant.user_id == target.id)).first() is None
    # A colleague who holds SAVE's key gives it again; after the next login the referrals open.
    colleague = PortalUser(app.test_client())
    colleague.login(world.emails["coord"])  # PSEAN's: cannot give SAVE's key
    assert colleague.post_form("/portal/access/grant", {"user_id": str(target.id)},
                               token_from="/portal/access").status_code == 404
    with app.extensions["intake"].sessions() as session:
        organisation = session.get(accounts.Organisation, target.organisation_id)
        giver = session.execute(select(User).where(User.email == world.emails["save_new"])).scalar_one()
        accounts.grant_with_recovery_key(session, organisation, giver, world.recovery_keys["SAVE"], clock())
        session.commit()
    holder = PortalUser(app.test_client())
    holder.login(world.emails["save_new"])
    assert holder.post_form("/portal/access/grant", {"user_id": str(target.id)},
                            token_from="/portal/access").status_code == 302
    person.post_form("/portal/logout")
    clock.advance(seconds=30)
    person.login(email, password)
    case_ref = world.case_refs["SAVE"][0]
    assert html_module.escape(world.accounts[case_ref], quote=False) in person.client.get(
        f"/portal/referrals/{case_ref}").get_data(as_text=True)


def test_the_directory_page_names_who_cannot_open_and_exports_the_import_format(app, world, admin):
    page = admin.client.get("/portal/admin/directory").get_data(as_text=True)
    assert "3 contacts are notified of reports but cannot open what they are told about" in page
    assert "SAVE focal_point (SAVE): no portal account for focal_point@save.example.org" in page
    exported = admin.client.get("/portal/admin/directory.csv")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][:3] == ["organisation", "acronym", "aliases"] and len(rows) == 4
    assert ["SAVE organisation", "SAVE", "", "focal_point", "SAVE focal_point", "focal_point@save.example.org", "", "",
            "*", "en"] in rows
    assert audited(app, "export_directory") == [(stored(app, world.emails["admin"]).id, "3 rows")]


def test_a_failed_notification_is_shown_without_its_recipient_and_sent_again(make_app, world, clock):
    with SmtpSink() as sink:
        app = make_app(SMTP_HOST=sink.host, SMTP_PORT=sink.port, SMTP_FROM="intake@example.org")
        runtime = app.extensions["intake"]
        worker = OutboxWorker(runtime, senders={"email": runtime.senders["email"]})
        worker.run_once()  # the world's own notifications leave first
        delivered = len(sink.messages)
        with runtime.sessions() as session:
            outbox.enqueue(session, runtime.vault, dedupe_key="n", channel="email", purpose="notification",
                           recipient="focal@save.example.org", payload={"subject": "Referral R-1", "body": "Log in"},
                           now=clock())
            outbox.enqueue(session, runtime.vault, dedupe_key="r", channel="sms", purpose="reply",
                           recipient="+959450001111", payload={"body": "hello"}, now=clock())
            session.commit()
        sink.refuse_recipients = "550 5.7.1 Relaying denied"
        assert worker.run_once() == 1
        with runtime.sessions() as session:  # the SMS reply gave up too (wiped, as failed replies are)
            reply = session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == "r")).scalar_one()
            reply.status, reply.attempts = "sending", 1  # as a worker's claim leaves it
            outbox.record_attempt(session, reply.id, attempt=1, now=clock(), outcome="failed", duration_ms=1,
                                  error="twilio 400")
            session.commit()
        admin = PortalUser(app.test_client())
        admin.login(world.emails["admin"])
        with runtime.sessions() as session:
            ids = {row.dedupe_key: row.id for row in session.execute(select(OutboxMessage)).scalars()}
        page = admin.client.get("/portal/admin/outbox").get_data(as_text=True)
        for secret in ("focal@save.example.org", "+959450001111", "Referral R-1", "hello"):
            assert secret not in page
        assert "smtp recipient refused [550]" in page
        assert f'id="retry-{ids["n"]}"' in page and f'id="message-{ids["r"]}"' in page
        assert f'id="retry-{ids["r"]}"' not in page
        sink.refuse_recipients = None
        clock.advance(minutes=5)
        assert admin.post_form("/portal/admin/outbox/retry", {"id": str(ids["n"])},
                               token_from="/portal/admin/outbox").status_code == 302
        assert "1 message is queued again" in admin.client.get("/portal/admin/outbox").get_data(as_text=True)
        assert worker.run_once() == 1
        assert [list(mail.rcpt_tos) for mail in sink.messages[delivered:]] == [["focal@save.example.org"]]
        nothing = admin.post_form("/portal/admin/outbox/retry", {"id": "all"}, token_from="/portal/admin/outbox")
        assert "Nothing was queued" in admin.client.get(nothing.headers["Location"]).get_data(as_text=True)
    assert [detail for _, detail in audited(app, "outbox_retry")] == [f"messages {ids['n']}"]


def test_the_audit_log_is_paged_newest_first_with_the_state_of_its_chain(app, world, admin, clock):
    for _ in range(60):
        admin.client.get("/portal/admin/directory.csv")  # each export is an entry
    first = admin.client.get("/portal/admin/audit").get_data(as_text=True)
    assert "The chain holds: all 61 entries" in first and "Page 1 of 2, newest first (61 entries)" in first
    ids = [int(found) for found in re.findall(r'<tr id="entry-(\d+)">', first)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True) and ids[0] == 61
    second = admin.client.get("/portal/admin/audit?page=2").get_data(as_text=True)
    assert re.findall(r'<tr id="entry-(\d+)">', second)[-1] == "1" and "admin@example.org" in second
    assert admin.client.get("/portal/admin/audit?page=x").status_code == 200
    with app.extensions["intake"].sessions() as session:
        session.get(AuditEntry, 5).detail = "tampered"
        session.commit()
    broken = admin.client.get("/portal/admin/audit").get_data(as_text=True)
    assert "The chain is broken at entry 5" in broken
