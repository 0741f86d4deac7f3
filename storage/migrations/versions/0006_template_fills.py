"""template fills

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

from storage.models import UTCDateTime


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('template_fills',
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('project_id', sa.Uuid(), nullable=True),
    sa.Column('document_ids', sa.JSON(), nullable=False),
    sa.Column('template_filename', sa.String(length=255), nullable=False),
    sa.Column('template_blob_key', sa.String(length=200), nullable=False),
    sa.Column('filled_document_id', sa.Uuid(), nullable=True),
    sa.Column('job_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('organization_id', sa.Uuid(), nullable=False),
    sa.Column('mode', sa.Enum('live', 'test', name='mode', native_enum=False, length=10), nullable=False),
    sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['filled_document_id'], ['documents.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('template_fills', schema=None) as batch_op:
        batch_op.create_index('ix_template_fills_tenant_created', ['organization_id', 'mode', 'created_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('template_fills', schema=None) as batch_op:
        batch_op.drop_index('ix_template_fills_tenant_created')

    op.drop_table('template_fills')
