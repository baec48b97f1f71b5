"""A mentor suspended by staff (core's console): out of the directory, and the requests
waiting for them declined, each mentee told without a reason (``member_suspended``)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from core.models import Notification
from core.testing import stored
from plugins.mentoring.models import DECLINED, REQUESTED, Mentorship

NOTICE = "Max Mentor cannot take your mentorship request at the moment. You can ask another mentor."


def mentors_listed(app, viewer) -> list[str]:
    browsing = app.test_client()
    browsing.login(viewer)
    page = browsing.get("/mentoring/mentors").text
    return [html.unescape(name) for name in re.findall(r'class="stretched-link">([^<]*)</a>', page)]


def suspend(app, coordinator, member, until: str = "") -> None:
    staff = app.test_client()
    staff.login(coordinator)
    response = staff.post(
        f"/admin/members/{member.id}/suspend", data={"reason": "spam", "until": until}
    )
    assert response.status_code == 302


def last_alert_of(app, user) -> str:
    return stored(
        app,
        select(Notification.message)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(1),
    )


def test_a_suspended_mentor_leaves_the_directory_and_their_requests_are_declined(
    app, db, pairs, mentee, mentor, stranger, create_user, make_mentor, mail
):
    make_mentor("Ada Lovelace")
    coordinator = create_user(role="coordinator")
    waiting = pairs.request(mentee, mentor)
    assert mentors_listed(app, stranger) == ["Ada Lovelace", "Max Mentor"]
    mail.deliver()

    suspend(app, coordinator, mentor)

    assert mentors_listed(app, stranger) == ["Ada Lovelace"]
    assert stored(app, select(Mentorship.state).where(Mentorship.id == waiting)) == DECLINED
    assert last_alert_of(app, mentee) == NOTICE
    # the mentee's page of the request says it was declined, and nothing of why
    reading = app.test_client()
    reading.login(mentee)
    page = reading.get(f"/mentoring/{waiting}").text
    assert "declined" in page.lower() and "suspend" not in page.lower()
    [message] = mail.deliver()
    assert message["To"] == "mia@example.org"
    assert "suspend" not in (message["Subject"] + message.get_body().get_content()).lower()
    # nor can they be asked meanwhile, by a link to their page
    asking = app.test_client()
    asking.login(stranger)
    asking.post(f"/mentoring/request/{mentor.id}", data={"message": "Please mentor me."})
    assert stored(app, select(Mentorship.id).where(Mentorship.mentee_id == stranger.id)) is None


def test_the_mentor_is_listed_again_once_the_suspension_ends(
    app, db, pairs, mentee, mentor, stranger, create_user
):
    coordinator = create_user(role="coordinator")  # in UTC
    with time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False) as clock:
        suspend(app, coordinator, mentor, until="2027-03-05")
        assert mentors_listed(app, stranger) == []

        clock.move_to(datetime(2027, 3, 5, 0, 0, 1, tzinfo=UTC))
        assert mentors_listed(app, stranger) == ["Max Mentor"]
        assert (
            stored(app, select(Mentorship.id).where(Mentorship.state == REQUESTED)) is None
        )  # nothing was pending: nothing to decline
