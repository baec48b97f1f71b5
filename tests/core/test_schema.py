"""The schema in parts: core and each enabled plugin keep their own migration history."""

import pytest
from alembic.autogenerate import render_python_code
from alembic.operations import ops
from sqlalchemy import Column, MetaData, Table, inspect

from core.db import UTCDateTime, db
from core.schema import StaleSchema, ensure_schema, pending_heads, render_item, upgrade


def tables(app):
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def test_a_plugin_disabled_after_its_tables_were_made_stops_nothing(app_on_empty_database):
    upgrade(app_on_empty_database("kudos"))

    without = app_on_empty_database()

    assert pending_heads(without) == set()
    ensure_schema(without)  # neither migrates nor refuses
    assert "kudos_given" in tables(without)  # its data waits for it
    assert pending_heads(app_on_empty_database("kudos")) == set()


def test_enabling_a_plugin_later_migrates_only_its_part(app_on_empty_database, empty_database_url):
    upgrade(app_on_empty_database())
    with_kudos = app_on_empty_database("kudos")

    assert pending_heads(with_kudos) == {"kudos_0003"}  # the example's newest revision
    if not empty_database_url.startswith("sqlite"):
        with pytest.raises(StaleSchema, match="alma db upgrade"):
            ensure_schema(with_kudos)

    upgrade(with_kudos)

    assert pending_heads(with_kudos) == set()
    assert {"kudos_given", "alembic_version", "alembic_version_kudos"} <= tables(with_kudos)


def test_a_generated_migration_reaches_core_through_its_plugin_api():
    """``alma db revision`` writes core's column type as ``core.api.UTCDateTime``, so a
    plugin's new migration imports nothing else of core (tests/test_architecture.py)."""
    table = Table("kudos_example", MetaData(), Column("given_at", UTCDateTime(timezone=True)))

    code = render_python_code(
        ops.UpgradeOps([ops.CreateTableOp.from_table(table)]), render_item=render_item
    )

    assert "core.api.UTCDateTime(timezone=True)" in code
    assert "core.db" not in code
