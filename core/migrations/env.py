"""Alembic environment: the app's engine and the metadata shared by core and plugins.
Run through ``alma db ...`` (see core/schema.py), which pushes the app context."""

from alembic import context

from core.db import db

with db.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
