"""Every hook of core/hookspecs.py, exercised through a throwaway plugin, asserting what a member
or an operator would notice. One ``test_hook_<name>`` per hook; a meta-test keeps it so."""

from __future__ import annotations

import contextvars
import csv
import html
import inspect
import io
import json
import re
import secrets
import sys
import textwrap
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner
from flask import Blueprint, render_template_string
from flask_login import current_user, login_required
from flask_socketio import emit
from markupsafe import Markup
from sqlalchemy import func, literal, select, text
from sqlalchemy import inspect as inspect_db
from wtforms import BooleanField, StringField

from core import hookimpl, hookspecs
from core.config import ConfigError, Setting, positive
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
    ReportedItem,
    ReportKind,
    SocketHandler,
    Statistic,
    WebhookEventType,
)
from core.db import db as database
from core.errors import InvalidInput
from core.models import Activity, DataExport, Goal, Notification, OutboxMail, Report, User
from core.plugins import PluginError
from core.services.activities import activity_label, record_activity, undo_activity
from core.services.goals import goal_facts, goal_label, propose_goal
from core.services.mail_kinds import UnknownMailKind
from core.services.mail_kinds import catalog as mail_catalog
from core.services.notifications import notify
from core.services.statistics import count_per_month
from core.state import alma
from core.testing import (
    TEST_PASSWORD,
    body_of,
    count_rows,
    path_of,
    run_job,
    stored,
    verified,
)
from core.views.admin import staff_required
from core.webapi import ApiBlueprint

DID = "probe.did"


# ---- how a test picks its throwaway plugin ---------------------------------------------------


def with_plugin(plugin_class: type, **settings: Any):
    """Run the test with a fresh ``plugin_class()`` installed and enabled as "probe"."""
    return pytest.mark.parametrize(
        ("plugin_class", "app_settings"), [(plugin_class, settings)], ids=[plugin_class.__name__]
    )


@pytest.fixture
def plugin_class() -> type | None:
    return None


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
def plugin(plugin_class):
    return plugin_class() if plugin_class else None


@pytest.fixture
def app(make_app, plugin, app_settings):
    if plugin is None:
        return make_app(**app_settings)
    return make_app(extra_plugins={"probe": plugin}, PLUGINS=["probe"], **app_settings)


def alerts_of(app, user: User) -> list[str]:
    with app.app_context():
        try:
            return list(
                database.session.scalars(
                    select(Notification.message)
                    .where(Notification.user_id == user.id)
                    .order_by(Notification.id)
                )
            )
        finally:
            database.session.remove()


def probe_blueprint() -> Blueprint:
    """The pages of a throwaway plugin, named and prefixed after it as plugins must be."""
    bp = Blueprint("probe", __name__, url_prefix="/probe")

    @bp.get("/")
    def index():
        return render_template_string(
            '{% extends "base.html" %}{% block content %}Hello from the probe plugin{% endblock %}'
        )

    @bp.get("/members")
    @login_required
    def members():
        return f"Hello {current_user.display_name}, member"

    @bp.get("/first")
    def first():
        return "first"

    @bp.post("/do")
    @login_required
    def do():
        record_activity(DID, current_user._get_current_object(), subject="probe:1")
        database.session.commit()
        return "recorded"

    @bp.post("/undo")
    @login_required
    def undo():
        undo_activity(f"{DID}:{current_user.id}:probe:1")
        database.session.commit()
        return "undone"

    return bp


# ---- the meta-test ----------------------------------------------------------------------------


def hookspec_names() -> list[str]:
    marker = f"{hookspecs.PROJECT}_spec"
    return sorted(
        name
        for name, function in vars(hookspecs).items()
        if inspect.isfunction(function) and hasattr(function, marker)
    )


def test_every_hook_has_a_test_here():
    names = hookspec_names()
    assert "activity_performed" in names and "register_blueprints" in names  # found them
    missing = [name for name in names if not callable(globals().get(f"test_hook_{name}"))]
    assert not missing, f"write test_hook_<name> for: {', '.join(missing)}"
    stale = [
        name.removeprefix("test_hook_")
        for name in globals()
        if name.startswith("test_hook_") and name.removeprefix("test_hook_") not in names
    ]
    assert not stale, f"tests of hooks that do not exist: {stale}"


# ---- events -----------------------------------------------------------------------------------


class RegistrationProbe:
    def __init__(self) -> None:
        self.registered: list[tuple[int, str, bool]] = []
        self.fail = False

    @hookimpl
    def user_registered(self, user: User) -> None:
        self.registered.append((user.id, user.email, user.email_confirmed))
        notify(user, f"Welcome, {user.display_name}!")
        if self.fail:
            raise RuntimeError("the probe plugin failed")


@with_plugin(RegistrationProbe)
def test_hook_user_registered(client, mail, plugin, app):
    form = {"display_name": "Ada", "email": "Ada@Example.org", "password": "a long password"}

    response = client.post("/register", data=form, follow_redirects=True)

    assert "Check your inbox" in response.text
    [(user_id, email, confirmed)] = plugin.registered
    assert (email, confirmed) == ("ada@example.org", False)
    assert stored(app, select(User.id).where(User.email == email)) == user_id

    # the listener's welcome was committed with the account: Ada sees it once confirmed
    [message] = mail.deliver()
    client.get(path_of(re.search(r"http://\S+", body_of(message)).group(0)))
    assert "Welcome, Ada!" in client.get("/alerts/").text

    # an address already taken creates no member, and so fires nothing
    client.logout()
    client.post("/register", data=form | {"display_name": "Ada again"})
    assert len(plugin.registered) == 1


@with_plugin(RegistrationProbe, PROPAGATE_EXCEPTIONS=False)
def test_a_failing_user_registered_listener_rolls_the_registration_back(client, mail, plugin, app):
    plugin.fail = True

    response = client.post(
        "/register",
        data={"display_name": "Ada", "email": "ada@example.org", "password": "a long password"},
    )

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert len(plugin.registered) == 1  # it ran, inside the registration's unit of work
    assert count_rows(app, User) == 0
    assert count_rows(app, Notification) == 0
    assert count_rows(app, OutboxMail) == 0
    assert mail.deliver() == []  # no confirmation mail for an account that does not exist


class ActivityProbe:
    def __init__(self) -> None:
        self.blueprint = probe_blueprint()
        self.performed: list[tuple[int, str]] = []
        self.undone: list[tuple[int, bool]] = []
        self.fail = False

    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        return [self.blueprint]

    @hookimpl
    def register_activity_kinds(self) -> list[ActivityKind]:
        return [ActivityKind(DID, "Tried the probe")]

    @hookimpl
    def activity_performed(self, activity: Activity) -> None:
        self.performed.append((activity.id, activity.kind))
        notify(activity.user, f"Thanks! {activity_label(activity.kind)}")
        if self.fail:
            raise RuntimeError("the probe plugin failed")

    @hookimpl
    def activity_undone(self, activity: Activity) -> None:
        self.undone.append((activity.id, activity.undone_at is not None))
        notify(activity.user, f"Withdrawn: {activity_label(activity.kind)}")


@with_plugin(ActivityProbe)
def test_hook_activity_performed(client, app, plugin, create_user):
    member = create_user()
    client.login(member)

    assert client.post("/probe/do").text == "recorded"
    assert client.post("/probe/do").text == "recorded"  # a double submit

    activity_id = stored(app, select(Activity.id).where(Activity.user_id == member.id))
    assert plugin.performed == [(activity_id, DID)]
    assert client.get("/alerts/").text.count("Thanks! Tried the probe") == 1


@with_plugin(ActivityProbe, PROPAGATE_EXCEPTIONS=False)
def test_a_failing_activity_performed_listener_rolls_the_request_back(
    client, app, plugin, create_user
):
    member = create_user()
    client.login(member)
    plugin.fail = True

    response = client.post("/probe/do")

    assert response.status_code == 500
    assert len(plugin.performed) == 1
    assert count_rows(app, Activity) == 0  # neither the cause...
    assert count_rows(app, Notification) == 0  # ...nor the listener's own write

    plugin.fail = False  # nothing was half-done: trying again is a first time
    assert client.post("/probe/do").status_code == 200
    assert count_rows(app, Activity) == 1
    assert len(plugin.performed) == 2


@with_plugin(ActivityProbe)
def test_hook_activity_undone(client, app, plugin, create_user):
    member = create_user()
    client.login(member)
    client.post("/probe/do")

    assert client.post("/probe/undo").text == "undone"
    assert client.post("/probe/undo").text == "undone"  # twice: fires once

    activity_id = stored(app, select(Activity.id).where(Activity.user_id == member.id))
    assert plugin.undone == [(activity_id, True)]
    assert stored(app, select(Activity.undone_at).where(Activity.id == activity_id)) is not None
    assert client.get("/alerts/").text.count("Withdrawn: Tried the probe") == 1


class GoalProbe:
    def __init__(self) -> None:
        self.completed: list[tuple[int, bool, list[str]]] = []
        self.declined: list[tuple[int, bool, list[str]]] = []

    @hookimpl
    def register_goal_kinds(self) -> list[GoalKind]:
        return [GoalKind("probe.met", "Attended a meeting")]

    @hookimpl
    def goal_completed(self, goal: Goal) -> None:
        decisions = [party.decision for party in goal.parties]
        self.completed.append((goal.id, goal.completed_at is not None, decisions))
        for party in goal.parties:
            notify(party.user, f"Goal reached: {goal.title}")

    @hookimpl
    def goal_declined(self, goal: Goal) -> None:
        decisions = [party.decision for party in goal.parties]
        self.declined.append((goal.id, goal.declined_at is not None, decisions))
        for party in goal.parties:
            if party.decision != "declined":
                notify(party.user, f"Goal declined: {goal.title}")


@with_plugin(GoalProbe)
def test_hook_goal_completed(client, db, app, plugin, create_user):
    mentee, mentor = create_user(), create_user()
    goal = propose_goal("probe.met", "First meeting", [mentee, mentor])
    db.session.commit()

    client.login(mentee)
    client.post(f"/goals/{goal.id}/consent")
    assert plugin.completed == []

    client.login(mentor)
    page = client.post(f"/goals/{goal.id}/consent", follow_redirects=True).text

    assert "Goal completed: First meeting" in page
    assert plugin.completed == [(goal.id, True, ["consented", "consented"])]
    assert "Goal reached: First meeting" in client.get("/alerts/").text
    assert alerts_of(app, mentee) == ["Goal reached: First meeting"]


@with_plugin(GoalProbe)
def test_hook_goal_declined(client, db, app, plugin, create_user):
    mentee, mentor = create_user(), create_user()
    goal = propose_goal("probe.met", "First meeting", [mentee, mentor])
    db.session.commit()
    client.login(mentee)
    client.post(f"/goals/{goal.id}/consent")

    client.login(mentor)
    client.post(f"/goals/{goal.id}/decline")
    client.post(f"/goals/{goal.id}/decline")  # a second refusal fires nothing more

    assert plugin.declined == [(goal.id, True, ["consented", "declined"])]
    assert plugin.completed == []
    assert alerts_of(app, mentee) == ["Goal declined: First meeting"]


class StartupProbe:
    def __init__(self) -> None:
        self.apps: list[tuple[str, list[str]]] = []

    @hookimpl
    def register_activity_kinds(self) -> list[ActivityKind]:
        return [ActivityKind(DID, "Tried the probe")]

    @hookimpl
    def register_settings(self) -> dict[str, Setting]:
        return {"refuse": Setting(bool, False, None, "refuse to start")}

    @hookimpl
    def app_created(self, app) -> None:
        self.apps.append((app.name, sorted(alma().activity_kinds)))
        if app.config["PLUGIN_SETTINGS"].get("probe", {}).get("refuse"):
            raise ConfigError("plugins.probe.refuse", "refusing to start")


class SuspensionProbe:
    def __init__(self) -> None:
        self.suspended: list[tuple[int, bool]] = []
        self.fail = False

    @hookimpl
    def member_suspended(self, user: User) -> None:
        self.suspended.append((user.id, user.is_suspended))
        waiting = database.session.scalar(select(User).where(User.email == "waits@example.org"))
        notify(waiting, f"{user.display_name} cannot answer you at the moment.")
        if self.fail:
            raise RuntimeError("the probe plugin failed")


@with_plugin(SuspensionProbe, PROPAGATE_EXCEPTIONS=False)
def test_hook_member_suspended(client, app, plugin, create_user):
    coordinator = create_user(role="coordinator")
    member = create_user(display_name="Sam")
    waiting = create_user(email="waits@example.org")
    client.login(coordinator)

    client.post(f"/admin/members/{member.id}/suspend", data={"reason": "spam"})

    assert plugin.suspended == [(member.id, True)]
    assert alerts_of(app, waiting) == ["Sam cannot answer you at the moment."]

    # a failing listener undoes the suspension it was told of: the member is not suspended
    other = create_user(display_name="Kim")
    plugin.fail = True
    assert (
        client.post(f"/admin/members/{other.id}/suspend", data={"reason": "spam"}).status_code
        == 500
    )
    assert stored(app, select(User.suspended_at).where(User.id == other.id)) is None
    assert alerts_of(app, waiting) == ["Sam cannot answer you at the moment."]
    # an unsuspension fires nothing
    plugin.fail = False
    client.post(f"/admin/members/{member.id}/unsuspend", data={"reason": "cleared up"})
    assert len(plugin.suspended) == 2


class DeactivationProbe:
    def __init__(self) -> None:
        self.told: list[tuple[int, bool]] = []
        self.fail = False

    @hookimpl
    def member_deactivating(self, user: User) -> None:
        self.told.append((user.id, user.is_listed))
        waiting = database.session.scalar(select(User).where(User.email == "waits@example.org"))
        notify(waiting, f"{user.display_name} is no longer active here.")
        if self.fail:
            raise RuntimeError("the probe plugin failed")


@with_plugin(DeactivationProbe, PROPAGATE_EXCEPTIONS=False)
def test_hook_member_deactivating(client, app, plugin, create_user):
    member = create_user(display_name="Sam")
    waiting = create_user(email="waits@example.org")
    client.login(member)

    client.post("/me/data/deactivate", data={"password": TEST_PASSWORD})

    assert plugin.told == [(member.id, False)]  # told once, with the member unlisted already
    assert alerts_of(app, waiting) == ["Sam is no longer active here."]
    # asking for a deletion deactivates too: told once more, for that member
    other = create_user(display_name="Kim")
    client.login(other)
    client.post("/me/data/delete", data={"password": TEST_PASSWORD, "word": "DELETE"})
    assert plugin.told[-1] == (other.id, False)

    # a failing listener undoes the deactivation: the member stays active, nobody is told
    lee = create_user(display_name="Lee")
    client.login(lee)
    plugin.fail = True
    response = client.post("/me/data/deactivate", data={"password": TEST_PASSWORD})
    assert response.status_code == 500
    assert stored(app, select(User.deactivated_at).where(User.id == lee.id)) is None
    assert "Lee is no longer active here." not in alerts_of(app, waiting)


class ErasureProbe:
    """Keeps what it was told of; with ``leave_address``, forgets to erase the address it
    copied into a row (an activity's subject) of another member."""

    def __init__(self) -> None:
        self.erased: list[tuple[str, str]] = []
        self.leave_address = False

    @hookimpl
    def register_activity_kinds(self) -> list[ActivityKind]:
        return [ActivityKind(DID, "Tried the probe")]

    @hookimpl
    def member_erasing(self, user: User) -> None:
        self.erased.append((user.email, user.display_name))
        if self.leave_address:
            witness = database.session.scalar(select(User).where(User.email == "waits@example.org"))
            record_activity(DID, witness, subject=f"probe:{user.email}")


@with_plugin(ErasureProbe)
def test_hook_member_erasing(client, app, plugin, create_user):
    create_user(email="waits@example.org")
    member = create_user(display_name="Sam Sample", email="sam@example.org")
    client.login(member)
    client.post("/me/data/delete", data={"password": TEST_PASSWORD, "word": "DELETE"})
    plugin.leave_address = True

    with time_machine.travel(datetime.now(UTC) + timedelta(days=7, minutes=1)):
        run_job(app, "core.erase_accounts")
        # told before core cleared the account; the address left behind fails the erasure
        assert plugin.erased == [("sam@example.org", "Sam Sample")]
        assert stored(app, select(User.erased_at).where(User.id == member.id)) is None
        assert count_rows(app, Activity) == 0  # the probe's row rolled back with it

        plugin.leave_address = False
        run_job(app, "core.erase_accounts")  # tried again at the next run

    assert plugin.erased[-1] == ("sam@example.org", "Sam Sample")
    assert stored(app, select(User.display_name).where(User.id == member.id)) == "former member"


class ExportProbe:
    def __init__(self) -> None:
        self.asked: list[int] = []
        self.fail_for: str | None = None  # the display name of the member it fails for

    @hookimpl
    def export_member_data(self, user: User) -> ExportPart | None:
        self.asked.append(user.id)
        if user.display_name == self.fail_for:
            raise RuntimeError("the probe plugin failed")
        if user.display_name == "Nobody":
            return None
        return ExportPart(
            "probe",
            {"probes": [{"by": user.display_name, "at": datetime(2026, 5, 1, 9, tzinfo=UTC)}]},
            {"note.txt": b"written by the probe"},
            about="What the probe plugin holds.",
        )


def exported_files(app, client, user: User) -> dict[str, bytes]:
    """Ask for ``user``'s export, build it, and read the ZIP their link downloads."""
    client.login(user)
    client.post("/me/data/export")
    run_job(app, "core.build_data_exports")
    with app.app_context():
        token = database.session.scalar(
            select(DataExport.token).where(DataExport.user_id == user.id)
        )
    response = client.get(f"/me/data/export/{token}")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@with_plugin(ExportProbe)
def test_hook_export_member_data(client, app, plugin, create_user):
    member = create_user(display_name="Sam")

    files = exported_files(app, client, member)

    assert plugin.asked == [member.id]
    assert json.loads(files["probe.json"]) == {
        "probes": [{"by": "Sam", "at": "2026-05-01T09:00:00+00:00"}]
    }
    assert files["probe/note.txt"] == b"written by the probe"
    assert "probe.json: What the probe plugin holds." in files["README.txt"].decode()
    assert "core.json" in files

    # a plugin holding nothing of the member adds no file
    assert "probe.json" not in exported_files(app, client, create_user(display_name="Nobody"))

    # a failing listener fails that member's export alone, which the next run builds
    plugin.fail_for = "Kim"
    kim, lee = create_user(display_name="Kim"), create_user(display_name="Lee")
    for member in (kim, lee):
        client.login(member)
        client.post("/me/data/export")
    run_job(app, "core.build_data_exports")
    assert alerts_of(app, kim) == []
    assert stored(app, select(DataExport.built_at).where(DataExport.user_id == kim.id)) is None
    assert alerts_of(app, lee) == ["A copy of your data is ready to download for 7 days."]
    plugin.fail_for = None
    run_job(app, "core.build_data_exports")
    assert alerts_of(app, kim) == ["A copy of your data is ready to download for 7 days."]
    assert alerts_of(app, lee) == ["A copy of your data is ready to download for 7 days."]


def test_hook_app_created(make_app):
    probe = StartupProbe()
    make_app(extra_plugins={"probe": probe}, PLUGINS=["probe"])
    assert probe.apps == [("core.app", [DID])]  # once, with every kind known

    with pytest.raises(ConfigError, match=r"plugins\.probe\.refuse: refusing to start"):
        make_app(
            extra_plugins={"probe": probe},
            PLUGINS=["probe"],
            PLUGIN_SETTINGS={"probe": {"refuse": True}},
        )

    make_app(extra_plugins={"probe": probe}, PLUGINS=[])  # not enabled: not asked
    assert len(probe.apps) == 2


class DemoProbe:
    def __init__(self) -> None:
        self.calls: list[list[tuple[str, bool]]] = []

    @hookimpl
    def demo_users_created(self, users: list[User]) -> None:
        self.calls.append([(user.email, user.id is not None) for user in users])
        for user in users[:1]:
            notify(user, "A demo mentee would like to meet you")


@with_plugin(DemoProbe)
def test_hook_demo_users_created(client, db, app, plugin):
    from core.demo import DEMO_MEMBERS, DEMO_PASSWORD, create_demo_members

    created = create_demo_members()
    db.session.commit()

    assert plugin.calls == [[(member.email, True) for member in DEMO_MEMBERS]]
    assert [user.email for user in created] == [member.email for member in DEMO_MEMBERS]

    # the plugin's demo data was committed with the members: the first demo member sees it
    client.post("/login", data={"email": "anna@example.org", "password": DEMO_PASSWORD})
    assert "A demo mentee would like to meet you" in client.get("/alerts/").text

    assert create_demo_members() == []  # they exist: no new members, no event
    assert len(plugin.calls) == 1


def test_an_implementation_may_take_fewer_arguments_than_the_spec(make_app, db, create_user):
    class Forgetful:
        heard = 0

        @hookimpl
        def register_activity_kinds(self):
            return [ActivityKind(DID, "Tried the probe")]

        @hookimpl
        def activity_performed(self):  # wants none of the arguments
            Forgetful.heard += 1

    app = make_app(extra_plugins={"forgetful": Forgetful()}, PLUGINS=["forgetful"])
    with app.app_context():
        record_activity(DID, database.session.get(User, create_user().id), subject="x")
        database.session.commit()
        database.session.remove()

    assert Forgetful.heard == 1


def test_an_implementation_asking_for_an_argument_the_spec_lacks_stops_startup(make_app):
    class Greedy:
        @hookimpl
        def activity_performed(self, activity, points):
            pass

    with pytest.raises(PluginError, match="'greedy' has a bad hook implementation"):
        make_app(extra_plugins={"greedy": Greedy()}, PLUGINS=["greedy"])


def test_listeners_run_newest_registered_first(make_app, create_user):
    heard: list[str] = []

    class Listener:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def register_activity_kinds(self):
            return [ActivityKind(DID, "Tried the probe")]

        @hookimpl
        def activity_performed(self, activity):
            heard.append(self.name)

    app = make_app(
        extra_plugins={"first": Listener("first"), "second": Listener("second")},
        PLUGINS=["first", "second"],
    )
    with app.app_context():
        record_activity(DID, database.session.get(User, create_user().id), subject="x")
        database.session.remove()

    assert heard == ["second", "first"]


# ---- contributions ----------------------------------------------------------------------------


class BlueprintProbe:
    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        return [probe_blueprint()]


@with_plugin(BlueprintProbe)
def test_hook_register_blueprints(client, make_app, plugin, create_user):
    response = client.get("/probe/")
    assert response.status_code == 200
    assert "Hello from the probe plugin" in response.text  # in core's page shell
    assert '<nav class="navbar' in response.text
    assert response.headers["X-Frame-Options"] == "DENY"  # core's headers apply to it too

    # the plugin's pages use core's login
    assert client.get("/probe/members").status_code == 302
    client.login(create_user(display_name="Iris"))
    assert client.get("/probe/members").text == "Hello Iris, member"

    # installed but not enabled: its pages do not exist
    disabled = make_app(extra_plugins={"probe": BlueprintProbe()}, PLUGINS=[])
    assert disabled.test_client().get("/probe/").status_code == 404


class ApiProbe:
    @hookimpl
    def register_api_blueprints(self) -> list[Blueprint]:
        bp = ApiBlueprint("probe", __name__, url_prefix="/probe", description="Probing.")

        @bp.get("/whoami")
        def whoami():
            return {"name": current_user.display_name}

        return [bp]


@with_plugin(ApiProbe)
def test_hook_register_api_blueprints(client, make_app, plugin, create_user, db):
    from core.services.tokens import create_token

    assert client.get("/api/v1/probe/whoami").status_code == 401  # core authenticates first
    secret = create_token(create_user(display_name="Iris"), "probe", "read")
    db.session.commit()
    answer = client.get("/api/v1/probe/whoami", headers={"Authorization": f"Bearer {secret}"})
    assert answer.json == {"name": "Iris"}
    assert "/api/v1/probe/whoami" in client.get("/api/v1/openapi.json").json["paths"]

    disabled = make_app(extra_plugins={"probe": ApiProbe()}, PLUGINS=[])
    assert disabled.test_client().get("/api/v1/probe/whoami").status_code == 404


class NavProbe:
    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        return [probe_blueprint()]

    @hookimpl
    def register_nav_items(self) -> list[NavItem]:
        return [
            NavItem("Probe corner", "probe.index", order=200),
            NavItem("Probe members", "probe.members", members_only=True, order=300),
            NavItem("Probe first", "probe.first", order=10),
        ]


def nav_labels(page: str) -> list[str]:
    nav = page.split('<ul class="navbar-nav me-auto">')[1].split("</ul>")[0]
    return re.findall(r'<a class="nav-link[^"]*" href="[^"]+">([^<]+)</a>', nav)


@with_plugin(NavProbe)
def test_hook_register_nav_items(client, create_user):
    home = client.get("/").text
    assert nav_labels(home) == ["Probe first", "Probe corner"]  # by order, visitors' only
    assert '<a class="nav-link" href="/probe/">Probe corner</a>' in home

    client.login(create_user())
    assert nav_labels(client.get("/").text) == ["Probe first", "Probe corner", "Probe members"]
    assert client.get("/probe/members").status_code == 200  # the link leads somewhere

    # on the plugin's own page its link is marked active
    page = client.get("/probe/").text
    assert '<a class="nav-link active" aria-current="page" href="/probe/">Probe corner</a>' in page
    assert 'href="/probe/first">Probe first</a>' in page


class BadgeProbe:
    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        return [probe_blueprint()]

    @hookimpl
    def register_nav_items(self) -> list[NavItem]:
        return [
            NavItem("Inbox", "probe.index", badge=name_length),
            NavItem("Quiet", "probe.first", badge=lambda member_id: literal(0)),
        ]


def name_length(member_id):
    """A badge as SQL: the length of the member's name."""
    return select(func.length(User.display_name)).where(User.id == member_id).scalar_subquery()


@with_plugin(BadgeProbe)
def test_a_nav_item_badge_counts_for_the_logged_in_member(client, create_user):
    assert 'data-nav-badge="probe.index"' not in client.get("/").text  # visitors: no count

    client.login(create_user(display_name="Ada"))
    page = client.get("/").text

    assert re.search(r'data-nav-badge="probe.index">3</span>', page)
    assert re.search(r'd-none" data-nav-badge="probe.first">0</span>', page)  # 0 shows nothing


class SectionProbe:
    def __init__(self) -> None:
        self.rendered: list[tuple[str, int, int]] = []

    @hookimpl
    def register_profile_areas(self) -> list[ProfileArea]:
        return [ProfileArea("probe", "Probe area", "Nothing probed yet.")]

    @hookimpl
    def register_profile_sections(self) -> list[ProfileSection]:
        return [
            ProfileSection("overview", "Probe badges", self.badges),
            ProfileSection("probe", "Probe private notes", self.private_notes),
            ProfileSection("data", "Probe export", lambda member, viewer: "<p>Export it</p>"),
            # an area no enabled plugin contributes: shown nowhere
            ProfileSection("elsewhere", "Probe stray", lambda member, viewer: "<p>Stray</p>"),
        ]

    def badges(self, member: User, viewer: User) -> Markup:
        self.rendered.append(("badges", member.id, viewer.id))
        return Markup("<p>{} has 3 badges</p>").format(member.display_name)

    def private_notes(self, member: User, viewer: User) -> Markup | None:
        if viewer.id != member.id:
            return None  # the section decides what is public
        return Markup("<p>Only you see these notes</p>")


@with_plugin(SectionProbe)
def test_hook_register_profile_sections(client, plugin, create_user):
    owner = create_user(display_name="<b>Olga</b>")
    visitor = create_user()
    client.login(visitor)

    overview = client.get(f"/members/{owner.id}").text
    assert '<h2 class="h5">Probe badges</h2>' in overview
    assert "<p>&lt;b&gt;Olga&lt;/b&gt; has 3 badges</p>" in overview  # escaped, not injected
    assert plugin.rendered == [("badges", owner.id, visitor.id)]
    probed = client.get(f"/members/{owner.id}/probe").text
    assert "Probe private notes" not in probed
    assert "Nothing probed yet." in probed

    client.login(owner)
    probed = client.get(f"/members/{owner.id}/probe").text
    assert "Probe private notes" in probed
    assert "<p>Only you see these notes</p>" in probed
    assert "Nothing probed yet." not in probed
    data = client.get("/me/data").text
    assert "Probe export" in data and "<p>Export it</p>" in data
    assert "Probe badges" not in data  # each section shows in its own area only
    assert client.get(f"/members/{owner.id}/elsewhere").status_code == 404


class AreaProbe:
    @hookimpl
    def register_profile_areas(self) -> list[ProfileArea]:
        return [
            ProfileArea("probe_late", "Probe late", "Late and empty.", order=50),
            ProfileArea("probe", "Probe early", "Early and empty.", order=10),
            # as another plugin sharing the area would: shown once, as the lowest order says
            ProfileArea("probe_late", "Probe shared", "Shared and empty.", order=60),
        ]


def tab_titles(page: str) -> list[str]:
    tabs = page[page.index("profile-tabs") :]
    return re.findall(r'class="nav-link[^>]*>([^<]*)</a>', tabs[: tabs.index("</ul>")])


@with_plugin(AreaProbe)
def test_hook_register_profile_areas(client, create_user):
    member, visitor = create_user(), create_user()

    client.login(visitor)
    page = client.get(f"/members/{member.id}/probe_late")

    assert page.status_code == 200
    assert "Late and empty." in page.text
    # core's Overview first and My data last (for the member alone), plugins' areas by order
    assert tab_titles(page.text) == ["Overview", "Probe early", "Probe late"]
    client.login(member)
    own = client.get(f"/members/{member.id}").text
    assert tab_titles(own) == ["Overview", "Probe early", "Probe late", "My data"]
    assert client.get(f"/members/{member.id}/groups").status_code == 404


class FieldProbe:
    """A checkbox and a text field under My data, kept by the plugin (in memory, here)."""

    def __init__(self) -> None:
        self.stored: dict[tuple[int, str], Any] = {}

    @hookimpl
    def register_profile_fields(self) -> list[ProfileField]:
        return [
            ProfileField(
                "probe_motto",
                StringField("Your motto"),
                load=lambda member: self.stored.get((member.id, "motto"), ""),
                save=self.save_motto,
                legend="Probing",
                order=20,
            ),
            ProfileField(
                "probe_stargazer",
                BooleanField("I watch the stars"),
                load=lambda member: self.stored.get((member.id, "stars"), False),
                save=lambda member, value: self.stored.__setitem__((member.id, "stars"), value),
                legend="Probing",
                note="Other members see whether you watch the stars.",
                badge="Stargazer",
                badge_style="warning",
                order=10,
            ),
        ]

    def save_motto(self, member: User, value: str) -> None:
        if "!" in value:
            raise InvalidInput("A motto without shouting, please.")
        self.stored[(member.id, "motto")] = value


def my_data(**changes: str) -> dict[str, str]:
    return {"display_name": "Ada", "timezone": "UTC", "csrf_token": ""} | changes


@with_plugin(FieldProbe)
def test_hook_register_profile_fields(app, client, plugin, create_user):
    app.config["WTF_CSRF_ENABLED"] = False
    member = create_user(display_name="Ada", probe_motto="Ad astra")  # saved as the form does
    assert plugin.stored == {(member.id, "motto"): "Ad astra"}
    client.login(member)

    page = client.get("/me/data").text
    fieldset = page[page.index("<legend") : page.index("</fieldset>")]
    assert ">Probing</legend>" in fieldset
    # by order within their legend
    assert fieldset.index('name="probe_stargazer"') < fieldset.index('name="probe_motto"')
    assert 'value="Ad astra"' in fieldset
    assert "Other members see whether you watch the stars." in page

    saved = client.post("/me/data", data=my_data(probe_stargazer="y", probe_motto="Up"))
    assert saved.status_code == 302
    assert plugin.stored == {(member.id, "motto"): "Up", (member.id, "stars"): True}
    visitor = create_user()
    client.login(visitor)
    assert (
        '<span class="badge text-bg-warning">Stargazer</span>'
        in client.get(f"/members/{member.id}").text
    )
    assert "Stargazer" not in client.get(f"/members/{visitor.id}").text

    client.login(member)
    refused = client.post("/me/data", data=my_data(display_name="Ava", probe_motto="Up!"))
    assert refused.status_code == 400
    assert "A motto without shouting, please." in refused.text
    assert database.session.get(User, member.id).display_name == "Ada"  # the whole form refused


class ClashingFieldProbe:
    def __init__(self, *names: str) -> None:
        self.names = names

    @hookimpl
    def register_profile_fields(self) -> list[ProfileField]:
        return [
            ProfileField(name, StringField(name), lambda m: "", lambda m, v: None)
            for name in self.names
        ]


@pytest.mark.parametrize(
    "names", [("bio",), ("csrf_token",), ("probe_motto", "probe_motto")], ids=str
)
def test_a_profile_field_may_replace_no_other_field(make_app, names):
    with pytest.raises(PluginError, match=f"'{names[-1]}' is already a field of My data"):
        make_app(extra_plugins={"probe": ClashingFieldProbe(*names)}, PLUGINS=["probe"])


class CounterProbe:
    @hookimpl
    def register_home_counters(self) -> list[HomeCounter]:
        return [
            HomeCounter("members so far", self.members, order=20),
            HomeCounter("probes launched", lambda: 7, order=10),
        ]

    @staticmethod
    def members() -> int:
        return database.session.scalar(select(func.count()).select_from(User))


def counters(page: str) -> list[tuple[str, str]]:
    found = re.findall(
        r'<div class="counter">([^<]*)</div>\s*<div class="text-muted">([^<]*)</div>', page
    )
    return [(label, value) for value, label in found]


@with_plugin(CounterProbe)
def test_hook_register_home_counters(client, create_user):
    create_user()
    create_user()
    assert counters(client.get("/").text) == [("probes launched", "7"), ("members so far", "2")]

    create_user()  # live: computed on every view
    assert ("members so far", "3") in counters(client.get("/").text)


class ConsoleProbe:
    """A section for coordinators with a badge, one for admins alone, one with nothing to do."""

    def __init__(self) -> None:
        self.waiting = 3
        self.blueprint = Blueprint("probe", __name__, url_prefix="/probe")
        self.blueprint.add_url_rule(
            "/queue", "queue", staff_required("coordinator")(lambda: "the queue")
        )
        self.blueprint.add_url_rule("/system", "system", staff_required("admin")(lambda: "system"))
        self.blueprint.add_url_rule("/quiet", "quiet", staff_required("coordinator")(lambda: ""))

    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        return [self.blueprint]

    @hookimpl
    def register_admin_sections(self) -> list[AdminSection]:
        return [
            AdminSection("System probe", "probe.system", "admin", order=20),
            AdminSection("Quiet probe", "probe.quiet", "coordinator", count=lambda: 0, order=30),
            AdminSection(
                "Probe queue", "probe.queue", "coordinator", count=lambda: self.waiting, order=10
            ),
        ]


def console_sections(page: str) -> list[tuple[str, str]]:
    """(title, badge) of each section the console lists, in order ("" without a badge)."""
    items = re.findall(r'<a class="list-group-item[^"]*" href="[^"]*">(.*?)</a>', page, re.S)
    return [
        (
            re.search(r'fw-semibold">([^<]*)<', item)[1],
            (re.search(r"data-section-count[^>]*>(\d+)<", item) or ["", ""])[1],
        )
        for item in items
    ]


@with_plugin(ConsoleProbe)
def test_hook_register_admin_sections(client, plugin, create_user):
    client.login(create_user(role="coordinator"))
    assert console_sections(client.get("/admin/").text) == [
        ("Probe queue", "3"),
        ("Members", ""),  # core's own sections, among the plugins' by order
        ("Reports", ""),
        ("Quiet probe", ""),
        ("Statistics", ""),
        ("Audit log", ""),
    ]
    assert client.get("/probe/queue").text == "the queue"
    assert client.get("/probe/system").status_code == 403  # listed or not, the view refuses

    plugin.waiting = 5  # live: counted on each view
    client.login(create_user(role="admin"))
    assert console_sections(client.get("/admin/").text) == [
        ("Probe queue", "5"),
        ("Members", ""),
        ("System probe", ""),
        ("Reports", ""),
        ("Quiet probe", ""),
        ("Statistics", ""),
        ("Webhooks", ""),  # core's, for admins only
        ("System", ""),  # core's, for admins only
        ("Audit log", ""),
    ]
    assert client.get("/probe/system").text == "system"

    client.login(create_user())
    assert client.get("/probe/queue").status_code == 403


class StatisticsProbe:
    """A third-party plugin's figures: a count now, launches per month, and a series with a
    unit and a month without a value."""

    @hookimpl
    def register_statistics(self) -> list[Statistic]:
        return [
            Statistic("probe.fleet", "Probes in orbit", now=lambda: 7, order=5),
            Statistic(
                "probe.launches",
                "Launches",
                per_month=lambda months: count_per_month(
                    months, User.created_at, User.display_name.like("Probe%")
                ),
                order=5,
            ),
            Statistic(
                "probe.fuel",
                "Fuel left",
                per_month=lambda months: [None] * (len(months) - 1) + [2.5],
                unit="tonnes",
            ),
        ]


@with_plugin(StatisticsProbe)
def test_hook_register_statistics(client, plugin, create_user):
    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    create_user(display_name="Probe One", created_at=datetime(2026, 2, 3, tzinfo=UTC))
    create_user(display_name="Probe Two", created_at=datetime(2026, 3, 1, tzinfo=UTC))
    staff = create_user(role="coordinator", created_at=datetime(2026, 3, 2, tzinfo=UTC))
    with time_machine.travel(now, tick=False):
        client.login(staff)
        page = html.unescape(client.get("/admin/statistics").text)
        rows = list(csv.DictReader(io.StringIO(client.get("/admin/statistics.csv").text)))

    assert 'data-statistic="probe.fleet"' in page and "Probes in orbit" in page
    assert 'data-chart="probe.launches"' in page
    assert re.search(r"Fuel left\s*<span[^>]*>\(tonnes\)", page)
    # by order: the launches (5), core's registrations (10), the fuel (100)
    assert list(rows[0]) == ["month", "probe.launches", "registrations", "probe.fuel"]
    by_month = {row["month"]: row for row in rows}
    assert by_month["2026-02"]["probe.launches"] == "1"
    assert by_month["2026-03"]["probe.launches"] == "1"
    assert (by_month["2026-02"]["probe.fuel"], by_month["2026-03"]["probe.fuel"]) == ("", "2.5")
    assert by_month["2026-03"]["registrations"] == "2"


class ReportProbe:
    """Notes a member may report: each note is seen by its author and "readers" alone."""

    def __init__(self) -> None:
        self.notes: dict[int, dict[str, Any]] = {}
        self.blueprint = Blueprint("probe", __name__, url_prefix="/probe")
        self.blueprint.add_url_rule("/notes/<int:note_id>", "note", login_required(self.page))

    @hookimpl
    def register_blueprints(self) -> list[Blueprint]:
        return [self.blueprint]

    @hookimpl
    def register_report_kinds(self) -> list[ReportKind]:
        return [ReportKind("probe.note", "Probe note", self.find, self.hide, self.restore)]

    def find(self, note_id: int, viewer: User) -> ReportedItem | None:
        note = self.notes.get(note_id)
        if note is None or note["hidden"] or viewer.id not in note["readers"]:
            return None
        return ReportedItem(
            f"Note {note_id}", note["text"], note["author"], f"/probe/notes/{note_id}"
        )

    def hide(self, note_id: int) -> None:
        self.notes[note_id]["hidden"] = True

    def restore(self, note_id: int) -> None:
        self.notes[note_id]["hidden"] = False

    def page(self, note_id: int) -> str:
        note = self.notes[note_id]
        return render_template_string(
            '{% extends "base.html" %}'
            '{% from "_report.html" import report_link, hidden_notice with context %}'
            "{% block content %}{% if hidden %}{{ hidden_notice() }}{% else %}{{ text }} "
            "{{ report_link('probe.note', id, author) }}{% endif %}{% endblock %}",
            id=note_id,
            **note,
        )


@with_plugin(ReportProbe)
def test_hook_register_report_kinds(app, client, plugin, create_user):
    author, reader, stranger = create_user(), create_user(), create_user()
    coordinator = create_user(role="coordinator")
    plugin.notes[7] = {
        "text": "buy cheap pills",
        "author": author.id,
        "readers": {author.id, reader.id},
        "hidden": False,
    }
    client.login(reader)
    assert 'href="/report/probe.note/7"' in client.get("/probe/notes/7").text
    sent = client.post(
        "/report/probe.note/7", data={"reason": "spam", "text": "an ad"}, follow_redirects=True
    )
    assert "The moderators will look at it." in sent.text
    assert sent.request.path == "/probe/notes/7"
    client.login(stranger)  # may not see the note: nothing to report
    assert client.get("/report/probe.note/7").status_code == 404
    assert client.get("/report/probe.nothing/7").status_code == 404

    client.login(coordinator)
    queue = client.get("/admin/reports").text
    assert "Note 7" in queue and "Probe note" in queue and "buy cheap pills" in queue
    report_id = stored(app, select(func.max(Report.id)))
    client.post(f"/admin/reports/{report_id}/hide", data={"reason": "an advert"})
    assert plugin.notes[7]["hidden"]

    client.login(author)
    assert "hidden by the moderators" in client.get("/probe/notes/7").text


def test_an_admin_section_names_a_role_that_exists():
    with pytest.raises(ValueError, match="role must be one of"):
        AdminSection("Probe", "probe.queue", "owner")


class FactsProbe:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    @hookimpl
    def register_member_facts(self) -> list[MemberFact]:
        return [MemberFact(self.stars, order=20), MemberFact(lambda members: {}, order=10)]

    def stars(self, members) -> dict[int, str]:
        self.calls.append(sorted(member.id for member in members))
        return {member.id: f"{member.id * 10} stars" for member in members}


@with_plugin(FactsProbe)
def test_hook_register_member_facts(client, plugin, create_user):
    member, viewer = create_user(display_name="Ada"), create_user()

    client.login(viewer)
    profile = client.get(f"/members/{member.id}").text

    assert f'<p class="small text-muted mb-0 member-facts">{member.id * 10} stars</p>' in profile
    assert plugin.calls == [[member.id]]  # once per page

    # staff see the same facts on the member's page of the console
    client.login(create_user(role="coordinator"))
    console = client.get(f"/admin/members/{member.id}").text
    assert f'<p class="small text-muted mb-0 member-facts">{member.id * 10} stars</p>' in console


class JobProbe:
    def __init__(self) -> None:
        self.runs = 0
        self.fail = False

    @hookimpl
    def register_jobs(self) -> list[Job]:
        return [
            Job("probe.digest", self.digest, "interval", {"minutes": 30}),
            Job("probe.nightly", self.digest, "cron", {"hour": 3}),
        ]

    def digest(self) -> None:
        self.runs += 1
        for user in database.session.scalars(select(User)):
            notify(user, f"Your digest #{self.runs}")
        if self.fail:
            raise RuntimeError("the digest failed half-way")


@with_plugin(JobProbe)
def test_hook_register_jobs(client, app, plugin, create_user):
    from core.scheduler import SchedulerLock, build_scheduler, run_job, run_job_if_holding

    member = create_user()
    # built, not started: no thread runs anything here
    scheduler = build_scheduler(app, SchedulerLock(app))

    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"core.deliver_mail", "probe.digest", "probe.nightly"} <= set(jobs)
    assert str(jobs["probe.digest"].trigger) == "interval[0:30:00]"
    assert str(jobs["probe.nightly"].trigger) == "cron[hour='3']"
    assert plugin.runs == 0

    # what the scheduler runs: the job in its own app context and unit of work, committed
    digest = jobs["probe.digest"]
    assert digest.func is run_job_if_holding  # if this process holds the scheduler lock
    app_, job, _lock = digest.args
    run_job(app_, job)
    assert plugin.runs == 1
    assert alerts_of(app, member) == ["Your digest #1"]
    client.login(member)
    assert "Your digest #1" in client.get("/alerts/").text

    # a job that fails is rolled back: nothing half-done
    plugin.fail = True
    run_job(app_, job)
    assert plugin.runs == 2
    assert alerts_of(app, member) == ["Your digest #1"]


class SocketProbe:
    @hookimpl
    def register_socket_handlers(self) -> list[SocketHandler]:
        def ping(data):
            emit("probe.pong", {"to": current_user.display_name, "echo": data})

        return [SocketHandler("probe.ping", ping)]


def fresh(function, *args, **kwargs):
    """Call ``function`` outside the test's app context, as a server would (Flask-Login keeps
    the logged-in member in the app context's ``g``)."""
    return contextvars.Context().run(function, *args, **kwargs)


@with_plugin(SocketProbe)
def test_hook_register_socket_handlers(client, app, create_user):
    socketio = app.extensions["socketio"]

    visitor = fresh(socketio.test_client, app, flask_test_client=app.test_client())
    assert not visitor.is_connected()  # core refuses visitors before any handler runs

    client.login(create_user(display_name="Sol"))
    member = fresh(socketio.test_client, app, flask_test_client=client)
    assert member.is_connected()
    fresh(member.emit, "probe.ping", {"n": 1})

    pongs = [event for event in member.get_received() if event["name"] == "probe.pong"]
    assert pongs == [
        {"name": "probe.pong", "args": [{"to": "Sol", "echo": {"n": 1}}], "namespace": "/"}
    ]
    fresh(member.disconnect)


CLI_PLUGIN = '''
"""A third-party plugin with a command line, as `pip install` would install it."""
import click
from sqlalchemy import func, select

from core import hookimpl
from core.db import db
from core.models import User
from core.services.accounts import user_by_email
from core.services.notifications import notify


@click.group("probe")
def probe():
    """The probe plugin."""


@probe.command()
def members():
    """Count the members."""
    count = db.session.scalar(select(func.count()).select_from(User))
    click.echo(f"{count} members on {db.engine.dialect.name}")


@probe.command()
@click.argument("email")
def welcome(email):
    """Alert a member."""
    user = user_by_email(email)
    if user is None:
        raise click.ClickException(f"no member {email}")
    notify(user, "Welcome, from the command line")
    db.session.commit()
    click.echo(f"welcomed {email}")


@hookimpl
def register_cli_commands():
    return [probe]
'''


@pytest.fixture
def installed_cli_plugin(tmp_path, monkeypatch, request) -> str:
    """Install a plugin package for real: its module and the ``.dist-info`` that ``pip install``
    writes, with the entry point in ``alma.plugins``, on ``sys.path``. Returns its module."""
    module = f"alma_probe_{secrets.token_hex(4)}"
    site = tmp_path / "site-packages"
    site.mkdir()
    (site / f"{module}.py").write_text(textwrap.dedent(CLI_PLUGIN))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[alma.plugins]\nprobe = {module}\n")
    monkeypatch.syspath_prepend(str(site))
    request.addfinalizer(lambda: sys.modules.pop(module, None))
    return module


def test_hook_register_cli_commands(
    installed_cli_plugin, database_url, monkeypatch, tmp_path, app, create_user
):
    from core.cli import cli

    member = create_user()
    for key in ("ALMA_CONFIG", "ALMA_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ALMA_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("ALMA_DATABASE_URL", database_url)
    monkeypatch.setenv("ALMA_PLUGINS", "probe")
    runner = CliRunner()

    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0, listed.output
    assert re.search(r"^\s+probe\s+The probe plugin\.", listed.output, re.MULTILINE)

    counted = runner.invoke(cli, ["probe", "members"])  # runs inside an app context
    assert counted.exit_code == 0, counted.output
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    assert counted.output == f"1 members on {backend}\n"

    welcomed = runner.invoke(cli, ["probe", "welcome", member.email])
    assert welcomed.exit_code == 0, welcomed.output
    assert count_rows(app, Notification, Notification.user_id == member.id) == 1

    refused = runner.invoke(cli, ["probe", "welcome", "nobody@example.org"])
    assert refused.exit_code == 1
    assert "no member nobody@example.org" in refused.output

    plugins = runner.invoke(cli, ["plugins"])
    assert "probe 1.0 enabled\n    register_cli_commands\n" in plugins.output

    # installed but not enabled: the command does not exist
    monkeypatch.setenv("ALMA_PLUGINS", "")
    assert runner.invoke(cli, ["probe", "members"]).exit_code == 2


class KindsProbe:
    @hookimpl
    def register_activity_kinds(self) -> list[ActivityKind]:
        return [
            ActivityKind(DID, "Tried the probe"),
            ActivityKind("probe.rated", "Rated it"),
        ]

    @hookimpl
    def register_goal_kinds(self) -> list[GoalKind]:
        return [
            GoalKind(
                "probe.finished",
                "Finished the probe course",
                describe=lambda goal: [("Course", goal.title), ("Parties", len(goal.parties))],
            )
        ]


@with_plugin(KindsProbe)
def test_hook_register_activity_kinds(app, db, make_app, create_user):
    member = create_user()

    assert alma(app).activity_kinds == {
        DID: ActivityKind(DID, "Tried the probe"),
        "probe.rated": ActivityKind("probe.rated", "Rated it"),
    }
    assert activity_label("probe.rated") == "Rated it"
    record_activity("probe.rated", member, subject="x")
    db.session.commit()
    assert count_rows(app, Activity, Activity.kind == "probe.rated") == 1

    with pytest.raises(ValueError, match="unknown activity kind"):
        record_activity("probe.undeclared", member, subject="x")

    disabled = make_app(extra_plugins={"probe": KindsProbe()}, PLUGINS=[])
    assert alma(disabled).activity_kinds == {}


@with_plugin(KindsProbe)
def test_hook_register_goal_kinds(client, db, app, create_user):
    mentee, mentor = create_user(), create_user()

    assert list(alma(app).goal_kinds) == ["probe.finished"]
    assert goal_label("probe.finished") == "Finished the probe course"
    goal = propose_goal("probe.finished", "Probe course", [mentee, mentor])
    db.session.commit()
    assert goal_facts(goal) == [("Course", "Probe course"), ("Parties", "2")]  # text
    with pytest.raises(ValueError, match="unknown goal kind"):
        propose_goal("probe.undeclared", "Nope", [mentee])
    db.session.rollback()

    client.login(mentee)
    overview = client.get(f"/members/{mentee.id}").text
    assert 'Probe course <small class="text-muted">(Finished the probe course)</small>' in (
        overview
    )


class MailKindsProbe:
    @hookimpl
    def register_mail_kinds(self) -> list[MailKind]:
        return [
            MailKind("probe.news", "News from the probe"),
            MailKind("probe.keys", "Your probe keys", can_turn_off=False, heading="Probe keys"),
        ]


@with_plugin(MailKindsProbe)
def test_hook_register_mail_kinds(app, db, client, mail, create_user):
    member = create_user()

    kinds = mail_catalog().kinds
    assert kinds["probe.news"] == MailKind("probe.news", "News from the probe", heading="Probe")
    assert kinds["probe.keys"].heading == "Probe keys"
    client.login(member)
    page = client.get("/me/notifications").text
    assert "News from the probe" in page and "Your probe keys" in page

    notify(member, "Fresh news", email_subject="News", mail_kind="probe.news")
    notify(member, "A new key", email_subject="Key", mail_kind="probe.keys")
    db.session.commit()
    received = {message["Subject"]: message for message in mail.deliver()}
    assert received["News"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Key"]["List-Unsubscribe"] is None  # cannot be turned off

    with pytest.raises(UnknownMailKind, match=r"no plugin declares the mail kind 'probe\.other'"):
        notify(member, "Other", email_subject="Other", mail_kind="probe.other")


class WebhookEventsProbe:
    @hookimpl
    def register_webhook_events(self) -> list[WebhookEventType]:
        return [WebhookEventType("probe.poked", "Someone poked the probe")]


@with_plugin(WebhookEventsProbe, WEBHOOK_ALLOW_LOCAL_HTTP=True)
def test_hook_register_webhook_events(app, db, client, create_user, webhook_receiver):
    from core.services.webhooks import emit_webhook

    admin = create_user(role="admin")
    client.login(admin)
    form = client.get("/admin/webhooks/new").text
    assert "probe.poked: Someone poked the probe" in form
    assert "member.registered" in form  # core's own beside it
    _, secret = webhook_receiver.subscribe(app, "probe.poked")

    emit_webhook("probe.poked", {"probe_id": 7}, ordering_key="probe:7")
    db.session.commit()
    run_job(app, "core.deliver_webhooks")

    [delivery] = webhook_receiver.received
    assert verified(delivery, secret)
    assert delivery.payload["type"] == "probe.poked"
    assert delivery.payload["data"] == {"probe_id": 7}
    with pytest.raises(ValueError, match=r"probe\.unknown"):
        emit_webhook("probe.unknown", {})


def test_a_webhook_event_type_declared_twice_stops_alma(make_app):
    class Twice:
        @hookimpl
        def register_webhook_events(self):
            return [WebhookEventType("member.registered", "Mine")]

    with pytest.raises(ValueError, match=r"'member\.registered' is declared twice"):
        make_app(extra_plugins={"probe": Twice()}, PLUGINS=["probe"])


PROBE_MIGRATION = '''
"""probe notes"""
import sqlalchemy as sa
from alembic import op

revision = "probe_0001"
down_revision = None
branch_labels = ("probe",)
depends_on = None


def upgrade():
    op.create_table(
        "probe_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_probe_notes_user_id_users"),
            nullable=False,
        ),
        sa.Column("text", sa.String(200), nullable=False),
    )


def downgrade():
    op.drop_table("probe_notes")
'''


class MigrationsProbe:
    def __init__(self, versions: Path) -> None:
        self.versions = versions

    @hookimpl
    def register_migrations(self) -> list[Path]:
        return [self.versions]


class SettingsProbe:
    @hookimpl
    def register_settings(self):
        return {
            "per_day": Setting(int, 3, positive),
            "greeting": Setting(str, "Hello"),
            "limits": Setting(dict, {}, items=int),
        }


def test_hook_register_settings(make_app):
    app = make_app(
        extra_plugins={"probe": SettingsProbe()},
        PLUGINS=["probe"],
        PLUGIN_SETTINGS={"probe": {"per_day": 5}, "wiki": {"kept": True}},
    )
    # checked and completed with the defaults; a disabled plugin's table is kept as it is
    assert app.config["PLUGIN_SETTINGS"]["probe"] == {
        "per_day": 5,
        "greeting": "Hello",
        "limits": {},
    }
    assert app.config["PLUGIN_SETTINGS"]["wiki"] == {"kept": True}

    for table, key in (
        ({"per_day": 0}, "per_day"),
        ({"per_day": "5"}, "per_day"),
        ({"perday": 5}, "perday"),
    ):
        with pytest.raises(ConfigError, match=rf"plugins\.probe\.{key}"):
            make_app(
                extra_plugins={"probe": SettingsProbe()},
                PLUGINS=["probe"],
                PLUGIN_SETTINGS={"probe": table},
            )


def test_a_table_setting_checks_the_type_of_each_value(make_app):
    def start(limits):
        return make_app(
            extra_plugins={"probe": SettingsProbe()},
            PLUGINS=["probe"],
            PLUGIN_SETTINGS={"probe": {"limits": limits}},
        )

    assert start({"kudos.given": 3})
    for limits, named in (
        ({"kudos.given": 3, "kudos.taken": "3", "kudos.lost": True}, "kudos.lost, kudos.taken"),
        ({"kudos.given": 2.5}, "kudos.given"),
    ):
        with pytest.raises(ConfigError) as refused:
            start(limits)
        assert str(refused.value) == (
            "configuration key plugins.probe.limits: "
            f"expected whole numbers as values; not so for {named}"
        )
    with pytest.raises(ConfigError, match=r"plugins\.probe\.limits: expected dict"):
        start(["kudos.given"])


def test_a_plugin_declaring_no_settings_refuses_a_table(make_app):
    with pytest.raises(ConfigError, match=r"plugins\.probe\.anything"):
        make_app(
            extra_plugins={"probe": NavProbe()},
            PLUGINS=["probe"],
            PLUGIN_SETTINGS={"probe": {"anything": 1}},
        )


def test_hook_register_migrations(empty_database_url, tmp_path):
    from core.app import create_app
    from core.schema import pending_heads, upgrade

    versions = tmp_path / "probe_migrations"
    versions.mkdir()
    (versions / "probe_0001_notes.py").write_text(textwrap.dedent(PROBE_MIGRATION))
    app = create_app(
        {"DATABASE_URL": empty_database_url, "PLUGINS": ["probe"]},
        instance_path=tmp_path / "instance",
        extra_plugins={"probe": MigrationsProbe(versions)},
    )
    try:
        assert alma(app).hooks.migrations() == {"probe": [versions]}
        heads = pending_heads(app)  # core's newest revision, and the plugin's
        assert "probe_0001" in heads and {head.split("_")[0] for head in heads} == {"core", "probe"}

        upgrade(app)  # what `alma db upgrade` does

        assert pending_heads(app) == set()
        with app.app_context(), database.engine.connect() as connection:
            applied = set(connection.scalars(text("SELECT version_num FROM alembic_version_probe")))
            inspector = inspect_db(connection)
            assert {"users", "probe_notes"} <= set(inspector.get_table_names())
            [foreign_key] = inspector.get_foreign_keys("probe_notes")
        assert applied == {"probe_0001"}  # the plugin's own history, beside core's
        assert foreign_key["referred_table"] == "users"
    finally:
        with app.app_context():
            database.engine.dispose()
