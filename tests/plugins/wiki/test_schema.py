"""The wiki's migration makes what its models describe, on SQLite and PostgreSQL, plus each
database's own full-text index; it can be undone."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from core.app import create_app
from core.db import db
from core.schema import alembic_config, schema_parts, upgrade

SQLITE_SEARCH = {"wiki_search", "wiki_search_config", "wiki_search_data", "wiki_search_docsize"}
SQLITE_SEARCH |= {"wiki_search_idx", "wiki_search_content"}


def wiki_differences(connection) -> list:
    """What autogenerate would change in the wiki's tables (the FTS5 tables, which no model
    can describe, aside)."""

    def include_object(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return bool(table) and table.startswith("wiki_") and table not in SQLITE_SEARCH

    context = MigrationContext.configure(
        connection, opts={"include_object": include_object, "compare_type": True}
    )
    return compare_metadata(context, db.metadata)


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
def test_the_models_match_the_migration(app, db):
    with db.engine.connect() as connection:
        assert wiki_differences(connection) == []


@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
def test_alma_db_revision_would_find_nothing_to_change(app, db):
    """What ``alma db revision --part wiki`` compares (the FTS5 tables stay out of it)."""
    wiki = next(part for part in schema_parts(app) if part.name == "wiki")

    command.check(alembic_config(app, wiki))  # raises if a migration is needed


def test_each_database_has_its_own_full_text_index(app, db):
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            sql = connection.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = 'wiki_search'")
            )
            triggers = connection.scalars(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'wiki%'")
            ).all()
            assert "USING fts5" in sql
            assert sorted(triggers) == [
                "wiki_search_delete",
                "wiki_search_insert",
                "wiki_search_update",
            ]
        else:
            definition = connection.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_wiki_articles_search'")
            )
            assert "USING gin" in definition and "to_tsvector('simple'" in definition
            assert "wiki_search" not in inspect(connection).get_table_names()


def test_the_migration_can_be_undone_and_done_again(empty_database_url, tmp_path):
    app = create_app(
        {"DATABASE_URL": empty_database_url, "PLUGINS": ["wiki"]}, instance_path=tmp_path
    )
    upgrade(app)
    wiki = next(part for part in schema_parts(app) if part.name == "wiki")
    try:
        with app.app_context():
            command.downgrade(alembic_config(app, wiki), "wiki@base")
            left = [t for t in inspect(db.engine).get_table_names() if t.startswith("wiki")]
            assert left == []
            command.upgrade(alembic_config(app, wiki), "heads")
            assert "wiki_articles" in inspect(db.engine).get_table_names()
    finally:
        with app.app_context():
            db.engine.dispose()
