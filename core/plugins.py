"""Finding, enabling and calling plugins.

Installed means: an entry point in the group ``alma.plugins`` (or, in tests, an object handed to
``create_app``). Enabled means: named in the ``PLUGINS`` setting. Only enabled plugins are
loaded and registered, in the order given; anything wrong stops startup with a clear message.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pluggy

from core import hookspecs

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask

    from core.config import Setting
    from core.contributions import (
        ActivityKind,
        AdminSection,
        ExportPart,
        GoalKind,
        HomeCounter,
        Job,
        MailKind,
        MemberFact,
        NavItem,
        ProfileArea,
        ProfileField,
        ProfileSection,
        ReportKind,
        SocketHandler,
        Statistic,
        WebhookEventType,
    )
    from core.models import Activity, Goal, User
    from core.webapi import ApiBlueprint

ENTRY_POINT_GROUP = "alma.plugins"


class PluginError(Exception):
    """A plugin cannot be enabled: unknown, listed twice, missing a requirement, or broken."""


@dataclass(frozen=True)
class InstalledPlugin:
    name: str
    version: str
    source: EntryPoint | object

    def load(self) -> object:
        if isinstance(self.source, EntryPoint):
            try:
                return self.source.load()
            except Exception as error:
                raise PluginError(f"plugin {self.name!r} failed to load: {error}") from error
        return self.source


def installed_plugins(extra: Mapping[str, object] | None = None) -> dict[str, InstalledPlugin]:
    """Every plugin that could be enabled, by name."""
    found = dict(declared_plugins())
    for name, obj in (extra or {}).items():
        found[name] = InstalledPlugin(name, getattr(obj, "__version__", "local"), obj)
    return found


def declared_plugins() -> dict[str, InstalledPlugin]:
    """The plugins the installed distributions declare as entry points, by name."""
    found: dict[str, InstalledPlugin] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        version = point.dist.version if point.dist else "unknown"
        found[point.name] = InstalledPlugin(point.name, version, point)
    return found


def requirements_of(plugin: object) -> tuple[str, ...]:
    """The plugins a plugin needs enabled before it, from its ``REQUIRES`` attribute (a name,
    or a sequence of names)."""
    required = getattr(plugin, "REQUIRES", ())
    return (required,) if isinstance(required, str) else tuple(required)


def build_plugin_manager(
    enabled: Iterable[str], installed: Mapping[str, InstalledPlugin]
) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    seen: list[str] = []
    for name in enabled:
        if name in seen:
            raise PluginError(f"plugin {name!r} is listed twice in PLUGINS")
        if name not in installed:
            known = ", ".join(sorted(installed)) or "none"
            raise PluginError(f"unknown plugin {name!r} in PLUGINS (installed: {known})")
        plugin = installed[name].load()
        for required in requirements_of(plugin):
            if required not in seen:
                raise PluginError(
                    f"plugin {name!r} requires plugin {required!r}: "
                    f"enable {required!r} before {name!r} in PLUGINS"
                )
        try:
            pm.register(plugin, name=name)
        except pluggy.PluginValidationError as error:
            raise PluginError(f"plugin {name!r} has a bad hook implementation: {error}") from None
        seen.append(name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        # pluggy names the plugin object; the operator knows it by its name in PLUGINS
        raise PluginError(
            f"plugin {pm.get_name(error.plugin)!r}: {error} (misspelled hook name?)"
        ) from None
    return pm


def _flat(results: Iterable[Iterable[Any] | None]) -> list[Any]:
    return list(itertools.chain.from_iterable(r for r in results if r))


def _by_order(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: item.order)


class Hooks:
    """The one typed way core calls plugins: a method per hook, arguments by keyword."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self._pm = pm
        self._hook = pm.hook

    @property
    def manager(self) -> pluggy.PluginManager:
        return self._pm

    # Events
    def user_registered(self, user: User) -> None:
        self._hook.user_registered(user=user)

    def activity_performed(self, activity: Activity) -> None:
        self._hook.activity_performed(activity=activity)

    def activity_undone(self, activity: Activity) -> None:
        self._hook.activity_undone(activity=activity)

    def goal_completed(self, goal: Goal) -> None:
        self._hook.goal_completed(goal=goal)

    def goal_declined(self, goal: Goal) -> None:
        self._hook.goal_declined(goal=goal)

    def app_created(self, app: Flask) -> None:
        self._hook.app_created(app=app)

    def member_suspended(self, user: User) -> None:
        self._hook.member_suspended(user=user)

    def demo_users_created(self, users: list[User]) -> None:
        self._hook.demo_users_created(users=users)

    def member_deactivating(self, user: User) -> None:
        self._hook.member_deactivating(user=user)

    def member_erasing(self, user: User) -> None:
        self._hook.member_erasing(user=user)

    # Member data
    def export_member_data(self, user: User) -> list[ExportPart]:
        return [part for part in self._hook.export_member_data(user=user) if part]

    # Contributions
    def blueprints(self) -> list[Blueprint]:
        return _flat(self._hook.register_blueprints())

    def api_blueprints(self) -> list[ApiBlueprint]:
        return _flat(self._hook.register_api_blueprints())

    def nav_items(self) -> list[NavItem]:
        return _by_order(_flat(self._hook.register_nav_items()))

    def profile_areas(self) -> list[ProfileArea]:
        """Each area once: several plugins may contribute one (by name), the lowest order's
        title and empty state win."""
        by_name: dict[str, ProfileArea] = {}
        for area in _by_order(_flat(self._hook.register_profile_areas())):
            by_name.setdefault(area.name, area)
        return list(by_name.values())

    def profile_sections(self) -> list[ProfileSection]:
        return _by_order(_flat(self._hook.register_profile_sections()))

    def profile_fields(self) -> list[ProfileField]:
        return _by_order(_flat(self._hook.register_profile_fields()))

    def home_counters(self) -> list[HomeCounter]:
        return _by_order(_flat(self._hook.register_home_counters()))

    def member_facts(self) -> list[MemberFact]:
        return _by_order(_flat(self._hook.register_member_facts()))

    def admin_sections(self) -> list[AdminSection]:
        return _flat(self._hook.register_admin_sections())

    def statistics(self) -> list[Statistic]:
        return _flat(self._hook.register_statistics())

    def report_kinds(self) -> list[ReportKind]:
        return _flat(self._hook.register_report_kinds())

    def jobs(self) -> list[Job]:
        return _flat(self._hook.register_jobs())

    def socket_handlers(self) -> list[SocketHandler]:
        return _flat(self._hook.register_socket_handlers())

    def cli_commands(self) -> list[click.Command]:
        return _flat(self._hook.register_cli_commands())

    def activity_kinds(self) -> list[ActivityKind]:
        return _flat(self._hook.register_activity_kinds())

    def goal_kinds(self) -> list[GoalKind]:
        return _flat(self._hook.register_goal_kinds())

    def webhook_events(self) -> list[WebhookEventType]:
        return _flat(self._hook.register_webhook_events())

    def mail_kinds(self) -> dict[str, list[MailKind]]:
        """Each plugin's mail kinds, by plugin name."""
        return {
            implementation.plugin_name: list(cast("list[MailKind]", implementation.function()))
            for implementation in self._hook.register_mail_kinds.get_hookimpls()
        }

    def settings(self) -> dict[str, dict[str, Setting]]:
        """Each plugin's declared settings, by plugin name."""
        return {
            # pluggy types what an implementation returns as object; the hookspec says what
            implementation.plugin_name: cast("dict[str, Setting]", implementation.function())
            for implementation in self._hook.register_settings.get_hookimpls()
        }

    def migrations(self) -> dict[str, list[Path]]:
        """Each plugin's migration folders, by plugin name: each plugin is its own part of the
        schema, with its own history (see core/schema.py)."""
        return {
            implementation.plugin_name: [
                Path(path) for path in cast("list[Path]", implementation.function())
            ]
            for implementation in self._hook.register_migrations.get_hookimpls()
        }


def implemented_hooks(pm: pluggy.PluginManager, name: str) -> list[str]:
    """The names of the hooks the plugin registered as ``name`` implements."""
    plugin = pm.get_plugin(name)
    return sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
