"""audit chain: each audit entry hashed with the one before it, and the chain's head

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Entries written before this revision carry no hash; the first entry the service adds afterwards
links them into the chain, in order (the key lives with the service, not the migration).
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=True),
    sa.Column('chain', sa.LargeBinary(length=32), nullable=True),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.bulk_insert(head, [{'id': 1, 'last_id': None, 'chain': None, 'entries': 0}])
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('chain')
    op.drop_table('audit_head')
