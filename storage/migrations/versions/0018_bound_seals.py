"""bound seals: values sealed before this revision are bound to their column only; newer ones to
their row and the clear columns they depend on

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01

Nothing sealed is rewritten here: the data key is not the migration's to read, and report
content, keys and notes open only with an organisation's key. This records, per table, the
highest row id that may still hold a value of the old format (`legacy_seals`), so that old values
keep opening where they are and nowhere else. `flask --app app reseal` then reseals everything
the data key protects and deletes those tables' rows here.
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# Every table with a sealed column (storage.binding).
SEALED_TABLES = ("conversations", "inbound_messages", "outbox", "chat_messages", "registrations",
                 "registration_changes", "registration_history", "users", "reports", "referrals",
                 "referral_events", "reporter_messages")


def upgrade() -> None:
    legacy = op.create_table(
        'legacy_seals',
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('last_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('table_name', name=op.f('pk_legacy_seals')),
    )
    connection = op.get_bind()
    rows = []
    for table in SEALED_TABLES:
        # The table names are the constant SEALED_TABLES above, never input.
        last = connection.execute(sa.text(f"SELECT MAX(id) FROM {table}")).scalar()  # noqa: S608
        if last is not None:
            rows.append({"table_name": table, "last_id": last})
    if rows:
        op.bulk_insert(legacy, rows)


def downgrade() -> None:
    op.drop_table('legacy_seals')
