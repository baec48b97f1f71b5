"""``alma db upgrade`` takes a database from any earlier schema to the current one, keeping its
data. A database is made at the FIRST migration of every part (core and each installed
plugin), with a row in every table as that schema allowed; the real command then upgrades
it, and every row is still there, and the schema is exactly what the models describe. Each
migration of each part also goes up, down and up again, one step at a time. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import Column, MetaData, Table, and_, inspect, select
from sqlalchemy.engine import Connection

from core.app import create_app
from core.cli import cli
from core.config import SETTINGS
from core.db import db
from core.models import User
from core.schema import CORE, SchemaPart, alembic_config, schema_parts
from core.testing import all_installed_plugins

MOMENT = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
PARTS = [CORE, *all_installed_plugins()]

pytestmark = pytest.mark.filterwarnings(
    # the wiki's full-text index is an expression, which autogenerate cannot compare
    "ignore:autogenerate skipping metadata-specified expression"
)


@dataclass(frozen=True)
class Seeded:
    """A foreign key's value: the ``index``-th row seeded into ``table`` (0 is the first)."""

    table: str
    index: int = 0


# The rows of the first schema, where a column's constraint wants a particular value (a state,
# a second member); every other column NOT NULL gets a plain value of its type, and every
# foreign key the first row of the table it references.
FIRST_SCHEMA_ROWS: dict[str, list[dict[str, Any]]] = {
    "users": [
        {"email": "ada@example.org", "display_name": "Ada Lovelace", "timezone": "Europe/Lisbon"},
        {"email": "rui@example.org", "display_name": "Rui Mentor", "wants_to_mentor": True},
    ],
    "goal_parties": [{"decision": "consented"}],
    "user_topics": [{"kind": "expertise"}],
    "certificates_certificates": [{"status": "pending", "number": "ALMA-AAAA-BBBB-CCCC"}],
    "credits_entries": [{"entry_kind": "credit", "source_type": "activity", "points": 5}],
    "groups_groups": [{"join_policy": "open", "visibility": "public", "manager_count": 1}],
    "groups_invitations": [{"state": "pending", "user_id": Seeded("users", 1)}],
    "groups_join_requests": [{"state": "pending", "user_id": Seeded("users", 1)}],
    "groups_management_acts": [{"action": "edited"}],
    "groups_memberships": [{"role": "manager", "state": "active"}],
    "kudos_given": [{"receiver_id": Seeded("users", 1)}],
    "mentoring_members": [{"capacity": 3, "mentee_count": 1, "accepting": True}],
    "mentoring_mentorships": [
        {"mentor_id": Seeded("users", 1), "state": "accepted", "message": "Mentor me?"}
    ],
    "mentoring_messages": [{"body": "Hello Rui, shall we meet on Tuesday?"}],
    "wiki_ratings": [{"stars": 4}],
}


def app_on(database_url: str, instance: Path) -> Flask:
    return create_app(
        {"DATABASE_URL": database_url, "PLUGINS": all_installed_plugins()}, instance_path=instance
    )


@pytest.fixture
def empty_app(empty_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = app_on(empty_database_url, tmp_path / "instance")
    yield app
    with app.app_context():
        db.engine.dispose()


def revisions(app: Flask, part: SchemaPart) -> list[str]:
    """The part's migrations, first to last (one line of history, as each part has)."""
    script = ScriptDirectory.from_config(alembic_config(app, part))
    history = [revision.revision for revision in script.walk_revisions()][::-1]
    assert len(script.get_bases()) == len(script.get_heads()) == 1, part.name
    return history


def unmodelled(connection: Connection, name: str) -> bool:
    """Tables no model describes: the version tables, and SQLite's full-text index tables."""
    if name.startswith("alembic_version"):
        return True
    if connection.dialect.name != "sqlite":
        return False
    query = "SELECT 1 FROM pragma_table_list WHERE name = ? AND type IN ('virtual', 'shadow')"
    return connection.exec_driver_sql(query, (name,)).first() is not None


def plain_value(column: Column) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        raise AssertionError(f"no plain value for {column.table.name}.{column.name}") from None
    if kind is str:
        text = f"{column.name} of {column.table.name}".lower()
        return text[: getattr(column.type, "length", None) or len(text)]
    plain = {int: 1, bool: False, datetime: MOMENT, date: MOMENT.date(), bytes: b"%PDF"}
    return plain.get(kind, {"seeded": "yes"})  # a JSON document


def row_values(
    table: Table, wanted: dict[str, Any], seeded: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in table.columns:
        target = referenced(column)
        if target is not None:
            values[column.name] = seeded[target.table.name][0][target.name]
        elif not column.nullable and column.server_default is None and not numbered(column):
            values[column.name] = plain_value(column)
    for name, value in wanted.items():
        if isinstance(value, Seeded):
            value = seeded[value.table][value.index][referenced(table.c[name]).name]
        values[name] = value
    return values


def referenced(column: Column) -> Column | None:
    """The column of another table that a foreign key of ``column`` points to."""
    targets = [fk.column for fk in column.foreign_keys if fk.column.table is not column.table]
    return targets[0] if targets else None


def numbered(column: Column) -> bool:
    """An integer primary key the database numbers itself."""
    table = column.table
    return (
        column.primary_key
        and len(table.primary_key.columns) == 1
        and column.type.python_type is int
        and not column.foreign_keys
    )


def seed_every_table(connection: Connection) -> list[tuple[str, dict, dict]]:
    """A row in every table, as the schema in the database allows; returns, for each row,
    its table, its primary key and its values."""
    metadata = MetaData()
    metadata.reflect(connection)
    seeded: dict[str, list[dict[str, Any]]] = {}
    rows = []
    for table in metadata.sorted_tables:
        if unmodelled(connection, table.name):
            continue
        for wanted in FIRST_SCHEMA_ROWS.get(table.name, [{}]):
            values = row_values(table, wanted, seeded)
            key = connection.execute(table.insert().values(values)).inserted_primary_key
            seeded.setdefault(table.name, []).append(values | key._asdict())
            rows.append((table.name, key._asdict(), values))
    return rows


def rows_lost_or_changed(connection: Connection, rows: list[tuple[str, dict, dict]]) -> list:
    metadata = MetaData()
    metadata.reflect(connection)
    problems = []
    for name, key, values in rows:
        table = metadata.tables[name]
        where = and_(*(table.c[column] == value for column, value in key.items()))
        found = connection.execute(select(table).where(where)).mappings().first()
        if found is None:
            problems.append((name, key, "lost"))
            continue
        problems += [
            (name, key, column, value, found[column])
            for column, value in values.items()
            if column in found and not same(found[column], value)
        ]
    return problems


def same(stored: Any, value: Any) -> bool:
    if isinstance(stored, datetime) and stored.tzinfo is None:  # SQLite keeps UTC, naive
        stored = stored.replace(tzinfo=UTC)
    return stored == value


def schema_differences(app: Flask) -> list:
    """What autogenerate finds between the models and the whole database."""
    with app.app_context(), db.engine.connect() as connection:

        def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
            return type_ != "table" or not unmodelled(connection, name or "")

        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        return compare_metadata(context, db.metadata)


def schema_snapshot(app: Flask) -> dict[str, tuple]:
    """Each table's columns, indexes and check constraints (what values a column allows)."""
    with app.app_context(), db.engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: (
                sorted(column["name"] for column in inspector.get_columns(table)),
                sorted(str(index["name"]) for index in inspector.get_indexes(table)),
                sorted(
                    (str(check["name"]), check["sqltext"])
                    for check in inspector.get_check_constraints(table)
                ),
            )
            for table in inspector.get_table_names()
            if not unmodelled(connection, table)
        }


def alma_db_upgrade(database_url: str, instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's command line (run in this process: the production test runs it as a
    command of its own)."""
    for key in [*SETTINGS, "CONFIG", "INSTANCE_PATH"]:
        monkeypatch.delenv(f"ALMA_{key}", raising=False)
    settings = {
        "ALMA_DATABASE_URL": database_url,
        "ALMA_PLUGINS": ",".join(all_installed_plugins()),
        "ALMA_INSTANCE_PATH": str(instance),
    }
    done = CliRunner().invoke(cli, ["db", "upgrade"], env=settings, prog_name="alma")
    assert done.exit_code == 0, done.output
    assert "The database schema is up to date." in done.output


# ---- from the first schema to the current one ------------------------------------------


def test_alma_db_upgrade_brings_the_first_schema_with_its_data_up_to_date(
    empty_app: Flask, empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    parts = schema_parts(empty_app)
    assert [part.name for part in parts] == PARTS
    with empty_app.app_context():
        for part in parts:
            command.upgrade(alembic_config(empty_app, part), revisions(empty_app, part)[0])
        with db.engine.begin() as connection:
            rows = seed_every_table(connection)
    assert {name for name, _key, _values in rows} >= {"users", "mentoring_mentorships"}

    alma_db_upgrade(empty_database_url, tmp_path / "instance", monkeypatch)

    with empty_app.app_context(), db.engine.connect() as connection:
        assert rows_lost_or_changed(connection, rows) == []
    assert schema_differences(empty_app) == []
    with empty_app.app_context():  # and the app reads the old rows through its models
        ada = db.session.scalar(select(User).where(User.email == "ada@example.org"))
        assert (ada.display_name, ada.timezone) == ("Ada Lovelace", "Europe/Lisbon")
        db.session.remove()


# ---- one step at a time --------------------------------------------------------------------


@pytest.mark.parametrize("part_name", PARTS)
def test_each_migration_goes_up_down_and_up_again(empty_app: Flask, part_name: str):
    parts = {part.name: part for part in schema_parts(empty_app)}
    part = parts[part_name]
    config = alembic_config(empty_app, part)
    with empty_app.app_context():
        if part_name != CORE:  # a plugin's tables may refer to core's
            command.upgrade(alembic_config(empty_app, parts[CORE]), "heads")
        previous = "base"
        for revision in revisions(empty_app, part):
            before = schema_snapshot(empty_app)
            command.upgrade(config, revision)
            after = schema_snapshot(empty_app)
            assert after != before, f"{revision} changed nothing"

            command.downgrade(config, previous)
            assert schema_snapshot(empty_app) == before, f"{revision} undone"

            command.upgrade(config, revision)
            assert schema_snapshot(empty_app) == after, f"{revision} done again"
            previous = revision
        command.check(config)  # what `alma db revision` compares: nothing left to migrate
