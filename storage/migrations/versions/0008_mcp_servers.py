"""mcp servers

Managed MCP servers: a name unique among the tenant's live servers (a partial
unique index, so a deleted server's name is free again), restrictions, and the
path token's hash and prefix; the token acts through `creator_key_id`.

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa

from storage.models import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_LIVE = sa.text('deleted_at IS NULL')


def upgrade() -> None:
    op.create_table('mcp_servers',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('restrictions', sa.JSON(), nullable=False),
    sa.Column('token_prefix', sa.String(length=12), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('creator_key_id', sa.Uuid(), nullable=False),
    sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('mode', sa.Enum('live', 'test', name='mode', native_enum=False, length=10), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['creator_key_id'], ['api_keys.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('mcp_servers', schema=None) as batch_op:
        batch_op.create_index('ix_mcp_servers_tenant_created', ['organization_id', 'mode', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_mcp_servers_live_name', ['organization_id', 'mode', 'name'], unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE)


def downgrade() -> None:
    with op.batch_alter_table('mcp_servers', schema=None) as batch_op:
        batch_op.drop_index('ix_mcp_servers_live_name')
        batch_op.drop_index('ix_mcp_servers_tenant_created')

    op.drop_table('mcp_servers')
