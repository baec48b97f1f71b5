"""The chat in a real browser (Chromium) while Redis, between two web processes, is killed
and started again: what the other party wrote meanwhile shows on the page once Redis is back,
without a reload, and sending from the page during the outage works."""

import secrets

import pytest
from playwright.sync_api import expect

from core.testing import SocketClient, session_cookie
from plugins.mentoring.services import lifecycle

pytestmark = pytest.mark.plugins("mentoring")

TIMEOUT = 5


@pytest.fixture
def chat(db, create_user):
    mentee = create_user(display_name="Sam Lee", wants_to_be_mentored=True)
    mentor = create_user(display_name="Rui Mentor", wants_to_mentor=True)
    mentorship = lifecycle.send_request(mentee, mentor, "Would you mentor me in Python?")
    db.session.flush()
    lifecycle.accept_request(mentorship.id, mentor)
    db.session.commit()
    return mentorship.id, mentee, mentor


def test_what_was_written_while_redis_was_down_shows_once_it_is_back(
    browser, make_app, serve, redis_server, chat
):
    mentorship_id, mentee, mentor = chat
    channel = f"alma-test-{secrets.token_hex(4)}"
    web_a, web_b = (
        make_app(SOCKETIO_MESSAGE_QUEUE=redis_server.url, SOCKETIO_CHANNEL=channel)
        for _ in range(2)
    )
    url_a, url_b = serve(web_a), serve(web_b)
    # Rui writes from process A; Sam's page is served by process B
    rui = SocketClient("mentoring.message")
    rui.client.connect(
        url_a,
        headers={"Cookie": f"session={session_cookie(web_a, mentor)}"},
        transports=["polling"],
        wait_timeout=TIMEOUT,
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "session", "value": session_cookie(web_b, mentee), "url": url_b}])
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{url_b}/mentoring/{mentorship_id}")
        page.locator('#chat[data-live="true"]').wait_for(state="attached")
        log = page.locator("#chat-log")

        def rui_says(body: str) -> None:
            answer = rui.call("mentoring.send", {"mentorship_id": mentorship_id, "body": body})
            assert answer["ok"] is True, answer

        rui_says("Before the outage")
        expect(log).to_contain_text("Before the outage")
        redis_server.kill()

        for body in ("Written while Redis is down", "And a second one"):
            rui_says(body)
        page.locator("#chat-form textarea").fill("Sam writes during the outage")
        page.locator("#chat-form textarea").press("Enter")
        expect(log.locator(".chat-mine")).to_contain_text("Sam writes during the outage")
        expect(page.locator("#chat-error")).to_have_text("")
        page.wait_for_timeout(500)
        expect(log).not_to_contain_text("Written while Redis is down")  # lost on the way

        redis_server.start()

        # no reload: the page catches up from the last message it shows, in order
        theirs = log.locator(".chat-theirs .chat-body")
        expect(theirs).to_have_text(
            ["Before the outage", "Written while Redis is down", "And a second one"],
            timeout=TIMEOUT * 1000,
        )
        rui_says("Redis is back")
        expect(theirs.last).to_have_text("Redis is back", timeout=TIMEOUT * 1000)
    finally:
        context.close()
        rui.client.disconnect()
    assert errors == []
