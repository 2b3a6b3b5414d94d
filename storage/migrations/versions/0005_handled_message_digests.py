"""handled provider messages kept as keyed digests with a day, unlinked from conversations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The old rows held the provider id in clear, linked to their conversation with an exact time.
Their digests cannot be computed here (the key is derived from SECRET_KEY, which migrations do
not read), and they only ever served for two days: they are deleted. A provider retry that
arrives across the upgrade is then handled as new, the one cost of the change.
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM inbound_messages")
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_constraint('uq_inbound_messages_channel_provider_id', type_='unique')
        batch_op.drop_column('provider_id')
        batch_op.drop_column('channel')
        batch_op.add_column(sa.Column('digest', sa.LargeBinary(length=16), nullable=False))
        batch_op.add_column(sa.Column('seen_on', sa.Date(), nullable=False))
        batch_op.alter_column('conversation_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('received_at', existing_type=sa.DateTime(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_inbound_messages_digest'), ['digest'])
        batch_op.create_index(batch_op.f('ix_inbound_messages_seen_on'), ['seen_on'], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM inbound_messages")
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_seen_on'))
        batch_op.drop_constraint(batch_op.f('uq_inbound_messages_digest'), type_='unique')
        batch_op.alter_column('received_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column('conversation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('seen_on')
        batch_op.drop_column('digest')
        batch_op.add_column(sa.Column('channel', sa.String(length=16), nullable=False))
        batch_op.add_column(sa.Column('provider_id', sa.String(length=64), nullable=False))
        batch_op.create_unique_constraint('uq_inbound_messages_channel_provider_id', ['channel', 'provider_id'])
