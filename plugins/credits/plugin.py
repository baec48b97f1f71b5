"""The credits plugin's hook implementations (its entry point): activities and completed
goals earn members credits by a rule table, kept in a ledger."""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l

from core.api import MemberFact, NavItem, ProfileSection, hookimpl
from plugins.credits import account_end, admin, api, services
from plugins.credits.export import credits_part
from plugins.credits.views import bp


@hookimpl
def register_blueprints():
    return [bp, admin.bp]


@hookimpl
def register_api_blueprints():
    return [api.bp]


@hookimpl
def register_admin_sections():
    return [admin.SECTION]


@hookimpl
def register_nav_items():
    return [NavItem(_l("Top contributors"), "credits.top", members_only=True, order=80)]


def _overview_section(member, viewer):
    """The total, for everyone; the latest entries and the way to the ledger, for its owner."""
    is_self = member.id == viewer.id
    return render_template(
        "credits/_overview.html",
        member=member,
        total=services.credit_total(member),
        recent=services.ledger_page(member, size=services.RECENT_ENTRIES) if is_self else None,
        is_self=is_self,
    )


@hookimpl
def register_profile_sections():
    return [ProfileSection("overview", _l("Credits"), _overview_section, order=30)]


@hookimpl
def register_member_facts():
    return [MemberFact(services.member_fact_values, order=50)]


@hookimpl
def register_settings():
    return services.SETTINGS


@hookimpl
def register_migrations():
    return [Path(__file__).parent / "migrations"]


@hookimpl
def app_created(app):
    services.check_config(app)


@hookimpl
def activity_performed(activity):
    services.credit_activity(activity)


@hookimpl
def activity_undone(activity):
    services.reverse_activity(activity)


@hookimpl
def goal_completed(goal):
    services.credit_goal(goal)


@hookimpl
def export_member_data(user):
    return credits_part(user)


@hookimpl
def member_erasing(user):
    account_end.erase_member(user)
