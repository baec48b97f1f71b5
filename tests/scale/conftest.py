"""alma at scale, started for real on 127.0.0.1 as docs/operating.md tells an operator: a fresh
PostgreSQL database brought up to date by ``alma db upgrade``, two gunicorn web processes
(``core.wsgi:app``) sharing Socket.IO events through Redis, and ``alma scheduler`` processes
sending mail to a real SMTP server. These tests run once, on PostgreSQL (``--db`` must name
it); on SQLite they are skipped. Every process a test starts is stopped by its fixture."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from core.testing import SMTPSink, create_postgres_database, free_port

BIN = Path(sys.executable).parent  # where the `alma` and `gunicorn` commands are installed
REDIS_URL = "redis://127.0.0.1:6379/0"
PLUGINS = ["mentoring"]
MAIL_POLL_SECONDS = 1
TIMEOUT = 20.0  # seconds for a process to start or stop, or for mail to arrive


def wait_until(condition: Callable[[], Any], timeout: float = TIMEOUT, what: str = "") -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


# ---- a real SMTP server that can keep one mail in flight ----------------------------------


@dataclass
class HoldingSMTPSink(SMTPSink):
    """The SMTP server of core/testing.py, which can also hold the mail to one address
    *in flight*: received, but not yet answered, so the sender waits for the answer. The test
    then stops the sender, and lets the server accept the mail or refuse it."""

    held_address: str | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)
    _accept_held: bool = True

    def hold(self, address: str) -> None:
        self.held_address = address
        self.holding.clear()
        self._released.clear()

    def release(self, *, accept: bool) -> None:
        self._accept_held = accept
        self._released.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.held_address is not None and self.held_address in envelope.rcpt_tos:
            self.held_address = None
            self.holding.set()
            await asyncio.to_thread(self._released.wait, TIMEOUT)
            if not self._accept_held:
                return "451 4.3.0 Not accepted, try again later"
        return await super().handle_DATA(server, session, envelope)

    def recipients(self) -> list[str]:
        with self.lock:
            return [message["To"] for message in self.messages]


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[HoldingSMTPSink]:
    from aiosmtpd.controller import Controller

    sink = HoldingSMTPSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    sink.release(accept=False)
    controller.stop()


# ---- processes -----------------------------------------------------------------------------


@dataclass
class Process:
    """A process the test started, in a process group of its own, its output in a file."""

    name: str
    popen: subprocess.Popen
    log: Path
    stop_signal: int = signal.SIGTERM
    asked_to_stop: bool = False

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def send(self, signum: int) -> None:
        """Send a signal (each one that tests send asks the process to stop)."""
        if self.running:
            self.popen.send_signal(signum)
            self.asked_to_stop = True

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.popen.wait(timeout)

    def stop(self) -> None:
        """Ask it to stop (unless it was asked already); kill its group if it has not stopped
        within the timeout."""
        if not self.running:
            return
        if not self.asked_to_stop:
            self.send(self.stop_signal)
        try:
            self.popen.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)  # the group it leads: its own workers
            self.popen.wait()


@dataclass
class Deployment:
    """The set-up of docs/operating.md ("Several processes") on 127.0.0.1."""

    database_url: str
    folder: Path
    smtp_port: int
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Redis pub/sub ignores the database number: a channel of its own keeps this run apart
    # from any other using the same Redis server (another test run, a developer's alma)
    channel: str = field(default_factory=lambda: f"alma-scale-test-{secrets.token_hex(6)}")
    processes: list[Process] = field(default_factory=list)
    web_urls: list[str] = field(default_factory=list)

    def environment(self, application_name: str) -> dict[str, str]:
        """What an operator exports: every setting as an ``ALMA_<KEY>`` variable. The
        database URL names the process (``application_name``), so PostgreSQL can tell which
        process holds the scheduler's lock."""
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("ALMA_")}
        separator = "&" if "?" in self.database_url else "?"
        named_url = f"{self.database_url}{separator}application_name={application_name}"
        return inherited | {
            "ALMA_DATABASE_URL": named_url,
            "ALMA_INSTANCE_PATH": str(self.folder / "instance"),
            "ALMA_PLUGINS": ",".join(PLUGINS),
            "ALMA_SECRET_KEY": self.secret_key,
            "ALMA_BASE_URL": "http://alma.test",
            "ALMA_SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
            "ALMA_SOCKETIO_CHANNEL": self.channel,
            "ALMA_RATE_LIMIT_KEY_PREFIX": self.channel,  # counts of this run only
            "ALMA_MAIL_BACKEND": "smtp",
            "ALMA_MAIL_HOST": "127.0.0.1",
            "ALMA_MAIL_PORT": str(self.smtp_port),
            "ALMA_MAIL_POLL_SECONDS": str(MAIL_POLL_SECONDS),
            "PYTHONUNBUFFERED": "1",  # log lines reach the file as they are written
        }

    def settings(self) -> dict[str, Any]:
        """The same settings, for the app the test itself uses to read and write data."""
        return {
            "DATABASE_URL": self.database_url,
            "PLUGINS": PLUGINS,
            "SECRET_KEY": self.secret_key,
            "BASE_URL": "http://alma.test",
            "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
            "SOCKETIO_CHANNEL": self.channel,
            "RATE_LIMIT_KEY_PREFIX": self.channel,
            "MAIL_BACKEND": "smtp",
            "MAIL_PORT": self.smtp_port,
        }

    def run(self, name: str, *command: str) -> subprocess.CompletedProcess:
        """Run a command to its end, as the operator would (``alma db upgrade``)."""
        return subprocess.run(
            command,
            env=self.environment(name),
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    def start(self, name: str, *command: str, stop_signal: int = signal.SIGTERM) -> Process:
        log = self.folder / f"{name}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                command,
                env=self.environment(name),
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own, so its workers can be killed too
            )
        process = Process(name, popen, log, stop_signal)
        self.processes.append(process)
        return process

    def start_webs(self, *names: str) -> list[str]:
        """gunicorn web processes, started as docs/operating.md says (all at once, then each
        waited for); returns their URLs."""
        started: dict[str, Process] = {}
        for name in names:
            port = free_port()
            started[f"http://127.0.0.1:{port}"] = self.start(
                name,
                str(BIN / "gunicorn"),
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "100",
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{port}",
                "core.wsgi:app",
                stop_signal=signal.SIGINT,  # at once: SIGTERM waits for open sockets to close
            )
        for url, process in started.items():
            wait_until(partial(_answers, url, process), what=f"{process.name} to answer")
        self.web_urls += started
        return list(started)

    def start_schedulers(self, *names: str) -> list[Process]:
        """``alma scheduler`` processes (all at once, then each waited for)."""
        started = [self.start(name, str(BIN / "alma"), "scheduler") for name in names]
        for process in started:
            wait_until(partial(_scheduler_started, process), what=f"{process.name} to start")
        return started

    def stop_all(self) -> None:
        stop(self.processes)


def stop(processes: list[Process]) -> None:
    """Stop processes together (each is asked, then each waited for)."""
    for process in processes:
        process.send(process.stop_signal)
    for process in processes:
        process.stop()


def _answers(url: str, process: Process) -> bool:
    if not process.running:
        raise AssertionError(f"{process.name} stopped:\n{process.output()}")
    try:
        return requests.get(f"{url}/login", timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or its worker still booting
        return False


def _scheduler_started(process: Process) -> bool:
    if not process.running:
        raise AssertionError(f"{process.name} stopped:\n{process.output()}")
    # running jobs, or standing by as another one does
    return re.search(r"^alma scheduler (running|standing by)", process.output(), re.M) is not None


@pytest.fixture(scope="module")
def production_database(database_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database of its own (``alma db upgrade`` is the test's to run)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the production set-up runs on PostgreSQL (run with --db=postgresql)")
    url, drop = create_postgres_database()
    yield url
    drop()


@pytest.fixture(scope="module")
def deployment(
    production_database: str,
    smtp_sink: HoldingSMTPSink,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """The database brought up to date by ``alma db upgrade``; two web processes."""
    setup = Deployment(production_database, tmp_path_factory.mktemp("production"), smtp_sink.port)
    try:
        setup.run("upgrade", str(BIN / "alma"), "db", "upgrade")
        setup.start_webs("web-a", "web-b")
        yield setup
    finally:
        setup.stop_all()


@pytest.fixture(scope="module")
def data(deployment: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on the same database and settings, for the test to write and read data with
    the services (it runs no jobs and serves no one)."""
    from core.app import create_app
    from core.db import db

    app = create_app(deployment.settings(), instance_path=tmp_path_factory.mktemp("test-app"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def schedulers(deployment: Deployment) -> Iterator[Callable[..., list[Process]]]:
    """``schedulers(*names)`` starts ``alma scheduler`` processes, stopped after the test."""
    started: list[Process] = []

    def start(*names: str) -> list[Process]:
        processes = deployment.start_schedulers(*names)
        started.extend(processes)
        return processes

    yield start
    stop(started)


def scheduler_lock_holder(app: Flask) -> str | None:
    """The ``application_name`` of the process holding the scheduler's advisory lock."""
    from core.db import db
    from core.scheduler import ADVISORY_LOCK_KEY, WHO_HOLDS_THE_LOCK

    with app.app_context():
        try:
            holder = db.session.execute(WHO_HOLDS_THE_LOCK, {"key": ADVISORY_LOCK_KEY}).first()
            return None if holder is None else holder.application_name
        finally:
            db.session.remove()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)
