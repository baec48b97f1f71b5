"""The entry point: module-level hook implementations. alma loads this module only when
"kudos" is in PLUGINS."""

from pathlib import Path

from flask import render_template

from alma_kudos import models  # noqa: F401  (registers the table on the shared metadata)
from alma_kudos.services import GIVEN, kudos_received, total_kudos
from alma_kudos.views import bp
from core.api import ActivityKind, HomeCounter, ProfileSection, hookimpl

REQUIRES: tuple[str, ...] = ()  # names of plugins that must be enabled before this one


def _render_section(member, viewer):
    return render_template(
        "kudos/section.html", member=member, viewer=viewer, received=kudos_received(member)
    )


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def register_activity_kinds():
    return [ActivityKind(GIVEN, "Gave kudos")]


@hookimpl
def register_profile_sections():
    return [ProfileSection("overview", "Kudos", _render_section)]


@hookimpl
def register_home_counters():
    return [HomeCounter("kudos given", total_kudos, order=50)]


@hookimpl
def register_migrations():
    return [Path(__file__).parent / "migrations"]
