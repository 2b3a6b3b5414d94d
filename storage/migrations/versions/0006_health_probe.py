"""health probe: one row that /healthz rewrites, to prove the database takes writes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('health_probe',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('writes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_probe'))
    )
    op.bulk_insert(table, [{'id': 1, 'checked_at': datetime(1970, 1, 1), 'writes': 0}])


def downgrade() -> None:
    op.drop_table('health_probe')
