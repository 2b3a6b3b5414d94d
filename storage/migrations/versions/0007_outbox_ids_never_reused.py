"""outbox ids are never reused on SQLite (AUTOINCREMENT), since Message-IDs derive from them

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Without AUTOINCREMENT SQLite hands out max(id)+1, so once the purge removes the newest rows a new
message can get an old id, and with it an old e-mail's Message-ID, which mail services may drop
as a duplicate. PostgreSQL sequences never go back; nothing changes there.
"""

from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _recreate_outbox(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    # Recreating the table drops the old one, and with foreign keys on (they cannot be turned off
    # inside the migration's transaction) that would cascade to the delivery attempts: keep them.
    op.execute("CREATE TEMP TABLE kept_attempts AS SELECT * FROM delivery_attempts")
    with op.batch_alter_table('outbox', recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass
    op.execute("INSERT INTO delivery_attempts SELECT * FROM kept_attempts")
    op.execute("DROP TABLE kept_attempts")


def upgrade() -> None:
    _recreate_outbox(True)


def downgrade() -> None:
    _recreate_outbox(False)
