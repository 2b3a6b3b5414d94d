"""casework: a referral's whole life (category, assignee, transfers, timeline), messages between
the organisation and the reporter, single-use TOTP codes, the portal's language per account, and
API tokens for the coordinators' figures

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

`referrals.sealed_key` becomes nullable: an organisation that refers a case on may give up its
read access, and then holds no key to it at all.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.alter_column('sealed_key', existing_type=sa.LargeBinary(), nullable=True)
        batch_op.add_column(sa.Column('category', sa.String(length=24), server_default='unknown', nullable=False))
        batch_op.add_column(sa.Column('assigned_to', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('referred_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_changed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_referrals_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_referred_from_id'), ['referred_from_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_closed_at'), ['closed_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_referrals_assigned_to_users'), 'users', ['assigned_to'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_referrals_referred_from_id_referrals'), 'referrals',
                                    ['referred_from_id'], ['id'])
    op.create_table('referral_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=True),
    sa.Column('note', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_referral_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_events'))
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)
    op.create_table('reporter_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('sent_out', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_reporter_messages_author_id_users')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_reporter_messages_referral_id_referrals'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_reporter_messages_report_id_reports'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reporter_messages'))
    )
    with op.batch_alter_table('reporter_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reporter_messages_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reporter_messages_referral_id'), ['referral_id'], unique=False)
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_api_tokens_token_digest'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))
    # Referrals acknowledged before statuses moved on were last changed then.
    op.execute("UPDATE referrals SET status_changed_at = COALESCE(acknowledged_at, created_at)")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('totp_last_step')
    op.drop_table('api_tokens')
    with op.batch_alter_table('reporter_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reporter_messages_referral_id'))
        batch_op.drop_index(batch_op.f('ix_reporter_messages_report_id'))
    op.drop_table('reporter_messages')
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))
    op.drop_table('referral_events')
    # A referral whose organisation gave up its key gets an empty one, which opens nothing.
    op.get_bind().execute(sa.text("UPDATE referrals SET sealed_key = :empty WHERE sealed_key IS NULL"),
                          {"empty": b""})
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_referred_from_id_referrals'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_referrals_assigned_to_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_referrals_closed_at'))
        batch_op.drop_index(batch_op.f('ix_referrals_referred_from_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_assigned_to'))
        batch_op.drop_column('closed_at')
        batch_op.drop_column('status_changed_at')
        batch_op.drop_column('referred_from_id')
        batch_op.drop_column('assigned_to')
        batch_op.drop_column('category')
        batch_op.alter_column('sealed_key', existing_type=sa.LargeBinary(), nullable=False)
