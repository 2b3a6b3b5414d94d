"""The account page, as its users use it through the app: the portal's language, the TOTP
status, and changing the password (re-wrapping the key, ending other sessions, audited)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage import accounts
from storage.models import AuditEntry, User
from tests.portal.conftest import PASSWORD, PortalUser
from tests.portal.test_auth import failures_from, held_text

NEW_PASSWORD = "a brand new passphrase here"


def stored(app, email) -> User:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(User).where(User.email == email)).scalar_one()


def change(portal_user, current=PASSWORD, new=NEW_PASSWORD, again=None):
    return portal_user.post_form("/portal/account/password", {
        "current_password": current, "new_password": new, "new_password_again": new if again is None else again,
    }, token_from="/portal/account")


def alert(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index('role="alert">') + len('role="alert">')
    return html[start:html.index("<", start)]


def test_the_page_says_who_you_are_and_how_you_log_in(client, world, portal_user):
    portal_user.login(world.emails["save"])
    html = client.get("/portal/account").get_data(as_text=True)
    assert "save@example.org" in html and "SAVE organisation (SAVE)" in html
    assert "Yes: you hold your organisation's key." in html and "Last code accepted" in html
    assert 'href="/portal/account"' in client.get("/portal/").get_data(as_text=True)  # in the navigation
    portal_user.post_form("/portal/logout")
    portal_user.login(world.emails["save_new"])
    assert "Not yet: a colleague who holds" in client.get("/portal/account").get_data(as_text=True)


def test_the_chosen_language_is_kept_and_the_portal_renders_in_it(app, client, world, portal_user):
    portal_user.login(world.emails["care"])
    assert '<html lang="en">' in client.get("/portal/account").get_data(as_text=True)
    saved = portal_user.post_form("/portal/account/language", {"language": "my"}, token_from="/portal/account")
    assert saved.status_code == 302 and stored(app, world.emails["care"]).language == "my"
    page = client.get("/portal/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="my">' in page and '<option value="my" lang="my" selected>' in page
    refused = portal_user.post_form("/portal/account/language", {"language": "xx"}, token_from="/portal/account")
    # The account reads Burmese now, so the refusal is in Burmese ("Choose one of the languages listed.").
    assert refused.status_code == 400 and alert(refused) == "ဖော်ပြထားသော ဘာသာစကားများထဲမှ တစ်ခုကို ရွေးပါ။"
    portal_user.post_form("/portal/account/language", {"language": ""}, token_from="/portal/account")
    assert stored(app, world.emails["care"]).language is None


def test_a_changed_password_keeps_the_key_and_ends_the_other_sessions(app, client, world, portal_user, clock):
    email, case_ref = world.emails["save"], world.case_refs["SAVE"][0]
    elsewhere = PortalUser(app.test_client())
    elsewhere.login(email)
    portal_user.login(email)
    changed = change(portal_user)
    assert changed.status_code == 302 and changed.headers["Location"] == "/portal/account"
    assert "Your password is changed" in client.get("/portal/account").get_data(as_text=True)
    assert client.get(f"/portal/referrals/{case_ref}").status_code == 200  # this session goes on
    assert elsewhere.client.get("/portal/").status_code == 302  # the other one ended
    user = stored(app, email)
    assert accounts.verify_password_hash(user.password_hash, NEW_PASSWORD)
    with app.extensions["intake"].sessions() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "password_changed")).scalar_one()
    assert (entry.action, entry.user_id, entry.detail) == ("password_changed", user.id, "1 other session(s) ended")
    # The grant still opens with the new password: the referral reads after a fresh login.
    portal_user.post_form("/portal/logout")
    assert portal_user.submit_login(email).status_code == 401
    clock.advance(seconds=30)
    portal_user.login(email, NEW_PASSWORD)
    assert world.accounts[case_ref].split()[0] in client.get(f"/portal/referrals/{case_ref}").get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"again": "something else entirely"}, "The two new passwords are not the same. Nothing was changed."),
    ({"new": "short one"}, "Choose a longer password: at least 12 characters. A few unrelated words make a strong "
                           "one that is easy to remember."),
    ({"new": "my save@example.org pass"}, "Choose a password that does not contain your e-mail address."),
    ({"new": "a" * 14}, "Choose a password that is not one character repeated."),
    ({"new": PASSWORD}, "The new password is your current one. Nothing was changed."),
    ({"current": "not my password at all"}, "Your current password is not right. Nothing was changed."),
])
def test_a_refused_change_says_why_and_changes_nothing(app, world, portal_user, form, message):
    email = world.emails["save"]
    portal_user.login(email)
    before = stored(app, email)
    refused = change(portal_user, **form)
    assert refused.status_code == 400 and alert(refused) == message
    after = stored(app, email)
    assert (after.password_hash, after.wrapped_private_key) == (before.password_hash, before.wrapped_private_key)
    assert failures_from(app, email) == (1 if "current" in form else 0)


def test_guessing_the_current_password_logs_the_account_out_and_holds_the_address(app, client, world, portal_user):
    email = world.emails["save"]
    portal_user.login(email)
    for _ in range(2):
        assert change(portal_user, current="a wrong guess here").status_code == 400
    held = change(portal_user, current="a wrong guess here")
    assert held.status_code == 302 and held.headers["Location"] == "/portal/login"
    assert ("Too many wrong attempts: you are logged out everywhere. " + held_text(2)) \
        in client.get("/portal/login").get_data(as_text=True)
    assert client.get("/portal/").status_code == 302
    assert portal_user.submit_login(email).status_code == 429  # the same address waits


def test_password_changes_are_limited_per_address(make_app, world):
    app = make_app(PORTAL_LOGIN_LIMIT="2 per minute")
    person = PortalUser(app.test_client())
    person.login(world.emails["care"])
    for _ in range(2):
        assert change(person, again="does not match at all").status_code == 400
    throttled = change(person, again="does not match at all")
    assert throttled.status_code == 429 and alert(throttled).startswith("Too many attempts from your address.")
