"""Mentoring's rate limits: chat messages per member, over Socket.IO (an error in the ack,
nothing stored, the page keeps the text) and through the form without JavaScript (the page
again, filled, as a 429); mentorship requests per member (the request form again, filled).
The other party and other members are not held back by one member's limit."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.testing import count_rows
from plugins.mentoring.models import ChatMessage, Mentorship

LIMITS = {
    "mentoring-chat": "3/minute",
    "mentoring-request": "2/day",
    "mentoring-verification": "2/day",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def app(make_app, rate_limit_storage):
    return make_app(RATE_LIMIT_STORAGE_URL=rate_limit_storage, RATE_LIMITS=LIMITS)


def messages(app, mentorship_id: int) -> list[str]:
    from core.db import db

    with app.app_context():
        try:
            return list(
                db.session.scalars(
                    select(ChatMessage.body)
                    .where(ChatMessage.mentorship_id == mentorship_id)
                    .order_by(ChatMessage.id)
                )
            )
        finally:
            db.session.remove()


def send(tab, chat: int, body: str):
    return tab.call("mentoring.send", {"mentorship_id": chat, "body": body})


def test_chat_messages_over_the_socket_are_limited_per_member(app, socket_as, chat, mentee, mentor):
    mia = socket_as(mentee)
    max_ = socket_as(mentor)
    for n in range(3):
        assert send(mia, chat, f"Hello {n}")["ok"] is True

    answer = send(mia, chat, "One too many")

    assert answer["ok"] is False
    assert answer["error"].startswith("You did this too often for now. Try again in ")
    assert 1 <= answer["retry_after"] <= 60
    assert messages(app, chat) == ["Hello 0", "Hello 1", "Hello 2"]
    assert send(max_, chat, "I can still answer")["ok"] is True  # counted per member
    assert send(mia, chat, "{}")["ok"] is False  # still waiting


def test_the_chat_limit_frees_up_as_the_minute_passes(app, socket_as, chat, mentee):
    with time_machine.travel(datetime(2027, 5, 3, 9, tzinfo=UTC), tick=False) as clock:
        mia = socket_as(mentee)
        for n in range(3):
            assert send(mia, chat, f"Hello {n}")["ok"] is True
        assert send(mia, chat, "Too soon")["retry_after"] == 60
        clock.shift(timedelta(seconds=61))
        assert send(mia, chat, "Later")["ok"] is True
    assert messages(app, chat)[-1] == "Later"


def test_the_chat_form_without_javascript_comes_back_filled_as_a_429(app, client, chat, mentee):
    client.login(mentee)
    for n in range(3):
        response = client.post(f"/mentoring/{chat}/messages", data={"body": f"Form {n}"})
        assert response.status_code == 302

    refused = client.post(f"/mentoring/{chat}/messages", data={"body": "Kept text"})

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    page = refused.get_data(as_text=True)
    assert "Try again in 60 seconds." in page
    assert "Kept text</textarea>" in page
    assert messages(app, chat) == ["Form 0", "Form 1", "Form 2"]


def test_the_socket_and_the_form_share_one_count(app, client, socket_as, chat, mentee):
    mia = socket_as(mentee)
    for n in range(3):
        assert send(mia, chat, f"Live {n}")["ok"] is True
    client.login(mentee)
    assert client.post(f"/mentoring/{chat}/messages", data={"body": "x"}).status_code == 429


def test_mentorship_requests_are_limited_and_the_message_is_kept(
    app, client, db, make_mentor, mentee, outsider
):
    mentors = [make_mentor(f"Mentor {n}") for n in range(3)]
    client.login(mentee)
    for mentor in mentors[:2]:
        sent = client.post(f"/mentoring/request/{mentor.id}", data={"message": "Please?"})
        assert sent.status_code == 302

    refused = client.post(
        f"/mentoring/request/{mentors[2].id}", data={"message": "My careful message"}
    )

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 86000
    page = refused.get_data(as_text=True)
    assert "Try again in 24 hours." in page or "Try again in 1 day." in page
    assert "My careful message" in page
    assert count_rows(app, Mentorship) == 2

    other = app.test_client()
    other.login(outsider)  # another mentee is not held back
    sent = other.post(f"/mentoring/request/{mentors[2].id}", data={"message": "Me too"})
    assert sent.status_code == 302


def test_identity_documents_are_limited_per_member_with_a_429(app, db, create_user):
    from pathlib import Path

    from plugins.mentoring.models import MentorVerification

    vera, otto = (create_user(wants_to_mentor=True, verified_mentor=False) for _ in range(2))
    folder = Path(app.instance_path) / "mentoring" / "verification"

    def upload(member):
        client = app.test_client()
        client.login(member)
        return client.post(
            "/mentoring/verification",
            data={"document": (io.BytesIO(PNG), "passport.png")},
            content_type="multipart/form-data",
        )

    for _ in range(2):
        assert upload(vera).status_code == 302
    refused = upload(vera)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 86000
    assert "You did this too often for now." in refused.get_data(as_text=True)
    assert len(list(folder.iterdir())) == 1  # the second replaced the first; no third
    assert upload(otto).status_code == 302  # another mentor is not held back
    assert count_rows(app, MentorVerification) == 2


def test_the_api_counts_against_the_pages_limits(app, client, db, chat, make_mentor, mentee):
    from core.services.tokens import create_token

    token = {"Authorization": f"Bearer {create_token(mentee, 'my app', 'write')}"}
    db.session.commit()
    written = f"/api/v1/mentoring/mentorships/{chat}/messages"
    for n in range(3):
        assert client.post(written, json={"text": f"API {n}"}, headers=token).status_code == 201
    refused = client.post(written, json={"text": "One too many"}, headers=token)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    client.login(mentee)
    assert client.post(f"/mentoring/{chat}/messages", data={"body": "x"}).status_code == 429
    assert messages(app, chat) == ["API 0", "API 1", "API 2"]

    mentors = [make_mentor(f"Mentor {n}") for n in range(3)]
    asked = [
        client.post(
            "/api/v1/mentoring/mentorships",
            json={"mentor_id": mentor.id, "message": "Please?"},
            headers=token,
        ).status_code
        for mentor in mentors
    ]
    assert asked == [201, 201, 429]
