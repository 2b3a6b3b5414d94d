"""directory, portal accounts, sealed reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('emergency_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_contacts'))
    )
    with op.batch_alter_table('emergency_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_contacts_area'), ['area'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('acronym', sa.String(length=32), nullable=False),
    sa.Column('aliases', sa.Text(), nullable=False),
    sa.Column('is_network', sa.Boolean(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('recovery_wrap', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('acronym', name=op.f('uq_organisations_acronym'))
    )
    op.create_table('townships',
    sa.Column('pcode', sa.String(length=16), nullable=False),
    sa.Column('state_pcode', sa.String(length=16), nullable=False),
    sa.Column('state_name_en', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('name_my', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('pcode', name=op.f('pk_townships'))
    )
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_townships_state_pcode'), ['state_pcode'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('telegram_chat_id', sa.String(length=32), nullable=True),
    sa.Column('townships', sa.Text(), nullable=False),
    sa.Column('languages', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_contacts_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('organisation_id', 'role', 'name', name=op.f('uq_contacts_organisation_id_role_name'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_lookup', sa.String(length=64), nullable=False),
    sa.Column('named_organisation_id', sa.Integer(), nullable=True),
    sa.Column('route', sa.String(length=32), nullable=False),
    sa.Column('received_month', sa.String(length=7), nullable=False),
    sa.Column('incident_period', sa.String(length=16), nullable=False),
    sa.Column('township_pcode', sa.String(length=16), nullable=True),
    sa.Column('state_pcode', sa.String(length=16), nullable=True),
    sa.Column('child_involved', sa.String(length=8), nullable=False),
    sa.Column('affected', sa.String(length=8), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('contact_allowed', sa.Boolean(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('receipt_wrap', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['named_organisation_id'], ['organisations.id'], name=op.f('fk_reports_named_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('receipt_lookup', name=op.f('uq_reports_receipt_lookup'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_named_organisation_id'), ['named_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_received_month'), ['received_month'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('wrapped_private_key', sa.LargeBinary(), nullable=False),
    sa.Column('totp_secret', sa.LargeBinary(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('key_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sealed_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_key_grants_organisation_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_key_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_grants')),
    sa.UniqueConstraint('organisation_id', 'user_id', name=op.f('uq_key_grants_organisation_id_user_id'))
    )
    with op.batch_alter_table('key_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_grants_user_id'), ['user_id'], unique=False)

    op.create_table('portal_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unlocked_key', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_portal_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portal_sessions'))
    )
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_portal_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_ref', sa.String(length=16), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('sealed_key', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ack_deadline', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('escalations', sa.Integer(), nullable=False),
    sa.Column('next_escalation_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], name=op.f('fk_referrals_acknowledged_by_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_referrals_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_referrals_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('case_ref', name=op.f('uq_referrals_case_ref')),
    sa.UniqueConstraint('report_id', 'organisation_id', name=op.f('uq_referrals_report_id_organisation_id'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_referrals_overdue', ['acknowledged_at', 'next_escalation_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_report_id'), ['report_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_audit_log_referral_id_referrals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_referral_id'), ['referral_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_referral_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_report_id'))
        batch_op.drop_index('ix_referrals_overdue')
        batch_op.drop_index(batch_op.f('ix_referrals_organisation_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('portal_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_portal_sessions_expires_at'))

    op.drop_table('portal_sessions')
    with op.batch_alter_table('key_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_grants_user_id'))

    op.drop_table('key_grants')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))

    op.drop_table('users')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_received_month'))
        batch_op.drop_index(batch_op.f('ix_reports_named_organisation_id'))

    op.drop_table('reports')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_organisation_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('townships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_townships_state_pcode'))

    op.drop_table('townships')
    op.drop_table('organisations')
    with op.batch_alter_table('emergency_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_contacts_area'))

    op.drop_table('emergency_contacts')
