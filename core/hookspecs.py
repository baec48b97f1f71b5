"""Every hook alma's core offers to plugins, in one place.

Four families:

* **Events** (past tense) tell plugins that something happened. They return nothing. They run
  *inside the unit of work that caused them*: a listener's writes commit or roll back together
  with the cause, and a listener that raises rolls the whole unit of work back (the user sees an
  error, nothing is half-done). Listeners write only their own tables and do slow work (e-mail,
  PDFs) after commit, through the mail outbox or a job of their own.
* **Contributions** (``register_*``) are called when the app is built and return a list; core
  gathers the lists of every enabled plugin.
* **Member data** hooks ask each plugin for its part of one member's data.
* **Decisions** (``firstresult=True``) would let exactly one plugin answer; core has none yet.

Implementations may accept fewer arguments than the spec names (pluggy passes only those
asked for), so arguments are only ever added. pluggy calls the most recently registered plugin
first; plugins are registered in the order of the ``PLUGINS`` setting.

Core calls hooks through :class:`core.plugins.Hooks`, never through ``pm.hook`` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

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

PROJECT = "alma"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


@hookspec
def user_registered(user: User) -> None:
    """A member registered (before confirming their e-mail).

    Fires inside the registration's transaction; ``user.id`` is set. Returns nothing.
    """


@hookspec
def activity_performed(activity: Activity) -> None:
    """An activity was recorded with :func:`core.api.record_activity`.

    Fires once per activity, inside the transaction that recorded it (recording the same event
    twice fires nothing the second time). ``activity.kind`` is one of the kinds some plugin
    declared with :func:`register_activity_kinds`. Returns nothing.
    """


@hookspec
def activity_undone(activity: Activity) -> None:
    """What earned an activity was removed (an article deleted, a rating withdrawn).

    Fires once, inside the transaction that undid it, after ``activity.undone_at`` is set.
    Listeners reverse what they did for :func:`activity_performed` (credits add a reversing
    entry). Returns nothing.
    """


@hookspec
def goal_completed(goal: Goal) -> None:
    """Every party of a goal consented: the goal is completed.

    Fires exactly once per goal, inside the transaction of the last consent, with
    ``goal.completed_at`` set and ``goal.parties`` listing who consented. Returns nothing.
    """


@hookspec
def goal_declined(goal: Goal) -> None:
    """A party declined a goal: it can no longer complete.

    Fires exactly once per goal, inside the transaction of the refusal, with
    ``goal.declined_at`` set and the party who declined having the decision ``"declined"``
    (wherever they declined it: the owning plugin's page or their profile). Returns nothing.
    """


@hookspec
def member_suspended(user: User) -> None:
    """Staff suspended ``user``: they cannot log in, and are no longer listed to others.

    Fires inside the suspension's transaction, after ``user.suspended_at`` is set (and
    ``suspended_until``, or ``None`` for a suspension until lifted) and their sessions ended.
    Settle what others wait from them (decline their pending requests), telling those others
    neutrally: a suspension is not theirs to know. Returns nothing.
    """


@hookspec
def app_created(app: Flask) -> None:
    """``create_app`` has gathered every enabled plugin's contributions and settings.

    Fires once per app, inside an app context, before any request. Check here what can only be
    checked once every plugin is known (a rule naming another plugin's activity kind, say) and
    raise :class:`core.api.ConfigError` to stop alma with that message. Returns nothing.
    """


@hookspec
def demo_users_created(users: list[User]) -> None:
    """``alma demo`` created its demo members; add your plugin's demo data for them.

    Fires inside the demo's transaction. ``users`` are confirmed members with a bio, topics
    and languages; what they do in a plugin (offer or look for something), the plugin sets
    here. Returns nothing.
    """


# --------------------------------------------------------------------------------------------
# Member data: each plugin answers for its own tables
# --------------------------------------------------------------------------------------------


@hookspec
def export_member_data(user: User) -> ExportPart | None:
    """``user`` asked for a copy of their data: return your plugin's part
    (:class:`core.api.ExportPart`), or ``None`` when you hold nothing of theirs.

    Called by the export job, inside an app context, once per export; core adds its own part
    (profile, topics, languages, alerts, activities, goals) and writes every part to a ZIP
    the member downloads. Give only their data and what they wrote; name other members by
    display name, never by e-mail. A listener that raises fails that member's export (logged,
    tried again at the job's next run); other members' exports are built all the same.
    """


@hookspec
def member_deactivating(user: User) -> None:
    """``user`` deactivated their account (or asked for its deletion, which deactivates it).

    Fires inside the deactivation's transaction, after ``user.deactivated_at`` is set and
    their sessions ended; from then on ``User.is_listed`` is false for them and no mail is
    queued to them. End, withdraw or hand over what others would otherwise wait for from
    them (a running mentorship, a pending request, a group only they manage), telling those
    others neutrally. Keep what they earned: they may come back. A listener that raises
    rolls the deactivation back. Returns nothing.
    """


@hookspec
def member_erasing(user: User) -> None:
    """``user``'s account is being erased (the deletion they asked for is due).

    Fires in the erasure job, inside the erasure's transaction, *before* core clears the
    account: ``user.email``, ``user.display_name`` and ``user.bio`` still hold what to
    forget. Delete your rows that are only theirs; in rows others need (a chat, a forum
    thread, a wiki revision) remove the text they wrote and keep the row, whose author becomes
    the nameless ``users`` row core leaves behind (shown as "former member"); replace their
    name where your rows quote it (:func:`core.api.forget_mentions`). Afterwards core looks
    through every table for their address, name and profile text: an address left anywhere
    fails the erasure (rolled back, retried at the job's next run). Returns nothing.
    """


# --------------------------------------------------------------------------------------------
# Contributions: called while the app is built, each returns a list
# --------------------------------------------------------------------------------------------


@hookspec
def register_blueprints() -> list[Blueprint]:
    """Return the Flask blueprints of the plugin, named and prefixed with the plugin's name
    (blueprint ``wiki`` under ``/wiki``, templates in ``templates/wiki/``)."""


@hookspec
def register_api_blueprints() -> list[ApiBlueprint]:
    """Return the plugin's parts of the HTTP API (:class:`core.api.ApiBlueprint`), named and
    prefixed with the plugin's name (``ApiBlueprint("wiki", __name__, url_prefix="/wiki")``
    serves ``/api/v1/wiki/...``). They appear in the same OpenAPI document as core's; see
    docs/api.md."""


@hookspec
def register_nav_items() -> list[NavItem]:
    """Return links for the navigation bar (:class:`core.api.NavItem`)."""


@hookspec
def register_profile_areas() -> list[ProfileArea]:
    """Return tabs for a member's profile (:class:`core.api.ProfileArea`), shown between
    core's Overview and My data; the plugin's sections fill them."""


@hookspec
def register_profile_sections() -> list[ProfileSection]:
    """Return blocks for the areas of a member's profile
    (:class:`core.api.ProfileSection`): ``overview``, ``data`` or an area a plugin
    contributes."""


@hookspec
def register_profile_fields() -> list[ProfileField]:
    """Return fields for the member's own profile form under My data
    (:class:`core.api.ProfileField`), each loaded and saved by the plugin."""


@hookspec
def register_home_counters() -> list[HomeCounter]:
    """Return live figures for the public home page (:class:`core.api.HomeCounter`)."""


@hookspec
def register_member_facts() -> list[MemberFact]:
    """Return short public lines shown under a member's name on their profile and on member
    cards such as a directory's (:class:`core.api.MemberFact`)."""


@hookspec
def register_admin_sections() -> list[AdminSection]:
    """Return sections of the staff's console at ``/admin/`` (:class:`core.api.AdminSection`),
    each listed to the staff whose role may open it; the plugin's own views draw them."""


@hookspec
def register_statistics() -> list[Statistic]:
    """Return the plugin's figures for the programme's statistics at ``/admin/statistics``
    (:class:`core.api.Statistic`): counts now and series per month, each computed in SQL by
    the plugin over its own tables."""


@hookspec
def register_report_kinds() -> list[ReportKind]:
    """Return the kinds of member content members may report to the moderators
    (:class:`core.api.ReportKind`): how to find an item as a viewer sees it, and how to hide
    and restore it. Core draws the report form and the console's Reports queue."""


@hookspec
def register_jobs() -> list[Job]:
    """Return scheduled jobs (:class:`core.api.Job`). They run in exactly one process:
    the scheduler of ``alma serve`` or ``alma scheduler``, never in every web worker."""


@hookspec
def register_socket_handlers() -> list[SocketHandler]:
    """Return Socket.IO event handlers (:class:`core.api.SocketHandler`)."""


@hookspec
def register_cli_commands() -> list[click.Command]:
    """Return click commands to add to the ``alma`` command line, named after the plugin
    (a group ``wiki`` with subcommands, say). They run inside an app context."""


@hookspec
def register_activity_kinds() -> list[ActivityKind]:
    """Return the activity kinds the plugin records, with their human labels."""


@hookspec
def register_goal_kinds() -> list[GoalKind]:
    """Return the goal kinds the plugin proposes, with their human labels."""


@hookspec
def register_mail_kinds() -> list[MailKind]:
    """Return the kinds of e-mail the plugin sends (``core.api.MailKind``), each with its
    label, its default (at once, daily digest, off), whether a member may turn it off, and
    the templates it covers. ``send_mail`` refuses a mail of no declared kind, and each member
    chooses per kind on My data → Notifications."""


@hookspec
def register_webhook_events() -> list[WebhookEventType]:
    """Return the types of event the plugin sends to webhook endpoints
    (:class:`core.api.WebhookEventType`), named ``<thing>.<past tense>``; an admin subscribes
    an endpoint to some of them, and ``core.api.emit_webhook`` refuses a type nobody
    declared."""


@hookspec
def register_settings() -> dict[str, Setting]:
    """Return the plugin's settings, by key: ``core.api.Setting(type, default, check)``.

    Operators set them in ``[plugins.<plugin name>]`` of ``alma.toml``. At startup core checks
    the table against them (an unknown key or a bad value stops alma with a message naming
    ``plugins.<plugin>.<key>``) and fills in the defaults; read the result with
    ``current_app.config["PLUGIN_SETTINGS"]["<plugin>"]``."""


@hookspec
def register_migrations() -> list[Path]:
    """Return the Alembic ``versions`` folders holding the plugin's migrations.

    Each plugin is its own part of the schema with its own history (``alembic_version_<name>``);
    ``alma db upgrade`` applies core's first, then each enabled plugin's, in ``PLUGINS``
    order, so a plugin's migrations may reference core's tables (a core migration marked
    ``after_plugins``, which drops what a plugin took over, runs after them).
    ``alma db revision --part <name>`` writes one."""
