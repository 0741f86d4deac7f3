"""Alembic environment: runs migrations on the URL `storage.migrate` hands over."""

from alembic import context

from storage.database import create_database_engine
from storage.models import Base

config = context.config
engine = create_database_engine(config.get_main_option("sqlalchemy.url") or "")
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
