"""Someone who took a copy of the database together with the server's secrets (`data.key` and
`SECRET_KEY`), right after a report was filed: what can they read, and what can they link?

The README's "who can read what" table says: unfinished drafts and queued messages, yes; a filed
report, or which conversation filed it, no. These helpers look with every key the server has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import LargeBinary

from storage.conversations import CHAT_PURPOSE, REPLY_PURPOSE, STATE_PURPOSE
from storage.crypto import DecryptionError
from storage.logins import TOTP_PURPOSE
from storage.models import Base, Conversation, Report
from storage.outbox import PAYLOAD_PURPOSE, RECIPIENT_PURPOSE
from storage.resealing import DATA_KEY_COLUMNS

PURPOSES = (STATE_PURPOSE, REPLY_PURPOSE, CHAT_PURPOSE, TOTP_PURPOSE, PAYLOAD_PURPOSE, RECIPIENT_PURPOSE)


@dataclass
class Loot:
    rows: dict[str, list[dict]]  # table -> its rows, as the copy holds them
    opened: list[str]  # every sealed value the server's data key opens, as text

    def everything(self) -> str:
        return repr(self.rows) + "\n".join(self.opened)


def steal(runtime) -> Loot:
    """Every row of every table, and every sealed value the server's own key opens."""
    rows, opened = {}, []
    with runtime.db.connect() as connection:
        for table in Base.metadata.sorted_tables:
            found = [dict(row._mapping) for row in connection.execute(table.select())]
            rows[table.name] = found
            blobs = [column.name for column in table.columns if isinstance(column.type, LargeBinary)]
            for row in found:
                opened.extend(text.decode("utf-8", "replace") for text in open_row(runtime.vault, table.name, row))
                for name in blobs:
                    opened.extend(_open_any(runtime.vault, row[name]))
    return Loot(rows, opened)


def open_row(vault, table: str, row: dict) -> list[bytes]:
    """Every value of a row (as a copy holds it) that the server's data key opens, bound to the
    row as the code binds it (a thief reads the code too: storage.resealing lists every column)."""
    opened = []
    fields = SimpleNamespace(**{name: bytes(value) if isinstance(value, memoryview) else value
                                for name, value in row.items()})
    for sealed in DATA_KEY_COLUMNS:
        blob = row.get(sealed.column) if sealed.model.__tablename__ == table else None
        if blob:
            try:
                opened.append(vault.open(bytes(blob), sealed.purpose, sealed.row(fields), legacy=True))
            except DecryptionError:
                continue
    return opened


def _open_any(vault, blob) -> list[str]:
    if not blob:
        return []
    for purpose in PURPOSES:
        try:
            return [vault.open(bytes(blob), purpose).decode("utf-8", "replace")]
        except DecryptionError:
            continue
    return []


def links_to(loot: Loot, sender_key: str, within: timedelta = timedelta(hours=1)) -> list[str]:
    """What ties the conversation of `sender_key` to the time of any filed report: a timestamp
    within `within` of a report's on the conversation or on any row that points at it (by id or
    by its pseudonym)."""
    [conversation] = [row for row in loot.rows[Conversation.__tablename__] if row["sender_key"] == sender_key]
    filed = [row["created_at"] for row in loot.rows[Report.__tablename__]]
    assert filed, "no report was filed"
    found = []
    for table, rows in loot.rows.items():
        for row in rows:
            own = table == Conversation.__tablename__ and row["id"] == conversation["id"]
            points = row.get("conversation_id") == conversation["id"] or sender_key in map(str, row.values())
            if not (own or points):
                continue
            for name, value in row.items():
                if isinstance(value, datetime) and any(abs(value - at) < within for at in filed):
                    found.append(f"{table}.{name} of row {row['id']}")
            if points and not own:
                found.append(f"{table} row {row['id']} names the conversation")
    return found

