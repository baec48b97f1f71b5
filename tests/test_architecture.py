"""The rules that keep alma a modular monolith: core knows no plugin, plugins never import each
other, every hook is documented and called through one facade, and every plugin names its things
after itself. Read from the source (ast) and from the plugins actually installed."""

from __future__ import annotations

import ast
import fnmatch
import inspect
import io
import re
import subprocess
import sys
import tokenize
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from core import api, hookspecs
from core.app import create_app
from core.db import db
from core.plugins import installed_plugins
from core.schema import alembic_config, schema_parts
from core.testing import all_installed_plugins

ROOT = Path(__file__).parents[1]
CORE = ROOT / "core"
PLUGINS = ROOT / "plugins"
FIRST_PARTY = ("mentoring", "wiki", "groups", "credits", "certificates")
# Calls that import a module or look up a plugin by name: a string given to them is a reference.
LOOKUPS = {"import_module", "__import__", "find_spec", "EntryPoint", "get_plugin", "entry_points"}


# ---- reading imports ------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def references(source: str, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source`` (relative ones resolved),
    and of every string handed to an import or plugin look-up call."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in LOOKUPS:
                for argument in [*node.args, *(k.value for k in node.keywords)]:
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        yield node.lineno, argument.value


def is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def python_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*.py") if "static" not in path.parts)


def plugin_packages() -> dict[str, Path]:
    """The first-party plugins (plugins/<name>/) and the example plugins, by package name."""
    found = {f"plugins.{p.name}": p for p in PLUGINS.iterdir() if p.is_dir() and _is_code(p)}
    for example in (ROOT / "examples").glob("*/*/plugin.py"):
        found[example.parent.name] = example.parent
    return found


def _is_code(folder: Path) -> bool:
    return folder.name != "__pycache__" and any(folder.rglob("*.py"))


def api_violations(source: str, package: str) -> list[str]:
    """Imports of core anywhere but ``core.api``, the one module a plugin may import."""
    return [
        f"line {line}: {name}"
        for line, name in references(source, package)
        if is_within(name, "core") and not is_within(name, "core.api")
    ]


def core_violations(source: str, package: str) -> list[str]:
    bad = []
    for line, name in references(source, package):
        top = name.split(".")[0]
        if top == "plugins" or top in FIRST_PARTY:
            bad.append(f"line {line}: {name}")
    return bad


def plugin_violations(source: str, package: str, own: str, others: list[str]) -> list[str]:
    return [
        f"line {line}: {name}"
        for line, name in references(source, package)
        if any(is_within(name, other) for other in others) and not is_within(name, own)
    ]


# ---- the checkers catch what they should ----------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import plugins.wiki",
        "import plugins",
        "from plugins import wiki",
        "from plugins.mentoring.services import accept_request",
        "import wiki",
        "from credits import plugin",
        "import importlib\nimportlib.import_module('plugins.groups')",
        "__import__('certificates.plugin')",
        "from importlib.metadata import EntryPoint\nEntryPoint('wiki', 'plugins.wiki', 'g')",
        "pm.get_plugin('mentoring')",
        "def f():\n    from plugins.wiki import models",
    ],
)
def test_the_core_checker_catches_references_to_plugins(source):
    assert core_violations(source, "core.services")


@pytest.mark.parametrize(
    "source",
    [
        "from core import plugins",
        "from core.plugins import PluginError",
        "from . import plugins",
        "import core.plugins",
        "GOAL = 'Finished a mentorship'  # prose may say mentoring",
        "label = 'wiki'",
    ],
)
def test_the_core_checker_allows_core_modules_and_prose(source):
    assert core_violations(source, "core") == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import plugins.wiki.models", True),
        ("from plugins.wiki import services", True),
        ("from ..wiki import services", True),
        ("from ... import plugins\nimportlib.import_module('plugins.wiki')", True),
        ("import alma_kudos", True),
        ("from . import services", False),
        ("from .models import Mentorship", False),
        ("from plugins.mentoring.models import Mentorship", False),
        ("from core.services.goals import propose_goal", False),
    ],
)
def test_the_plugin_checker_catches_imports_of_other_plugins(source, bad):
    others = ["plugins.wiki", "alma_kudos"]
    found = plugin_violations(source, "plugins.mentoring", "plugins.mentoring", others)
    assert bool(found) is bad


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("from core.api import User, db", False),
        ("import core.api", False),
        ("from . import services", False),
        ("from core import hookimpl", True),
        ("from core.db import db", True),
        ("import core.db", True),
        ("from core.services.mail import send_mail", True),
        ("import core", True),
        ("def f():\n    from core.state import alma", True),
        ("import importlib\nimportlib.import_module('core.models')", True),
    ],
)
def test_the_api_checker_catches_imports_of_core_outside_its_api(source, bad):
    assert bool(api_violations(source, "plugins.wiki")) is bad


# ---- the rules on the code ------------------------------------------------------------------


def test_core_never_imports_or_looks_up_a_plugin():
    files = python_files(CORE)
    assert CORE / "app.py" in files and CORE / "testing.py" in files

    problems = {
        str(path.relative_to(ROOT)): found
        for path in files
        if (found := core_violations(path.read_text(encoding="utf-8"), package_of(path)))
    }
    assert problems == {}


# ---- core names no feature ------------------------------------------------------------------

# The features are plugins: core's code and templates say none of their words.
FEATURE_WORDS = re.compile(r"mentor|mentee|wiki|group|credit|certificate", re.IGNORECASE)
# Where core may say one anyway: path (an fnmatch pattern: "*" spans folders) → the words
# allowed there, and why.
NAMES_A_FEATURE_ALLOWED = {
    # Click's command groups and the entry-point group plugins are installed in
    "core/cli.py": (r"group", "a Click command group"),
    "core/plugins.py": (r"group", "the entry-point group of plugins"),
    # SQLAlchemy's GROUP BY, which counts the months of the statistics
    "core/services/statistics.py": (r"group_by", "SQL's GROUP BY"),
    # the history of core's schema, which held the members' mentoring choices until core_0007
    "core/migrations/versions/core_000[137]_*.py": (FEATURE_WORDS.pattern, "history"),
    # the demo members' bios, in their own words (the mentoring plugin gives them roles)
    "core/demo.py": (r"mentor", "demo bios"),
    # HTML's <optgroup>, and WTForms' choices in such groups (a plugin's grouped select)
    "core/templates/_forms.html": (r"optgroup|(has|iter)_groups", "grouped options"),
    # Bootstrap's CSS class names
    "core/templates/*.html": (
        r"list-group|btn-group|radiogroup",
        "Bootstrap's list-group and btn-group classes, ARIA's radiogroup role",
    ),
    # what alma is, on its home page and in every page's footer: a mentoring platform
    "core/templates/core/home.html": (FEATURE_WORDS.pattern, "the site's pitch"),
    "core/templates/base.html": (r"mentoring", "the footer's tagline"),
}


def python_code_words(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every name and string in ``source``, but docstrings and comments:
    prose for developers may name a plugin as an example, code may not."""
    docstrings = {
        (node.lineno, node.col_offset)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME or (
            token.type == tokenize.STRING and token.start not in docstrings
        ):
            yield token.start[0], token.string


def template_lines(source: str) -> Iterator[tuple[int, str]]:
    yield from enumerate(source.splitlines(), start=1)


def feature_words(path: str, lines: Iterator[tuple[int, str]]) -> list[tuple[int, str]]:
    """The feature words of ``lines`` (of the file at ``path``) the allow-list does not cover."""
    allowed = [
        re.compile(words, re.IGNORECASE)
        for glob, (words, _why) in NAMES_A_FEATURE_ALLOWED.items()
        if fnmatch.fnmatch(path, glob)
    ]
    found = []
    for number, text in lines:
        for allowed_words in allowed:
            text = allowed_words.sub("", text)
        found += [(number, match.group()) for match in FEATURE_WORDS.finditer(text)]
    return found


@pytest.mark.parametrize(
    ("path", "source", "found"),
    [
        ("core/x.py", "wants_to_mentor = True", [(1, "mentor")]),
        ("core/x.py", "area = 'groups'", [(1, "group")]),
        ("core/x.py", "label = f'{n} credits'", [(1, "credit")]),
        ("core/x.py", '"""Such as the wiki."""\nx = 1  # or the mentor directory', []),
        ("core/x.py", 'def f():\n    """The wiki, say."""\n    return "Wiki"', [(3, "Wiki")]),
        ("core/cli.py", "@cli.group()\ndef groups(): ...", []),
        ("core/cli.py", "credits = 1", [(1, "credit")]),
    ],
)
def test_the_feature_checker_reads_code_not_prose(path, source, found):
    assert feature_words(path, python_code_words(source)) == found


def test_the_feature_checker_reads_templates_whole():
    page = '<ul class="list-group">\n{{ _("Find a mentor") }}\n{# the wiki #}'
    assert feature_words("core/templates/a/b.html", template_lines(page)) == [
        (2, "mentor"),
        (3, "wiki"),
    ]


def test_core_names_no_feature():
    """Mentoring, the wiki, groups, credits and certificates are plugins: core's Python and
    templates name none of them, but where NAMES_A_FEATURE_ALLOWED says why."""
    problems = {}
    for path in python_files(CORE):
        relative = str(path.relative_to(ROOT))
        source = path.read_text(encoding="utf-8")
        if found := feature_words(relative, python_code_words(source)):
            problems[relative] = found
    for path in sorted((CORE / "templates").rglob("*")):
        if path.is_file():
            relative = str(path.relative_to(ROOT))
            source = path.read_text(encoding="utf-8")
            if found := feature_words(relative, template_lines(source)):
                problems[relative] = found
    assert problems == {}


def test_plugins_never_import_each_other():
    packages = plugin_packages()
    problems = {}
    for own, folder in packages.items():
        others = [name for name in packages if name != own]
        for path in python_files(folder):
            package = package_of(path) if own.startswith("plugins.") else _example_package(path)
            found = plugin_violations(path.read_text(encoding="utf-8"), package, own, others)
            if found:
                problems[str(path.relative_to(ROOT))] = found
    assert problems == {}


def test_plugins_import_core_only_through_its_api():
    """core.api is what core promises plugin authors; the rest of core may change any day."""
    problems = {}
    for own, folder in plugin_packages().items():
        for path in python_files(folder):
            package = package_of(path) if own.startswith("plugins.") else _example_package(path)
            if found := api_violations(path.read_text(encoding="utf-8"), package):
                problems[str(path.relative_to(ROOT))] = found
    assert problems == {}


def _example_package(path: Path) -> str:
    """Example plugins are packages of their own, rooted in their project folder."""
    return ".".join(path.relative_to(ROOT).parts[2:-1])


def test_core_calls_hooks_only_through_its_typed_facade():
    """Hooks are called by keyword through core.plugins.Hooks, never as ``pm.hook.x(...)``."""
    problems = []
    for path in python_files(CORE):
        if path == CORE / "plugins.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "hook":
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert problems == []


def test_importing_core_loads_no_plugin():
    """Nothing loads at import time: plugins are imported by create_app, when enabled."""
    modules = sorted(
        {
            plugin.source.module
            for plugin in installed_plugins().values()
            if hasattr(plugin.source, "module")
        }
    )
    imports = "; ".join(
        f"import {name}"
        for name in (
            "core",
            "core.api",
            "core.app",
            "core.cli",
            "core.schema",
            "core.scheduler",
            "core.demo",
        )
    )
    result = subprocess.run(
        [sys.executable, "-c", f"{imports}; import sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    loaded = set(ast.literal_eval(result.stdout))
    assert "core.app" in loaded
    assert [name for name in loaded if name.split(".")[0] == "plugins" and name != "plugins"] == []
    assert [name for name in modules if name in loaded] == []


def test_first_party_plugins_are_declared_as_entry_points_like_third_party_ones():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get(
        "entry-points", {}
    )
    plugin_points = declared.get("alma.plugins", {})
    for package in plugin_packages():
        if package.startswith("plugins."):
            name = package.removeprefix("plugins.")
            assert name in plugin_points, f"pyproject.toml declares no entry point {name!r}"
            assert is_within(plugin_points[name].split(":")[0], package)


# ---- the plugin API --------------------------------------------------------------------------


def api_section_of_the_guide() -> str:
    guide = (ROOT / "docs" / "writing-plugins.md").read_text(encoding="utf-8")
    start = guide.index("## The plugin API (`core.api`)")
    end = guide.find("\n## ", start + 1)
    return guide[start : end if end != -1 else None]


def test_every_name_of_the_plugin_api_is_there_and_documented():
    section = api_section_of_the_guide()
    assert "API_VERSION" in api.__all__ and api.API_VERSION >= (1, 0)

    missing = [name for name in api.__all__ if not hasattr(api, name)]
    undocumented = [name for name in api.__all__ if not re.search(rf"`{name}[`(\[]", section)]
    assert (missing, undocumented) == ([], [])


def test_a_deprecated_name_of_the_plugin_api_keeps_working_with_a_warning(monkeypatch):
    monkeypatch.setitem(api._DEPRECATED, "queue_mail", ("send_mail", "removed in API 2"))

    with pytest.warns(
        DeprecationWarning,
        match=r"queue_mail is deprecated, use core\.api\.send_mail \(removed in API 2\)",
    ):
        from core.api import queue_mail

    assert queue_mail is api.send_mail
    with pytest.raises(AttributeError, match="no_such_name"):
        api.no_such_name  # noqa: B018 (the look-up is the test)


# ---- hookspecs --------------------------------------------------------------------------


def hookspec_functions() -> dict[str, object]:
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if inspect.isfunction(function) and hasattr(function, "alma_spec")
    }


def test_every_function_in_hookspecs_is_a_hookspec():
    tree = ast.parse(Path(hookspecs.__file__).read_text(encoding="utf-8"))
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert sorted(functions) == sorted(hookspec_functions())


def test_every_hookspec_has_a_docstring_and_types():
    specs = hookspec_functions()
    assert {"activity_performed", "goal_completed", "register_blueprints"} <= set(specs)

    for name, function in specs.items():
        doc = inspect.getdoc(function)
        assert doc and len(doc.split()) >= 5, f"{name} needs a docstring saying what it does"
        signature = inspect.signature(function)
        assert signature.return_annotation is not inspect.Signature.empty, name
        for parameter in signature.parameters.values():
            assert parameter.annotation is not inspect.Parameter.empty, f"{name}({parameter})"
        if function.alma_spec.get("firstresult"):
            assert "first" in doc, f"{name}: say that the first non-None result wins"


# ---- every installed plugin names its things after itself ------------------------------


@pytest.fixture(scope="module")
def every_plugin_app(tmp_path_factory):
    return create_app(
        {"PLUGINS": all_installed_plugins()}, instance_path=tmp_path_factory.mktemp("instance")
    )


def contributions(app, hook: str) -> dict[str, list]:
    """What each enabled plugin returns from a ``register_*`` hook, by plugin name."""
    caller = getattr(app.extensions["alma"].hooks.manager.hook, hook)
    with app.app_context():
        return {impl.plugin_name: list(impl.function() or []) for impl in caller.get_hookimpls()}


def test_plugins_prefix_blueprints_urls_and_templates_with_their_name(every_plugin_app):
    for name, blueprints in contributions(every_plugin_app, "register_blueprints").items():
        for blueprint in blueprints:
            assert blueprint.name == name or blueprint.name.startswith(f"{name}_"), name
            # a plugin's section of the staff's console lives in the console's frame, /admin/
            prefix = blueprint.url_prefix or ""
            assert prefix.startswith((f"/{name}", "/admin/")), blueprint.name
            if blueprint.template_folder:
                folder = Path(blueprint.root_path) / blueprint.template_folder
                assert [p.name for p in folder.iterdir()] == [name], folder


def test_plugins_prefix_kinds_jobs_and_commands_with_their_name(every_plugin_app):
    checks = {
        "register_activity_kinds": lambda kind: kind.name,
        "register_goal_kinds": lambda kind: kind.name,
        "register_mail_kinds": lambda kind: kind.name,
        "register_jobs": lambda job: job.id,
    }
    for hook, identify in checks.items():
        for name, items in contributions(every_plugin_app, hook).items():
            for item in items:
                assert identify(item).startswith(f"{name}."), f"{hook}: {identify(item)}"
    for name, commands in contributions(every_plugin_app, "register_cli_commands").items():
        assert [command.name for command in commands] == [name] * len(commands)


def test_plugins_prefix_their_tables_and_migration_branches_with_their_name(every_plugin_app):
    packages = {
        name: getattr(plugin.load(), "__package__", None) or type(plugin.load()).__module__
        for name, plugin in installed_plugins().items()
    }
    for mapper in db.Model.registry.mappers:
        module = mapper.class_.__module__
        for name, package in packages.items():
            if package and is_within(module, package):
                assert mapper.local_table.name.startswith(f"{name}_"), mapper.class_

    for part in schema_parts(every_plugin_app)[1:]:
        script = ScriptDirectory.from_config(alembic_config(every_plugin_app, part))
        name = part.name
        for folder in part.folders:
            roots = [
                revision
                for revision in script.walk_revisions()
                if Path(revision.path).parent == Path(folder) and not revision.down_revision
            ]
            assert [name in revision.branch_labels for revision in roots] == [True], folder


def test_every_page_that_writes_on_a_get_says_so(every_plugin_app):
    """On SQLite a GET begins without the write lock; one that commits (a confirmation link,
    a page that marks what it shows as read) must be marked ``writes_on_get``, or it fails
    with "database is locked" whenever a job writes between its reads and its write."""
    app = every_plugin_app
    unmarked = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods & {"GET"}
        and not rule.methods & {"POST"}
        and "commit()" in inspect.getsource(inspect.unwrap(app.view_functions[rule.endpoint]))
        and not getattr(app.view_functions[rule.endpoint], "writes_on_get", False)
    ]
    assert unmarked == []
