"""alma's pytest plugin (entry point ``pytest11``): the fixtures alma's own tests use, for
plugin authors too.

* ``--db=sqlite,postgresql`` (or ``ALMA_TEST_DB``) runs every database test once per backend;
  PostgreSQL tests create a throwaway database on ``ALMA_TEST_POSTGRES_URL``.
* ``app`` / ``make_app(...)``: an app on that database, its schema migrated once per session
  (core and every installed plugin), its tables emptied after each test. Its templates and
  URL routes are compiled once per process, and its commits do not wait for the disk.
  ``@pytest.mark.plugins("wiki", ...)`` chooses the enabled plugins (default: none, core alone);
  ``make_app(extra_plugins={"name": obj})`` registers a throwaway plugin.
* ``db``: an app context for calling services directly; ``create_user(...)`` makes members.
* ``run_job(app, "kudos.digest")``: a job run once, now, as the scheduler would.
* ``assert_api_routes_refuse_visitors(app, client, read_token)``: every ``/api/v1/`` route
  of the enabled parts refuses a visitor (401) and a read-only token on a write (403).
* ``client``: a test client whose every request runs in a fresh app context, as in production,
  with ``client.login(user)``.
* ``smtp_server`` / ``mail``: a real SMTP server (aiosmtpd) on 127.0.0.1 that the app sends to;
  ``mail.deliver()`` runs the outbox job and returns what the server received.
* ``stored(app, select(...))`` and ``count_rows(app, Model, *where)`` read what the database
  holds in a unit of work of their own; ``empty_database_url`` is a fresh database for
  migration tests, and ``app_on_empty_database(*plugins)`` an app on it with those plugins
  enabled (nothing migrated: ``core.schema.upgrade(app)`` migrates every part).
* ``live_server``: the app served over HTTP and Socket.IO on 127.0.0.1, for real clients
  (``serve(app)`` serves more apps, as several web processes);
  ``SocketClient``: a real Socket.IO client that queues what it receives, and
  ``socket_as(user, *events)`` one connected to ``live_server`` as a member;
  ``cut_websocket_upgrade_short(url, cookie)`` breaks off an upgrade to WebSocket, as a
  browser whose page is left then;
  ``browser``: headless Chromium (Playwright) to drive it.
* ``redis_server``: a private ``redis-server`` (``.url``) to kill, restart or stall under a
  running site.
* ``webhook_receiver``: an HTTP server on 127.0.0.1 that keeps every webhook posted to it
  (``.received``), answers ``.status`` (200), and can be stopped and started again on its
  port; ``.subscribe(app, *event_types)`` registers it as an endpoint (the app needs
  ``WEBHOOK_ALLOW_LOCAL_HTTP``; ``make_app`` sets ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``, as
  127.0.0.1 is not public) and ``verified(delivery, secret)`` checks a signature.
* ``token_headers(user, scope="write")``: the ``Authorization`` header of a new personal
  access token of ``user`` (committed), for calls to the HTTP API.
* ``check_api_routes_refuse_visitors(app, client, reader)``: every ``/api/v1/`` route the
  enabled parts add refuses a visitor (401, unless ``@public``) and a read-only token (the
  ``Authorization`` header ``reader``) on a write (403): add it to a plugin's API tests.
* ``compiled_catalogs(folder, {"de": {"Hello": "Hallo"}})``: a few translations, compiled, for
  ``make_app(LANGUAGES=["en", "de"], BABEL_TRANSLATION_DIRECTORIES=...)`` (a site's own
  folders, which win over the catalogs core and the plugins ship), so a test can show which
  language a page, an alert or a mail was written in.
"""

from __future__ import annotations

import contextlib
import contextvars
import email
import email.policy
import functools
import itertools
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import CodeType
from typing import Any, TypeVar, cast

import pytest
from flask import Flask, current_app, has_app_context
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket
from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy import event as sa_event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

T = TypeVar("T")

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEST_PASSWORD = "correct horse battery"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("ALMA_TEST_DB", "sqlite"),
        help="comma-separated databases to run database tests on: sqlite, postgresql",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "plugins(*names): enable exactly these plugins")
    backends = [name.strip() for name in config.getoption("--db").split(",") if name.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown or not backends:
        raise pytest.UsageError(f"--db takes {', '.join(BACKENDS)}; got {config.getoption('--db')}")
    # read by tests as request.config.alma_backends (pytest's Config declares no such name)
    config.alma_backends = backends  # type: ignore[attr-defined]
    patch = pytest.MonkeyPatch()
    patch.setattr(Rule, "_compile_builder", _url_builder_compiled_once(Rule._compile_builder))
    import core.plugins

    declared = _read_again_when_the_path_changes(core.plugins.declared_plugins)
    patch.setattr(core.plugins, "declared_plugins", declared)
    from flask_sqlalchemy import SQLAlchemy

    patch.setattr(SQLAlchemy, "_make_engine", _engines_share_what_they_can(SQLAlchemy._make_engine))
    config.add_cleanup(patch.undo)


def _read_again_when_the_path_changes(
    declared_plugins: Callable[[], dict[str, Any]],
) -> Callable[[], dict[str, Any]]:
    """Reading the installed distributions' entry points (each one's metadata files) was a
    tenth of building an app, and a test process builds thousands of apps on the same
    installation. It is read again when ``sys.path`` or the modification time of one of its
    folders changes, as when a test installs a plugin's distribution: the rule
    ``importlib.metadata`` follows for its own cache of a folder's listing."""
    import sys

    read: dict[tuple[Any, ...], dict[str, Any]] = {}

    def path_state() -> tuple[Any, ...]:
        def modified(entry: str) -> int | None:
            try:
                return os.stat(entry or ".").st_mtime_ns
            except OSError:
                return None

        return tuple((entry, modified(entry)) for entry in sys.path)

    @functools.wraps(declared_plugins)
    def declared_once() -> dict[str, Any]:
        state = path_state()
        if state not in read:
            read.clear()
            read[state] = declared_plugins()
        return dict(read[state])

    return declared_once


def pytest_collection_finish(session: pytest.Session) -> None:
    _garbage_collected_less_often()


def _garbage_collected_less_often() -> None:
    """Python's cyclic garbage collector ran every 700 new objects and, now and then, went
    through every object of the process: the modules, the collected tests, the caches of
    compiled templates, URL builders and SQL. That was a third of building an app. What is
    alive once the tests are collected is set aside for good (``gc.freeze``), and a
    collection runs every 50,000 new objects: garbage is still collected, in fewer, larger
    batches, and a test's teardown closes connections and files itself."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _url_builder_compiled_once(compile_builder: Callable[..., Any]) -> Callable[..., Any]:
    """werkzeug compiles two URL-building functions (Python source, then bytecode) for each
    route an app builds a link to (at the first link: ``core.app.RuleBuiltOnFirstUse``), and
    a test process builds one or more apps per test, all with the same routes. A route's
    functions read everything else from the route they are bound to, so a route like another
    (its pattern, parts, defaults and converters) reuses them."""
    compiled: dict[tuple[Any, ...], Any] = {}

    @functools.wraps(compile_builder)
    def compiled_once(rule: Rule, append_unknown: bool = True) -> Any:
        converters = tuple((name, type(c)) for name, c in rule._converters.items())
        key = (append_unknown, rule.rule, tuple(rule._trace), repr(rule.defaults), converters)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    return compiled_once


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        backends = metafunc.config.alma_backends  # type: ignore[attr-defined]  # see above
        metafunc.parametrize("database_url", backends, indirect=True, scope="session")


# ---- databases -----------------------------------------------------------------------------


def all_installed_plugins(extra: dict[str, object] | None = None) -> list[str]:
    """Every installed plugin, each after the plugins it requires."""
    from core.plugins import installed_plugins, requirements_of

    installed = installed_plugins(extra)
    loaded = {name: plugin.load() for name, plugin in installed.items()}
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in ordered:
            for required in requirements_of(loaded[name]):
                visit(required)
            ordered.append(name)

    for name in sorted(loaded):
        visit(name)
    return ordered


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of the backend this test runs on (one per session)."""
    from core.app import create_app
    from core.schema import upgrade

    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'alma-test.db'}"
        drop: Callable[[], None] = lambda: None  # noqa: E731
    else:
        url, drop = create_postgres_database()
    instance = tmp_path_factory.mktemp("migrate")
    app = create_app(
        {"DATABASE_URL": url, "PLUGINS": all_installed_plugins()}, instance_path=instance
    )
    upgrade(app)
    with app.app_context():
        from core.db import db

        db.engine.dispose()
    yield url
    _close_shared_connections(url)
    drop()


def create_postgres_database() -> tuple[str, Callable[[], None]]:
    """A new, empty PostgreSQL database on the test server (``ALMA_TEST_POSTGRES_URL``):
    returns its URL and a function that drops it."""
    admin_url = make_url(os.environ.get("ALMA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"alma_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # commits return before the disk has them: durability through a crash of the
        # server is not under test, and waiting for it was much of a test's time
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the backend under test, for migration tests (the shared one
    is migrated already); dropped afterwards."""
    if database_url.startswith("postgresql"):
        url, drop = create_postgres_database()
        yield url
        _close_shared_connections(url)
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def app_on_empty_database(
    empty_database_url: str, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    """``app_on_empty_database(*plugins)``: an app on ``empty_database_url`` with ``plugins``
    enabled, each call a new app on the same database; their connections are closed after."""
    from core.app import create_app

    apps: list[Flask] = []

    def build(*plugins: str) -> Flask:
        app = create_app(
            {"DATABASE_URL": empty_database_url, "PLUGINS": list(plugins)},
            instance_path=tmp_path / "instance",
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        _release_connections(app)


def _end_session(app: Flask) -> None:
    from core.db import db

    with app.app_context():
        db.session.remove()


def _release_connections(app: Flask) -> None:
    from core.db import db

    _end_session(app)
    with app.app_context():
        # a shared pool (``_share_connections``) keeps its connections for the next test
        db.engine.dispose(close=db.engine.pool not in _SHARED_POOLS.values())


@functools.cache
def _tables_children_first(url: str) -> tuple[str, ...]:
    """The database's tables, each before those it references (reflected once per database)."""
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    shadows = _sqlite_shadow_tables(engine)
    engine.dispose()
    tables = reversed(metadata.sorted_tables)
    return tuple(
        table.name
        for table in tables
        if not table.name.startswith("alembic_version") and table.name not in shadows
    )


def _sqlite_shadow_tables(engine: Any) -> set[str]:
    """The tables SQLite keeps for a virtual table (a full-text index): emptying the virtual
    table empties them, and emptying them directly would corrupt it."""
    if engine.dialect.name != "sqlite":
        return set()
    with engine.connect() as connection:
        query = "SELECT name FROM pragma_table_list WHERE type = 'shadow'"
        return set(connection.exec_driver_sql(query).scalars())


@contextlib.contextmanager
def _append_only_lifted(connection: Any) -> Iterator[None]:
    """The audit log refuses DELETE by triggers (core_0008): between tests, and only there,
    they are lifted inside the emptying transaction (PostgreSQL: disabled, SQLite: dropped
    and made again as they were)."""
    from core.models import AuditEntry

    table = AuditEntry.__tablename__
    if connection.dialect.name == "postgresql":
        connection.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
        yield
        connection.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER USER'))
        return
    query = text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t")
    triggers = connection.execute(query, {"t": table}).all()
    for name, _sql in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        connection.execute(text(sql))


def _empty_all_tables(app: Flask) -> None:
    # DELETE, not TRUNCATE: on PostgreSQL it is ten times faster for the few rows a test
    # writes. PostgreSQL takes them all in one round trip; SQLite, in process, one at a time.
    from core.db import db

    with app.app_context():
        deletes = [
            f'DELETE FROM "{table}"' for table in _tables_children_first(app.config["DATABASE_URL"])
        ]
        with db.engine.begin() as connection, _append_only_lifted(connection):
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("; ".join(deletes))
            else:
                for delete in deletes:
                    connection.exec_driver_sql(delete)


# ---- mail ------------------------------------------------------------------------------


@dataclass
class SMTPSink:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


# test servers' ports: below the kernel's ephemeral range (32768-), which clients' sockets take
FIRST_PORT, LAST_PORT = 10000, 32767


def ports_of_this_process() -> range:
    """This test process's share of the ports from FIRST_PORT to LAST_PORT: the span divided
    among pytest-xdist's workers, however many there are."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, … under pytest-xdist
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    share = (LAST_PORT + 1 - FIRST_PORT) // max(1, workers)
    start = FIRST_PORT + index * share
    return range(start, start + share)


_PORTS = iter(ports_of_this_process())


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on, never given twice in a test run: each
    pytest-xdist worker takes its own range, one after the other. A server a test kills (a
    private Redis) leaves clients retrying its port for a while; that port must not become
    another test's server, in this process or the other's."""
    for port in _PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken, by something else on this machine
            return port
    raise RuntimeError(f"this test process used all its {len(ports_of_this_process())} ports")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPSink]:
    from aiosmtpd.controller import Controller

    sink = SMTPSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


class RedisServer:
    """A private ``redis-server`` on a free port of 127.0.0.1, to kill and start again under
    a running site (another run's Redis is never touched)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        """Kill it at once (SIGKILL, as a crash would): open connections break."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self) -> None:
        """Stop it answering while connections stay open (SIGSTOP): a stalled Redis."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A started private Redis (``.url``), with ``kill()``, ``start()``, ``pause()`` and
    ``resume()``; killed after the test."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        server.resume()
    server.kill()


@dataclass
class Mailbox:
    app: Flask
    sink: SMTPSink

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.sink.messages)

    def deliver(self) -> list[EmailMessage]:
        """Run the outbox job once; return the messages the SMTP server received by it."""
        from core.db import db
        from core.services.mail import deliver_outbox

        before = len(self.sink.messages)
        with self.app.app_context():
            deliver_outbox()
            db.session.remove()
        return self.messages[before:]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]


def body_of(message: EmailMessage) -> str:
    """The plain-text body of a received mail."""
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        raise ValueError(f"the mail {message['Subject']!r} has no plain-text body")
    text: str = body.get_content()
    return text


# ---- apps and clients --------------------------------------------------------------------


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, not once per test: every test's app has a
    Jinja environment of its own, and compiling again the templates it renders was an eighth
    of a typical test's time. A compiled template is reused only for the same
    source compiled the same way (autoescaping, extensions, the filters and tests it calls)."""

    def __init__(self) -> None:
        self.compiled: dict[str, tuple[str, CodeType]] = {}

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        key = repr((name, filename, _compiled_differently_by(environment, name)))
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        checksum, code = self.compiled.get(bucket.key, ("", None))
        if code is not None and checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self.compiled[bucket.key] = (bucket.checksum, bucket.code)


def _compiled_differently_by(environment: Environment, name: str) -> tuple[Any, ...]:
    """What, besides its source, Jinja's compiler reads to compile template ``name``."""
    autoescape = environment.autoescape
    return (
        autoescape(name) if callable(autoescape) else autoescape,
        sorted(environment.extensions),
        getattr(environment, "newstyle_gettext", False),  # read by the i18n extension
        [(key, getattr(environment, key)) for key in _JINJA_SYNTAX_SETTINGS],
        environment.finalize is None,
        [(key, getattr(f, "jinja_pass_arg", None)) for key, f in environment.filters.items()],
        [(key, getattr(f, "jinja_pass_arg", None)) for key, f in environment.tests.items()],
    )


_JINJA_SYNTAX_SETTINGS = (
    *("block_start_string", "block_end_string", "variable_start_string"),
    *("variable_end_string", "comment_start_string", "comment_end_string"),
    *("line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks"),
    *("newline_sequence", "keep_trailing_newline", "optimized", "is_async"),
)
_COMPILED_TEMPLATES = _CompiledTemplates()


def _faster_for_tests(app: Flask) -> None:
    """What makes a test's app faster without changing what a test can see: its templates
    and SQL statements compiled once per process, and on SQLite commits that do not wait for
    the disk (durability through a power cut is not under test)."""
    from core.db import db

    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            sa_event.listen(db.engine, "connect", _sqlite_without_fsync)


EngineKey = tuple[str, str]  # a database URL, and the engine's other options


def _engines_share_what_they_can(make_engine: Callable[..., Any]) -> Callable[..., Any]:
    """Flask-SQLAlchemy makes an engine per app, and a test process makes thousands of apps
    on the same database: engines of the same URL and options share their compiled
    statements, and on PostgreSQL their connections, from the start (an app's plugins may
    read the database while it is being created)."""

    @functools.wraps(make_engine)
    def make(extension: Any, bind_key: str | None, options: dict[str, Any], app: Flask) -> Any:
        engine = make_engine(extension, bind_key, options, app)
        others = sorted((name, value) for name, value in options.items() if name != "url")
        key = (engine.url.render_as_string(hide_password=False), repr(others))
        _share_compiled_statements(engine, key)
        if engine.dialect.name == "postgresql":
            _share_connections(engine, key)
        return engine

    return make


_SHARED_DIALECTS: dict[EngineKey, tuple[Any, Any]] = {}


def _share_compiled_statements(engine: Any, key: EngineKey) -> None:
    """Each test's app has an engine of its own, whose statement cache starts empty, so every
    test compiled its SQL again (an eighth of a plugin test's CPU). SQLAlchemy keys its
    cache by the dialect object; engines of the same URL and options get the first one's
    dialect and cache. Only how a statement is written in SQL is shared, which those
    decide; each engine keeps its own event listeners."""
    dialect, cache = _SHARED_DIALECTS.setdefault(key, (engine.dialect, engine._compiled_cache))
    engine.dialect = engine.pool._dialect = dialect
    engine._compiled_cache = cache


_SHARED_POOLS: dict[EngineKey, Pool] = {}


def _share_connections(engine: Any, key: EngineKey) -> None:
    """PostgreSQL: the engines of one database and options draw from one pool per process.
    A new server backend starts with cold catalog caches (five small queries took 89 ms on a
    new connection against 13 ms on a reused one), and each test's engine, disposed at its
    end, made two or three. What a test leaves on a connection is what any request leaves:
    the pool rolls back at check-in, and a connection the server closed meanwhile (a test
    that kills backends) is replaced at checkout (``core.db``). What lives in a server
    session rather than a transaction reaches later tests too: a test that runs ``SET``,
    ``LISTEN`` or takes an advisory lock must undo it or invalidate its connection (the
    scheduler's lock does). Statement events stay each engine's own; a listener for the
    pool's events (``connect``, ``checkout``) on a test's engine would hear later tests
    too (alma's are on the ``Pool`` class)."""
    shared = _SHARED_POOLS.setdefault(key, engine.pool)
    if shared is not engine.pool:
        engine.pool.dispose()
        engine.pool = shared


def _close_shared_connections(url: str) -> None:
    """Close the pooled connections of the database at ``url`` (before dropping it), and
    forget its compiled statements."""
    for key in [key for key in _SHARED_POOLS if key[0] == url]:
        _SHARED_POOLS.pop(key).dispose()
    for key in [key for key in _SHARED_DIALECTS if key[0] == url]:
        del _SHARED_DIALECTS[key]


def _sqlite_without_fsync(dbapi_connection: Any, connection_record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


class AlmaClient(FlaskClient):
    """A test client whose every request runs in a fresh context, as in production, even when
    the test itself holds an app context (``db``).

    Before each request it commits the test's own session: the request sees what the test
    wrote, and the test's next query sees what the request wrote (on SQLite an open read
    transaction would otherwise keep showing the test its old snapshot)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        from core.db import db

        if _in_context_of(self.application):
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)

    def login(self, user: Any) -> None:
        """Log the client in as ``user``, with a session of their own (as logging in makes)."""
        cookie_id = _start_session(self.application, user)
        with self.session_transaction() as session:
            session["_user_id"] = cookie_id
            session["_fresh"] = True

    def logout(self) -> None:
        with self.session_transaction() as session:
            session.clear()


@pytest.fixture
def alma_plugins(request: pytest.FixtureRequest) -> list[str]:
    """The plugins enabled in ``app``: those named by ``@pytest.mark.plugins(...)`` (on the
    test, its class or module), else none (core alone). Override this fixture in a
    ``conftest.py`` to enable your plugin for a whole directory."""
    marker = request.node.get_closest_marker("plugins")
    return list(marker.args) if marker else []


@pytest.fixture
def make_app(
    database_url: str,
    smtp_server: SMTPSink,
    alma_plugins: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Flask]]:
    """Build an app: ``make_app(PLUGINS=[...], extra_plugins={...}, KEY=value)``."""
    from core.app import create_app

    apps: list[Flask] = []
    counter = itertools.count()
    # the apps of one test share their rate limit counts (as a site's web processes do), and
    # no count in a Redis outlives the test or reaches another's
    rate_limit_prefix = f"alma-test-{secrets.token_hex(6)}"

    def build(extra_plugins: dict[str, object] | None = None, **settings: Any) -> Flask:
        config = {
            "DATABASE_URL": database_url,
            "PLUGINS": alma_plugins,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "test-secret-key",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests only
            "MAIL_BACKEND": "smtp",
            "MAIL_HOST": smtp_server.host,
            "MAIL_PORT": smtp_server.port,
            "BASE_URL": "http://alma.test",
            "RATE_LIMIT_KEY_PREFIX": rate_limit_prefix,
            # the webhook_receiver listens on 127.0.0.1: a test refusing it turns this off
            "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
        } | settings
        instance = tmp_path_factory.mktemp(f"instance{next(counter)}")
        app = create_app(config, instance_path=instance, extra_plugins=extra_plugins)
        app.test_client_class = AlmaClient
        _faster_for_tests(app)
        apps.append(app)
        return app

    yield build
    smtp_server.clear()
    for built in apps:
        _end_session(built)
    if apps:
        _empty_all_tables(apps[0])
    for built in apps:
        _release_connections(built)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> AlmaClient:
    return cast(AlmaClient, app.test_client())  # make_app set it as the test client class


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """An app context for the test, yielding the database handle (``db.session``)."""
    from core.db import db as database

    with app.test_request_context():
        yield database
        database.session.remove()


@pytest.fixture
def mail(app: Flask, smtp_server: SMTPSink) -> Mailbox:
    return Mailbox(app, smtp_server)


@pytest.fixture
def create_user(db: Any) -> Callable[..., Any]:
    """``create_user(email=None, password=TEST_PASSWORD, confirmed=True, **fields)``: a
    member, committed. ``fields`` are ``User``'s columns, or fields an enabled plugin adds to
    the profile form (``ProfileField``), saved as the form saves them."""
    from core.db import utcnow
    from core.models import User
    from core.services.accounts import hash_password
    from core.services.profiles import save_profile_fields
    from core.state import alma

    numbers = itertools.count(1)

    def create(
        email: str | None = None,
        password: str = TEST_PASSWORD,
        confirmed: bool = True,
        **fields: Any,
    ) -> User:
        number = next(numbers)
        contributed = {field.name for field in alma().profile_fields}
        chosen = {name: fields.pop(name) for name in list(fields) if name in contributed}
        user = User(
            email=email or f"member{number}@example.org",
            password_hash=hash_password(password),
            display_name=fields.pop("display_name", f"Member {number}"),
            email_confirmed_at=utcnow() if confirmed else None,
            **fields,
        )
        db.session.add(user)
        db.session.flush()
        save_profile_fields(user, chosen)
        db.session.commit()
        return user

    return create


@contextlib.contextmanager
def served(app: Flask) -> Iterator[str]:
    """``app`` served on 127.0.0.1 (HTTP and Socket.IO) in a thread until the block ends: its
    base URL."""
    from werkzeug.serving import make_server

    from core.realtime import WebSocketsEndTheirConnection

    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=WebSocketsEndTheirConnection
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """``serve(app)``: an app served on 127.0.0.1 (HTTP and Socket.IO) in a thread, until the
    test ends; returns its base URL. Several apps sharing a Redis act as several processes."""
    with contextlib.ExitStack() as running:
        yield lambda app: running.enter_context(served(app))


@pytest.fixture
def live_server(app: Flask, serve: Callable[[Flask], str]) -> str:
    """The app served on 127.0.0.1 (HTTP and Socket.IO) in a thread: its base URL."""
    return serve(app)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Debian's headless shell first: the same Blink without the desktop browser around it, it
# opens a page for a quarter to a third of the full browser's CPU (docs/performance.md,
# "Fourth round").
CHROMIUM_EXECUTABLES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")


def chromium_executable() -> str:
    """The Chromium that browser tests drive: ``ALMA_CHROMIUM`` if set, else the first of
    :data:`CHROMIUM_EXECUTABLES` installed."""
    named = os.environ.get("ALMA_CHROMIUM")
    if named:
        return named
    installed = [path for path in CHROMIUM_EXECUTABLES if os.path.exists(path)]
    if not installed:
        raise RuntimeError(
            "browser tests need Chromium: apt-get install chromium-headless-shell"
            " (or set ALMA_CHROMIUM to a Chromium executable)"
        )
    return installed[0]


def screenshot(page: Any, name: str, selector: str | None = None) -> None:
    """Save what ``page`` shows, for people to look at, as ``<name>-<viewport>.png`` (the
    viewport's name is ``page.viewport_name`` where a fixture gave one) in the folder that
    ``ALMA_SCREENSHOTS`` names: the whole page, or the element ``selector`` finds. Without
    that variable it does nothing: a screenshot of a long page costs Chromium up to a third
    of a second of CPU, and nothing checks it."""
    folder = os.environ.get("ALMA_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    viewport = getattr(page, "viewport_name", None)
    path = Path(folder) / (f"{name}-{viewport}.png" if viewport else f"{name}.png")
    if selector is None:
        page.screenshot(path=path, full_page=True)
    else:
        page.locator(selector).screenshot(path=path)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (see :func:`chromium_executable`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class ReceivedWebhook:
    """One POST a :class:`WebhookReceiver` received: its Standard Webhooks headers and body."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A webhook endpoint for tests (fixture ``webhook_receiver``): a threaded HTTP server on
    127.0.0.1 keeping what is posted to it and answering ``status``. ``stop()`` closes the
    port (an outage: connections are refused), ``start()`` opens it again, same address."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self.status = 200
        self.port = free_port()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(
                    ReceivedWebhook(
                        self.headers.get("webhook-id", ""),
                        self.headers.get("webhook-timestamp", ""),
                        self.headers.get("webhook-signature", ""),
                        body,
                    )
                )
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"received" if receiver.status < 300 else b"not now")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def subscribe(self, app: Flask, *event_types: str) -> tuple[int, str]:
        """Register the receiver as an endpoint of ``app`` for ``event_types``, committed:
        its id and secret."""
        from core.services.webhooks import add_endpoint

        def add() -> tuple[int, str]:
            endpoint = add_endpoint(self.url, event_types)
            return endpoint.id, endpoint.secret

        return in_unit_of_work(app, add)

    def ids(self) -> list[str]:
        return [delivery.webhook_id for delivery in self.received]


def verified(delivery: ReceivedWebhook, secret: str) -> bool:
    """Whether ``delivery`` carries a valid Standard Webhooks signature for ``secret``,
    checked here without alma's code: HMAC-SHA256 of ``id.timestamp.body``."""
    import base64
    import hashlib
    import hmac

    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{delivery.webhook_id}.{delivery.timestamp}.".encode() + delivery.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.partition(",")[2] for part in delivery.signature.split()]
    return any(hmac.compare_digest(expected, signature) for signature in offered)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A :class:`WebhookReceiver` on 127.0.0.1, stopped after the test."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def compiled_catalogs(folder: Path, catalogs: dict[str, dict[str, str]]) -> str:
    """Compile ``catalogs`` (each language's English messages and their translations) into
    ``folder``, as Flask-Babel reads them; returns the folder for
    ``BABEL_TRANSLATION_DIRECTORIES``."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    for language, messages in catalogs.items():
        catalog = Catalog(locale=language)
        for english, translated in messages.items():
            catalog.add(english, translated)
        (folder / language / "LC_MESSAGES").mkdir(parents=True)
        with open(folder / language / "LC_MESSAGES" / "messages.mo", "wb") as compiled:
            write_mo(compiled, catalog)
    return str(folder)


def token_headers(user: Any, scope: str = "write") -> dict[str, str]:
    """The ``Authorization`` header of a new personal access token of ``user`` (committed;
    call in an app context, as the ``db`` fixture gives)."""
    from core.db import db
    from core.services.tokens import create_token

    secret = create_token(user, "my app", scope)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def stored(app: Flask, statement: Any) -> Any:
    """What the database holds, read in a unit of work of its own (not the test's session):
    ``stored(app, select(Goal.completed_at).where(Goal.id == goal_id))``."""
    from core.db import db

    with app.app_context():
        try:
            return db.session.scalar(statement)
        finally:
            db.session.remove()


def count_rows(app: Flask, model: Any, *where: Any) -> int:
    """How many rows of ``model`` (matching ``where``) the database holds."""
    count: int = stored(app, select(func.count()).select_from(model).where(*where))
    return count


def assert_api_routes_refuse_visitors(app: Flask, client: Any, reader: dict[str, str]) -> None:
    """The route x role rule of the HTTP API, for every route an enabled part adds: a visitor
    gets 401 (unless the view is ``@public``), the headers ``reader`` of a token of scope
    ``read`` (``token_headers(user, "read")``) 403 on any method but GET. Run it in a test
    with a plugin enabled to check that plugin's."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or "openapi" in rule.endpoint:
            continue
        view = app.view_functions[rule.endpoint]
        url = re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            anonymous = client.open(url, method=method, json={})
            if getattr(view, "api_public", False):
                continue
            assert anonymous.status_code == 401, (method, url)
            if method != "GET":
                read_only = client.open(url, method=method, json={}, headers=reader)
                assert read_only.status_code == 403, (method, url)


def run_job(app: Flask, job_id: str) -> None:
    """Run the job ``job_id`` (core's or an enabled plugin's ``Job``) once, now, as the
    scheduler would: in an app context and a unit of work of its own, committed when it
    returns. A job that raises fails the test (its error is in the captured log). Move the
    clock with ``time_machine.travel(...)`` around it to run it as if it were another time.

    It runs outside the test's request context (the ``db`` fixture's), as a scheduler's thread
    does: on SQLite its unit of work then takes the write lock up front, and a live server
    committing meanwhile cannot make its first write fail."""
    from core.scheduler import job_named
    from core.scheduler import run_job as run_in_its_own_unit_of_work

    job = job_named(app, job_id)
    assert job is not None, f"no job {job_id!r}: is its plugin enabled?"
    done = _outside_requests(lambda: run_in_its_own_unit_of_work(app, job))
    assert done, f"job {job_id} failed (see the log)"


def race(app: Flask, *actions: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run each action in its own thread at the same instant (a barrier releases them), each
    in its own app context and unit of work, committed when it returns; return ("ok", result)
    or ("error", exception) per action, in order.

    Load what an action needs inside it (``db.session.get(User, user_id)``), from ids read
    beforehand: touching the test's own objects from a racer's thread would use the test's
    session, whose open transaction on SQLite holds the database's lock."""
    from core.db import db

    if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]  # a proxy of Flask
        # end the test's own transaction: on SQLite an open read would keep showing it the
        # database as it was before the race, and refuse its next write
        db.session.commit()
    barrier = threading.Barrier(len(actions), timeout=30)
    outcomes: list[tuple[str, Any]] = [("not run", None)] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                result = action()
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                outcomes[index] = ("error", error)
            else:
                outcomes[index] = ("ok", result)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer is stuck"
    return outcomes


@dataclass(frozen=True)
class CutShortUpgrade:
    answer: bytes  # what the server sent on the WebSocket after the browser's close
    poll_url: str  # the session's long-polling URL, which a tab still open goes on using

    @property
    def ended_quietly(self) -> bool:
        """Whether the server sent nothing but its close: after the probe's answer if it was
        quick to send it, and perhaps not even the close, when the web server ended the
        connection before simple-websocket's thread sent it (gunicorn can)."""
        return self.answer.removeprefix(_PROBE_ANSWERED) in (b"", _CLOSE_FRAME)


def cut_websocket_upgrade_short(base_url: str, cookie: str) -> CutShortUpgrade:
    """Do what a browser does when its page is left, or its network drops the new
    connection, while its Socket.IO connection moves from long polling to a WebSocket.

    As the member of the session ``cookie``: open a session and connect to it (as a page
    does), start the upgrade, send its probe and at once the WebSocket's close, and read what
    the server sends until its own close, and whatever follows within 0.3 s. All is well
    when that is nothing but the server's close: see ``CutShortUpgrade.ended_quietly``."""
    import requests

    headers = {"Cookie": cookie}
    opened = requests.get(
        f"{base_url}/socket.io/?EIO=4&transport=polling", headers=headers, timeout=5
    )
    sid = json.loads(opened.text[1:])["sid"]
    poll_url = f"{base_url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    requests.post(poll_url, data="40", headers=headers, timeout=5).raise_for_status()
    assert requests.get(poll_url, headers=headers, timeout=5).text.startswith("40")  # connected
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(
            f"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nCookie: {cookie}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(4096)
        switched, _, received = received.partition(b"\r\n\r\n")
        assert switched.startswith(b"HTTP/1.1 101"), switched
        connection.sendall(_client_frame(0x1, b"2probe") + _client_frame(0x8, b""))
        with contextlib.suppress(ConnectionResetError):  # an end as well, if an abrupt one
            while _CLOSE_FRAME_START not in received and (chunk := connection.recv(4096)):
                received += chunk
            connection.settimeout(0.3)  # then anything that follows at once, until the end
            with contextlib.suppress(TimeoutError):
                while chunk := connection.recv(4096):
                    received += chunk
    return CutShortUpgrade(received, poll_url)


_CLOSE_FRAME_START = b"\x88"  # a final frame of opcode 8: the WebSocket's close
_CLOSE_FRAME = _CLOSE_FRAME_START + b"\x00"  # the server's, with no reason given
_PROBE_ANSWERED = b"\x81\x063probe"  # engine.io's answer to the upgrade's probe


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """One final WebSocket frame as a browser sends it: masked, shorter than 126 bytes."""
    mask = secrets.token_bytes(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


class SocketClient:
    """A real Socket.IO client for tests, keeping what it receives in a queue per event:
    ``listen(event)`` first, then ``next(event)`` waits for one (failing after ``timeout``),
    ``received(event)`` takes everything so far, ``call(event, data)`` returns the ack.
    Connect it with ``client.client.connect(live_server, headers={"Cookie": "session=" +
    session_cookie(app, user)})``."""

    TIMEOUT = 5.0  # seconds to wait for something that should happen
    QUIET = 0.3  # seconds to wait for something that should not

    def __init__(self, *events: str) -> None:
        import socketio

        self.client = socketio.Client(reconnection=False)
        self.queues: dict[str, queue.Queue[Any]] = {}
        for event in events:
            self.listen(event)

    def listen(self, event: str) -> None:
        self.queues[event] = queue.Queue()
        self.client.on(event, self.queues[event].put)

    def connect_as(self, base_url: str, app: Flask, user: Any) -> SocketClient:
        """Connect to the site served at ``base_url`` (``live_server``) as ``user``, over
        long polling, as a browser starts."""
        self.client.connect(
            base_url,
            headers={"Cookie": f"session={session_cookie(app, user)}"},
            transports=["polling"],
            wait_timeout=self.TIMEOUT,
        )
        return self

    def close(self) -> None:
        """Close the connection as a closing tab does, waiting at most :data:`QUIET` for the
        answer to the pending long poll (which may not come before the server's next ping,
        25 s on). The client tells the server as it goes, but python-socketio's client may
        stop before its close is sent: a test of what the server does when a tab closes
        must wait for it, or close the connection itself."""
        closing = threading.Thread(target=self.client.disconnect, daemon=True)
        closing.start()
        closing.join(timeout=self.QUIET)

    def call(self, event: str, *data: Any) -> Any:
        """Emit ``event`` (with ``data``, or with no argument at all) and return the ack."""
        return self.client.call(event, *data, timeout=self.TIMEOUT)

    def next(self, event: str, timeout: float | None = None) -> Any:
        timeout = self.TIMEOUT if timeout is None else timeout
        try:
            return self.queues[event].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {event!r} event within {timeout} s") from None

    def received(self, event: str, wait: float | None = None) -> list[Any]:
        """Everything received so far, after ``wait`` seconds for stragglers."""
        time.sleep(self.QUIET if wait is None else wait)
        items = []
        while not self.queues[event].empty():
            items.append(self.queues[event].get_nowait())
        return items


@pytest.fixture
def socket_as(app: Flask, live_server: str) -> Iterator[Callable[..., SocketClient]]:
    """``socket_as(user, *events)``: a member's open tab, a :class:`SocketClient` connected
    to ``live_server`` as ``user`` and listening to ``events``; closed after the test."""
    opened: list[SocketClient] = []

    def open_tab(user: Any, *events: str) -> SocketClient:
        tab = SocketClient(*events)
        opened.append(tab)
        return tab.connect_as(live_server, app, user)

    yield open_tab
    for tab in opened:
        tab.close()


def _in_context_of(app: Flask) -> bool:
    return has_app_context() and current_app._get_current_object() is app  # type: ignore[attr-defined]  # a proxy of Flask


def _start_session(app: Flask, user: Any) -> str:
    """A new login session of ``user`` (see ``accounts.start_session``), committed in a unit
    of work of its own; returns the id a session cookie carries for it. On SQLite a write
    cannot follow a read snapshot older than it: the test's own session commits first, as
    before a request (``AlmaClient.open``), so that its next query sees this login."""
    from core.db import db
    from core.models import User
    from core.services.accounts import start_session

    user_id = sa_inspect(user).identity[0]  # not user.id: reading it may begin a snapshot
    if _in_context_of(app):
        db.session.commit()

    def start() -> str:
        with app.app_context():
            member = db.session.get_one(User, user_id)
            start_session(member, "alma test client")
            db.session.commit()
            return str(member.get_id())

    return _outside_requests(start)


def in_unit_of_work(app: Flask, work: Callable[[], T]) -> T:
    """Run ``work`` in an app context and a unit of work of its own, committed when it
    returns, as a job or a command does: outside the test's request context, so that on
    SQLite it takes the write lock up front and a live server committing meanwhile cannot
    make it fail. Pass ids, not rows of the test's session: ``in_unit_of_work(app, lambda:
    post_message(pair_id, db.session.get_one(User, mentor_id), "Hi"))``."""
    from core.db import db

    def run() -> T:
        with app.app_context():
            try:
                result = work()
                db.session.commit()
                return result
            finally:
                db.session.remove()

    return _outside_requests(run)


@contextlib.contextmanager
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements ``app`` sends to its database while the block runs, in order, from
    any thread (a live server's too), as SQLAlchemy hands them to the driver (placeholders
    for values). On SQLite they include the ``BEGIN`` alma sends itself, so count the kind
    you mean where a test runs on both databases. For tests that a page or a job runs a
    bounded number of statements, whatever the size of the data::

        with sql_statements(app) as statements:
            client.get("/kudos/")
        assert len([s for s in statements if s.startswith("SELECT")]) <= 4
    """
    from sqlalchemy import event

    from core.db import db

    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def keep(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _outside_requests(work: Callable[[], T]) -> T:
    """Run ``work`` as a scheduler's thread or a command would, outside the test's request
    context (the ``db`` fixture keeps a GET one pushed): on SQLite a unit of work opened there
    takes the write lock up front, so a live server committing meanwhile cannot make its
    first write after a read fail with "database is locked"."""
    return contextvars.Context().run(work)


def session_cookie(app: Flask, user: Any) -> str:
    """The value of a session cookie logging ``user`` in (a session of their own, as logging
    in makes), for clients outside Flask's."""
    interface = app.session_interface
    serializer = (
        interface.get_signing_serializer(app)
        if isinstance(interface, SecureCookieSessionInterface)
        else None
    )
    if serializer is None:
        raise RuntimeError("the app signs no session cookies (no SECRET_KEY?)")
    cookie: str = serializer.dumps({"_user_id": _start_session(app, user), "_fresh": True})
    return cookie


def open_menu_on_phone(page: Any) -> None:
    """On a narrow screen, open the navigation folded behind the menu button (on a wide one
    it is always open): a Playwright ``page``. It waits for the page's scripts, which make
    the button work, so a click right after a page appears is not lost."""
    page.wait_for_load_state("load")
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#nav.show").wait_for()


def path_of(url: str) -> str:
    """The site path of an absolute link found in a mail."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


__all__ = [
    "TEST_PASSWORD",
    "AlmaClient",
    "CutShortUpgrade",
    "Mailbox",
    "ReceivedWebhook",
    "SMTPSink",
    "SocketClient",
    "WebhookReceiver",
    "all_installed_plugins",
    "assert_api_routes_refuse_visitors",
    "body_of",
    "compiled_catalogs",
    "count_rows",
    "create_postgres_database",
    "cut_websocket_upgrade_short",
    "free_port",
    "in_unit_of_work",
    "path_of",
    "race",
    "run_job",
    "screenshot",
    "served",
    "session_cookie",
    "sql_statements",
    "stored",
    "token_headers",
    "verified",
]
