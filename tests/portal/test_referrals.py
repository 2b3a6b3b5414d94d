"""The portal's pages: a focal point's list, one referral opened and audited, acknowledging,
organisation isolation (guessed case refs are a plain 404), roles, users still without the key,
and the coordinators' counts."""

from __future__ import annotations

import html
import logging
import re

import pytest
from sqlalchemy import select

from storage import accounts
from storage.models import AuditEntry, Organisation, Referral, User
from tests.portal.conftest import PortalUser, seal_stored_content


def audit_rows(app) -> list[AuditEntry]:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()


def referral_row(app, case_ref) -> Referral:
    with app.extensions["intake"].sessions() as session:
        return session.execute(select(Referral).where(Referral.case_ref == case_ref)).scalar_one()


def text_of(response) -> str:
    return response.get_data(as_text=True)


def without_csrf(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", page)


def test_the_list_shows_only_the_own_organisations_referrals_and_no_content(client, world, portal_user):
    portal_user.login(world.emails["save"])
    page = text_of(client.get("/portal/"))
    assert "Referrals for SAVE organisation" in page
    for case_ref in world.case_refs["SAVE"]:
        assert f'href="/portal/referrals/{case_ref}"' in page
    for case_ref in world.case_refs["CARE"] + world.case_refs["PSEAN"]:
        assert case_ref not in page
    assert all(account not in page for account in world.accounts.values())  # metadata only
    assert page.count("<strong class=\"urgent\">Urgent</strong>") == 1
    assert page.count("Received") >= 3  # the column and both statuses
    assert '<strong class="tag">Overdue</strong>' not in page and "cannot open" not in page


def test_overdue_referrals_are_highlighted_in_words_too(client, world, portal_user, clock):
    clock.advance(hours=13)  # past the urgent referral's 12-hour deadline, not the other's 24
    portal_user.login(world.emails["save"])
    page = text_of(client.get("/portal/"))
    assert page.count('<tr class="overdue">') == 1 and page.count('<strong class="tag">Overdue</strong>') == 1
    urgent_row = page[page.index('<tr class="overdue">'):]
    assert world.case_refs["SAVE"][1] in urgent_row[:urgent_row.index("</tr>")]


def test_opening_a_referral_decrypts_it_and_audits_every_opening(app, client, world, portal_user, caplog):
    caplog.set_level(logging.DEBUG)
    portal_user.login(world.emails["save"])
    case_ref = world.case_refs["SAVE"][1]
    for _ in range(2):
        response = client.get(f"/portal/referrals/{case_ref}")
        assert response.status_code == 200
    page = text_of(response)
    # The account, escaped (the reporter's "<b>" is text, not markup), and every other answer.
    assert html.escape(world.accounts[case_ref], quote=False) in page and "<b>not bold</b>" not in page
    assert "What happened" in page and "Contact number" in page and "+95 9 4500 1234" in page
    assert "Who was affected" in page and "Someone else" in page and "On another number" in page
    assert "<dt>Anyone under 18</dt><dd><span class=\"text\">Yes</span></dd>" in page
    assert f"Referral {case_ref}" in page and "Acknowledge receipt" in page
    assert response.headers["Cache-Control"] == "no-store"

    referral = referral_row(app, case_ref)
    opened = [(row.action, row.referral_id) for row in audit_rows(app) if row.action == "open_referral"]
    assert opened == [("open_referral", referral.id)] * 2
    assert all(row.user_id is not None and (row.detail or "") == "" for row in audit_rows(app)
               if row.action == "open_referral")
    logged = caplog.text
    assert world.accounts[case_ref] not in logged and world.emails["save"] not in logged


def dt_labels(page: str) -> list[str]:
    """The labels of the page's report section, in order."""
    section = page[page.index('<dl class="report">'):]
    return re.findall(r"<dt>([^<]*)</dt>", section[:section.index("</section>")])


def test_unknown_content_keys_are_shown_too(app, client, world, portal_user, clock):
    runtime = app.extensions["intake"]
    with runtime.sessions() as session:
        save = session.execute(select(Organisation).where(Organisation.acronym == "SAVE")).scalar_one()
        case_ref = seal_stored_content(session, runtime, save, {
            "account": "Qx5 words", "future_question": "an answer <i>kept</i>", "messages": ["first", "second"]},
            now=clock())
        session.commit()
    portal_user.login(world.emails["save"])
    page = text_of(client.get(f"/portal/referrals/{case_ref}"))
    assert "<dt>Future question</dt>" in page and "an answer &lt;i&gt;kept&lt;/i&gt;" in page
    assert "<li><span class=\"text\">first</span></li>" in page
    assert dt_labels(page)[-2:] == ["Future question", "Messages"]  # after the flow's fields


def test_a_report_sealed_before_the_schema_shows_each_answer_once(app, client, world, portal_user, clock):
    """Reports filed before the schema sealed words under their own keys, some of which the clear
    columns also keep: each is shown once, as the field it was, and none of its words is lost."""
    runtime = app.extensions["intake"]
    old = {"account": "Qx4 an older report", "organisation named": "SAVE organisation (SAVE)",
           "place": "Botahtaung (MMR013017)", "affected": "the person reporting",
           "contact": "may be contacted on +959450007777", "safety": "said they were in danger when reporting"}
    with runtime.sessions() as session:
        save = session.execute(select(Organisation).where(Organisation.acronym == "SAVE")).scalar_one()
        case_ref = seal_stored_content(session, runtime, save, old, now=clock())
        session.commit()
    portal_user.login(world.emails["save"])
    page = text_of(client.get(f"/portal/referrals/{case_ref}"))
    labels = dt_labels(page)
    assert labels == ["In danger when reporting", "Organisation named", "What happened", "When it happened",
                      "Where it happened", "Who was affected", "Anyone under 18", "May the organisation make contact"]
    for words in old.values():
        assert html.escape(words, quote=False) in page
    for label in labels:
        assert page.count(f"<dt>{label}</dt>") == 1, label


def test_acknowledging_changes_the_status_once(app, client, world, portal_user, clock):
    portal_user.login(world.emails["save"])
    case_ref = world.case_refs["SAVE"][0]
    response = portal_user.post_form(f"/portal/referrals/{case_ref}/acknowledge",
                                     token_from=f"/portal/referrals/{case_ref}")
    assert response.status_code == 303 and response.headers["Location"] == f"/portal/referrals/{case_ref}"
    page = text_of(client.get(response.headers["Location"]))
    assert f"Referral {case_ref} is acknowledged." in page and '<dd id="status">Acknowledged</dd>' in page

    referral = referral_row(app, case_ref)
    assert referral.status == "acknowledged" and referral.acknowledged_at == clock()
    assert referral.acknowledged_by is not None and referral.next_escalation_at is None
    again = portal_user.post_form(f"/portal/referrals/{case_ref}/acknowledge")
    assert again.status_code == 303
    assert f"Referral {case_ref} was already acknowledged." in text_of(client.get(again.headers["Location"]))
    assert [row.referral_id for row in audit_rows(app) if row.action == "acknowledge"] == [referral.id]
    assert "Acknowledge receipt" not in text_of(client.get(f"/portal/referrals/{case_ref}"))


def test_acknowledging_needs_the_csrf_token(app, client, world, portal_user):
    portal_user.login(world.emails["save"])
    case_ref = world.case_refs["SAVE"][0]
    assert client.post(f"/portal/referrals/{case_ref}/acknowledge").status_code == 400
    assert referral_row(app, case_ref).acknowledged_at is None


def test_guessing_case_refs_gives_the_same_404_as_nonsense(app, client, world, portal_user):
    portal_user.login(world.emails["save"])
    others = world.case_refs["CARE"] + world.case_refs["PSEAN"]
    guesses = others + ["R-ZZZZZZ", "R-222222", "nonsense", world.case_refs["SAVE"][0].lower()]
    client.get("/portal/")  # the first page after login adds the CSRF token to the cookie
    answers = [client.get(f"/portal/referrals/{guess}") for guess in guesses]
    assert {response.status_code for response in answers} == {404}
    bodies = {without_csrf(text_of(response)) for response in answers}
    assert len(bodies) == 1 and "not yours to see" in bodies.pop()
    headers = {tuple(sorted((name, value) for name, value in response.headers.items()
                            if name not in ("Date", "Content-Length"))) for response in answers}
    assert len(headers) == 1, headers
    for guess in others:
        assert portal_user.post_form(f"/portal/referrals/{guess}/acknowledge").status_code == 404
        assert referral_row(app, guess).acknowledged_at is None
    assert [row.action for row in audit_rows(app)] == ["login"]  # nothing was opened


@pytest.mark.parametrize("name, landing", [("caseworker", "/portal/changes"), ("admin", "/portal/dashboard")])
def test_roles_without_referral_access_get_a_clear_403(client, world, portal_user, name, landing):
    assert portal_user.login(world.emails[name]).headers["Location"] == landing
    for path in ("/portal/", f"/portal/referrals/{world.case_refs['SAVE'][0]}"):
        response = client.get(path)
        assert response.status_code == 403
        assert f"Your role ({name}) does not give access to referrals." in text_of(response)
        assert all(account not in text_of(response) for account in world.accounts.values())
    refused = portal_user.post_form(f"/portal/referrals/{world.case_refs['SAVE'][0]}/acknowledge")
    assert refused.status_code == 403


def test_the_old_overview_leads_to_the_dashboard_which_focal_points_do_not_see(client, world, portal_user):
    portal_user.login(world.emails["save"])
    moved = client.get("/portal/overview")
    assert moved.status_code == 301 and moved.headers["Location"] == "/portal/dashboard"
    response = client.get("/portal/dashboard")
    assert response.status_code == 403
    assert "Your role (focal point) does not give access to the dashboard" in text_of(response)


def test_a_user_without_a_grant_is_told_how_access_comes(app, client, world, portal_user, clock):
    portal_user.login(world.emails["save_new"])  # first of SAVE to log in: nobody could grant yet
    listing = text_of(client.get("/portal/"))
    assert "does not hold" in listing and world.case_refs["SAVE"][0] in listing
    case_ref = world.case_refs["SAVE"][0]
    response = client.get(f"/portal/referrals/{case_ref}")
    page = text_of(response)
    assert response.status_code == 403 and "You cannot open referrals yet" in page
    assert "Ask the operator to give you access" in page and "flask users grant" in page
    assert world.accounts[case_ref] not in page
    assert "open_referral" not in [row.action for row in audit_rows(app)]

    # A colleague's login grants nothing; the operator's recovery key does.
    PortalUser(app.test_client()).login(world.emails["save"])
    portal_user.post_form("/portal/logout")
    portal_user.login(world.emails["save_new"])
    assert client.get(f"/portal/referrals/{case_ref}").status_code == 403
    with app.extensions["intake"].sessions() as session:
        organisation = session.execute(select(Organisation).where(Organisation.acronym == "SAVE")).scalar_one()
        newcomer = session.execute(select(User).where(User.email == world.emails["save_new"])).scalar_one()
        accounts.grant_with_recovery_key(session, organisation, newcomer, world.recovery_keys["SAVE"], now=clock())
        session.commit()
    portal_user.post_form("/portal/logout")
    portal_user.login(world.emails["save_new"])
    assert world.accounts[case_ref] in text_of(client.get(f"/portal/referrals/{case_ref}"))


def test_coordinators_read_the_networks_referrals_and_no_one_elses(client, world, portal_user):
    portal_user.login(world.emails["coord"])
    network_ref = world.case_refs["PSEAN"][0]
    assert network_ref in text_of(client.get("/portal/"))
    assert world.accounts[network_ref] in text_of(client.get(f"/portal/referrals/{network_ref}"))
    assert client.get(f"/portal/referrals/{world.case_refs['SAVE'][0]}").status_code == 404


def test_a_tampered_public_key_is_noticed_at_login_and_the_key_not_used(app, client, world, portal_user):
    """Someone able to write to the database swaps an organisation's public key, so that future
    reports would be sealed to a key of theirs: the next login notices, and says so."""
    from storage import sealing

    with app.extensions["intake"].sessions() as session:
        organisation = session.execute(select(Organisation).where(Organisation.acronym == "SAVE")).scalar_one()
        organisation.public_key = sealing.new_key_pair()[1]
        session.commit()
    portal_user.login(world.emails["save"])
    assert client.get(f"/portal/referrals/{world.case_refs['SAVE'][0]}").status_code == 403
    assert ("login", "organisation key does not match its public key") in [
        (row.action, row.detail) for row in audit_rows(app)]


@pytest.mark.parametrize("path", ["/portal/referrals/%00", "/portal/referrals/R-%00AAAA"])
def test_control_characters_in_a_case_ref_are_a_404(client, world, portal_user, path):
    portal_user.login(world.emails["save"])
    assert client.get(path).status_code == 404
    assert portal_user.post_form(f"{path}/acknowledge").status_code == 404


def test_a_nul_in_the_login_email_is_a_failed_login_not_a_500(portal_user):
    assert portal_user.submit_login("a\x00b@example.org").status_code == 401
