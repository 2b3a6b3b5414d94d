"""Giving a colleague the organisation's key from a key holder's browser session (no recovery
key), through the app: who is offered, who may give, and that the newcomer then reads."""

from __future__ import annotations

import html as html_module

import pytest
from sqlalchemy import select

from storage import accounts, sealing
from storage.models import AuditEntry, KeyGrant, Organisation, User
from tests.portal.conftest import PASSWORD, PortalUser


def user_id(app, email) -> int:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(User.id).where(User.email == email)).scalar_one()


def grant(portal_user, app, email):
    return portal_user.post_form("/portal/access/grant", {"user_id": str(user_id(app, email))},
                                 token_from="/portal/access")


def test_a_key_holder_gives_a_colleague_the_key_and_the_colleague_reads(app, client, world, portal_user):
    portal_user.login(world.emails["save"])
    page = client.get("/portal/access").get_data(as_text=True)
    newcomer = user_id(app, world.emails["save_new"])
    # Only key-holding colleagues of SAVE: not the caseworker, not CARE's focal point, not oneself.
    assert f'id="colleague-{newcomer}"' in page and f'id="grant-{newcomer}"' in page
    for other in ("caseworker", "care", "save", "admin"):
        assert f'id="colleague-{user_id(app, world.emails[other])}"' not in page
    given = grant(portal_user, app, world.emails["save_new"])
    assert given.status_code == 302 and given.headers["Location"] == "/portal/access"
    after = client.get("/portal/access").get_data(as_text=True)
    assert "save_new@example.org can now read your organisation&#39;s referrals" in after
    assert f'id="grant-{newcomer}"' not in after and "Has access" in after
    giver = user_id(app, world.emails["save"])
    with app.extensions["intake"].sessions() as session:
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "grant")).scalar_one()
        assert (entry.user_id, entry.detail) == (giver, f"organisation key to account {newcomer}")
        sealed = session.execute(select(KeyGrant.sealed_key).where(KeyGrant.user_id == newcomer)).scalar_one()
        organisation = session.execute(select(Organisation).where(Organisation.acronym == "SAVE")).scalar_one()
        user = session.get(User, newcomer)
        assert sealing.public_key_of(accounts.open_grant(user.wrapped_private_key, sealed, PASSWORD)) \
            == organisation.public_key
    # The newcomer logs in and reads SAVE's referral.
    colleague = PortalUser(app.test_client())
    colleague.login(world.emails["save_new"])
    case_ref = world.case_refs["SAVE"][0]
    shown = colleague.client.get(f"/portal/referrals/{case_ref}").get_data(as_text=True)
    assert html_module.escape(world.accounts[case_ref], quote=False) in shown


def test_someone_without_the_key_cannot_give_it(app, client, world, portal_user):
    portal_user.login(world.emails["save_new"])
    page = client.get("/portal/access").get_data(as_text=True)
    assert 'id="no-key"' in page and 'id="grant-' not in page
    refused = grant(portal_user, app, world.emails["save"])
    assert refused.status_code == 403 and "do not hold your organisation" in refused.get_data(as_text=True)


@pytest.mark.parametrize("target, status, reason", [
    ("care", 404, None),  # another organisation's account: as if it did not exist
    ("caseworker", 409, "only active focal_point and coordinator accounts hold an organisation&#39;s key"),
    ("save", 409, "only a colleague of the same organisation can be given its key"),
])
def test_the_key_goes_only_to_a_key_holding_colleague(app, world, portal_user, target, status, reason):
    portal_user.login(world.emails["save"])
    refused = grant(portal_user, app, world.emails[target])
    assert refused.status_code == status
    if reason:
        assert reason in refused.get_data(as_text=True)
    with app.extensions["intake"].sessions() as session:
        assert session.execute(select(AuditEntry).where(AuditEntry.action == "grant")).first() is None


def test_a_second_grant_to_the_same_colleague_is_refused(app, world, portal_user):
    portal_user.login(world.emails["save"])
    assert grant(portal_user, app, world.emails["save_new"]).status_code == 302
    again = grant(portal_user, app, world.emails["save_new"])
    assert again.status_code == 409 and "already holds SAVE&#39;s key" in again.get_data(as_text=True)


def test_roles_that_hold_no_key_do_not_reach_the_page(world, portal_user):
    portal_user.login(world.emails["admin"])
    assert portal_user.client.get("/portal/access").status_code == 403
    assert portal_user.post_form("/portal/access/grant", {"user_id": "1"}, token_from="/portal/account").status_code \
        == 403
