"""The pair's private chat without JavaScript: a plain form post and the page again, history
a page at a time (and as JSON for the page's script), only ever for the two parties, closed
for new messages when the mentorship ends, unread counts, and one e-mail digest for a chat
left unread."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pytest
from sqlalchemy import select, update
from sqlalchemy import text as sql

from core.errors import InvalidInput
from core.models import User
from core.testing import body_of, count_rows, path_of, race, stored
from plugins.mentoring.models import ChatMessage, ChatReader, Mentorship
from plugins.mentoring.services import chat as chats
from plugins.mentoring.services import ending, lifecycle

# ---- helpers -------------------------------------------------------------------------------


@pytest.fixture
def mentee(create_user):
    return create_user(display_name="Ada Lovelace", wants_to_be_mentored=True)


@pytest.fixture
def mentor(create_user):
    return create_user(display_name="Rui Mentor", wants_to_mentor=True)


@pytest.fixture
def outsider(create_user):
    return create_user(display_name="Eve Outsider")


@pytest.fixture
def chat(pairs, mentee, mentor) -> int:
    """An accepted mentorship of ``mentee`` and ``mentor``: its id."""
    return pairs.accept(mentee, mentor)


def write(db, mentorship_id: int, sender, *bodies: str) -> list[int]:
    """Messages written through the service, committed; their ids."""
    ids = [chats.post_message(mentorship_id, sender, body).id for body in bodies]
    db.session.commit()
    return ids


@dataclass
class Shown:
    """A chat message as the page shows it."""

    id: int
    sender: str
    time: str  # as displayed, spaces normalised
    datetime: str  # the machine-readable time
    body: str  # HTML


def shown_messages(page: str) -> list[Shown]:
    """The messages in the page's chat, oldest first."""
    shown = []
    for message_id, item in re.findall(
        r'<li class="chat-message[^"]*"[^>]*data-id="(\d+)"[^>]*>(.*?)</li>', page, re.S
    ):
        meta, body = re.fullmatch(
            r"\s*<div[^>]*>(.*?)</div>\s*<div[^>]*>(.*?)</div>\s*", item, re.S
        ).groups()
        when = re.search(r'<time datetime="([^"]+)">(.*?)</time>', meta)
        sender = re.sub(r"<[^>]+>", "", meta[: when.start()]).strip(" ·\n")
        time = re.sub(r"[\s\u202f\xa0]+", " ", when.group(2)).strip()
        shown.append(Shown(int(message_id), sender, time, when.group(1), body))
    return shown


def bodies_in_chat(page: str) -> list[str]:
    return [message.body for message in shown_messages(page)]


def nav_badge(page: str) -> int | None:
    """The unread count on "My mentorships" in the navigation, or None when it is hidden."""
    match = re.search(r'<span class="([^"]*)" data-nav-badge="mentoring\.index">(\d+)</span>', page)
    assert match, "no unread badge on My mentorships"
    classes, count = match.groups()
    return None if "d-none" in classes.split() else int(count)


def list_badge(page: str, other_name: str) -> int | None:
    """The unread count next to the mentorship with ``other_name`` on /mentoring/."""
    for item in re.findall(r'<li class="list-group-item.*?</li>', page, re.S):
        if f">{other_name}</a>" in item:
            match = re.search(r'<span class="badge[^"]*"[^>]*>(\d+)\D', item)  # a number
            if match is None:
                return None
            assert "unread messages" in item  # said to those who cannot see the badge
            return int(match.group(1))
    raise AssertionError(f"no mentorship with {other_name} listed")


def flashed(page: str) -> str:
    """The error messages shown on the page."""
    found = re.findall(r'<div class="alert alert-danger[^"]*"[^>]*>(.*?)<button', page, re.S)
    return " ".join(" ".join(message.split()) for message in found)


def chat_messages(app, mentorship_id: int) -> list[str]:
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


def age(db, *message_ids: int, minutes: int) -> None:
    """Move messages ``minutes`` into the past, as if written then."""
    db.session.execute(
        update(ChatMessage)
        .where(ChatMessage.id.in_(message_ids))
        .values(created_at=datetime.now(UTC) - timedelta(minutes=minutes))
    )
    db.session.commit()


# ---- writing and reading without JavaScript ------------------------------------------------


def test_a_posted_message_is_stored_and_shown_with_its_sender(app, client, chat, mentee, mentor):
    client.login(mentee)

    response = client.post(f"/mentoring/{chat}/messages", data={"body": "  Hello Rui!  "})

    assert response.status_code == 302
    assert response.location.endswith(f"/mentoring/{chat}#chat")
    assert chat_messages(app, chat) == ["Hello Rui!"]
    assert stored(app, select(ChatMessage.sender_id).where(ChatMessage.mentorship_id == chat)) == (
        mentee.id
    )

    client.login(mentor)
    page = client.get(f"/mentoring/{chat}").text
    assert [(m.sender, m.body) for m in shown_messages(page)] == [("Ada Lovelace", "Hello Rui!")]
    client.post(f"/mentoring/{chat}/messages", data={"body": "Hi Ada"})

    for member in (mentee, mentor):
        client.login(member)
        page = client.get(f"/mentoring/{chat}").text
        assert [(m.sender, m.body) for m in shown_messages(page)] == [
            ("Ada Lovelace", "Hello Rui!"),
            ("Rui Mentor", "Hi Ada"),
        ]
        assert 'id="chat-form"' in page
    assert chat_messages(app, chat) == ["Hello Rui!", "Hi Ada"]


def test_each_party_sees_the_time_in_their_own_time_zone(db, client, chat, mentee, mentor):
    mentee.timezone = "America/New_York"
    mentor.timezone = "Asia/Tokyo"
    db.session.commit()
    (message_id,) = write(db, chat, mentee, "When shall we meet?")
    db.session.execute(
        update(ChatMessage)
        .where(ChatMessage.id == message_id)
        .values(created_at=datetime(2024, 1, 15, 3, 30, tzinfo=UTC))
    )
    db.session.commit()

    client.login(mentee)
    (shown,) = shown_messages(client.get(f"/mentoring/{chat}").text)
    assert shown.id == message_id
    assert datetime.fromisoformat(shown.datetime) == datetime(2024, 1, 15, 3, 30, tzinfo=UTC)
    assert shown.time == "Jan 14, 2024, 10:30 PM"  # the evening before, in New York

    client.login(mentor)
    (shown,) = shown_messages(client.get(f"/mentoring/{chat}").text)
    assert shown.time == "Jan 15, 2024, 12:30 PM"  # lunchtime in Tokyo


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "This field is required."), ("   \n ", "This field is required."), ("x" * 4001, "")],
    ids=["empty", "blank", "too-long"],
)
def test_an_empty_or_too_long_message_is_refused_with_a_message(
    app, client, chat, mentee, body, error
):
    client.login(mentee)

    response = client.post(f"/mentoring/{chat}/messages", data={"body": body})

    assert response.status_code == 302
    assert chat_messages(app, chat) == []
    page = client.get(response.location).text
    message = flashed(page)
    assert message, "no error message shown"
    assert error in message
    if body.startswith("x"):
        assert "4000" in message


def test_the_longest_message_allowed_is_stored(app, client, chat, mentee):
    client.login(mentee)

    client.post(f"/mentoring/{chat}/messages", data={"body": "x" * 4000})

    assert chat_messages(app, chat) == ["x" * 4000]


def form_key(page: str) -> str:
    """The key the chat form carries (a hidden field), new with each page."""
    match = re.search(r'<input id="key" name="key" type="hidden" value="([^"]+)">', page)
    assert match, "the chat form carries no key"
    return match.group(1)


def test_a_form_posted_twice_with_its_key_stores_one_message(app, client, chat, mentee, mentor):
    client.login(mentee)
    key = form_key(client.get(f"/mentoring/{chat}").text)

    for _ in range(2):  # a double tap, or a resend after the answer was lost
        response = client.post(
            f"/mentoring/{chat}/messages", data={"body": "Hello Rui!", "key": key}
        )
        assert response.status_code == 302

    assert chat_messages(app, chat) == ["Hello Rui!"]
    page = client.get(response.location).text
    assert bodies_in_chat(page) == ["Hello Rui!"]
    assert flashed(page) == ""
    # the next page's form names the next message
    next_key = form_key(page)
    assert next_key != key
    client.post(f"/mentoring/{chat}/messages", data={"body": "Hello Rui!", "key": next_key})
    # a key is the sender's: the other party's message with the same key is another message
    client.login(mentor)
    client.post(f"/mentoring/{chat}/messages", data={"body": "Hi Ada", "key": key})
    assert chat_messages(app, chat) == ["Hello Rui!", "Hello Rui!", "Hi Ada"]


@pytest.mark.parametrize("key", ["short", "x" * 65, "not a key!", "ключ-ключ-ключ"])
def test_a_form_with_a_broken_key_is_refused_with_a_message(app, client, chat, mentee, key):
    client.login(mentee)

    response = client.post(f"/mentoring/{chat}/messages", data={"body": "Hello", "key": key})

    assert chat_messages(app, chat) == []
    assert "reload the page" in flashed(client.get(response.location).text)


def test_the_same_key_sent_at_the_same_instant_stores_one_message(app, db, chat, mentee):
    mentee_id = mentee.id

    def send() -> int:
        return chats.post_message(chat, db.session.get(User, mentee_id), "Hello", "the-same-key").id

    outcomes = race(app, send, send, send)

    assert [outcome for outcome, _id in outcomes] == ["ok"] * 3, outcomes
    assert len({message_id for _outcome, message_id in outcomes}) == 1
    assert chat_messages(app, chat) == ["Hello"]


def test_a_message_is_shown_as_text_never_as_html(client, db, chat, mentee, mentor):
    write(db, chat, mentor, '<script>alert("hi")</script> <b>bold</b> & "quotes"')
    client.login(mentee)

    page = client.get(f"/mentoring/{chat}").text

    assert bodies_in_chat(page) == [
        "&lt;script&gt;alert(&#34;hi&#34;)&lt;/script&gt; "
        "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;"
    ]
    assert "<script>alert" not in page
    assert "<b>bold" not in page


def test_web_links_are_clickable_safely_and_other_schemes_are_not(client, db, chat, mentee, mentor):
    write(
        db,
        chat,
        mentor,
        "Read https://example.org/a?b=1&c=2, then http://example.net/x.\n"
        "Not this: javascript:alert(1) nor JAVASCRIPT://x%0aalert(1) nor "
        'data:text/html,<script>x</script> nor https://example.com/"onmouseover="alert(1)',
    )
    client.login(mentee)

    (body,) = bodies_in_chat(client.get(f"/mentoring/{chat}").text)

    links = re.findall(r"<a ([^>]*)>(.*?)</a>", body)
    assert [text for _attrs, text in links] == [
        "https://example.org/a?b=1&amp;c=2",
        "http://example.net/x",  # the sentence's full stop is not part of it
        "https://example.com/",
    ]
    for attrs, text in links:
        assert f'href="{text}"' in attrs
        assert 'rel="nofollow noopener noreferrer"' in attrs
        assert 'target="_blank"' in attrs
        assert "onmouseover" not in attrs
    assert "javascript:alert(1)" in body  # shown, as text
    assert 'href="javascript' not in body.lower()
    assert 'href="data' not in body
    assert "&lt;script&gt;" in body
    assert "&#34;onmouseover=&#34;alert(1)" in body


# ---- history, a page at a time ---------------------------------------------------------------


def older_link(page: str) -> str | None:
    match = re.search(r'<a [^>]*id="chat-older" href="([^"]+)"', page)
    return match.group(1).replace("&amp;", "&") if match else None


def test_history_is_paginated_backwards_thirty_at_a_time(client, db, chat, mentee, mentor):
    ids = write(db, chat, mentor, *(f"message {n}" for n in range(1, 66)))
    client.login(mentee)

    newest = client.get(f"/mentoring/{chat}").text
    assert bodies_in_chat(newest) == [f"message {n}" for n in range(36, 66)]
    assert "Older messages" in newest
    link = older_link(newest)
    assert link == f"/mentoring/{chat}?before={ids[35]}#chat"

    middle = client.get(link).text
    assert bodies_in_chat(middle) == [f"message {n}" for n in range(6, 36)]
    link = older_link(middle)
    assert link == f"/mentoring/{chat}?before={ids[5]}#chat"

    oldest = client.get(link).text
    assert bodies_in_chat(oldest) == [f"message {n}" for n in range(1, 6)]
    assert older_link(oldest) is None
    assert "Older messages" not in oldest


def test_the_json_history_returns_the_older_page_newest_last(client, db, chat, mentee, mentor):
    ids = write(db, chat, mentor, *(f"message {n}" for n in range(1, 36)))
    client.login(mentee)

    newest = client.get(f"/mentoring/{chat}/messages").get_json()
    assert [m["body"] for m in newest["messages"]] == [f"message {n}" for n in range(6, 36)]
    assert newest["has_older"] is True

    response = client.get(f"/mentoring/{chat}/messages?before={ids[5]}")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    older = response.get_json()
    assert older["has_older"] is False
    assert [m["body"] for m in older["messages"]] == [f"message {n}" for n in range(1, 6)]
    first = older["messages"][0]
    assert first["id"] == ids[0]
    assert first["mentorship_id"] == chat
    assert first["sender_id"] == mentor.id
    assert first["sender"] == "Rui Mentor"
    assert datetime.fromisoformat(first["created_at"]).tzinfo is not None

    assert client.get(f"/mentoring/{chat}/messages?before={ids[0]}").get_json() == {
        "messages": [],
        "has_older": False,
        "has_newer": False,
    }


def test_the_json_history_after_a_message_is_what_followed_a_page_at_a_time(
    client, db, chat, mentee, mentor
):
    # a page that was offline catches up from the last message it shows
    ids = write(db, chat, mentor, *(f"message {n}" for n in range(1, 36)))
    client.login(mentee)

    first = client.get(f"/mentoring/{chat}/messages?after={ids[1]}").get_json()
    assert [m["body"] for m in first["messages"]] == [f"message {n}" for n in range(3, 33)]
    assert (first["has_older"], first["has_newer"]) == (True, True)
    rest = client.get(f"/mentoring/{chat}/messages?after={first['messages'][-1]['id']}")
    assert [m["body"] for m in rest.get_json()["messages"]] == [
        "message 33",
        "message 34",
        "message 35",
    ]
    assert rest.get_json()["has_newer"] is False
    caught_up = client.get(f"/mentoring/{chat}/messages?after={ids[-1]}").get_json()
    assert (caught_up["messages"], caught_up["has_newer"]) == ([], False)
    # a page that showed no message yet catches up from the first
    from_the_first = client.get(f"/mentoring/{chat}/messages?after=0").get_json()
    assert from_the_first["messages"][0]["body"] == "message 1"
    assert (from_the_first["has_older"], from_the_first["has_newer"]) == (False, True)


def test_the_json_history_keeps_message_text_as_it_was_written(client, db, chat, mentee, mentor):
    write(db, chat, mentor, "<b>hi</b> https://example.org")
    client.login(mentee)

    messages = client.get(f"/mentoring/{chat}/messages").get_json()["messages"]

    assert [m["body"] for m in messages] == ["<b>hi</b> https://example.org"]  # script adds text


@pytest.mark.parametrize("before", ["abc", "-1", "0", "1.5", "²", "99999999999999999999999999"])
def test_a_nonsense_before_shows_the_newest_messages(client, db, chat, mentee, before):
    write(db, chat, mentee, "Hello")
    client.login(mentee)

    page = client.get(f"/mentoring/{chat}?before={before}")
    history = client.get(f"/mentoring/{chat}/messages?before={before}")

    assert page.status_code == history.status_code == 200
    assert bodies_in_chat(page.text) == ["Hello"]
    assert history.get_json() == {"messages": [ANY], "has_older": False, "has_newer": False}
    assert history.get_json()["messages"][0]["body"] == "Hello"


# ---- only the two parties ------------------------------------------------------------------


def test_a_member_who_is_not_a_party_can_neither_read_nor_post(
    app, client, db, chat, mentor, outsider
):
    write(db, chat, mentor, "Private words")
    client.login(outsider)

    page = client.get(f"/mentoring/{chat}")
    history = client.get(f"/mentoring/{chat}/messages")
    older = client.get(f"/mentoring/{chat}?before=999999")
    post = client.post(f"/mentoring/{chat}/messages", data={"body": "Let me in"})

    assert page.status_code == history.status_code == older.status_code == 403
    assert post.status_code == 403
    for response in (page, history, older, post):
        assert "Private words" not in response.text
    assert chat_messages(app, chat) == ["Private words"]
    assert count_rows(app, ChatReader, ChatReader.user_id == outsider.id) == 0


def test_a_visitor_is_sent_to_log_in(app, client, db, chat, mentor):
    write(db, chat, mentor, "Private words")

    for response in (
        client.get(f"/mentoring/{chat}"),
        client.get(f"/mentoring/{chat}/messages"),
        client.post(f"/mentoring/{chat}/messages", data={"body": "Hello?"}),
    ):
        assert response.status_code == 302
        assert "/login" in response.location
        assert "Private words" not in response.text
    assert chat_messages(app, chat) == ["Private words"]


def test_a_missing_mentorship_is_not_found(client, chat, mentee):
    client.login(mentee)

    assert client.get(f"/mentoring/{chat + 1000}").status_code == 404
    assert client.get(f"/mentoring/{chat + 1000}/messages").status_code == 404
    response = client.post(f"/mentoring/{chat + 1000}/messages", data={"body": "Hello?"})
    assert response.status_code == 404


def test_there_is_no_chat_before_the_request_is_accepted(pairs, app, client, db, mentee, mentor):
    mentorship_id = pairs.request(mentee, mentor)

    for member in (mentee, mentor):
        client.login(member)
        page = client.get(f"/mentoring/{mentorship_id}").text
        assert 'id="chat"' not in page
        assert 'id="chat-form"' not in page

        response = client.post(f"/mentoring/{mentorship_id}/messages", data={"body": "Hi!"})
        assert response.status_code == 302
        error = flashed(client.get(response.location).text)
        assert error == "The chat opens once the mentor accepts the request."

    assert chat_messages(app, mentorship_id) == []
    with pytest.raises(InvalidInput):
        chats.post_message(mentorship_id, mentee, "Hi!")
    db.session.rollback()
    assert client.get(f"/mentoring/{mentorship_id}/messages").get_json()["messages"] == []


@pytest.mark.parametrize("ending", ["declined", "withdrawn", "expired"])
def test_a_request_that_was_not_accepted_has_no_chat(
    pairs, app, client, db, mentee, mentor, ending
):
    mentorship_id = pairs.request(mentee, mentor)
    if ending == "declined":
        lifecycle.decline_request(mentorship_id, mentor, "timing", "Sorry, not this season.")
    elif ending == "withdrawn":
        lifecycle.withdraw_request(mentorship_id, mentee)
    else:
        db.session.execute(
            update(Mentorship)
            .where(Mentorship.id == mentorship_id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        assert lifecycle.expire_requests() == 1
    db.session.commit()
    assert stored(app, select(Mentorship.state).where(Mentorship.id == mentorship_id)) == ending

    for member in (mentee, mentor):
        client.login(member)
        page = client.get(f"/mentoring/{mentorship_id}").text
        assert 'id="chat"' not in page
        response = client.post(f"/mentoring/{mentorship_id}/messages", data={"body": "Hi!"})
        assert response.status_code == 302
        error = flashed(client.get(response.location).text)
        assert error == "There is no chat: the request was not accepted."

    assert chat_messages(app, mentorship_id) == []


# ---- a closed chat ---------------------------------------------------------------------------


def test_after_the_mentorship_ends_the_chat_is_closed_but_readable(
    app, client, db, chat, mentee, mentor
):
    write(db, chat, mentee, "Hello!")
    write(db, chat, mentor, "Hi Ada, see https://example.org")
    ending.terminate(chat, mentor, "We do not fit, sorry.")
    db.session.commit()

    for member in (mentee, mentor):
        client.login(member)
        response = client.post(f"/mentoring/{chat}/messages", data={"body": "One more thing"})
        assert response.status_code == 302
        page = client.get(response.location).text
        assert flashed(page) == "This chat is closed: the mentorship has ended."

        assert bodies_in_chat(page) == [
            "Hello!",
            'Hi Ada, see <a href="https://example.org" rel="nofollow noopener noreferrer" '
            'target="_blank">https://example.org</a>',
        ]
        assert 'id="chat-form"' not in page
        assert "This chat is closed" in page
        history = client.get(f"/mentoring/{chat}/messages").get_json()
        assert [m["body"] for m in history["messages"]] == [
            "Hello!",
            "Hi Ada, see https://example.org",
        ]

    assert chat_messages(app, chat) == ["Hello!", "Hi Ada, see https://example.org"]


# ---- unread counts ---------------------------------------------------------------------------


def test_messages_from_the_other_party_are_unread_until_the_page_is_opened(
    client, db, chat, mentee, mentor
):
    write(db, chat, mentor, "Welcome!", "When are you free?")

    client.login(mentee)
    listing = client.get("/mentoring/").text
    assert nav_badge(listing) == 2
    assert list_badge(listing, "Rui Mentor") == 2

    client.login(mentor)  # the sender: their own messages never count
    listing = client.get("/mentoring/").text
    assert nav_badge(listing) is None
    assert list_badge(listing, "Ada Lovelace") is None

    client.login(mentee)
    page = client.get(f"/mentoring/{chat}").text
    assert nav_badge(page) is None  # read, the moment they are shown
    listing = client.get("/mentoring/").text
    assert nav_badge(listing) is None
    assert list_badge(listing, "Rui Mentor") is None


def test_my_own_messages_never_count_as_unread(client, chat, mentee, mentor):
    client.login(mentee)
    client.post(f"/mentoring/{chat}/messages", data={"body": "Hello"})
    client.post(f"/mentoring/{chat}/messages", data={"body": "Are you there?"})

    listing = client.get("/mentoring/").text
    assert nav_badge(listing) is None
    assert list_badge(listing, "Rui Mentor") is None

    client.login(mentor)
    listing = client.get("/mentoring/").text
    assert nav_badge(listing) == 2
    assert list_badge(listing, "Ada Lovelace") == 2


def test_unread_counts_add_up_over_mentorships_and_only_new_messages_count(
    pairs, client, db, create_user, chat, mentee, mentor
):
    other_mentor = create_user(display_name="Grace Hopper", wants_to_mentor=True)
    second = pairs.accept(mentee, other_mentor)
    write(db, chat, mentor, "One")
    write(db, second, other_mentor, "Two", "Three")

    client.login(mentee)
    listing = client.get("/mentoring/").text
    assert nav_badge(listing) == 3
    assert list_badge(listing, "Rui Mentor") == 1
    assert list_badge(listing, "Grace Hopper") == 2

    client.get(f"/mentoring/{second}")
    write(db, second, other_mentor, "Four")  # after reading: only this one is new
    listing = client.get("/mentoring/").text
    assert nav_badge(listing) == 2
    assert list_badge(listing, "Rui Mentor") == 1
    assert list_badge(listing, "Grace Hopper") == 1


def test_looking_at_older_history_does_not_mark_new_messages_read(client, db, chat, mentee, mentor):
    ids = write(db, chat, mentor, *(f"message {n}" for n in range(1, 32)))
    client.login(mentee)

    client.get(f"/mentoring/{chat}?before={ids[1]}")
    client.get(f"/mentoring/{chat}/messages?before={ids[1]}")

    assert nav_badge(client.get("/mentoring/").text) == 31


# ---- the e-mail digest for an unread chat ------------------------------------------------------


class TestDigest:
    @pytest.fixture
    def app(self, make_app):
        return make_app(PLUGIN_SETTINGS={"mentoring": {"chat_digest_after_minutes": 1}})

    @pytest.fixture
    def chat(self, pairs, mail, mentee, mentor) -> int:
        mentorship_id = pairs.accept(mentee, mentor)
        mail.deliver()  # the request's and the acceptance's own mails
        return mentorship_id

    def digest(self, db, mail) -> list:
        """Run the digest job, then the outbox: the mails the SMTP server received."""
        chats.send_chat_digests()
        db.session.commit()
        return mail.deliver()

    def test_one_digest_for_a_chat_left_unread(self, client, db, mail, chat, mentee, mentor):
        ids = write(db, chat, mentor, "Welcome!", "When are you free?", "Call me <Rui>")
        age(db, *ids, minutes=2)

        received = self.digest(db, mail)

        assert len(received) == 1
        (digest,) = received
        assert digest["To"] == mentee.email
        assert digest["Subject"] == "3 unread messages from Rui Mentor"
        text = body_of(digest)
        assert "Rui Mentor wrote you 3 messages you have not read yet" in text
        assert "When are you free?" in text
        assert "Call me <Rui>" in text  # plain text mail: as written
        links = re.findall(r"https?://\S+", text)
        assert f"http://alma.test/mentoring/{chat}" in links

        assert self.digest(db, mail) == []  # the job again, still unread: nothing new to tell

        client.login(mentee)  # the link opens the chat
        page = client.get(path_of(f"http://alma.test/mentoring/{chat}")).text
        assert "When are you free?" in page

    def test_no_digest_before_the_delay(self, db, mail, chat, mentor):
        write(db, chat, mentor, "Just now")

        assert self.digest(db, mail) == []

    def test_a_later_message_gives_one_more_digest_for_it_alone(
        self, db, mail, chat, mentee, mentor
    ):
        first = write(db, chat, mentor, "First", "Second")
        age(db, *first, minutes=10)
        assert len(self.digest(db, mail)) == 1

        later = write(db, chat, mentor, "Third")
        assert self.digest(db, mail) == []  # not unread for long enough yet
        age(db, *later, minutes=2)

        received = self.digest(db, mail)

        assert len(received) == 1
        assert received[0]["To"] == mentee.email
        assert received[0]["Subject"] == "1 unread message from Rui Mentor"
        text = body_of(received[0])
        assert "Rui Mentor wrote you a message you have not read yet" in text
        assert "Third" in text
        assert "First" not in text and "Second" not in text
        assert self.digest(db, mail) == []

    def test_read_messages_give_no_digest(self, client, db, mail, chat, mentee, mentor):
        ids = write(db, chat, mentor, "Welcome!")
        client.login(mentee)
        client.get(f"/mentoring/{chat}")  # read
        age(db, *ids, minutes=5)

        assert self.digest(db, mail) == []

    def test_answering_counts_as_reading(self, db, mail, chat, mentee, mentor):
        ids = write(db, chat, mentee, "Hello from Ada")
        ids += write(db, chat, mentor, "Hello from Rui")  # Rui read Ada's message to answer it
        age(db, *ids, minutes=3)

        received = self.digest(db, mail)

        assert [message["To"] for message in received] == [mentee.email]
        text = body_of(received[0])
        assert "Hello from Rui" in text
        assert "Hello from Ada" not in text


def test_a_second_tab_opening_the_chat_does_not_wait_for_the_first(
    app, database_url, db, chat, mentee, mentor
):
    """Opening the chat marks it read, and the page commits that after rendering: a tab that
    finds nothing new must hold no lock meanwhile, or every other tab would wait for it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: its page views take turns by design")
    write(db, chat, mentor, "Hello")
    chats.mark_read(chat, mentee)
    db.session.commit()
    first_tab_reading, first_tab_done = threading.Event(), threading.Event()

    def first_tab() -> None:
        with app.app_context():
            chats.mark_read(chat, db.session.get(User, mentee.id))  # nothing new
            first_tab_reading.set()
            first_tab_done.wait(10)  # still rendering its page
            db.session.commit()
            db.session.remove()

    tab = threading.Thread(target=first_tab)
    tab.start()
    try:
        assert first_tab_reading.wait(10)
        with app.app_context():
            db.session.execute(sql("SET LOCAL lock_timeout = '2s'"))
            chats.mark_read(chat, db.session.get(User, mentee.id))  # fails if it must wait
            db.session.commit()
            db.session.remove()
    finally:
        first_tab_done.set()
        tab.join(10)
