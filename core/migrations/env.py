"""Alembic environment for one part of the schema (core, or one plugin): the app's engine,
the metadata shared by all parts, and the part's own version table. Run through ``alma db``
(see core/schema.py), which pushes the app context and names the part."""

from functools import partial

from alembic import context
from sqlalchemy.schema import SchemaItem

from core.db import db
from core.schema import render_item

attributes = context.config.attributes
owns_table = attributes["owns_table"]


def sqlite_virtual_tables() -> frozenset[str]:
    """SQLite's virtual tables (a full-text index) and the shadow tables SQLite keeps for them:
    a migration makes them by hand, as no model can describe them, so they are never compared.
    Read on a connection of its own: a query on the migrations' connection would begin a
    transaction there that Alembic (no transactional DDL on SQLite) never commits."""
    if db.engine.dialect.name != "sqlite":
        return frozenset()
    query = "SELECT name FROM pragma_table_list WHERE type IN ('virtual', 'shadow')"
    with db.engine.connect() as connection:
        return frozenset(connection.exec_driver_sql(query).scalars())


def include_object(
    obj: SchemaItem,
    name: str | None,
    type_: str,
    reflected: bool,
    compare_to: SchemaItem | None,
    *,
    unmodelled: frozenset[str] = frozenset(),
) -> bool:
    """Autogenerate compares only this part's tables (and what hangs on them)."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table is None or (owns_table(table) and table not in unmodelled)


unmodelled = sqlite_virtual_tables()
with db.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        version_table=attributes["version_table"],
        include_object=partial(include_object, unmodelled=unmodelled),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        on_version_apply=attributes.get("on_version_apply"),
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
