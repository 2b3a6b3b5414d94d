"""Sealed media items: a key of each item's own, bound to its id and kind; opened only as the
report's own item, with the key from the report's content."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from storage import media
from storage.models import MediaItem

DATA = b"OggS voice note bytes Mk3-marker" * 10


class OneRow:
    """The one stored row a session would find (open_item only asks for a row by id)."""

    def __init__(self, row: MediaItem):
        self.row = row

    def get(self, _model, ref):
        return self.row if ref == self.row.id else None


def stored(report_id: int | None = 5):
    sealed = media.seal(DATA, kind="voice", content_type="audio/ogg")
    row = MediaItem(id=sealed.ref, report_id=report_id, body=sealed.body, created_at=datetime.now(timezone.utc))
    item = {"ref": sealed.ref, "key": sealed.key, "kind": "voice"}
    return sealed, OneRow(row), item


def test_an_item_opens_with_its_key_as_its_reports_own():
    sealed, session, item = stored()
    assert sealed.size == len(DATA) and b"Mk3-marker" not in sealed.body and len(sealed.key) == 44
    assert media.open_item(session, 5, item) == DATA


@pytest.mark.parametrize("change", [
    lambda item: {**item, "key": media.seal(b"x", kind="voice", content_type="audio/ogg").key},  # another key
    lambda item: {**item, "kind": "photo"},  # the kind is bound
    lambda item: {**item, "ref": "0" * 32},  # no such row
    lambda item: {**item, "key": "not base64!"},
])
def test_anything_else_does_not_open(change):
    _, session, item = stored()
    with pytest.raises(media.MediaError):
        media.open_item(session, 5, change(item))


def test_an_item_of_another_report_or_of_none_does_not_open():
    _, session, item = stored(report_id=6)
    with pytest.raises(media.MediaError):
        media.open_item(session, 5, item)
    _, session, item = stored(report_id=None)
    with pytest.raises(media.MediaError):
        media.open_item(session, 5, item)


def test_a_body_moved_to_another_row_does_not_open():
    first, session, item = stored()
    second = media.seal(DATA, kind="voice", content_type="audio/ogg")
    session.row.id = second.ref  # the first body under the second id
    with pytest.raises(media.MediaError):
        media.open_item(session, 5, {"ref": second.ref, "key": first.key, "kind": "voice"})
