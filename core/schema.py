"""The database schema, in parts: core and each enabled plugin with migrations.

Each part has its own Alembic history, in its own version table (``alembic_version`` for core,
``alembic_version_<plugin>`` for a plugin), applied core first, then the plugins in ``PLUGINS``
order. So a plugin can be disabled after its tables were made — its history simply waits,
untouched, until it is enabled again — and enabling a new plugin migrates only that part.

A core migration that takes something out of core's tables (a column a plugin took over) sets
``after_plugins = True`` in its module: core's history then stops just before it, the plugins
migrate (and copy what they take over), and core goes on to its heads last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script, ScriptDirectory
from flask import Flask

from core.db import UTCDateTime, db
from core.state import alma

MIGRATIONS = Path(__file__).parent / "migrations"
CORE = "core"


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """How ``alma db revision`` writes core's column type in a migration: through ``core.api``,
    the one core module a plugin's code (its migrations included) may import."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import core.api")
        return "core.api.UTCDateTime(timezone=True)"
    return False  # Alembic's own rendering


class StaleSchema(Exception):
    """The database lacks migrations; ``alma db upgrade`` applies them."""


@dataclass(frozen=True)
class SchemaPart:
    name: str  # "core" or a plugin's name
    folders: tuple[Path, ...]

    @property
    def version_table(self) -> str:
        return "alembic_version" if self.name == CORE else f"alembic_version_{self.name}"

    def owns_table(self, table: str, plugin_names: frozenset[str]) -> bool:
        """Whether ``table`` belongs to this part: plugin tables carry the plugin's prefix."""
        owner = next((name for name in plugin_names if table.startswith(f"{name}_")), CORE)
        return owner == self.name


def schema_parts(app: Flask) -> list[SchemaPart]:
    state = alma(app)
    by_plugin = state.hooks.migrations()
    plugins = [
        SchemaPart(name, tuple(by_plugin[name])) for name in state.enabled if name in by_plugin
    ]
    return [SchemaPart(CORE, (MIGRATIONS / "versions",)), *plugins]


def alembic_config(app: Flask, part: SchemaPart) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", " ".join(str(path) for path in part.folders))
    config.set_main_option("path_separator", "space")
    plugin_names = frozenset(alma(app).installed)
    config.attributes["version_table"] = part.version_table
    config.attributes["owns_table"] = lambda table: part.owns_table(table, plugin_names)
    return config


def upgrade(app: Flask, say: Callable[[str], None] = lambda line: None) -> int:
    """Apply every part's migrations (``alma db upgrade``), telling ``say`` each one applied
    ("applied core_0006: each job's last run ..."), as Alembic's own lines are quiet.
    Returns how many were applied."""
    applied: list[str] = []
    with app.app_context():
        core, *plugins = schema_parts(app)
        steps = [(core, _before_after_plugins(app, core))]
        steps += [(part, "heads") for part in plugins] + [(core, "heads")]
        for part, target in steps:
            config = alembic_config(app, part)
            config.attributes["on_version_apply"] = partial(_tell_applied, say, applied)
            command.upgrade(config, target)
    return len(applied)


def _before_after_plugins(app: Flask, core: SchemaPart) -> str:
    """How far core migrates before the plugins do: to the revision before its first pending
    migration marked ``after_plugins`` (the heads if there is none)."""
    config = alembic_config(app, core)
    script = ScriptDirectory.from_config(config)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": core.version_table})
        applied = context.get_current_heads()
    pending = [
        revision
        for revision in script.iterate_revisions("heads", applied[0] if applied else "base")
        if revision.revision not in applied
    ]
    waiting = [revision for revision in pending if getattr(revision.module, "after_plugins", False)]
    if not waiting:
        return "heads"
    before = waiting[-1].down_revision
    if isinstance(before, list | tuple):
        raise RuntimeError(f"core's migrations form one line, {waiting[-1].revision} merges")
    return before or "base"


def _tell_applied(
    say: Callable[[str], None], applied: list[str], *, step: MigrationInfo, **_: object
) -> None:
    """Alembic's ``on_version_apply`` callback: one line per migration, once it ran."""
    if step.is_upgrade and step.is_migration:
        revision = step.revision_map.get_revision(step.up_revision_id)
        # the revision map of a ScriptDirectory holds its scripts, each with its docstring
        assert isinstance(revision, Script)
        applied.append(revision.revision)
        say(f"applied {revision.revision}: {' '.join(revision.doc.split())}")


@dataclass(frozen=True)
class PartRevision:
    """Where one part of the schema stands: the revisions applied and its heads."""

    name: str
    current: tuple[str, ...]
    heads: tuple[str, ...]
    pending_heads: frozenset[str]  # heads not yet applied
    to_apply: int  # how many migrations ``alma db upgrade`` would apply


def part_revisions(app: Flask) -> list[PartRevision]:
    """Each part's revision against its heads (the console's System section)."""
    revisions = []
    with app.app_context(), db.engine.connect() as connection:
        for part in schema_parts(app):
            script = ScriptDirectory.from_config(alembic_config(app, part))
            context = MigrationContext.configure(
                connection, opts={"version_table": part.version_table}
            )
            applied = context.get_current_heads()
            done = {
                revision.revision
                for current in applied
                for revision in script.iterate_revisions(current, "base")
            }
            heads = script.get_heads()
            revisions.append(
                PartRevision(
                    name=part.name,
                    current=tuple(applied),
                    heads=tuple(heads),
                    pending_heads=frozenset(heads) - done,
                    to_apply=sum(
                        revision.revision not in done for revision in script.walk_revisions()
                    ),
                )
            )
    return revisions


def pending_heads(app: Flask) -> set[str]:
    """The migration heads, of every part, not yet applied to the database."""
    return {head for part in part_revisions(app) for head in part.pending_heads}


def ensure_schema(app: Flask) -> None:
    """SQLite (one machine, a newcomer's first run): bring the schema up to date. Any other
    database: refuse to run on a stale schema, since migrating is the operator's decision."""
    if app.config["DATABASE_URL"].startswith("sqlite"):
        upgrade(app)
    elif pending_heads(app):
        raise StaleSchema("the database schema is not up to date: run `alma db upgrade` first")
