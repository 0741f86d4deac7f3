"""secrets outside the database: idempotency per caller, instance secrets gone

The kept idempotent answers were stored in clear and bound only to the
organization and mode; they are dropped (they live 24 hours) and the table is
recreated with the caller in its key. The instance secrets (signing keys in
clear) are dropped: signing keys now derive from the instance key, which lives
outside the database. Cursors and download links signed before the upgrade stop
verifying; clients ask for new ones.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

from storage.models import UTCDateTime


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _idempotency_keys(*caller: sa.Column, unique: tuple[str, ...]) -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('mode', sa.Enum('live', 'test', name='mode', native_enum=False, length=10), nullable=False),
    *caller,
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('locked_until', UTCDateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_headers', sa.JSON(), nullable=True),
    sa.Column('response_body', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint(*unique)
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_expires_at'), ['expires_at'], unique=False)


def upgrade() -> None:
    op.drop_table('idempotency_keys')
    _idempotency_keys(
        sa.Column('caller', sa.String(length=200), nullable=False),
        unique=('organization_id', 'mode', 'caller', 'key'),
    )
    op.drop_table('instance_secrets')


def downgrade() -> None:
    op.create_table('instance_secrets',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.drop_table('idempotency_keys')
    _idempotency_keys(unique=('organization_id', 'mode', 'key'))
