"""The entry point: module-level hook implementations. alma loads this module only when
"kudos" is in PLUGINS."""

from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from alma_kudos import (
    account_end,
    api,
    models,  # noqa: F401  (registers the table on the shared metadata)
)
from alma_kudos.export import kudos_part
from alma_kudos.services import (
    GIVEN,
    NAV_ENDPOINT,
    THANKED,
    describe_thanks,
    kudos_counts,
    kudos_received,
    send_daily_digests,
    settle_declined,
    settle_kept,
    total_kudos,
    unseen_count,
    unseen_kudos,
)
from alma_kudos.views import bp
from core.api import (
    ActivityKind,
    GoalKind,
    HomeCounter,
    Job,
    MailKind,
    MemberFact,
    NavItem,
    ProfileSection,
    Setting,
    SocketHandler,
    hookimpl,
    positive,
)

REQUIRES: tuple[str, ...] = ()  # names of plugins that must be enabled before this one


def _render_section(member, viewer):
    return render_template(
        "kudos/section.html", member=member, viewer=viewer, received=kudos_received(member)
    )


def _unseen_for_this_tab(data=None):
    """A tab that reconnects (after ``resync``) asks how many kudos are new."""
    return {"unseen": unseen_count(current_user.id)}


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def register_api_blueprints():
    return [api.bp]


@hookimpl
def register_nav_items():
    return [NavItem(_l("Kudos"), NAV_ENDPOINT, members_only=True, order=80, badge=unseen_kudos)]


@hookimpl
def register_activity_kinds():
    return [ActivityKind(GIVEN, _l("Gave kudos"))]


@hookimpl
def register_goal_kinds():
    return [GoalKind(THANKED, _l("Kept kudos"), describe=describe_thanks)]


@hookimpl
def goal_completed(goal):
    if goal.kind == THANKED:
        settle_kept(goal)


@hookimpl
def goal_declined(goal):
    if goal.kind == THANKED:
        settle_declined(goal)


@hookimpl
def register_profile_sections():
    return [ProfileSection("overview", _l("Kudos"), _render_section)]


@hookimpl
def register_home_counters():
    return [HomeCounter(_l("kudos given"), total_kudos, order=50)]


@hookimpl
def register_member_facts():
    return [MemberFact(kudos_counts, order=50)]


@hookimpl
def register_jobs():
    return [Job("kudos.digest", send_daily_digests, "cron", {"hour": 7})]


@hookimpl
def register_socket_handlers():
    return [SocketHandler("kudos.unseen", _unseen_for_this_tab)]


@hookimpl
def register_mail_kinds():
    # the plugin gathers kudos into a daily mail itself: the member may still turn it off
    return [MailKind("kudos.digest", _l("Kudos you received"), templates=("kudos/mail/digest",))]


@hookimpl
def register_settings():
    return {"per_day": Setting(int, 3, positive, "kudos a member may give in 24 hours")}


@hookimpl
def register_migrations():
    return [Path(__file__).parent / "migrations"]


@hookimpl
def export_member_data(user):
    return kudos_part(user)


@hookimpl
def member_erasing(user):
    account_end.erase_member(user)
