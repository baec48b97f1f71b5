"""Reporting a chat message: only the other party of the pair may (no one else can see it);
staff read that message as it was reported and nothing else of the chat; hidden, it reads
"hidden by the moderators" for both, in the page, the history for the script, and live."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from core.db import utcnow
from core.models import Report, User
from core.testing import SocketClient, count_rows, stored
from plugins.mentoring import export
from plugins.mentoring.models import Mentorship
from plugins.mentoring.services import chat as chats

HIDDEN = "This was hidden by the moderators."


@pytest.fixture
def coordinator(create_user):
    return create_user(display_name="Coco Ordinator", role="coordinator")


@pytest.fixture
def messages(db, chat, mentee, mentor) -> tuple[int, int]:
    """A private word from the mentee, then the mentor's rude reply: their ids."""
    private = chats.post_message(chat, mentee, "My private worry about my manager").id
    rude = chats.post_message(chat, mentor, "You are hopeless, call 555 0100").id
    db.session.commit()
    return private, rude


def hide_latest(client, app, coordinator, act: str = "hide"):
    client.login(coordinator)
    report_id = stored(app, select(func.max(Report.id)))
    return client.post(
        f"/admin/reports/{report_id}/{act}", data={"reason": "abuse"}, follow_redirects=True
    )


def test_the_other_party_reports_a_message_and_staff_read_only_that_one(
    app, client, chat, messages, mentee, mentor, coordinator
):
    private, rude = messages
    client.login(mentee)
    page = client.get(f"/mentoring/{chat}").text
    assert f'href="/report/mentoring.message/{rude}"' in page  # the other's message
    assert f'href="/report/mentoring.message/{private}"' not in page  # not one's own
    sent = client.post(
        f"/report/mentoring.message/{rude}", data={"reason": "harassment"}, follow_redirects=True
    )
    assert "The moderators will look at it." in sent.text

    client.login(coordinator)
    queue = client.get("/admin/reports").text
    report = client.get(f"/admin/reports/{stored(app, select(func.max(Report.id)))}").text
    for shown in (queue, report):
        assert "Chat message from Max Mentor" in shown and "You are hopeless" in shown
        assert "private worry" not in shown  # never the rest of the chat
    assert client.get(f"/mentoring/{chat}").status_code in (403, 404)
    assert client.get(f"/mentoring/{chat}/messages").status_code in (403, 404)


def test_no_one_else_can_report_a_pairs_message(app, client, messages, stranger, coordinator):
    _private, rude = messages
    for outsider in (stranger, coordinator):
        client.login(outsider)
        assert client.get(f"/report/mentoring.message/{rude}").status_code == 404
        response = client.post(f"/report/mentoring.message/{rude}", data={"reason": "spam"})
        assert response.status_code == 404
    assert count_rows(app, Report) == 0


def test_a_hidden_message_reads_hidden_to_both_in_the_page_and_the_history(
    app, client, chat, messages, mentee, mentor, coordinator
):
    private, rude = messages
    client.login(mentee)
    client.post(f"/report/mentoring.message/{rude}", data={"reason": "harassment"})
    hide_latest(client, app, coordinator)

    for party in (mentee, mentor):  # its author sees it was hidden too
        client.login(party)
        page = client.get(f"/mentoring/{chat}").text
        assert HIDDEN in page and "hopeless" not in page
        assert "private worry" in page
        history = client.get(f"/mentoring/{chat}/messages").json["messages"]
        assert [(m["id"], m["hidden"], m["body"]) for m in history] == [
            (private, False, "My private worry about my manager"),
            (rude, True, ""),
        ]

    hide_latest(client, app, coordinator, "restore")
    client.login(mentee)
    assert "You are hopeless" in client.get(f"/mentoring/{chat}").text


def test_the_data_export_transcript_leaves_out_what_was_hidden_or_erased(
    app, client, db, chat, messages, mentee, mentor, coordinator
):
    _private, rude = messages
    client.login(mentee)
    client.post(f"/report/mentoring.message/{rude}", data={"reason": "harassment"})
    hide_latest(client, app, coordinator)

    text = export.transcript(db.session.get(Mentorship, chat))
    assert "Mia Mentee: My private worry about my manager" in text
    assert "[hidden by the moderators]" in text
    assert "hopeless" not in text and "555 0100" not in text

    # the page shows nothing of an erased sender's words: nor does the export
    db.session.execute(
        update(User).where(User.id == mentee.id).values(deactivated_at=utcnow(), erased_at=utcnow())
    )
    db.session.commit()
    db.session.expire_all()
    text = export.transcript(db.session.get(Mentorship, chat))
    assert "private worry" not in text
    assert "[message removed]" in text


def test_hiding_changes_the_message_live_on_the_pairs_pages(
    app, client, live_server, chat, messages, mentee, mentor, coordinator
):
    _private, rude = messages
    tabs = [
        SocketClient("mentoring.changed").connect_as(live_server, app, party)
        for party in (mentee, mentor)
    ]
    try:
        for tab in tabs:
            assert tab.call("mentoring.join", {"mentorship_id": chat}) == {"ok": True}
        client.login(mentee)
        client.post(f"/report/mentoring.message/{rude}", data={"reason": "harassment"})
        hide_latest(client, app, coordinator)

        for tab in tabs:
            changed = tab.next("mentoring.changed")
            assert (changed["id"], changed["hidden"], changed["body"]) == (rude, True, "")
    finally:
        for tab in tabs:
            tab.close()


def test_a_hidden_profile_shows_no_bio_in_the_directory_nor_matches_it(
    app, client, make_mentor, mentee, coordinator
):
    mentor = make_mentor("Vic Vendor", bio="Crypto riches guaranteed")
    client.login(mentee)
    assert "Crypto riches" in client.get("/mentoring/mentors").text
    client.post(f"/report/core.profile/{mentor.id}", data={"reason": "spam"})
    hide_latest(client, app, coordinator)

    client.login(mentee)
    listed = client.get("/mentoring/mentors").text
    assert "Vic Vendor" in listed and "Crypto riches" not in listed
    assert "Vic Vendor" not in client.get("/mentoring/mentors?q=crypto").text
    profile = client.get(f"/members/{mentor.id}").text
    assert HIDDEN in profile and "Crypto riches" not in profile
