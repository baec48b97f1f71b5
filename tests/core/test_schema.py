"""The schema in parts: core and each enabled plugin keep their own migration history."""

import pytest
from sqlalchemy import inspect

from core.app import create_app
from core.db import db
from core.schema import StaleSchema, ensure_schema, pending_heads, upgrade


@pytest.fixture
def app_with(empty_database_url, tmp_path):
    apps = []

    def build(*plugins):
        app = create_app(
            {"DATABASE_URL": empty_database_url, "PLUGINS": list(plugins)},
            instance_path=tmp_path / "instance",
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def tables(app):
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def test_a_plugin_disabled_after_its_tables_were_made_stops_nothing(app_with):
    upgrade(app_with("kudos"))

    without = app_with()

    assert pending_heads(without) == set()
    ensure_schema(without)  # neither migrates nor refuses
    assert "kudos_given" in tables(without)  # its data waits for it
    assert pending_heads(app_with("kudos")) == set()


def test_enabling_a_plugin_later_migrates_only_its_part(app_with, empty_database_url):
    upgrade(app_with())
    with_kudos = app_with("kudos")

    assert pending_heads(with_kudos) == {"kudos_0001"}
    if not empty_database_url.startswith("sqlite"):
        with pytest.raises(StaleSchema, match="alma db upgrade"):
            ensure_schema(with_kudos)

    upgrade(with_kudos)

    assert pending_heads(with_kudos) == set()
    assert {"kudos_given", "alembic_version", "alembic_version_kudos"} <= tables(with_kudos)
