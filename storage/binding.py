"""What each sealed value is bound to: its table, its row and the clear columns it depends on
(AEAD associated data), so that a value copied into another row, or a row whose routing columns
were edited, does not open, and is reported (`AlteredError`, logged as its kind, never used).

Row identity must exist before a value is sealed. Where a table has a unique key known before
the row is written, that key is the identity: the outbox's `dedupe_key` (queued with an INSERT
that ignores duplicates, which returns no id), a handled message's `digest`, a registration's
`number_digest` (imported in bulk statements, with no id until written). Everywhere else the
row is flushed first (its sealed column empty) and sealed with its id. No new column is
needed: a random row nonce would have been one more thing to migrate and keep.

Values sealed before migration 0018 are bound to their column only. They still open, but only
in rows the migration found (`storage.models.LegacySeal`): otherwise an old value could be
copied into any new row and open there, and binding would prove nothing.

Functions take the session first and never commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, object_session

from storage.crypto import AlteredError, bound, refused
from storage.models import LegacySeal

__all__ = ["AlteredError", "bound", "legacy_allowed", "referral_row", "refused", "report_row"]


def legacy_allowed(session: Session | None, table: str, row_id: int | None) -> bool:
    """Whether row `row_id` of `table` may still hold a value of the format before 0018."""
    if session is None or row_id is None:
        return False
    cutover = session.get(LegacySeal, table)
    return cutover is not None and cutover.last_id is not None and row_id <= cutover.last_id


def legacy_for(row, table: str) -> bool:
    """`legacy_allowed` for a loaded row (its own session)."""
    return legacy_allowed(object_session(row), table, getattr(row, "id", None))


# The report's clear routing columns: what routing, deadlines and counts read without opening
# it. Its content and its receipt wrap are bound to all of them, so lowering its urgency or
# moving it to another organisation or township is seen on opening.
REPORT_COLUMNS = ("urgent", "named_organisation_id", "township_pcode", "state_pcode", "contact_allowed",
                  "child_involved", "affected", "incident_period", "route", "received_month")


def report_row(report) -> dict:
    """The fields a report's sealed content and receipt wrap are bound to."""
    row = {"id": report.id, **{name: getattr(report, name) for name in REPORT_COLUMNS}}
    row["urgent"], row["contact_allowed"] = bool(row["urgent"]), bool(row["contact_allowed"])
    return row


def referral_row(referral) -> dict:
    """The fields a referral's sealed report key is bound to."""
    return {"id": referral.id, "report_id": referral.report_id, "organisation_id": referral.organisation_id}


def sealed_label(table: str, column: str, row: dict) -> bytes:
    """The associated data for a value sealed with a key other than the data key (report key,
    organisation key, receipt), for `column` of `table` in `row`."""
    return bound(f"{table}.{column}", row)
