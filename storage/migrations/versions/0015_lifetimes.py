"""lifetimes: the audit chain's anchor, and audit entries that outlive the referral they name

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

Every kind of record now has a lifetime (storage.lifetimes). The audit log's oldest entries are
purged from its start; the head keeps where the chain then starts (the last purged entry's id and
hash, how many were purged, and an HMAC of them), so that `audit verify` still holds. A closed
case is purged after its lifetime while the audit entries naming its referral stay: their
`referral_id` is kept as a number, no longer a foreign key.
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('anchor_chain', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('anchor_mac', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('purged', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_log_referral_id_referrals'), type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_audit_log_referral_id_referrals'), 'referrals',
                                    ['referral_id'], ['id'])
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('purged')
        batch_op.drop_column('anchor_mac')
        batch_op.drop_column('anchor_chain')
        batch_op.drop_column('anchor_id')
