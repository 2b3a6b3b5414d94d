"""place aliases: other names and spellings people use for a township

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

People type old names (Moulmein, Akyab) and romanisations the gazetteer's two names miss; the
gazetteer import takes an optional `aliases` column (";"-separated) kept here.
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aliases', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.drop_column('aliases')
