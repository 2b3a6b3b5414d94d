"""A referral whose stored record was altered by someone writing to the database (its content or
key swapped with another report's, its urgency lowered, its place changed) is shown as "cannot
be opened: the stored record was altered": never a 500, never the other report's words, and the
audit log names what did not open (issue 14, point 2)."""

from __future__ import annotations

import html
import logging

import pytest
from sqlalchemy import select, update

from storage.models import AuditEntry, Referral, Report
from tests.portal.test_casework import post, referral_row, rows, text_of

ALTERED = "This referral cannot be opened: the stored record was altered."


def write(app, statement) -> None:
    with app.extensions["intake"].sessions() as db:
        db.execute(statement)
        db.commit()


def swap(app, model, column: str, first_id: int, second_id: int) -> None:
    attribute = getattr(model, column)
    with app.extensions["intake"].sessions() as db:
        first = db.execute(select(attribute).where(model.id == first_id)).scalar_one()
        second = db.execute(select(attribute).where(model.id == second_id)).scalar_one()
        db.execute(update(model).where(model.id == first_id).values({column: second}))
        db.execute(update(model).where(model.id == second_id).values({column: first}))
        db.commit()


def swap_content(app, world):
    first, second = (referral_row(app, ref) for ref in world.case_refs["SAVE"])
    swap(app, Report, "content", first.report_id, second.report_id)
    return "reports.content"


def swap_keys(app, world):
    first, second = (referral_row(app, ref) for ref in world.case_refs["SAVE"])
    swap(app, Referral, "sealed_key", first.id, second.id)
    return "referrals.sealed_key"


def lower_urgency(app, world):
    """The second SAVE report (a child involved) is urgent; it is made not to be."""
    second = referral_row(app, world.case_refs["SAVE"][1])
    assert rows(app, Report, Report.id == second.report_id)[0].urgent
    write(app, update(Report).where(Report.id == second.report_id).values(urgent=False))
    return "reports.content"


def move_township(app, world):
    first = referral_row(app, world.case_refs["SAVE"][0])
    write(app, update(Report).where(Report.id == first.report_id).values(township_pcode="MMR003001"))
    return "reports.content"




@pytest.mark.parametrize("alter, which", [(swap_content, 0), (swap_keys, 0), (lower_urgency, 1), (move_township, 0)])
def test_an_altered_referral_cannot_be_opened_and_is_audited(app, client, world, portal_user, caplog, alter, which):
    caplog.set_level(logging.DEBUG)
    case_ref, other = world.case_refs["SAVE"][which], world.case_refs["SAVE"][1 - which]
    portal_user.login(world.emails["save"])
    assert html.escape(world.accounts[case_ref], quote=False) in text_of(client.get(f"/portal/referrals/{case_ref}"))
    kind = alter(app, world)

    response = client.get(f"/portal/referrals/{case_ref}")
    page = text_of(response)
    assert response.status_code == 200
    assert ALTERED in page
    for account in (world.accounts[case_ref], world.accounts[other]):
        assert html.escape(account, quote=False) not in page and account not in caplog.text
    referral = referral_row(app, case_ref)
    altered = [(row.action, row.referral_id, row.detail) for row in rows(app, AuditEntry)
               if row.action == "record_altered"]
    assert altered == [("record_altered", referral.id, kind)]
    assert kind in caplog.text


def test_a_form_on_an_altered_referral_says_so_and_changes_nothing(app, client, world, portal_user):
    case_ref = world.case_refs["SAVE"][0]
    portal_user.login(world.emails["save"])
    swap_keys(app, world)
    response = post(portal_user, case_ref, "message", message="Please call us")
    assert response.status_code == 422
    assert ALTERED in text_of(response)
