"""restricted work

The restriction work derived from vault content was produced under: a managed
MCP server's restrictions digest, or "none" for an unrestricted starter. Runs
and fills already recorded keep NULL, read as "none". Documents get NULL
(an upload), except those earlier fills made: they were made unrestricted
("none"), so a restricted server does not see them as uploads.

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_TABLES = ('documents', 'template_fills', 'workflow_runs')


# Plain ALTERs, no batch: a batch copy of `documents` on SQLite would drop a table other rows' foreign keys name
# (refused while foreign keys are on); SQLite adds and (from 3.35) drops a column in place.


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column('restriction', sa.String(length=32), nullable=True))
    documents = sa.table(
        'documents', sa.column('id', sa.Uuid()), sa.column('metadata', sa.JSON()), sa.column('restriction')
    )
    fills = sa.table('template_fills', sa.column('filled_document_id', sa.Uuid()))
    # A fill job's document is named by its fill; a workflow step's carries its template in its metadata.
    filled = sa.or_(
        documents.c.id.in_(sa.select(fills.c.filled_document_id).where(fills.c.filled_document_id.is_not(None))),
        documents.c.metadata['template_document_id'].as_string().is_not(None),
    )
    op.execute(documents.update().where(filled).values(restriction='none'))


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_column(table, 'restriction')
