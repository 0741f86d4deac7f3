"""Alembic environment: runs migrations on the URL `storage.migrate` hands over."""

from alembic import context

from storage.database import create_database_engine
from storage.models import Base

config = context.config

# Full-text search objects are made by hand per backend (0004), not modelled: autogenerate leaves them alone.
_SEARCH_OBJECTS = {"search_vector", "ix_document_chunks_search"}


def _modelled(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (name in _SEARCH_OBJECTS or (type_ == "table" and (name or "").startswith("document_chunks_fts")))


engine = create_database_engine(config.get_main_option("sqlalchemy.url") or "")
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_modelled,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
