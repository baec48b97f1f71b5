"""What core keeps per app in ``app.extensions["alma"]`` (no globals: two apps can share a
process, as tests do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app
from sqlalchemy import Select

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler
    from flask_socketio import SocketIO

    from core.contributions import ActivityKind, GoalKind
    from core.plugins import Hooks, InstalledPlugin


@dataclass
class AlmaState:
    hooks: Hooks
    installed: dict[str, InstalledPlugin]
    enabled: list[str]
    activity_kinds: dict[str, ActivityKind]  # by name
    goal_kinds: dict[str, GoalKind]  # by name
    socketio: SocketIO | None = None
    scheduler: BaseScheduler | None = None
    scheduler_lock: object | None = None  # held as long as this process runs the jobs
    nav_items: list = field(default_factory=list)
    badge_query: Select | None = None  # every badge of nav_items, see core.services.badges
    profile_areas: list = field(default_factory=list)
    profile_sections: list = field(default_factory=list)
    profile_fields: list = field(default_factory=list)
    profile_form: type | None = None  # core's form of My data with profile_fields, see core.forms
    home_counters: list = field(default_factory=list)
    member_facts: list = field(default_factory=list)


def alma(app: Flask | None = None) -> AlmaState:
    return (app or current_app).extensions["alma"]


def hooks() -> Hooks:
    return alma().hooks
