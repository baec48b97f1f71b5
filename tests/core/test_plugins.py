"""Plugins: installed is not enabled, enabled plugins contribute, and anything wrong with the
enabled list or a plugin's hooks stops startup with a message naming the plugin."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from flask import Blueprint, render_template

from core import hookimpl
from core.app import create_app
from core.config import ConfigError
from core.contributions import NavItem, ProfileSection
from core.plugins import InstalledPlugin, PluginError, implemented_hooks, installed_plugins
from core.state import alma


class Greeter:
    """A throwaway plugin: a page under its own name and a link to it in the navigation."""

    def __init__(self, name: str = "greeter", requires: tuple[str, ...] = (), order: int = 100):
        self.name = name
        self.REQUIRES = requires
        self.order = order

    @hookimpl
    def register_blueprints(self):
        bp = Blueprint(self.name, __name__, url_prefix=f"/{self.name}")
        bp.add_url_rule("/", "index", lambda: f"Hello from {self.name}")
        return [bp]

    @hookimpl
    def register_nav_items(self):
        return [NavItem(f"{self.name.title()} page", f"{self.name}.index", order=self.order)]


class Listener:
    """A throwaway plugin that notes when it hears of a new member."""

    def __init__(self, name: str, heard: list[str]):
        self.name = name
        self.heard = heard

    @hookimpl
    def user_registered(self):  # fewer arguments than the spec: allowed
        self.heard.append(self.name)


class MisspelledHook:
    @hookimpl
    def register_blueprint(self):  # the hook is register_blueprints
        return []


class UnknownArgument:
    @hookimpl
    def register_blueprints(self, app):  # the spec has no argument "app"
        return []


def build(tmp_path: Path, plugins: list[str], **extra: object):
    """An app without a database connection: enough to see what startup decides."""
    return create_app({"PLUGINS": plugins}, instance_path=tmp_path, extra_plugins=extra)


# ---- core alone, installed and enabled ------------------------------------------------------


def test_core_alone_boots_and_serves_its_pages(make_app):
    app = make_app(PLUGINS=[])
    client = app.test_client()

    for path in ("/", "/login", "/register"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "alma" in response.text
    assert alma(app).enabled == []
    assert alma(app).hooks.manager.list_name_plugin() == []


def test_installed_entry_point_plugins_are_not_loaded_unless_enabled(make_app):
    app = make_app(PLUGINS=[])

    for name in installed_plugins():
        assert name in alma(app).installed
        assert alma(app).hooks.manager.get_plugin(name) is None
        assert name not in app.blueprints


def test_an_installed_plugin_that_is_not_enabled_contributes_nothing(make_app):
    enabled = make_app(extra_plugins={"greeter": Greeter()}, PLUGINS=["greeter"])
    disabled = make_app(extra_plugins={"greeter": Greeter()}, PLUGINS=[])
    client = disabled.test_client()

    assert client.get("/greeter/").status_code == 404
    assert "Greeter page" not in client.get("/").text
    assert "greeter" in alma(disabled).installed
    # the app built first, with the plugin, is unaffected by the second one
    assert enabled.test_client().get("/greeter/").status_code == 200


def test_enabled_plugins_serve_their_pages_and_show_their_nav_items_in_order(make_app):
    app = make_app(
        extra_plugins={"greeter": Greeter(order=200), "helper": Greeter("helper", order=10)},
        PLUGINS=["greeter", "helper"],
    )
    client = app.test_client()

    assert client.get("/greeter/").text == "Hello from greeter"
    assert client.get("/helper/").text == "Hello from helper"
    home = client.get("/").text
    assert 'href="/greeter/">Greeter page</a>' in home
    assert 'href="/helper/">Helper page</a>' in home
    assert home.index("Helper page") < home.index("Greeter page")  # lower order first


def test_members_only_nav_items_are_hidden_from_visitors(make_app, create_user):
    class MembersCorner(Greeter):
        @hookimpl
        def register_nav_items(self):
            return [NavItem("Members corner", "corner.index", members_only=True)]

    app = make_app(extra_plugins={"corner": MembersCorner("corner")}, PLUGINS=["corner"])
    client = app.test_client()
    assert "Members corner" not in client.get("/").text

    client.login(create_user())
    assert 'href="/corner/">Members corner</a>' in client.get("/").text


def test_a_plugin_without_pages_renders_its_templates(make_app, create_user, tmp_path):
    """A blueprint without routes, as docs/writing-plugins.md says: it adds only its
    templates folder, which a profile section (or a mail) renders from."""
    (tmp_path / "badges").mkdir()
    (tmp_path / "badges" / "section.html").write_text("<p>{{ member.display_name }} is kind</p>")

    class Badges:
        @hookimpl
        def register_blueprints(self):
            return [Blueprint("badges", __name__, template_folder=str(tmp_path))]

        @hookimpl
        def register_profile_sections(self):
            render = lambda member, viewer: render_template("badges/section.html", member=member)  # noqa: E731
            return [ProfileSection("overview", "Badges", render)]

    app = make_app(extra_plugins={"badges": Badges()}, PLUGINS=["badges"])
    client = app.test_client()
    member = create_user(display_name="Rui")
    client.login(member)

    assert "<p>Rui is kind</p>" in client.get(f"/members/{member.id}").text
    assert not [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("badges.")]


# ---- refusing to start --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugins", "expected"),
    [
        pytest.param(["nosuch"], ["unknown plugin 'nosuch'"], id="unknown"),
        pytest.param(["greeter", "greeter"], ["'greeter'", "twice"], id="duplicated"),
        pytest.param(["badge"], ["'badge' requires plugin 'greeter'"], id="requirement-missing"),
        pytest.param(
            ["badge", "greeter"],
            ["'badge' requires plugin 'greeter'", "before 'badge'"],
            id="requirement-after",
        ),
        pytest.param(["ghostly"], ["'ghostly' requires plugin 'ghost'"], id="requirement-absent"),
    ],
)
def test_a_wrong_plugins_list_stops_startup_naming_the_plugin(tmp_path, plugins, expected):
    with pytest.raises(PluginError) as error:
        build(
            tmp_path,
            plugins,
            greeter=Greeter(),
            badge=Greeter("badge", requires=("greeter",)),
            ghostly=Greeter("ghostly", requires=("ghost",)),
        )
    for text in expected:
        assert text in str(error.value)


def test_a_requirement_enabled_before_the_plugin_is_met(tmp_path):
    app = build(
        tmp_path,
        ["greeter", "badge"],
        greeter=Greeter(),
        badge=Greeter("badge", requires=("greeter",)),
    )
    assert {"greeter", "badge"} <= set(app.blueprints)


def test_a_misspelled_hook_implementation_stops_startup(tmp_path):
    with pytest.raises(PluginError) as error:
        build(tmp_path, ["typo"], typo=MisspelledHook())
    message = str(error.value)
    assert "'typo'" in message
    assert "'register_blueprint'" in message
    assert "misspelled" in message


def test_a_hook_implementation_asking_for_an_unknown_argument_stops_startup(tmp_path):
    with pytest.raises(PluginError) as error:
        build(tmp_path, ["asker"], asker=UnknownArgument())
    message = str(error.value)
    assert "'asker'" in message
    assert "register_blueprints" in message
    assert "app" in message


def test_a_misspelled_hook_in_a_plugin_that_is_not_enabled_is_harmless(tmp_path):
    app = build(tmp_path, [], typo=MisspelledHook(), asker=UnknownArgument())
    assert alma(app).enabled == []


# ---- [plugins.<name>] tables of alma.toml -------------------------------------------------


def build_from_file(tmp_path: Path, toml: str, **extra: object):
    """An app from an ``alma.toml`` in its instance folder, as an operator starts one."""
    (tmp_path / "alma.toml").write_text(toml)
    return create_app(instance_path=tmp_path, extra_plugins=extra)


def test_a_table_for_no_installed_plugin_stops_startup_naming_it(tmp_path):
    with pytest.raises(ConfigError) as error:
        build_from_file(
            tmp_path,
            'PLUGINS = ["greeter", "helper"]\n\n[plugins.greter]\nper_day = 3\n',
            greeter=Greeter(),
            helper=Greeter("helper"),
        )
    message = str(error.value)
    assert "plugins.greter" in message  # the typo
    assert "enabled plugins: greeter, helper" in message


def test_a_table_for_an_installed_plugin_that_is_not_enabled_is_kept_with_a_warning(
    tmp_path, caplog
):
    """Disabling a plugin, or ``ALMA_PLUGINS=kudos alma db upgrade``, keeps its settings."""
    app = build_from_file(
        tmp_path,
        'PLUGINS = ["helper"]\n\n[plugins.greeter]\nper_day = 3\n',
        greeter=Greeter(),
        helper=Greeter("helper"),
    )

    assert app.config["PLUGIN_SETTINGS"]["greeter"] == {"per_day": 3}
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning == (
        "[plugins.greeter] is ignored: plugin 'greeter' is installed but not enabled "
        "(enabled plugins: helper)"
    )


# ---- plugins installed through an entry point ---------------------------------------------


@pytest.fixture
def distribution(tmp_path, monkeypatch):
    """``distribution(name, version, {plugin: "module"}, {module: source})`` installs a
    package with ``alma.plugins`` entry points, as pip would (a dist-info on ``sys.path``)."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    imported: list[str] = []

    def install(name: str, version: str, points: dict[str, str], modules: dict[str, str]):
        info = root / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        lines = "".join(f"{plugin} = {target}\n" for plugin, target in points.items())
        (info / "entry_points.txt").write_text(f"[alma.plugins]\n{lines}")
        for module, source in modules.items():
            (root / f"{module}.py").write_text(source)
            imported.append(module)

    yield install
    for module in imported:
        sys.modules.pop(module, None)


def test_a_plugin_whose_entry_point_fails_to_import_stops_startup_naming_it(tmp_path, distribution):
    distribution(
        "alma-broken",
        "0.3",
        {"broken": "alma_test_broken_plugin"},
        {"alma_test_broken_plugin": "import alma_test_dependency_not_installed\n"},
    )
    installed = installed_plugins()
    assert installed["broken"].version == "0.3"

    with pytest.raises(PluginError) as error:
        build(tmp_path / "instance", ["broken"])
    message = str(error.value)
    assert "'broken'" in message
    assert "alma_test_dependency_not_installed" in message

    # installed but not enabled, it is never imported and stops nothing
    app = build(tmp_path / "instance", [])
    assert "broken" in alma(app).installed
    assert "alma_test_broken_plugin" not in sys.modules


def test_loading_a_broken_entry_point_directly_names_the_plugin(tmp_path, distribution):
    distribution(
        "alma-raises",
        "1.0",
        {"raises": "alma_test_raising_plugin"},
        {"alma_test_raising_plugin": "raise RuntimeError('settings are missing')\n"},
    )
    plugin = installed_plugins()["raises"]
    assert isinstance(plugin, InstalledPlugin)

    with pytest.raises(PluginError, match=r"plugin 'raises' failed to load: settings are missing"):
        plugin.load()


def test_an_entry_point_plugin_is_enabled_by_name(tmp_path, distribution):
    distribution(
        "alma-waver",
        "2.1",
        {"waver": "alma_test_waver_plugin"},
        {
            "alma_test_waver_plugin": (
                "from flask import Blueprint\n"
                "from core import hookimpl\n"
                "bp = Blueprint('waver', __name__, url_prefix='/waver')\n"
                "bp.add_url_rule('/', 'index', lambda: 'waving')\n"
                "@hookimpl\n"
                "def register_blueprints():\n"
                "    return [bp]\n"
            )
        },
    )
    app = build(tmp_path / "instance", ["waver"])

    assert app.test_client().get("/waver/").text == "waving"
    assert alma(app).installed["waver"].version == "2.1"


# ---- what plugins implement, and in which order they are called ---------------------------


def test_implemented_hooks_lists_the_hooks_of_a_plugin(tmp_path):
    heard: list[str] = []
    app = build(
        tmp_path,
        ["greeter", "listener"],
        greeter=Greeter(),
        listener=Listener("listener", heard),
    )
    manager = alma(app).hooks.manager

    assert implemented_hooks(manager, "greeter") == ["register_blueprints", "register_nav_items"]
    assert implemented_hooks(manager, "listener") == ["user_registered"]


@pytest.mark.parametrize("order", [["alpha", "beta", "gamma"], ["gamma", "alpha", "beta"]])
def test_plugins_are_registered_in_the_order_of_plugins(tmp_path, order):
    heard: list[str] = []
    listeners = {name: Listener(name, heard) for name in ("alpha", "beta", "gamma")}
    app = build(tmp_path, order, **listeners)
    hooks = alma(app).hooks

    assert [name for name, _ in hooks.manager.list_name_plugin()] == order
    hooks.user_registered(user=None)
    # as documented in core/hookspecs.py: the most recently registered plugin is called first
    assert heard == list(reversed(order))
