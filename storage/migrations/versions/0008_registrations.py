"""registrations, identity checks, one-time codes and self-service changes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A person of concern's record is sealed but for the digests a check needs; changes wait for a
caseworker; declared needs are counted apart from the people who declared them.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=8), nullable=False),
    sa.Column('digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_attempts')),
    sa.UniqueConstraint('subject', 'digest', name=op.f('uq_identity_attempts_subject_digest'))
    )
    with op.batch_alter_table('identity_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_attempts_last_failed_at'), ['last_failed_at'], unique=False)

    op.create_table('need_declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_group', sa.String(length=2), nullable=False),
    sa.Column('township_pcode', sa.String(length=16), nullable=True),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_declarations'))
    )
    with op.batch_alter_table('need_declarations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_declarations_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_need_declarations_need_group'), ['need_group'], unique=False)

    op.create_table('registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('number', sa.LargeBinary(), nullable=False),
    sa.Column('details', sa.LargeBinary(), nullable=True),
    sa.Column('dob_check', sa.LargeBinary(length=32), nullable=True),
    sa.Column('dob_precision', sa.String(length=5), nullable=True),
    sa.Column('phone_key', sa.String(length=64), nullable=True),
    sa.Column('township_pcode', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('row_digest', sa.LargeBinary(length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('erased_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrations')),
    sa.UniqueConstraint('number_digest', name=op.f('uq_registrations_number_digest'))
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrations_phone_key'), ['phone_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_township_pcode'), ['township_pcode'], unique=False)

    op.create_table('one_time_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('sender_key', sa.String(length=64), nullable=False),
    sa.Column('code_digest', sa.LargeBinary(length=32), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_one_time_codes_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_codes'))
    )
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_one_time_codes_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_one_time_codes_registration_id'), ['registration_id'], unique=False)

    op.create_table('registration_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('township_pcode', sa.String(length=16), nullable=True),
    sa.Column('old_value', sa.LargeBinary(), nullable=True),
    sa.Column('new_value', sa.LargeBinary(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('reply_to', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_registration_changes_decided_by_users')),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_registration_changes_registration_id_registrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_changes'))
    )
    with op.batch_alter_table('registration_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_changes_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_changes_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_changes_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_changes_requested_at'), ['requested_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_changes_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_changes_township_pcode'), ['township_pcode'], unique=False)

    op.create_table('registration_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('old_value', sa.LargeBinary(), nullable=True),
    sa.Column('new_value', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['registration_changes.id'], name=op.f('fk_registration_history_change_id_registration_changes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_registration_history_registration_id_registrations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_history'))
    )
    with op.batch_alter_table('registration_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_history_registration_id'), ['registration_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('registration_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_history_registration_id'))

    op.drop_table('registration_history')
    with op.batch_alter_table('registration_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_changes_township_pcode'))
        batch_op.drop_index(batch_op.f('ix_registration_changes_status'))
        batch_op.drop_index(batch_op.f('ix_registration_changes_requested_at'))
        batch_op.drop_index(batch_op.f('ix_registration_changes_registration_id'))
        batch_op.drop_index(batch_op.f('ix_registration_changes_kind'))
        batch_op.drop_index(batch_op.f('ix_registration_changes_decided_at'))

    op.drop_table('registration_changes')
    with op.batch_alter_table('one_time_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_one_time_codes_registration_id'))
        batch_op.drop_index(batch_op.f('ix_one_time_codes_expires_at'))

    op.drop_table('one_time_codes')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_township_pcode'))
        batch_op.drop_index(batch_op.f('ix_registrations_phone_key'))

    op.drop_table('registrations')
    with op.batch_alter_table('need_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_declarations_need_group'))
        batch_op.drop_index(batch_op.f('ix_need_declarations_month'))

    op.drop_table('need_declarations')
    with op.batch_alter_table('identity_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_attempts_last_failed_at'))

    op.drop_table('identity_attempts')
