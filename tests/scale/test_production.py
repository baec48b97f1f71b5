"""The production set-up of docs/operating.md, for real: PostgreSQL, two gunicorn web processes
joined by Redis, one ``alma scheduler`` (a second one standing by), a real SMTP server.

A chat message sent through one web process reaches the other party connected to the other;
a mail queued while no scheduler runs waits (web processes run no jobs), then goes out once;
stopping the scheduler with SIGTERM or SIGKILL, while a mail is in flight, loses and repeats
nothing, and the scheduler standing by takes over."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
import requests
from flask import Flask
from sqlalchemy import update

from core.db import db, utcnow
from core.models import OutboxMail, User
from core.services.accounts import hash_password
from core.services.mail import send_mail
from core.services.profiles import save_profile_fields
from core.testing import SocketClient, count_rows, cut_websocket_upgrade_short
from plugins.mentoring.services import lifecycle
from plugins.mentoring.services.verification import mark_verified

from .conftest import (
    MAIL_POLL_SECONDS,
    Deployment,
    HoldingSMTPSink,
    csrf_token,
    scheduler_lock_holder,
    wait_until,
)

PASSWORD = "a long enough password"
QUIET = 2 * MAIL_POLL_SECONDS  # seconds in which a mail that should not go out would have


def create_member(app: Flask, email: str, name: str, **choices: bool) -> int:
    """A confirmed member; ``choices`` are fields of the profile form (``wants_to_mentor``)."""
    with app.app_context():
        member = User(
            email=email,
            password_hash=hash_password(PASSWORD),
            display_name=name,
            email_confirmed_at=utcnow(),
        )
        db.session.add(member)
        db.session.flush()
        save_profile_fields(member, choices)
        if choices.get("wants_to_mentor"):
            mark_verified(member)  # as a coordinator would have
        db.session.commit()
        return member.id


def accepted_mentorship(app: Flask, mentee_id: int, mentor_id: int) -> int:
    with app.test_request_context():
        mentee, mentor = db.session.get(User, mentee_id), db.session.get(User, mentor_id)
        mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me in Python?")
        db.session.commit()
        lifecycle.accept_request(mentorship.id, mentor)
        db.session.commit()
        return mentorship.id


def log_in(base_url: str, email: str) -> requests.Session:
    """A browser logged in through the login form of one web process."""
    browser = requests.Session()
    form = browser.get(f"{base_url}/login", timeout=5)
    answer = browser.post(
        f"{base_url}/login",
        data={"csrf_token": csrf_token(form.text), "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    return browser


def queue_mails(app: Flask, addresses: list[str]) -> None:
    member = SimpleNamespace(display_name="Ada")
    with app.test_request_context():
        for address in addresses:
            send_mail(address, "Your password was changed", "mail/password_changed", user=member)
        db.session.commit()


def unsent_mails(app: Flask, addresses: list[str]) -> int:
    return count_rows(
        app, OutboxMail, OutboxMail.to_address.in_(addresses), OutboxMail.sent_at.is_(None)
    )


class Tab(SocketClient):
    def join(self, mentorship_id: int) -> dict:
        return self.call("mentoring.join", {"mentorship_id": mentorship_id})

    def send(self, mentorship_id: int, body: str) -> dict:
        return self.call("mentoring.send", {"mentorship_id": mentorship_id, "body": body})


@pytest.fixture
def tabs() -> Iterator[Callable[..., Tab]]:
    """``tabs(url, browser, transports)``: a member's Socket.IO connection to one process."""
    opened: list[Tab] = []

    def open_(url: str, browser: requests.Session, transports: list[str]) -> Tab:
        tab = Tab("mentoring.message", "badge")
        opened.append(tab)
        tab.client.connect(
            url,
            headers={"Cookie": f"session={browser.cookies['session']}"},
            transports=transports,
            wait_timeout=5,
        )
        return tab

    yield open_
    for tab in opened:
        tab.client.disconnect()


# ---- Socket.IO across web processes ------------------------------------------------------


def test_a_chat_message_sent_through_one_web_process_reaches_the_other(
    deployment: Deployment, data: Flask, tabs
):
    web_a, web_b = deployment.web_urls
    ada = create_member(data, "ada@example.org", "Ada Lovelace", wants_to_be_mentored=True)
    rui = create_member(data, "rui@example.org", "Rui Mentor", wants_to_mentor=True)
    chat = accepted_mentorship(data, ada, rui)
    ada_browser, rui_browser = log_in(web_a, "ada@example.org"), log_in(web_b, "rui@example.org")
    # the session one process made is good on the other (the same SECRET_KEY)
    assert "Rui Mentor" in rui_browser.get(f"{web_a}/me", timeout=5).text

    # a browser upgrades to WebSocket; long polling is its start, and its fallback
    ada_tab = tabs(web_a, ada_browser, ["polling", "websocket"])
    rui_tab = tabs(web_b, rui_browser, ["polling"])
    assert ada_tab.client.transport() == "websocket"
    assert ada_tab.join(chat) == {"ok": True}
    assert rui_tab.join(chat) == {"ok": True}

    sent = ada_tab.send(chat, "Hello Rui, shall we meet on Tuesday?")

    assert sent["ok"] is True
    received = rui_tab.next("mentoring.message")
    assert (received["id"], received["sender"]) == (sent["id"], "Ada Lovelace")
    assert received["body"] == "Hello Rui, shall we meet on Tuesday?"
    assert rui_tab.next("badge") == {"endpoint": "mentoring.index", "count": 1}

    answer = rui_tab.send(chat, "Tuesday is fine.")

    assert rui_tab.next("mentoring.message")["id"] == answer["id"]
    # the writer's tabs show what they sent too
    assert [ada_tab.next("mentoring.message")["id"] for _ in range(2)] == [sent["id"], answer["id"]]
    # each message reached each tab once, though both processes heard it from Redis
    assert rui_tab.received("mentoring.message") == ada_tab.received("mentoring.message") == []


def test_an_upgrade_cut_short_ends_quietly(deployment: Deployment, data: Flask):
    [web_a] = [process for process in deployment.processes if process.name == "web-a"]
    create_member(data, "eve@example.org", "Eve Left")
    browser = log_in(deployment.web_urls[0], "eve@example.org")
    logged = len(web_a.output())

    cut = cut_websocket_upgrade_short(
        deployment.web_urls[0], f"session={browser.cookies['session']}"
    )

    assert cut.ended_quietly, cut.answer
    time.sleep(0.5)  # gunicorn logs an error in the app within milliseconds: none came
    assert "Traceback" not in web_a.output()[logged:]


# ---- scheduled mail: one scheduler, web processes never -----------------------------------


def test_web_processes_send_no_mail_and_the_one_scheduler_sends_it_once(
    deployment: Deployment, data: Flask, smtp_sink: HoldingSMTPSink, schedulers
):
    web_a, _web_b = deployment.web_urls
    create_member(data, "forgetful@example.org", "Forgetful Member")
    visitor = requests.Session()
    form = visitor.get(f"{web_a}/reset", timeout=5)

    asked = visitor.post(
        f"{web_a}/reset",
        data={"csrf_token": csrf_token(form.text), "email": "forgetful@example.org"},
        timeout=5,
    )

    assert asked.status_code == 200
    assert unsent_mails(data, ["forgetful@example.org"]) == 1
    time.sleep(QUIET)  # two web processes run, no scheduler: the mail waits in the outbox
    assert "forgetful@example.org" not in smtp_sink.recipients()
    assert scheduler_lock_holder(data) is None

    schedulers("scheduler")

    wait_until(lambda: "forgetful@example.org" in smtp_sink.recipients(), what="the reset mail")
    assert scheduler_lock_holder(data) == "scheduler"
    time.sleep(QUIET)
    assert smtp_sink.recipients().count("forgetful@example.org") == 1
    assert unsent_mails(data, ["forgetful@example.org"]) == 0


# ---- restarting the scheduler --------------------------------------------------------------


def test_restarting_the_scheduler_loses_and_repeats_no_mail(
    deployment: Deployment, data: Flask, smtp_sink: HoldingSMTPSink, schedulers
):
    started = {process.name: process for process in schedulers("scheduler-1", "scheduler-2")}
    active = started.pop(wait_until(lambda: scheduler_lock_holder(data), what="a scheduler"))
    (standby,) = started.values()
    wait_until(lambda: "standing by" in standby.output(), what="the other one to stand by")
    assert scheduler_lock_holder(data) == active.name

    # SIGTERM (a service manager's stop) while a mail is in flight: it is finished first
    stopped = [f"stopped-{n}@example.org" for n in range(6)]
    smtp_sink.hold(stopped[2])
    queue_mails(data, stopped)
    assert smtp_sink.holding.wait(10), "the mail never reached the SMTP server"
    active.send(signal.SIGTERM)
    time.sleep(0.5)
    assert active.running  # waiting for the SMTP server's answer
    smtp_sink.release(accept=True)
    assert active.wait() == 0
    wait_for_lock(data, standby.name)  # the one standing by takes over

    # SIGKILL (a crash) while a mail is in flight: the server never accepted it
    killed = [f"killed-{n}@example.org" for n in range(6)]
    smtp_sink.hold(killed[2])
    queue_mails(data, killed)
    assert smtp_sink.holding.wait(10), "the mail never reached the SMTP server"
    standby.send(signal.SIGKILL)
    standby.wait()
    smtp_sink.release(accept=False)
    schedulers("scheduler-3")
    wait_for_lock(data, "scheduler-3")
    wait_until(lambda: unsent_mails(data, killed) == 1, what="all but the mail in flight")
    # that one is claimed for five minutes (a crashed sender may still be at it): they pass
    expire_claims(data, killed)

    wait_until(lambda: unsent_mails(data, stopped + killed) == 0, what="every mail to go out")
    time.sleep(QUIET)
    received = Counter(smtp_sink.recipients())
    assert {address: received[address] for address in stopped + killed} == dict.fromkeys(
        stopped + killed, 1
    )


def wait_for_lock(app: Flask, name: str) -> None:
    # a standby looks for the lock every 5 seconds
    wait_until(lambda: scheduler_lock_holder(app) == name, what=f"{name} to take over")


def expire_claims(app: Flask, addresses: list[str]) -> None:
    with app.app_context():
        db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.to_address.in_(addresses), OutboxMail.sent_at.is_(None))
            .values(next_attempt_at=utcnow())
        )
        db.session.commit()
