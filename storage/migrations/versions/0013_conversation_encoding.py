"""conversation encoding: how a sender's phone writes Burmese (Zawgyi or Unicode)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

A person whose phone types Zawgyi is answered in Zawgyi; like the language, this is remembered
for the sender between conversations (a closed conversation keeps no sealed state), and whether
they chose it with UNICODE / ZAWGYI rather than it being read from what they typed.
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('encoding', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('encoding_chosen', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('encoding_chosen')
        batch_op.drop_column('encoding')
