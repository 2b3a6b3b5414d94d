"""need counts: declared needs kept as counts, not one row per declaration

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

One row per declaration, numbered in the order the changes were, could be lined up with the
changes of an erased record and tell what that person declared. Counts by need group, township
and month cannot.
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('need_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_group', sa.String(length=2), nullable=False),
    sa.Column('township_pcode', sa.String(length=16), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('declared', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_counts')),
    sa.UniqueConstraint('need_group', 'township_pcode', 'month', name=op.f('uq_need_counts_need_group_township_pcode_month'))
    )
    with op.batch_alter_table('need_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_counts_month'), ['month'], unique=False)
    op.execute("INSERT INTO need_counts (need_group, township_pcode, month, declared) "
               "SELECT need_group, COALESCE(township_pcode, ''), month, COUNT(*) FROM need_declarations "
               "GROUP BY need_group, COALESCE(township_pcode, ''), month")
    with op.batch_alter_table('need_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_declarations_month'))
        batch_op.drop_index(batch_op.f('ix_need_declarations_need_group'))
    op.drop_table('need_declarations')


def downgrade() -> None:
    # The order of the declarations is gone for good (that is the point): one row per count.
    op.create_table('need_declarations',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('need_group', sa.VARCHAR(length=2), nullable=False),
    sa.Column('township_pcode', sa.VARCHAR(length=16), nullable=True),
    sa.Column('month', sa.VARCHAR(length=7), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_declarations'))
    )
    with op.batch_alter_table('need_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_declarations_need_group'), ['need_group'], unique=False)
        batch_op.create_index(batch_op.f('ix_need_declarations_month'), ['month'], unique=False)
    with op.batch_alter_table('need_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_counts_month'))
    op.drop_table('need_counts')
