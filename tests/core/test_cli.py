"""The ``alma`` command line, run as an operator runs it: the installed console script in a
fresh process, configured by ALMA_* environment variables and an instance folder. Where many
runs are needed, click's runner calls the same command line in this process, faster."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from core.app import create_app
from core.cli import cli
from core.config import SETTINGS
from core.db import db
from core.demo import DEMO_MEMBERS, DEMO_PASSWORD, DEMO_STAFF
from core.plugins import installed_plugins
from core.testing import DEFAULT_POSTGRES_URL, body_of, free_port, verified

REPOSITORY = Path(__file__).parents[2]
ALMA = shutil.which("alma", path=str(Path(sys.executable).parent)) or shutil.which("alma")
TIMEOUT = 60
ADMIN_PASSWORD = "a long admin password"


def alma_env(instance: Path, **settings: str) -> dict[str, str]:
    """The environment of an operator's shell: no stray ALMA_* variables, this instance folder,
    and ``settings`` as ALMA_<KEY> variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ALMA_")}
    env["ALMA_INSTANCE_PATH"] = str(instance)
    env.update({f"ALMA_{key}": value for key, value in settings.items()})
    return env


def run_alma(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ALMA, *args], env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def run_alma_all(commands: list[list[str]], env: dict[str, str]) -> list[tuple[int, str, str]]:
    """Run several commands at once (each must exit by itself); their (code, stdout, stderr)."""
    processes = [
        subprocess.Popen([ALMA, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for args in commands
    ]
    results = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for other in processes:
                other.kill()
            pytest.fail(f"`alma {' '.join(process.args[1:])}` did not exit")
        results.append((process.returncode, out.decode(), err.decode()))
    return results


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def log_in(instance: Path, email: str, password: str, **settings) -> str:
    """Log in on an app built on the same instance folder; the profile page it shows."""
    app = create_app(
        {"TESTING": True, "WTF_CSRF_ENABLED": False, **settings}, instance_path=instance
    )
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.text
    page = client.get("/me", follow_redirects=True).text
    with app.app_context():
        db.engine.dispose()
    return page


def refused(result: Result) -> str:
    """What a command that stopped with a message said (and not with a traceback)."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    return result.output


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def invoke(instance: Path, monkeypatch: pytest.MonkeyPatch):
    """``invoke(*args, KEY=value)``: run ``alma *args`` in this process with ALMA_KEY=value."""
    for key in [*SETTINGS, "CONFIG", "INSTANCE_PATH"]:
        monkeypatch.delenv(f"ALMA_{key}", raising=False)

    def run(*args: str, **settings: str) -> Result:
        env = {f"ALMA_{key}": value for key, value in settings.items()}
        env["ALMA_INSTANCE_PATH"] = str(instance)
        return CliRunner().invoke(cli, list(args), env=env, prog_name="alma")

    return run


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty PostgreSQL database, created for the test and dropped after it."""
    if "postgresql" not in request.config.alma_backends:
        pytest.skip("PostgreSQL is not among --db")
    admin_url = make_url(os.environ.get("ALMA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"alma_cli_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ---- help and configuration errors ---------------------------------------------------------


def test_help_lists_the_commands(instance):
    result = run_alma("--help", env=alma_env(instance))

    assert result.returncode == 0, result.stderr
    for command in ("serve", "scheduler", "db", "demo", "create-admin", "plugins", "jobs"):
        assert f"  {command} " in result.stdout
    assert "ALMA_INSTANCE_PATH" in result.stdout


def test_help_works_even_with_a_bad_setting(invoke):
    result = invoke("--help", MAIL_PORT="twenty-five")
    assert result.exit_code == 0
    assert "create-admin" in result.output


def test_a_bad_setting_stops_the_long_running_commands_naming_the_key(instance):
    commands = [["scheduler"], ["serve", "--port", str(free_port())]]
    results = run_alma_all(commands, env=alma_env(instance, MAIL_PORT="twenty-five"))

    for command, (code, _, err) in zip(commands, results, strict=True):
        assert code == 1, command
        assert "ALMA_MAIL_PORT" in err, command
        assert "twenty-five" in err, command
        assert "Traceback" not in err, command
    assert not (instance / "alma.db").exists()  # nothing was started nor migrated


@pytest.mark.parametrize(
    "command",
    [
        ["plugins"],
        ["db", "upgrade"],
        ["demo"],
        ["create-admin", "--email", "admin@example.org", "--password", ADMIN_PASSWORD],
    ],
)
def test_a_bad_setting_stops_every_command_naming_the_key(invoke, instance, command):
    output = refused(invoke(*command, MAIL_PORT="twenty-five"))

    assert "ALMA_MAIL_PORT" in output
    assert "twenty-five" in output
    assert not (instance / "alma.db").exists()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('MAIL_BACKEND = "sendmail"\n', "MAIL_BACKEND"),
        ('SITE_NAEM = "typo"\n', "SITE_NAEM"),
        ('PLUGINS = ["nosuch"]\n', "unknown plugin 'nosuch'"),
        ('DATABASE_URL = "postgres://alma@localhost/alma"\n', "DATABASE_URL"),
        ('plugins = ["wiki"]\n', "plugins"),
        ("MAIL_PORT = \n", "alma.toml"),
    ],
)
def test_a_bad_config_file_stops_a_command_with_a_message(invoke, instance, toml, expected):
    instance.mkdir()
    (instance / "alma.toml").write_text(toml)

    assert expected in refused(invoke("db", "upgrade"))


# ---- the database schema -------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_on_sqlite(instance, invoke):
    result = run_alma("db", "upgrade", env=alma_env(instance))
    assert result.returncode == 0, result.stderr
    assert "The database schema is up to date." in result.stdout
    assert {"users", "alembic_version"} <= table_names(f"sqlite:///{instance / 'alma.db'}")

    again = invoke("db", "upgrade")  # nothing left to do
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        "No migration to apply.",
        "The database schema is up to date.",
    ]


def test_db_upgrade_lists_each_migration_it_applies(instance):
    env = alma_env(instance, PLUGINS="mentoring")
    result = run_alma("db", "upgrade", env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "applied core_0001: core tables"
    assert any(line.startswith("applied core_0006: each job's last run") for line in lines)
    assert any(line.startswith("applied mentoring_0001: ") for line in lines)
    assert "No migration to apply." not in result.stdout
    assert lines[-1] == "The database schema is up to date."


def test_on_a_stale_postgresql_database_commands_refuse_until_db_upgrade(
    instance, invoke, postgres_url
):
    stale = "the database schema is not up to date: run `alma db upgrade` first"
    long_running = [["scheduler"], ["serve", "--port", str(free_port())]]
    env = alma_env(instance, DATABASE_URL=postgres_url)
    for command, (code, _, err) in zip(long_running, run_alma_all(long_running, env), strict=True):
        assert code == 1, command
        assert stale in err, command
    assert stale in refused(invoke("demo", DATABASE_URL=postgres_url))
    create_admin = ["create-admin", "--email", "admin@example.org", "--password", ADMIN_PASSWORD]
    assert stale in refused(invoke(*create_admin, DATABASE_URL=postgres_url))
    assert table_names(postgres_url) <= {"alembic_version"}  # nothing was migrated implicitly

    result = invoke("db", "upgrade", DATABASE_URL=postgres_url)
    assert result.exit_code == 0, result.output
    assert {"users", "alembic_version"} <= table_names(postgres_url)

    result = invoke("demo", DATABASE_URL=postgres_url)
    assert result.exit_code == 0, result.output
    assert f"{len(DEMO_MEMBERS)} demo members added." in result.output
    assert "Anna Berg" in log_in(
        instance, "anna@example.org", DEMO_PASSWORD, DATABASE_URL=postgres_url
    )


# ---- demo and create-admin --------------------------------------------------------------


def test_demo_creates_members_once_and_says_how_to_log_in(instance, invoke):
    first = run_alma("demo", env=alma_env(instance))
    assert first.returncode == 0, first.stderr
    assert f"{len(DEMO_MEMBERS)} demo members added." in first.stdout
    assert f"with the password {DEMO_PASSWORD!r}" in first.stdout
    for member in DEMO_MEMBERS:
        assert f"{member.email}  ({member.name})" in first.stdout

    second = invoke("demo")
    assert second.exit_code == 0, second.output
    assert "Demo members exist already." in second.output
    assert f"with the password {DEMO_PASSWORD!r}" in second.output

    with sqlite3.connect(instance / "alma.db") as connection:
        emails = dict(connection.execute("SELECT email, role FROM users ORDER BY email"))
    assert emails == {member.email: None for member in DEMO_MEMBERS} | {
        "staff@example.org": "coordinator"
    }
    assert "Anna Berg" in log_in(instance, "anna@example.org", DEMO_PASSWORD)


def test_the_demo_coordinator_logs_in_and_opens_the_console(instance, invoke):
    result = invoke("demo")
    assert "staff@example.org  (Sam Staff, coordinator: the console at /admin/)" in result.output

    console = log_in(instance, DEMO_STAFF.email, DEMO_PASSWORD)
    assert 'href="/admin/">Console</a>' in console
    assert "Console" not in log_in(instance, "anna@example.org", DEMO_PASSWORD)


def test_create_admin_creates_a_confirmed_admin_who_can_log_in(instance):
    result = run_alma(
        "create-admin",
        "--email",
        "Admin@Example.org",
        "--password",
        ADMIN_PASSWORD,
        "--name",
        "Ada Admin",
        env=alma_env(instance),
    )

    assert result.returncode == 0, result.stderr
    assert "admin@example.org is an administrator." in result.stdout
    with sqlite3.connect(instance / "alma.db") as connection:
        row = connection.execute(
            "SELECT display_name, role, email_confirmed_at FROM users WHERE email = ?",
            ("admin@example.org",),
        ).fetchone()
    name, role, confirmed_at = row
    assert (name, role) == ("Ada Admin", "admin")
    assert confirmed_at is not None
    assert "Ada Admin" in log_in(instance, "admin@example.org", ADMIN_PASSWORD)


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("short", "Choose a password of at least 10 characters."),
        ("admin@example.org", "Your password must not be your e-mail address."),
    ],
)
def test_create_admin_refuses_a_weak_password(instance, invoke, password, expected):
    output = refused(invoke("create-admin", "--email", "admin@example.org", "--password", password))

    assert expected in output
    with sqlite3.connect(instance / "alma.db") as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_create_admin_makes_an_existing_member_admin(instance, invoke):
    assert invoke("demo").exit_code == 0
    result = invoke("create-admin", "--email", "anna@example.org", "--password", "unused")

    assert result.exit_code == 0, result.output
    assert "anna@example.org is an administrator." in result.output
    with sqlite3.connect(instance / "alma.db") as connection:
        admins = connection.execute("SELECT email FROM users WHERE role = 'admin'").fetchall()
    assert admins == [("anna@example.org",)]
    assert "Anna Berg" in log_in(instance, "anna@example.org", DEMO_PASSWORD)  # password kept


def audit_rows(instance: Path) -> list[tuple]:
    with sqlite3.connect(instance / "alma.db") as connection:
        query = "SELECT actor_label, actor_role, act, target_label, reason FROM core_audit_log"
        return connection.execute(f"{query} ORDER BY id").fetchall()


def role_of(instance: Path, email: str) -> str | None:
    with sqlite3.connect(instance / "alma.db") as connection:
        query = "SELECT role FROM users WHERE email = ?"
        return connection.execute(query, (email,)).fetchone()[0]


def test_create_admin_is_in_the_audit_log(instance, invoke):
    invoke("create-admin", "--email", "admin@example.org", "--password", ADMIN_PASSWORD)

    assert audit_rows(instance) == [
        ("command line", None, "role.granted.admin", "admin@example.org", "alma create-admin")
    ]


def test_roles_are_granted_and_revoked_from_the_command_line_with_a_reason(instance, invoke):
    assert invoke("demo").exit_code == 0
    granted = invoke("roles", "grant", "Anna@example.org", "admin", "--reason", "runs the site")
    assert granted.exit_code == 0, granted.output
    assert "anna@example.org is admin now." in granted.output
    assert role_of(instance, "anna@example.org") == "admin"
    assert "Console" in log_in(instance, "anna@example.org", DEMO_PASSWORD)

    revoked = invoke("roles", "revoke", "staff@example.org", "--reason", "left the team")
    assert revoked.exit_code == 0, revoked.output
    assert "staff@example.org has no role now." in revoked.output
    assert role_of(instance, "staff@example.org") is None

    assert audit_rows(instance) == [
        ("command line", None, "role.granted.coordinator", "staff@example.org", "alma demo"),
        ("command line", None, "role.granted.admin", "anna@example.org", "runs the site"),
        ("command line", None, "role.revoked.coordinator", "staff@example.org", "left the team"),
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["grant", "anna@example.org", "admin"], "Missing option '--reason'"),
        (["grant", "anna@example.org", "admin", "--reason", "  "], "Give a reason"),
        (["grant", "anna@example.org", "owner", "--reason", "x"], "'owner' is not one of"),
        (["grant", "nobody@example.org", "admin", "--reason", "x"], "No member has the address"),
        (["grant", "staff@example.org", "coordinator", "--reason", "x"], "is coordinator already"),
        (["revoke", "anna@example.org", "--reason", "x"], "anna@example.org has no role."),
    ],
)
def test_a_change_of_role_that_cannot_be_made_changes_nothing(instance, invoke, args, expected):
    assert invoke("demo").exit_code == 0
    before = audit_rows(instance)

    result = invoke("roles", *args)

    assert result.exit_code != 0
    assert expected in result.output
    assert (role_of(instance, "anna@example.org"), audit_rows(instance)) == (None, before)


# ---- plugins ----------------------------------------------------------------------------


def test_plugins_lists_what_is_installed(instance):
    result = run_alma("plugins", env=alma_env(instance))

    assert result.returncode == 0, result.stderr
    installed = installed_plugins()
    for name, plugin in installed.items():
        assert f"{name} {plugin.version} installed, not enabled" in result.stdout
    if not installed:
        assert "No plugins are installed." in result.stdout


GREETER = textwrap.dedent(
    """
    import click
    from flask import current_app

    from core import hookimpl
    from core.contributions import NavItem


    @click.command("greet")
    def greet():
        \"\"\"Say hello from the site.\"\"\"
        click.echo(f"Greetings from {current_app.config['SITE_NAME']}")


    @hookimpl
    def register_cli_commands():
        return [greet]


    @hookimpl
    def register_nav_items():
        return [NavItem("Greetings", "home.index")]
    """
)


@pytest.fixture
def greeter_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A third-party plugin package "greeter", installed as pip would: a dist-info declaring
    the entry point, and the module, on the path."""
    site = tmp_path / "site"
    info = site / "alma_greeter-2.5.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: alma-greeter\nVersion: 2.5\n")
    (info / "entry_points.txt").write_text("[alma.plugins]\ngreeter = alma_test_greeter\n")
    (site / "alma_test_greeter.py").write_text(GREETER)
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("alma_test_greeter", None)


def test_plugins_lists_enabled_plugins_with_their_hooks_and_their_commands(
    invoke, greeter_installed
):
    listing = invoke("plugins", PLUGINS="greeter")
    assert listing.exit_code == 0, listing.output
    assert "greeter 2.5 enabled\n    register_cli_commands\n    register_nav_items\n" in (
        listing.output
    )
    assert "  greet  " in invoke("--help", PLUGINS="greeter").output
    greet = invoke("greet", PLUGINS="greeter", SITE_NAME="Mentors of Lyon")
    assert (greet.exit_code, greet.output) == (0, "Greetings from Mentors of Lyon\n")

    listing = invoke("plugins")
    assert "greeter 2.5 installed, not enabled\n" in listing.output
    assert "register_cli_commands" not in listing.output
    assert "greet" not in invoke("--help").output
    greet = invoke("greet")
    assert greet.exit_code == 2
    assert "No such command 'greet'" in greet.output


def test_plugins_says_so_when_none_is_installed(instance, tmp_path):
    """alma alone: the same environment without any distribution declaring a plugin."""
    bare = tmp_path / "bare-site"
    bare.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        points = entry / "entry_points.txt"
        declares_plugins = points.is_file() and "[alma.plugins]" in points.read_text()
        if entry.suffix != ".pth" and not declares_plugins:
            (bare / entry.name).symlink_to(entry)
    env = alma_env(instance)
    env["PYTHONPATH"] = os.pathsep.join([str(REPOSITORY), str(bare)])

    result = subprocess.run(
        [sys.executable, "-S", "-c", "from core.cli import main; main()", "plugins"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "No plugins are installed.\n"


# ---- serve ------------------------------------------------------------------------------


@contextmanager
def serving(instance: Path, *args: str, **settings: str) -> Iterator[tuple[str, list[str]]]:
    """``alma serve *args`` in a process of its own: yields its address once it answers, and
    the lines it printed (complete once the block ends)."""
    port = free_port()
    server = subprocess.Popen(
        [ALMA, "serve", "--port", str(port), *args],
        env=alma_env(instance, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output: list[str] = []
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                urllib.request.urlopen(address + "/", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            pytest.fail("alma serve did not answer")
        yield address, output
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=TIMEOUT)
        output.extend(out.splitlines())


def register_through_http(address: str, email: str) -> urllib.request.OpenerDirector:
    """Fill the join form as a browser does (its CSRF token and cookie); the browser."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = browser.open(address + "/register", timeout=TIMEOUT).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    fields = {"csrf_token": token, "display_name": "Nia", "email": email, "password": "x" * 12}
    browser.open(address + "/register", urlencode(fields).encode(), timeout=TIMEOUT).close()
    return browser


def mail_to(smtp_server, address: str, timeout: float = TIMEOUT) -> str:
    """The text of the first mail the SMTP server received for ``address``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(smtp_server.messages):
            if address in message["To"]:
                return body_of(message)
        time.sleep(0.1)
    pytest.fail(f"no mail to {address}")


def test_serve_puts_its_own_address_in_mail_links(instance, smtp_server):
    mail = {"MAIL_BACKEND": "smtp", "MAIL_HOST": smtp_server.host}
    with serving(instance, MAIL_PORT=str(smtp_server.port), **mail) as (address, output):
        browser = register_through_http(address, "nia@example.org")
        link = re.search(r"http\S+/confirm/\S+", mail_to(smtp_server, "nia@example.org")).group()
        confirmed = browser.open(link, timeout=TIMEOUT)
        page = confirmed.read().decode()

    assert link.startswith(address + "/confirm/")
    assert confirmed.url == address + "/me/data"
    assert "Thank you, your e-mail address is confirmed." in page
    assert f"Links in mails use {address} (from --host and --port)" in output


def test_a_set_base_url_wins_over_the_served_address(instance, smtp_server):
    mail = {"MAIL_BACKEND": "smtp", "MAIL_HOST": smtp_server.host}
    public = "http://mentoring.example.org"  # https would make the cookie Secure, unsent here
    with serving(instance, MAIL_PORT=str(smtp_server.port), BASE_URL=public, **mail) as (
        address,
        output,
    ):
        register_through_http(address, "ola@example.org")
        text = mail_to(smtp_server, "ola@example.org")

    assert f"{public}/confirm/" in text and address not in text
    assert f"Links in mails use {public} (BASE_URL)" in output


def test_serving_on_every_interface_links_to_this_machines_name(instance):
    with serving(instance, "--host", "0.0.0.0") as (address, output):
        port = address.rsplit(":", 1)[1]

    assert f"Links in mails use http://{socket.gethostname()}:{port} (from --host" in "\n".join(
        output
    )


def test_the_scheduler_warns_when_base_url_is_not_set(instance):
    env = alma_env(instance)
    run_alma("db", "upgrade", env=env)
    scheduler = subprocess.Popen(
        [ALMA, "scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stopper = threading.Timer(TIMEOUT, scheduler.kill)  # should it never start
    stopper.start()
    started = scheduler.stdout.readline()  # the warning comes before it
    scheduler.terminate()
    stopper.cancel()
    _out, err = scheduler.communicate(timeout=TIMEOUT)

    assert started == RUNNING

    assert "Warning: BASE_URL is not set; links in mails will point at http://127.0.0.1:5000" in err


@pytest.mark.parametrize(
    ("settings", "warned"),
    [({}, True), ({"BASE_URL": "https://mentors.example.org"}, False)],
)
def test_a_web_process_warns_when_base_url_is_not_set(instance, settings, warned):
    env = alma_env(instance, **settings)
    # what each gunicorn worker does at startup: import the WSGI entry point
    worker = [sys.executable, "-c", "import core.wsgi"]
    result = subprocess.run(
        worker, env=env, cwd=REPOSITORY, capture_output=True, text=True, timeout=TIMEOUT
    )

    assert result.returncode == 0, result.stderr
    warning = "BASE_URL is not set; links in mails will point at http://127.0.0.1:5000"
    assert result.stderr.count(warning) == (1 if warned else 0), result.stderr


def test_serve_on_sqlite_migrates_and_answers_http(instance):
    port = free_port()
    server = subprocess.Popen(
        [ALMA, "serve", "--port", str(port)],
        env=alma_env(instance, SITE_NAME="Served alma"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        page = None
        deadline = time.monotonic() + 30
        while page is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    page = response.read().decode()
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        assert page is not None, "alma serve did not answer"
        assert "Served alma" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/register", timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=TIMEOUT)

    assert f"alma is running: open http://127.0.0.1:{port}/" in out.decode()
    assert {"users", "alembic_version"} <= table_names(f"sqlite:///{instance / 'alma.db'}")


def test_serve_logs_no_routine_lines_of_the_libraries(instance):
    # WeasyPrint and fontTools (should serving ever load them: they render certificates, in
    # the scheduler), Alembic (the schema check), Werkzeug (each request, each long poll of
    # every tab) told their routine work at INFO
    port = free_port()
    settings = {"PLUGINS": "mentoring,wiki,groups,credits,certificates"}
    assert run_alma("db", "upgrade", env=alma_env(instance, **settings)).returncode == 0
    server = subprocess.Popen(
        [ALMA, "serve", "--port", str(port)],
        env=alma_env(instance, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"):
            pass  # a visitor's tab opening its connection
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=TIMEOUT)

    assert f"alma is running: open http://127.0.0.1:{port}/" in out
    for library in ("weasyprint", "alembic", "werkzeug", "engineio", "fontTools"):
        assert f" INFO {library}" not in out, out
    assert " ERROR " not in out, out


# ---- the scheduler and its jobs ------------------------------------------------------------


CORE_JOBS = [
    "core.deliver_mail",
    "core.prune_login_failures",
    "core.prune_sent_mails",
    "core.send_digests",
    "core.build_data_exports",
    "core.erase_accounts",
    "core.deliver_webhooks",
    "core.prune_webhooks",
]
RUNNING = f"alma scheduler running {len(CORE_JOBS)} jobs (Ctrl+C stops it)\n"


def failed_logins(instance: Path, *emails: str) -> list[str]:
    """Record failed logins now (``emails`` given), and return those stored."""
    from core.models import LoginFailure

    app = create_app({}, instance_path=instance)
    with app.app_context():
        for email in emails:
            db.session.add(LoginFailure(email=email, ip="127.0.0.1"))
        db.session.commit()
        stored = sorted(db.session.scalars(select(LoginFailure.email)))
        db.engine.dispose()
    return stored


def test_jobs_list_shows_each_job_when_it_runs_and_its_last_run(instance):
    env = alma_env(instance)
    assert run_alma("db", "upgrade", env=env).returncode == 0

    listed = run_alma("jobs", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [
        "core.deliver_mail  interval seconds=10  never run",
        "core.prune_login_failures  interval hours=1  never run",
        "core.prune_sent_mails  interval hours=6  never run",
        "core.send_digests  interval minutes=15  never run",
        "core.build_data_exports  interval minutes=10  never run",
        "core.erase_accounts  interval hours=1  never run",
        "core.deliver_webhooks  interval seconds=15  never run",
        "core.prune_webhooks  interval hours=6  never run",
    ]

    ran = run_alma("jobs", "run", "core.prune_sent_mails", env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "job core.prune_sent_mails done\n"
    pruned = run_alma("jobs", "list", env=env).stdout.splitlines()[2]
    assert re.fullmatch(
        r"core\.prune_sent_mails  interval hours=6  last run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
        rf" by {re.escape(socket.gethostname())}:\d+",
        pruned,
    ), pruned


def test_jobs_list_shows_a_jobs_last_failure(instance):
    from core.models import JobFailure

    env = alma_env(instance)
    assert run_alma("db", "upgrade", env=env).returncode == 0
    app = create_app({}, instance_path=instance)
    with app.app_context():
        failed_at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        db.session.add(
            JobFailure(
                job_id="core.prune_sent_mails", failed_at=failed_at, error="OSError: disk full"
            )
        )
        db.session.commit()
        db.engine.dispose()

    listed = run_alma("jobs", "list", env=env).stdout.splitlines()

    assert listed[2] == (
        "core.prune_sent_mails  interval hours=6  never run"
        "  last failed 2026-12-01 09:30:00 UTC: OSError: disk full"
    )
    assert listed[0] == "core.deliver_mail  interval seconds=10  never run"


def test_jobs_run_now_runs_the_job_as_if_it_were_then(instance):
    """Time in tests is moved, never waited for: a failed login is forgotten 15 minutes on."""
    env = alma_env(instance)
    assert run_alma("db", "upgrade", env=env).returncode == 0
    assert failed_logins(instance, "ada@example.org") == ["ada@example.org"]
    now = datetime.now(UTC)

    assert run_alma("jobs", "run", "core.prune_login_failures", env=env).returncode == 0
    assert failed_logins(instance) == ["ada@example.org"]  # too recent to forget

    later = (now + timedelta(minutes=16)).isoformat()
    moved = run_alma("jobs", "run", "core.prune_login_failures", "--now", later, env=env)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout == "job core.prune_login_failures done\n"
    assert failed_logins(instance) == []


def test_jobs_run_refuses_an_unknown_job_naming_the_jobs(instance, invoke):
    assert run_alma("db", "upgrade", env=alma_env(instance)).returncode == 0

    output = refused(invoke("jobs", "run", "core.deliver_mails"))

    assert output == (
        "Error: there is no job 'core.deliver_mails'; the jobs are: " + ", ".join(CORE_JOBS) + "\n"
    )


def test_jobs_run_refuses_a_moment_it_cannot_read(instance, invoke):
    assert run_alma("db", "upgrade", env=alma_env(instance)).returncode == 0

    result = invoke("jobs", "run", "core.prune_login_failures", "--now", "tomorrow")

    assert result.exit_code == 2
    assert "Invalid value for --now: 'tomorrow' is not a moment such as 2026-03-01T09:00" in (
        result.output
    )


def test_a_second_scheduler_says_once_it_stands_by_and_why_then_takes_over(instance):
    env = alma_env(instance)
    assert run_alma("db", "upgrade", env=env).returncode == 0
    lock_file = instance / "alma.db.scheduler-lock"
    first = start_scheduler(env, instance / "first.out")
    try:
        wait_for_output(first, RUNNING)
        second = start_scheduler(env, instance / "second.out")
        try:
            standing_by = (
                f"alma scheduler standing by: another process on this machine holds the lock"
                f" file {lock_file}; it takes over when that one stops\n"
            )
            wait_for_output(second, standing_by)
            time.sleep(1)  # it tries again and again meanwhile, and says nothing more
            assert second.log.read_text() == standing_by

            first.terminate()
            assert first.wait(TIMEOUT) == 0
            wait_for_output(second, standing_by + RUNNING)
        finally:
            second.terminate()
            assert second.wait(TIMEOUT) == 0
    finally:
        first.kill()
        first.wait(TIMEOUT)
    assert first.log.read_text() == RUNNING


def start_scheduler(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        process = subprocess.Popen(
            [ALMA, "scheduler"], env=env, stdout=output, stderr=subprocess.DEVNULL
        )
    process.log = log
    return process


def wait_for_output(process: subprocess.Popen, expected: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while process.log.read_text() != expected:
        assert process.poll() is None, process.log.read_text()
        assert time.monotonic() < deadline, process.log.read_text()
        time.sleep(0.05)


def test_webhook_endpoints_are_added_listed_logged_and_removed_from_the_command_line(
    instance, invoke, webhook_receiver
):
    local = {"WEBHOOK_ALLOW_LOCAL_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true"}
    assert invoke("webhooks", "list").output == "No webhook endpoint.\n"
    assert "Choose the events" in refused(
        invoke("webhooks", "add", webhook_receiver.url, "--event", "x.y", "--reason", "r", **local)
    )
    assert "https://" in refused(
        invoke(
            "webhooks", "add", webhook_receiver.url, "--event", "member.registered", "--reason", "r"
        )
    )
    inside = invoke(
        "webhooks",
        "add",
        webhook_receiver.url,
        "--event",
        "member.registered",
        "--reason",
        "r",
        WEBHOOK_ALLOW_LOCAL_HTTP="true",
    )
    assert "127.0.0.1 is at 127.0.0.1, a private, local or reserved address" in refused(inside)
    added = invoke(
        "webhooks",
        "add",
        webhook_receiver.url,
        "--event",
        "member.registered",
        "--event",
        "report.filed",
        "--reason",
        "the CRM wants new members",
        **local,
    )
    assert added.exit_code == 0, added.output
    endpoint_id = re.search(r"Endpoint (\d+) added", added.output).group(1)
    secret = re.search(r"Its signing secret: (whsec_\S+)", added.output).group(1)
    listed = invoke("webhooks", "list").output
    assert (
        f"{endpoint_id}  enabled  {webhook_receiver.url}  member.registered,report.filed" in listed
    )

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, instance_path=instance)
    app.test_client().post(
        "/register",
        data={"display_name": "Ada", "email": "ada@example.org", "password": "a long password!"},
    )
    with app.app_context():
        db.engine.dispose()
    assert invoke("jobs", "run", "core.deliver_webhooks", **local).exit_code == 0
    [received] = webhook_receiver.received
    assert verified(received, secret)

    log = invoke("webhooks", "deliveries", endpoint_id).output
    assert f"member.registered  {received.webhook_id}  1 attempts  last status 200" in log
    assert "delivered " in log
    assert "There is no such webhook endpoint." in refused(invoke("webhooks", "deliveries", "99"))

    removed = invoke("webhooks", "remove", endpoint_id, "--reason", "the CRM is gone")
    assert removed.exit_code == 0, removed.output
    assert invoke("webhooks", "list").output == "No webhook endpoint.\n"
    assert [row[2:] for row in audit_rows(instance)] == [
        ("webhook.added", webhook_receiver.url, "the CRM wants new members"),
        ("webhook.removed", webhook_receiver.url, "the CRM is gone"),
    ]
