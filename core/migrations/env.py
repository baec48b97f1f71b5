"""Alembic environment for one part of the schema (core, or one plugin): the app's engine,
the metadata shared by all parts, and the part's own version table. Run through ``alma db``
(see core/schema.py), which pushes the app context and names the part."""

from alembic import context

from core.db import db

attributes = context.config.attributes
owns_table = attributes["owns_table"]


def include_object(obj, name, type_, reflected, compare_to):
    """Autogenerate compares only this part's tables (and what hangs on them)."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table is None or owns_table(table)


with db.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        version_table=attributes["version_table"],
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
