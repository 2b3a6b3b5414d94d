"""Receipts for reports the tests file straight through storage (not through the inbox, which
draws a taken lookup part again itself): a fresh number whose lookup part no report holds yet, so
that a test filing many reports never meets a collision it did not ask for."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage import reports, sealing


def untaken_receipt(session: Session, pepper: bytes) -> tuple[str, sealing.ReceiptSecrets]:
    """A new receipt number no report's lookup part finds, and its secrets."""
    while True:
        receipt = sealing.new_receipt()
        if not reports.receipt_taken(session, sealing.receipt_lookup(receipt, pepper)):
            return receipt, sealing.receipt_secrets(receipt, pepper)
