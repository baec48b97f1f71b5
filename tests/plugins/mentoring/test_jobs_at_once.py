"""Mentoring's jobs run twice at the same moment (two schedulers while one loses its lock, or
``alma jobs run`` beside the scheduler): each mail still goes out once. The follow-up jobs
(reminders, feedback requests, nudges) are raced in test_followups.py; here the chat digest
and the expiry of unanswered requests. On PostgreSQL row locks decide; on SQLite each job
takes the write lock up front."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from core.db import utcnow
from core.testing import race
from plugins.mentoring.models import ChatMessage, Mentorship
from plugins.mentoring.services import chat, lifecycle


@pytest.fixture
def app(make_app):
    return make_app(PLUGIN_SETTINGS={"mentoring": {"chat_digest_after_minutes": 1}})


@pytest.fixture
def unread_chat(db, mail, pairs, mentee, mentor) -> int:
    """Two messages from the mentor, unread by the mentee for ten minutes: a digest is due."""
    mentorship_id = pairs.accept(mentee, mentor)
    for body in ("Welcome!", "When are you free?"):
        chat.post_message(mentorship_id, mentor, body)
    db.session.execute(update(ChatMessage).values(created_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    mail.deliver()  # the request's and the acceptance's own mails
    return mentorship_id


@pytest.fixture
def expired_request(db, mail, pairs, mentee, mentor) -> int:
    mentorship_id = pairs.request(mentee, mentor)
    db.session.execute(update(Mentorship).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    mail.deliver()
    return mentorship_id


def test_two_digest_runs_at_once_send_one_digest(app, db, mail, unread_chat, mentee):
    outcomes = race(app, chat.send_chat_digests, chat.send_chat_digests)

    assert sorted(outcomes) == [("ok", 0), ("ok", 1)]
    [digest] = mail.deliver()
    assert digest["To"] == mentee.email
    assert digest["Subject"] == "2 unread messages from Max Mentor"
    assert race(app, chat.send_chat_digests) == [("ok", 0)]


def test_a_digest_run_waiting_for_an_uncommitted_one_sends_nothing_more(
    app, db, mail, unread_chat, mentee
):
    """The first run has queued the digest but not committed yet when the second starts: the
    second must wait for it and see the digest sent, not send it again."""
    sent = first_then_second(app, db, chat.send_chat_digests)

    assert sent == {"first": 1, "second": 0}
    assert [message["To"] for message in mail.deliver()] == [mentee.email]


def test_a_digest_is_still_due_for_a_chat_the_other_run_did_not_cover(
    app, db, mail, pairs, unread_chat, mentee, create_user
):
    """The lock is per chat and recipient: a run waiting for one digest still sends another."""
    grace = create_user(
        email="grace@example.org", display_name="Grace Hopper", wants_to_mentor=True
    )
    other_chat = pairs.accept(mentee, grace)
    message = chat.post_message(other_chat, grace, "Hello from Grace")
    message.created_at = utcnow() - timedelta(minutes=10)
    db.session.commit()
    mail.deliver()

    outcomes = race(app, chat.send_chat_digests, chat.send_chat_digests)

    assert sum(result for _, result in outcomes) == 2
    subjects = sorted(message["Subject"] for message in mail.deliver())
    assert subjects == ["1 unread message from Grace Hopper", "2 unread messages from Max Mentor"]


def test_two_expiry_runs_at_once_end_a_request_once(app, db, mail, expired_request):
    outcomes = race(app, lifecycle.expire_requests, lifecycle.expire_requests)

    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    received = sorted(message["To"] for message in mail.deliver())
    assert received == ["max@example.org", "mia@example.org"]  # one notice each


def test_an_expiry_run_waiting_for_an_uncommitted_one_sends_nothing_more(
    app, db, mail, expired_request
):
    first_then_second(app, db, lifecycle.expire_requests)

    received = sorted(message["To"] for message in mail.deliver())
    assert received == ["max@example.org", "mia@example.org"]


def first_then_second(app, db, job: Callable[[], Any]) -> dict[str, Any]:
    """Run ``job`` in a first unit of work that waits before committing, and meanwhile in a
    second one; what each returned."""
    from core.db import db as database

    db.session.commit()
    done, release = threading.Event(), threading.Event()
    returned: dict[str, Any] = {}

    def first() -> None:
        with app.app_context():
            returned["first"] = job()
            done.set()
            release.wait(30)
            database.session.commit()
            database.session.remove()

    def second() -> None:
        done.wait(30)
        with app.app_context():
            returned["second"] = job()
            database.session.commit()
            database.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    done.wait(30)
    time.sleep(0.5)  # the second run reaches the rows the first one holds
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return returned
