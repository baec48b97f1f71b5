"""The groups plugin's hook implementations (its entry point).

Members create groups, join them (openly, on request or by invitation), talk in each group's
forum and read its announcements. Managing a group is recorded as activities through core,
which a credits plugin may turn into credits; this plugin imports no other."""

from __future__ import annotations

from pathlib import Path

from flask import render_template
from flask_babel import lazy_gettext as _l

from core.api import (
    ActivityKind,
    HomeCounter,
    MailKind,
    NavItem,
    ProfileArea,
    ProfileSection,
    Statistic,
    count_per_month,
    db,
    hookimpl,
)
from plugins.groups import account_end, api
from plugins.groups.export import groups_part
from plugins.groups.models import INVITATION_ONLY, MEMBERS_ONLY, ON_REQUEST, Group
from plugins.groups.services import (
    announcements,
    directory,
    forum,
    invitations,
    membership,
    reports,
    shared,
)
from plugins.groups.views import bp


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def register_api_blueprints():
    return [api.bp]


@hookimpl
def register_nav_items():
    return [
        NavItem(
            _l("Groups"),
            "groups.directory",
            members_only=True,
            order=30,
            badge=membership.waiting_count,
        )
    ]


def _groups_section(member, viewer):
    """A member's groups: all of them to themself, only the public ones to anyone else."""
    cards = directory.groups_of(member, viewer)
    if not cards and member.id != viewer.id:
        return None
    return render_template("groups/_profile.html", cards=cards, member=member, viewer=viewer)


@hookimpl
def register_profile_areas():
    return [ProfileArea("groups", _l("Groups"), _l("No groups here yet."), order=20)]


@hookimpl
def register_profile_sections():
    return [ProfileSection("groups", _l("Groups"), _groups_section, order=10)]


@hookimpl
def register_home_counters():
    return [HomeCounter(_l("groups"), directory.count_groups, order=40)]


@hookimpl
def register_report_kinds():
    return reports.report_kinds()


@hookimpl
def register_activity_kinds():
    return [
        ActivityKind(shared.GROUP_CREATED, _l("Created a group")),
        ActivityKind(shared.MANAGED, _l("Managed a group")),
        ActivityKind(shared.FORUM_POST, _l("Posted in a group forum")),
    ]


@hookimpl
def register_mail_kinds():
    return [
        MailKind("groups.membership", _l("Requests to join your groups, and the answers to yours")),
        MailKind("groups.invitations", _l("Invitations to a group")),
        MailKind("groups.forum", _l("Posts in your groups' forums")),
    ]


@hookimpl
def register_settings():
    return shared.SETTINGS


@hookimpl
def register_migrations():
    return [Path(__file__).parent / "migrations"]


@hookimpl
def demo_users_created(users):
    """Two public groups with members and a forum conversation, and one members-only group."""
    if len(users) < 2:
        return
    db.session.flush()  # the new members' ids
    first, second, *others = users
    python = directory.create_group(
        first,
        name="Python learners",
        topic="Python",
        description="Mentors and mentees practising Python together: questions, code reviews "
        "and small weekly exercises.",
    )
    for member in [second, *others]:
        membership.join_group(python.id, member)
    topic = forum.start_topic(
        python.id,
        second,
        "Which project should I build first?",
        "I finished the basics. Is a to-do app a good first project, or something else?",
    )
    forum.reply(
        python.id,
        topic.id,
        first,
        "Build something you will use yourself: a budget tracker or a reading list. "
        "Post the repository here and we will review it together.",
    )
    announcements.announce(python.id, first, "Code review evening every Thursday at 18:00 UTC.")
    careers = directory.create_group(
        second,
        name="Career changers",
        topic="Career change",
        description="For anyone moving into a new field: share your path, your doubts and "
        "your wins.",
        join_policy=ON_REQUEST,
    )
    if others:
        membership.request_to_join(
            careers.id, others[0], "I am moving from teaching into software: may I join?"
        )
    lounge = directory.create_group(
        first,
        name="Mentors' lounge",
        topic="Mentoring",
        description="A quiet corner where mentors compare notes.",
        join_policy=INVITATION_ONLY,
        visibility=MEMBERS_ONLY,
    )
    invitations.invite(lounge.id, first, second.id)


@hookimpl
def export_member_data(user):
    return groups_part(user)


@hookimpl
def register_statistics():
    return [
        Statistic("groups.groups", _l("Public groups"), now=directory.count_groups, order=40),
        Statistic(
            "groups.created",
            _l("Groups created"),
            per_month=lambda months: count_per_month(months, Group.created_at),
            order=40,
        ),
    ]


@hookimpl
def member_deactivating(user):
    account_end.hand_over_groups(user)


@hookimpl
def member_erasing(user):
    account_end.erase_member(user)
