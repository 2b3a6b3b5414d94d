"""receipt salts: each new report's receipt derived with a random salt of its own

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

Receipts were derived with one fixed salt, so one offline guess (with the database and the
server's secrets) was tried against every report at once. New receipts are 16 digits: the first
six find the report through a keyed digest (`receipt_lookup`, still unique), and the whole number
is derived with the report's own salt, kept here with the derivation's cost. Existing reports keep
NULL in both and their 12-digit receipts still open them, the old way. Nothing to convert: the
receipts are not stored, so old rows cannot be re-salted (the reporter would need a new number).
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_salt', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('receipt_kdf', sa.String(length=80), nullable=True))


def downgrade() -> None:
    # Reports filed under 16-digit receipts cannot be opened by their receipt once the salts are
    # gone: downgrading is for an empty or a test database only.
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_column('receipt_kdf')
        batch_op.drop_column('receipt_salt')
