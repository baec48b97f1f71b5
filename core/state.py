"""What core keeps per app in ``app.extensions["alma"]`` (no globals: two apps can share a
process, as tests do)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from sqlalchemy import Select

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler
    from flask_socketio import SocketIO

    from core.contributions import (
        ActivityKind,
        AdminSection,
        GoalKind,
        HomeCounter,
        MemberFact,
        NavItem,
        ProfileArea,
        ProfileField,
        ProfileSection,
        ReportKind,
        Statistic,
        WebhookEventType,
    )
    from core.forms import ProfileForm
    from core.plugins import Hooks, InstalledPlugin
    from core.services.mail_kinds import MailCatalog


@dataclass
class AlmaState:
    hooks: Hooks
    installed: dict[str, InstalledPlugin]
    enabled: list[str]
    activity_kinds: dict[str, ActivityKind]  # by name
    goal_kinds: dict[str, GoalKind]  # by name
    profile_form: type[ProfileForm]  # My data with the plugins' profile_fields, see core.forms
    mail_catalog: MailCatalog  # core's and the plugins' mail kinds
    socketio: SocketIO | None = None
    scheduler: BaseScheduler | None = None
    scheduler_lock: object | None = None  # held as long as this process runs the jobs
    nav_items: list[NavItem] = field(default_factory=list)
    # every badge of nav_items, see core.services.badges
    badge_query: Select[*tuple[Any, ...]] | None = None
    profile_areas: list[ProfileArea] = field(default_factory=list)
    profile_sections: list[ProfileSection] = field(default_factory=list)
    profile_fields: list[ProfileField] = field(default_factory=list)
    home_counters: list[HomeCounter] = field(default_factory=list)
    member_facts: list[MemberFact] = field(default_factory=list)
    admin_sections: list[AdminSection] = field(default_factory=list)  # core's and plugins'
    statistics: list[Statistic] = field(default_factory=list)  # core's and plugins'
    report_kinds: dict[str, ReportKind] = field(default_factory=dict)  # by name
    webhook_events: dict[str, WebhookEventType] = field(default_factory=dict)  # core's, plugins'


def alma(app: Flask | None = None) -> AlmaState:
    state: AlmaState = (app or current_app).extensions["alma"]
    return state


def hooks() -> Hooks:
    return alma().hooks
