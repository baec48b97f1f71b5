"""The pair's chat live over Socket.IO, with real python-socketio clients talking to the app
served on 127.0.0.1: the two parties join and exchange messages that are stored and pushed
to the other with the new unread count; a third member can neither join, nor listen in, nor
post; a visitor cannot connect; bad payloads are refused and leave the connection working."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest
import socketio
from sqlalchemy import select

from core.testing import SocketClient, count_rows, session_cookie, stored
from plugins.mentoring.models import ChatMessage, ChatReader
from plugins.mentoring.services import ending

TIMEOUT = 5  # seconds to wait for something that should happen
QUIET = 0.3  # seconds to wait for something that should not

EVENTS = ("mentoring.message", "badge", "mentoring.closed")


def unread(count: int) -> dict:
    """The badge of "My mentorships", as every tab of the member receives it."""
    return {"endpoint": "mentoring.index", "count": count}


class Tab(SocketClient):
    """A member's browser tab: a real Socket.IO client keeping the chat events it receives."""

    def __init__(self) -> None:
        super().__init__(*EVENTS)

    def join(self, mentorship_id: Any) -> Any:
        return self.call("mentoring.join", {"mentorship_id": mentorship_id})

    def send(self, mentorship_id: Any, body: Any, key: str | None = None) -> Any:
        data = {"mentorship_id": mentorship_id, "body": body}
        if key is not None:
            data["key"] = key
        return self.call("mentoring.send", data)


@pytest.fixture
def connect(app, live_server) -> Iterator[Callable[..., Tab]]:
    """``connect(user)``: a tab of ``user`` connected to the live server over long polling
    (what a browser starts with); ``connect()`` tries as a visitor."""
    tabs: list[Tab] = []

    def open_(user: Any = None) -> Tab:
        tab = Tab()
        tabs.append(tab)
        headers = {"Cookie": f"session={session_cookie(app, user)}"} if user is not None else {}
        tab.client.connect(
            live_server, headers=headers, transports=["polling"], wait_timeout=TIMEOUT
        )
        return tab

    yield open_
    for tab in tabs:
        tab.close()


def stored_messages(app, mentorship_id: int) -> list[tuple[int, str]]:
    """(sender id, body) of each stored message of the chat, oldest first."""
    from core.db import db

    with app.app_context():
        try:
            return [
                tuple(row)
                for row in db.session.execute(
                    select(ChatMessage.sender_id, ChatMessage.body)
                    .where(ChatMessage.mentorship_id == mentorship_id)
                    .order_by(ChatMessage.id)
                )
            ]
        finally:
            db.session.remove()


# ---- the two parties ---------------------------------------------------------------------


def test_the_two_parties_exchange_messages_live(app, connect, chat, mentee, mentor):
    ada, rui = connect(mentee), connect(mentor)
    assert ada.join(chat) == {"ok": True}
    assert rui.join(chat) == {"ok": True}

    ack = ada.send(chat, "  Hello Rui! Free on Tuesday?  ")

    assert ack == {"ok": True, "id": ANY}
    message = rui.next("mentoring.message")
    assert message == {
        "id": ack["id"],
        "mentorship_id": chat,
        "sender_id": mentee.id,
        "sender": "Mia Mentee",
        "body": "Hello Rui! Free on Tuesday?",
        "hidden": False,
        "created_at": ANY,
    }
    created_at = datetime.fromisoformat(message["created_at"])
    assert created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=1)
    assert rui.next("badge") == unread(1)
    assert stored_messages(app, chat) == [(mentee.id, "Hello Rui! Free on Tuesday?")]
    # Ada's own tab shows it too (her other tabs need it); she has nothing unread.
    assert ada.next("mentoring.message")["id"] == ack["id"]
    assert ada.received("badge") == []

    reply = rui.send(chat, "Tuesday works, https://meet.example.org/ada")

    assert reply == {"ok": True, "id": ANY}
    assert reply["id"] > ack["id"]
    message = ada.next("mentoring.message")
    assert message["sender"] == "Max Mentor"
    assert message["sender_id"] == mentor.id
    assert message["body"] == "Tuesday works, https://meet.example.org/ada"  # text; the page links
    assert ada.next("badge") == unread(1)
    assert rui.next("mentoring.message")["id"] == reply["id"]
    assert stored_messages(app, chat) == [
        (mentee.id, "Hello Rui! Free on Tuesday?"),
        (mentor.id, "Tuesday works, https://meet.example.org/ada"),
    ]
    assert rui.received("badge") == []  # answering read Ada's message


def test_unread_counts_grow_per_message_and_reading_pushes_zero(app, connect, chat, mentee, mentor):
    ada, rui = connect(mentee), connect(mentor)
    ada.join(chat)
    rui.join(chat)

    ids = [ada.send(chat, f"message {n}")["id"] for n in (1, 2, 3)]

    assert [rui.next("badge") for _ in ids] == [unread(1), unread(2), unread(3)]
    assert rui.call("mentoring.read", {"mentorship_id": chat, "up_to_id": ids[1]}) == {"ok": True}
    assert rui.next("badge") == unread(1)
    # an id no database can hold reads up to the newest, as no id does
    assert rui.call("mentoring.read", {"mentorship_id": chat, "up_to_id": 2**64}) == {"ok": True}
    assert rui.next("badge") == unread(0)
    last_read = select(ChatReader.last_read_id).where(
        ChatReader.mentorship_id == chat, ChatReader.user_id == mentor.id
    )
    assert stored(app, last_read) == ids[-1]


def test_a_member_gets_the_unread_count_in_every_tab_even_outside_the_chat(
    connect, chat, mentee, mentor
):
    ada = connect(mentee)
    ada.join(chat)
    rui_elsewhere = connect(mentor)  # on another page: connected, not in the chat room

    ada.send(chat, "Hello")

    assert rui_elsewhere.next("badge") == unread(1)
    assert rui_elsewhere.received("mentoring.message") == []


def test_a_message_posted_without_javascript_arrives_live(client, connect, chat, mentee, mentor):
    ada = connect(mentee)
    assert ada.join(chat) == {"ok": True}
    client.login(mentor)

    response = client.post(f"/mentoring/{chat}/messages", data={"body": "Posted by a form"})

    assert response.status_code == 302
    message = ada.next("mentoring.message")
    assert (message["sender"], message["body"]) == ("Max Mentor", "Posted by a form")
    assert ada.next("badge") == unread(1)


def test_messages_sent_at_the_same_time_by_both_are_all_stored_and_delivered(
    app, connect, chat, mentee, mentor
):
    ada, rui = connect(mentee), connect(mentor)
    ada.join(chat)
    rui.join(chat)
    acks: dict[str, list[Any]] = {"ada": [], "rui": []}

    def chatter(name: str, tab: Tab) -> None:
        for n in range(8):
            acks[name].append(tab.send(chat, f"{name} {n}"))

    threads = [
        threading.Thread(target=chatter, args=("ada", ada)),
        threading.Thread(target=chatter, args=("rui", rui)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=4 * TIMEOUT)

    assert [ack["ok"] for ack in acks["ada"] + acks["rui"]] == [True] * 16, acks
    stored_bodies = sorted(body for _sender, body in stored_messages(app, chat))
    assert stored_bodies == sorted([f"ada {n}" for n in range(8)] + [f"rui {n}" for n in range(8)])
    at_rui = [rui.next("mentoring.message")["body"] for _ in range(16)]
    at_ada = [ada.next("mentoring.message")["body"] for _ in range(16)]
    assert sorted(at_rui) == sorted(at_ada) == stored_bodies


def test_opening_the_chat_while_the_other_party_writes_never_fails(
    app, client, connect, chat, mentee, mentor
):
    # Opening the page marks the chat read: a write in a GET, racing with the messages.
    # Up to 300 messages from one member: above the chat's rate limit, raised for this test
    # (limits are read at each message).
    app.config["RATE_LIMITS"] = {"mentoring-chat": "1000/minute"}
    rui = connect(mentor)
    stop = threading.Event()
    acks: list[Any] = []

    def write_on() -> None:
        while not stop.is_set() and len(acks) < 300:
            acks.append(rui.send(chat, f"message {len(acks)}"))

    writer = threading.Thread(target=write_on)
    writer.start()
    client.login(mentee)
    outcomes: list[Any] = []
    deadline = time.monotonic() + 4 * TIMEOUT
    try:  # at least 30 page views, and for as long as it takes the other to write 5 messages
        while (len(outcomes) < 30 or len(acks) < 5) and time.monotonic() < deadline:
            try:
                outcomes.append(client.get(f"/mentoring/{chat}").status_code)
            except Exception as error:  # the test client raises what would be a 500
                outcomes.append(repr(error)[:120])
    finally:
        stop.set()
        writer.join(timeout=2 * TIMEOUT)

    assert outcomes == [200] * len(outcomes)
    assert len(acks) >= 5, "the other party wrote nothing meanwhile"
    assert all(ack["ok"] for ack in acks)


# ---- nobody else -----------------------------------------------------------------------------


def test_a_third_member_can_neither_join_nor_listen_nor_post(
    pairs, app, db, connect, create_user, chat, mentee, mentor, outsider
):
    # Eve is a party of a chat of her own: being a party somewhere opens no other chat.
    her_mentor = create_user(display_name="Grace Hopper", wants_to_mentor=True)
    her_chat = pairs.accept(outsider, her_mentor)
    ada, rui, eve = connect(mentee), connect(mentor), connect(outsider)
    ada.join(chat)
    rui.join(chat)

    assert eve.join(chat) == {"ok": False, "error": "This mentorship is not yours."}
    assert eve.join(her_chat) == {"ok": True}

    ada.send(chat, "Private to Rui")
    rui.send(chat, "Private to Ada")
    assert rui.next("mentoring.message")["body"] == "Private to Rui"
    assert ada.next("mentoring.message")["body"] == "Private to Rui"
    assert ada.next("mentoring.message")["body"] == "Private to Ada"

    for body in ("Let me in", ""):
        answer = eve.send(chat, body)
        assert answer == {"ok": False, "error": "This mentorship is not yours."}
    answer = eve.call("mentoring.read", {"mentorship_id": chat})
    assert answer == {"ok": False, "error": "This mentorship is not yours."}

    assert eve.received("mentoring.message") == []
    assert eve.received("badge", wait=0) == []
    assert rui.received("mentoring.message") == [ANY]  # Rui's own, nothing from Eve
    assert ada.received("mentoring.message", wait=0) == []
    assert stored_messages(app, chat) == [
        (mentee.id, "Private to Rui"),
        (mentor.id, "Private to Ada"),
    ]
    assert count_rows(app, ChatMessage, ChatMessage.sender_id == outsider.id) == 0
    assert count_rows(app, ChatReader, ChatReader.user_id == outsider.id) == 0


def test_a_visitor_without_a_session_cannot_connect(connect):
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect()


def test_a_missing_mentorship_is_refused(app, connect, chat, mentee):
    ada = connect(mentee)

    assert ada.join(chat + 1000) == {"ok": False, "error": "This mentorship does not exist."}
    assert ada.send(chat + 1000, "Hello?") == {
        "ok": False,
        "error": "This mentorship does not exist.",
    }
    assert count_rows(app, ChatMessage) == 0


# ---- no chat before acceptance, and a closed one ---------------------------------------------


def test_there_is_no_chat_before_the_request_is_accepted(pairs, app, db, connect, mentee, mentor):
    mentorship_id = pairs.request(mentee, mentor)
    ada, rui = connect(mentee), connect(mentor)

    for tab in (ada, rui):
        assert tab.send(mentorship_id, "Hello?") == {
            "ok": False,
            "error": "The chat opens once the mentor accepts the request.",
        }
    assert count_rows(app, ChatMessage) == 0


def test_after_the_mentorship_ends_sending_is_refused(app, db, connect, chat, mentee, mentor):
    ada, rui = connect(mentee), connect(mentor)
    ada.join(chat)
    rui.join(chat)
    ada.send(chat, "Before the end")
    assert rui.next("mentoring.message")["body"] == "Before the end"
    db.session.commit()  # end the test's read: the server wrote since (SQLite's snapshot)
    ending.terminate(chat, mentor, "We do not fit, sorry.")
    db.session.commit()

    for tab in (ada, rui):
        assert tab.send(chat, "After the end") == {
            "ok": False,
            "error": "This chat is closed: the mentorship has ended.",
        }
    assert rui.received("mentoring.message") == []
    assert stored_messages(app, chat) == [(mentee.id, "Before the end")]
    assert ada.join(chat) == {"ok": True}  # the history stays theirs to read


def test_the_other_partys_open_chat_learns_that_the_mentorship_ended(
    app, db, connect, chat, mentee, mentor, outsider
):
    ada, rui, olga = connect(mentee), connect(mentor), connect(outsider)
    ada.join(chat)
    olga.join(chat)  # refused: not hers
    db.session.commit()
    ending.terminate(chat, mentor, "We do not fit, sorry.")
    db.session.commit()

    assert ada.next("mentoring.closed") == {"mentorship_id": chat}
    assert rui.received("mentoring.closed") == []  # not in the room: no page open
    assert olga.received("mentoring.closed") == []


# ---- bad payloads --------------------------------------------------------------------------


def bad_targets(chat: int) -> dict[str, tuple]:
    """Payloads naming no usable mentorship, each as the arguments of an emit."""
    return {
        "no payload": (),
        "null": (None,),
        "a string": ("hello",),
        "a list": ([chat],),
        "a bare number": (chat,),
        "no mentorship_id": ({},),
        "a null id": ({"mentorship_id": None},),
        "the id as a string": ({"mentorship_id": str(chat)},),
        "the id as a float": ({"mentorship_id": float(chat)},),
        "true for an id": ({"mentorship_id": True},),  # True == 1 to Python and SQLite
        "a negative id": ({"mentorship_id": -1},),
        "an id beyond the database's integers": ({"mentorship_id": 10**30},),
        "the id in a list": ({"mentorship_id": [chat]},),
    }


def test_bad_payloads_are_refused_and_the_connection_keeps_working(
    pairs, app, db, connect, mentee, mentor
):
    # The pair's chat is the first mentorship (id 1 on SQLite), so that an id of True would
    # find it if it were taken for 1.
    chat = pairs.accept(mentee, mentor)
    ada, rui = connect(mentee), connect(mentor)
    rui.join(chat)

    for name, data in bad_targets(chat).items():
        for event, extra in (
            ("mentoring.join", {}),
            ("mentoring.send", {"body": "Sneaky"}),
            ("mentoring.read", {}),
        ):
            args = (data[0] | extra,) if data and isinstance(data[0], dict) else data
            answer = ada.call(event, *args)
            assert isinstance(answer, dict), f"{event} with {name}: no answer but {answer!r}"
            assert answer["ok"] is False, f"{event} accepted {name}"
            assert answer["error"], f"{event} with {name}: no error message"

    assert count_rows(app, ChatMessage) == 0
    assert rui.received("mentoring.message") == []
    assert ada.client.connected
    assert ada.join(chat) == {"ok": True}
    assert ada.send(chat, "Still here")["ok"] is True
    assert rui.next("mentoring.message")["body"] == "Still here"


MISSING = object()


def test_a_bad_message_body_is_refused_and_nothing_is_stored(app, connect, chat, mentee, mentor):
    ada, rui = connect(mentee), connect(mentor)
    ada.join(chat)
    rui.join(chat)

    lone_surrogates = ("\ud800", "Hello \udc00 Rui")  # JSON can carry them, UTF-8 cannot
    for body in (
        *(MISSING, None, 42, ["Hello"], {"text": "Hello"}, "", "  \n ", "\x00", "x" * 4001),
        *lone_surrogates,
    ):
        payload = {"mentorship_id": chat}
        if body is not MISSING:
            payload["body"] = body
        answer = ada.call("mentoring.send", payload)
        assert answer["ok"] is False, f"a body of {body!r} was accepted"
        assert answer["error"]

    assert count_rows(app, ChatMessage) == 0
    assert rui.received("mentoring.message") == []
    assert ada.send(chat, "x" * 4000)["ok"] is True  # the longest allowed
    assert rui.next("mentoring.message")["body"] == "x" * 4000
    # a NUL, which PostgreSQL cannot store, is left out of a message
    assert ada.send(chat, "Hello\x00 Rui")["ok"] is True
    assert rui.next("mentoring.message")["body"] == "Hello Rui"


def test_a_lone_surrogate_is_refused_with_the_error_any_bad_message_gets(connect, chat, mentee):
    ada = connect(mentee)

    answer = ada.send(chat, "\ud800")

    assert answer == {"ok": False, "error": "This message has characters that cannot be stored."}
    assert ada.send(chat, "Still here")["ok"] is True


# ---- a resend after a lost ack ---------------------------------------------------------------


def test_a_resend_with_the_same_key_acks_the_stored_message_and_pushes_nothing(
    app, connect, chat, mentee, mentor
):
    ada, rui = connect(mentee), connect(mentor)
    ada.join(chat)
    rui.join(chat)

    first = ada.send(chat, "Hello Rui", key="a1b2c3d4e5f6")
    again = ada.send(chat, "Hello Rui", key="a1b2c3d4e5f6")  # the first ack was lost

    assert first == again == {"ok": True, "id": ANY}
    assert stored_messages(app, chat) == [(mentee.id, "Hello Rui")]
    assert rui.next("mentoring.message")["id"] == first["id"]
    assert rui.next("badge") == unread(1)
    assert rui.received("mentoring.message") == []  # one push, for the one message
    assert rui.received("badge", wait=0) == []
    # the next message has a key of its own
    assert ada.send(chat, "Hello Rui", key="f6e5d4c3b2a1")["id"] > first["id"]
    assert len(stored_messages(app, chat)) == 2


def test_the_same_key_from_two_connections_at_once_stores_one_message(
    app, connect, chat, mentee, mentor
):
    # the page resent on a new connection while the old one's send was still on its way
    old, new, rui = connect(mentee), connect(mentee), connect(mentor)
    rui.join(chat)
    barrier = threading.Barrier(2)
    acks: list[Any] = []

    def send(tab: Tab) -> None:
        barrier.wait()
        acks.append(tab.send(chat, "Only once", key="0123456789abcdef"))

    threads = [threading.Thread(target=send, args=(tab,)) for tab in (old, new)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)

    assert [ack["ok"] for ack in acks] == [True, True], acks
    assert acks[0]["id"] == acks[1]["id"]
    assert stored_messages(app, chat) == [(mentee.id, "Only once")]
    assert rui.next("mentoring.message")["body"] == "Only once"
    assert rui.received("mentoring.message") == []


@pytest.mark.parametrize("key", [42, ["k" * 12], "short", "\ud800" * 12, "x" * 65])
def test_a_broken_key_is_refused_and_nothing_is_stored(app, connect, chat, mentee, key):
    ada = connect(mentee)

    answer = ada.call("mentoring.send", {"mentorship_id": chat, "body": "Hello", "key": key})

    assert answer == {
        "ok": False,
        "error": "This message cannot be sent: reload the page and try again.",
    }
    assert count_rows(app, ChatMessage) == 0


# ---- Redis down, between two web processes --------------------------------------------------


def test_a_message_sent_while_redis_is_down_is_stored_and_caught_up_once_it_is_back(
    make_app, serve, redis_server, pairs, mentee, mentor
):
    channel = f"alma-test-{secrets.token_hex(4)}"
    web_a, web_b = (
        make_app(SOCKETIO_MESSAGE_QUEUE=redis_server.url, SOCKETIO_CHANNEL=channel)
        for _ in range(2)
    )
    chat = pairs.accept(mentee, mentor)
    rui, ada = Tab(), Tab()  # Rui's page on process A, Ada's on process B
    ada.listen("resync")
    for tab, site, user in ((rui, web_a, mentor), (ada, web_b, mentee)):
        cookie = session_cookie(site, user)
        tab.client.connect(
            serve(site),
            headers={"Cookie": f"session={cookie}"},
            transports=["polling"],
            wait_timeout=TIMEOUT,
        )
        assert tab.join(chat) == {"ok": True}
    try:
        rui.send(chat, "Before")
        seen = ada.next("mentoring.message")["id"]
        assert rui.next("mentoring.message")["id"] == seen
        redis_server.kill()

        ack = rui.send(chat, "While Redis is down")

        assert ack == {"ok": True, "id": ANY}  # stored and acknowledged
        assert [body for _sender, body in stored_messages(web_a, chat)][-1] == "While Redis is down"
        assert rui.next("mentoring.message", timeout=3)["id"] == ack["id"]  # on process A
        assert [m["body"] for m in ada.received("mentoring.message")] == []  # lost to B

        redis_server.start()

        assert ada.next("resync", timeout=3) == {}
        page = web_b.test_client()
        page.login(mentee)
        missed = page.get(f"/mentoring/{chat}/messages?after={seen}").get_json()
        assert [m["body"] for m in missed["messages"]] == ["While Redis is down"]
        rui.send(chat, "Redis is back")
        assert ada.next("mentoring.message", timeout=3)["body"] == "Redis is back"
    finally:
        for tab in (rui, ada):
            tab.close()
