"""The database schema: Alembic migrations on one branch per part (core, each plugin),
and the check that a non-SQLite database is up to date before serving."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from core.db import db
from core.state import alma

MIGRATIONS = Path(__file__).parent / "migrations"


class StaleSchema(Exception):
    """The database lacks migrations; ``alma db upgrade`` applies them."""


def alembic_config(app: Flask) -> Config:
    locations = [MIGRATIONS / "versions", *alma(app).hooks.migrations()]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", " ".join(str(path) for path in locations))
    config.set_main_option("path_separator", "space")
    config.attributes["app"] = app
    return config


def upgrade(app: Flask) -> None:
    with app.app_context():
        command.upgrade(alembic_config(app), "heads")


def pending_heads(app: Flask) -> set[str]:
    """The migration heads not yet applied to the database."""
    script = ScriptDirectory.from_config(alembic_config(app))
    with app.app_context(), db.engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    wanted = set(script.get_heads())
    return {head for head in wanted if not _reached(script, head, applied)}


def _reached(script: ScriptDirectory, head: str, applied: set[str]) -> bool:
    if head in applied:
        return True
    # an applied revision that descends from ``head`` (a merge) also counts
    return any(head in {r.revision for r in script.iterate_revisions(a, "base")} for a in applied)


def ensure_schema(app: Flask) -> None:
    """SQLite (one machine, a newcomer's first run): bring the schema up to date. Any other
    database: refuse to run on a stale schema, since migrating is the operator's decision."""
    if app.config["DATABASE_URL"].startswith("sqlite"):
        upgrade(app)
    elif pending_heads(app):
        raise StaleSchema("the database schema is not up to date: run `alma db upgrade` first")
