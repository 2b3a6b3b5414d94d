"""media items: voice notes and photos sent with a report's account, each sealed with its own key

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

People who cannot read or write tell what happened in a voice note, or show it in a photo. Each
item is encrypted at once with a random key kept only in the conversation's sealed draft and then
in the report's sealed content; this table holds only the ciphertext, the report it belongs to
once sent, and when it arrived (for the purge of items never sent).
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'media_items',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_media_items_report_id_reports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_items')),
    )
    with op.batch_alter_table('media_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_items_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_items_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('media_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_items_report_id'))
        batch_op.drop_index(batch_op.f('ix_media_items_created_at'))
    op.drop_table('media_items')
