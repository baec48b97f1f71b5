"""The mentorship request and its state machine, through the pages a member uses: sending a
request, accepting, declining, withdrawing, ending early, expiry, the history, and who sees
what. Mails are those the real SMTP server received."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.db import utcnow
from core.models import Activity, Notification, OutboxMail, User
from core.scheduler import run_job
from core.state import alma
from core.testing import body_of, count_rows, path_of, stored
from plugins.mentoring.models import (
    PAIRED_STATES,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
)
from plugins.mentoring.services import directory, lifecycle

# ---- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Settings for ``app``; a test parametrizes it to configure the plugin."""
    return {}


@pytest.fixture
def app(make_app, app_settings):
    return make_app(**app_settings)


def max_pending(n: int) -> Any:
    return pytest.mark.parametrize(
        "app_settings", [{"PLUGIN_SETTINGS": {"mentoring": {"max_pending_requests": n}}}]
    )


@pytest.fixture
def make_mentor(create_user):
    def make(name: str) -> User:
        return create_user(display_name=name, wants_to_mentor=True)

    return make


@pytest.fixture
def requested(db, mentee, mentor) -> int:
    """A pending request from the mentee to the mentor (made through the service)."""
    return send(db, mentee, mentor)


@pytest.fixture
def accepted(db, mentor, requested) -> int:
    lifecycle.accept_request(requested, mentor)
    db.session.commit()
    return requested


def send(db, mentee: User, mentor: User, message: str = "Please mentor me.") -> int:
    mentorship_id = lifecycle.send_request(mentee, mentor, message).id
    db.session.commit()
    return mentorship_id


def ask(client, mentee: User, mentor: User, message: str = "I hope to learn Python.", **more):
    client.login(mentee)
    return client.post(f"/mentoring/request/{mentor.id}", data={"message": message, **more})


def post(client, user: User, path: str, **data: str):
    """A form post by ``user``, following the redirect back to the mentorship page."""
    client.login(user)
    return client.post(path, data=data, follow_redirects=True)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def all_of(app, statement) -> list[Any]:
    from core.db import db

    with app.app_context():
        try:
            return list(db.session.execute(statement).all())
        finally:
            db.session.remove()


def state_of(app, mentorship_id: int) -> str:
    return stored(app, select(Mentorship.state).where(Mentorship.id == mentorship_id))


def mentee_count(app, mentor: User) -> int | None:
    return stored(
        app, select(MentoringMember.mentee_count).where(MentoringMember.user_id == mentor.id)
    )


def paired(app, mentor: User) -> int:
    return count_rows(
        app, Mentorship, Mentorship.mentor_id == mentor.id, Mentorship.state.in_(PAIRED_STATES)
    )


def alerts_of(app, user: User) -> list[tuple[str, str | None]]:
    return [
        (message, url)
        for message, url in all_of(
            app,
            select(Notification.message, Notification.url)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id),
        )
    ]


def events_of(app, mentorship_id: int) -> list[tuple]:
    return [
        tuple(row)
        for row in all_of(
            app,
            select(
                MentorshipEvent.from_state,
                MentorshipEvent.to_state,
                MentorshipEvent.actor_id,
                MentorshipEvent.reason,
                MentorshipEvent.message,
            )
            .where(MentorshipEvent.mentorship_id == mentorship_id)
            .order_by(MentorshipEvent.id),
        )
    ]


def activities_of(app, user: User) -> list[str]:
    return [
        kind
        for (kind,) in all_of(
            app, select(Activity.kind).where(Activity.user_id == user.id).order_by(Activity.id)
        )
    ]


def history(page: str) -> list[str]:
    """The entries of the History section of a mentorship page, as plain text without their
    time (each entry must show one)."""
    section = re.split(r">History</h2>", page, maxsplit=1)[1].split("</ol>", 1)[0]
    entries = re.findall(r"<li[^>]*>(.*?)</li>", section, flags=re.S)
    assert all("<time datetime=" in entry for entry in entries)
    texts = [re.sub(r"<time[^>]*>.*?</time>", " ", entry, flags=re.S) for entry in entries]
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) for text in texts]


def link_in(message) -> str:
    return re.search(r"http://alma\.test/\S+", body_of(message)).group(0)


def nothing_sent(app) -> bool:
    return count_rows(app, Mentorship) == 0 and count_rows(app, OutboxMail) == 0


# ---- sending a request ------------------------------------------------------------------------


def test_a_mentee_sends_a_request_and_the_mentor_gets_mail_and_an_alert(
    app, client, mail, mentee, mentor
):
    client.login(mentee)
    form = client.get(f"/mentoring/request/{mentor.id}")
    assert form.status_code == 200
    assert "Ask Max Mentor to mentor you" in text_of(form)
    assert 'name="message"' in text_of(form)

    response = ask(client, mentee, mentor, "  I hope to learn Python.  ", topics="Python,  jobs")
    assert response.status_code == 302
    mentorship_id = stored(app, select(Mentorship.id))
    assert response.headers["Location"].endswith(f"/mentoring/{mentorship_id}")

    page = text_of(client.get(f"/mentoring/{mentorship_id}"))
    assert "Your request is on its way to Max Mentor." in page
    assert ">requested</span>" in page
    assert "I hope to learn Python." in page and "Python, jobs" in page
    assert "Waiting for Max Mentor to answer." in page
    assert history(page)[0] == "Requested · Mia Mentee"
    assert events_of(app, mentorship_id) == [
        (None, "requested", mentee.id, None, "I hope to learn Python.")
    ]
    assert activities_of(app, mentee) == ["mentoring.request_sent"]

    asked = "Mia Mentee asks you to be their mentor: “I hope to learn Python.”"
    assert alerts_of(app, mentor) == [(asked, f"/mentoring/{mentorship_id}")]
    received = mail.deliver()
    assert len(received) == 1
    assert received[0]["To"] == "max@example.org"
    assert received[0]["Subject"] == "Mentorship request from Mia Mentee"
    assert asked in body_of(received[0])  # the mentee's message, in the mail

    # the alert is on the mentor's alerts page; the link in the mail opens the request for
    # the mentor, who can look at the mentee
    client.login(mentor)
    assert "Mia Mentee asks you to be their mentor" in text_of(client.get("/alerts/"))
    page = text_of(client.get(path_of(link_in(received[0]))))
    assert path_of(link_in(received[0])) == f"/mentoring/{mentorship_id}"
    assert "Mia Mentee" in page
    assert "I hope to learn Python." in page
    assert f'action="/mentoring/{mentorship_id}/accept"' in page
    assert f'action="/mentoring/{mentorship_id}/decline"' in page
    assert f'href="/members/{mentee.id}"' in page
    assert client.get(f"/members/{mentee.id}").status_code == 200


def test_the_request_mail_carries_a_message_with_markup_as_plain_text(
    app, client, mail, mentee, mentor
):
    message = 'Hi <b>Max</b> & co,\n<a href="http://evil.example">my site</a> <script>x()</script>'
    ask(client, mentee, mentor, message)

    [received] = mail.deliver()

    assert received.get_content_type() == "text/plain"  # no HTML part to render the markup
    body = body_of(received).replace("\r\n", "\n")
    assert 'Hi <b>Max</b> & co,\n<a href="http://evil.example">my site</a>' in body
    assert "<script>x()</script>" in body and "&lt;" not in body and "&amp;" not in body

    client.login(mentor)
    alerts = client.get("/alerts/").get_data(as_text=True)
    assert "Hi &lt;b&gt;Max&lt;/b&gt; &amp; co" in alerts  # shown as written, not as markup
    assert "<b>Max</b>" not in alerts and "<script>x()" not in alerts


def test_the_request_expires_after_the_configured_days(app, client, mentee, mentor):
    ask(client, mentee, mentor)
    created, expires = all_of(app, select(Mentorship.created_at, Mentorship.expires_at))[0]
    assert abs((expires - created) - timedelta(days=14)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "app_settings", [{"PLUGIN_SETTINGS": {"mentoring": {"request_expiry_days": 3}}}]
)
def test_the_expiry_is_configurable(app, client, mentee, mentor):
    ask(client, mentee, mentor)
    created, expires = all_of(app, select(Mentorship.created_at, Mentorship.expires_at))[0]
    assert abs((expires - created) - timedelta(days=3)) < timedelta(minutes=1)


def test_asking_needs_a_login(app, client, mentor):
    response = client.post(f"/mentoring/request/{mentor.id}", data={"message": "Hello"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert nothing_sent(app)


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("", "This field is required."),
        ("   \n ", "This field is required."),
        ("x" * 2001, "Field cannot be longer than 2000 characters."),
    ],
)
def test_a_request_without_a_proper_message_is_refused(app, client, mentee, mentor, message, error):
    response = ask(client, mentee, mentor, message)
    assert response.status_code == 400
    assert error in text_of(response)
    assert nothing_sent(app)
    assert alerts_of(app, mentor) == []


def test_a_message_of_exactly_the_limit_is_fine(app, client, mentee, mentor):
    assert ask(client, mentee, mentor, "x" * 2000).status_code == 302
    assert count_rows(app, Mentorship) == 1


def test_topics_too_long_are_refused(app, client, mentee, mentor):
    response = ask(client, mentee, mentor, topics="t" * 301)
    assert response.status_code == 400
    assert "Field cannot be longer than 300 characters." in text_of(response)
    assert nothing_sent(app)


def test_asking_yourself_is_refused(app, client, mentor):
    response = ask(client, mentor, mentor)
    assert response.status_code == 400
    assert "You cannot be your own mentor." in text_of(response)
    assert nothing_sent(app)


def test_asking_someone_who_is_not_a_mentor_is_not_found(app, client, mentee, create_user):
    not_a_mentor = create_user(display_name="Nora Nomentor")
    unconfirmed = create_user(wants_to_mentor=True, confirmed=False)
    client.login(mentee)
    for member_id in (not_a_mentor.id, unconfirmed.id, 999_999):
        assert client.get(f"/mentoring/request/{member_id}").status_code == 404
        form = {"message": "Please mentor me."}
        assert client.post(f"/mentoring/request/{member_id}", data=form).status_code == 404
    assert nothing_sent(app)


def test_asking_a_paused_mentor_is_refused(app, client, db, mentee, mentor):
    directory.update_mentor_settings(mentor, capacity=2, accepting=False)
    db.session.commit()

    client.login(mentee)
    form = text_of(client.get(f"/mentoring/request/{mentor.id}"))
    assert "Max Mentor is not taking new mentees now." in form
    assert 'name="message"' not in form

    response = ask(client, mentee, mentor)
    assert response.status_code == 400
    assert "Max Mentor is not taking new mentees now." in text_of(response)
    assert nothing_sent(app)


def test_asking_a_full_mentor_is_refused(app, client, db, mentee, mentor, create_user):
    first = create_user(display_name="First Mentee")
    lifecycle.accept_request(send(db, first, mentor), mentor)
    db.session.commit()
    before = count_rows(app, OutboxMail)

    response = ask(client, mentee, mentor)
    assert response.status_code == 400
    assert "Max Mentor is not taking new mentees now." in text_of(response)
    assert count_rows(app, Mentorship, Mentorship.mentee_id == mentee.id) == 0
    assert count_rows(app, OutboxMail) == before


def test_a_second_open_request_to_the_same_mentor_is_refused(app, client, mail, mentee, mentor):
    assert ask(client, mentee, mentor).status_code == 302
    assert len(mail.deliver()) == 1

    again = ask(client, mentee, mentor, "Did you get my request?")  # e.g. a double submit
    assert again.status_code == 400
    assert "You already have a request or mentorship with Max Mentor." in text_of(again)
    assert count_rows(app, Mentorship) == 1
    assert len(alerts_of(app, mentor)) == 1
    assert mail.deliver() == []


def test_an_accepted_pair_cannot_open_a_second_mentorship(
    app, client, db, mentee, mentor, accepted
):
    directory.update_mentor_settings(mentor, capacity=2, accepting=True)
    db.session.commit()
    response = ask(client, mentee, mentor)
    assert response.status_code == 400
    assert "You already have a request or mentorship with Max Mentor." in text_of(response)
    assert count_rows(app, Mentorship) == 1


@max_pending(2)
def test_no_more_than_the_configured_pending_requests(app, client, mentee, make_mentor, mail):
    mentors = [make_mentor(f"Mentor {n}") for n in range(4)]
    assert ask(client, mentee, mentors[0]).status_code == 302
    assert ask(client, mentee, mentors[1]).status_code == 302

    refused = ask(client, mentee, mentors[2])
    assert refused.status_code == 400
    assert (
        "You have 2 pending requests, the most at once: wait for an answer or withdraw one."
        in text_of(refused)
    )
    assert count_rows(app, Mentorship, Mentorship.mentee_id == mentee.id) == 2
    assert alerts_of(app, mentors[2]) == []

    # an answered request no longer counts: one accepted, one withdrawn
    first, second = (
        stored(app, select(Mentorship.id).where(Mentorship.mentor_id == m.id)) for m in mentors[:2]
    )
    post(client, mentors[0], f"/mentoring/{first}/accept")
    assert ask(client, mentee, mentors[2]).status_code == 302
    assert ask(client, mentee, mentors[3]).status_code == 400
    post(client, mentee, f"/mentoring/{second}/withdraw")
    assert ask(client, mentee, mentors[3]).status_code == 302
    assert count_rows(app, Mentorship, Mentorship.state == "requested") == 2


def test_a_mentee_may_ask_again_once_a_request_has_ended(app, client, db, mentee, mentor):
    first = send(db, mentee, mentor)
    lifecycle.withdraw_request(first, mentee)
    db.session.commit()

    assert ask(client, mentee, mentor, "Second try.").status_code == 302
    assert count_rows(app, Mentorship) == 2
    assert count_rows(app, Mentorship, Mentorship.state == "requested") == 1


def test_forms_need_their_csrf_token(make_app, db, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    mentor = create_user(wants_to_mentor=True)
    mentee = create_user()
    mentorship_id = send(db, mentee, mentor)
    client.login(mentee)
    assert client.post(f"/mentoring/request/{mentor.id}", data={"message": "Hi"}).status_code == 400
    client.login(mentor)
    assert client.post(f"/mentoring/{mentorship_id}/accept").status_code == 400
    assert state_of(app, mentorship_id) == "requested"
    assert count_rows(app, Mentorship) == 1


# ---- accepting ---------------------------------------------------------------------------------


def test_the_mentor_accepts(app, client, mail, mentee, mentor, requested, caplog):
    mail.deliver()  # the request's mail

    response = post(client, mentor, f"/mentoring/{requested}/accept")
    page = text_of(response)
    assert "You accepted the request. Say hello in the chat!" in page
    assert "accepted: getting to know each other</span>" in page
    assert 'id="chat"' in page
    assert f'action="/mentoring/{requested}/accept"' not in page
    assert history(page) == [
        "Requested · Mia Mentee",
        "Accepted: getting to know each other · Max Mentor",
    ]

    assert state_of(app, requested) == "accepted"
    assert mentee_count(app, mentor) == 1
    assert activities_of(app, mentor) == ["mentoring.request_accepted"]
    assert alerts_of(app, mentee) == [
        ("Max Mentor accepted your mentorship request.", f"/mentoring/{requested}")
    ]
    received = mail.deliver()
    assert [(m["To"], m["Subject"]) for m in received] == [
        ("mia@example.org", "Max Mentor accepted your request")
    ]
    assert path_of(link_in(received[0])) == f"/mentoring/{requested}"
    # the live alert went out after the commit, not inside it (where, on SQLite, it waited
    # for the request's own write lock and failed)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("who", ["mentee", "stranger"])
def test_only_the_mentor_may_accept(app, client, mail, request, requested, mentor, who):
    mail.deliver()
    response = post(client, request.getfixturevalue(who), f"/mentoring/{requested}/accept")
    assert response.status_code == 403
    assert state_of(app, requested) == "requested"
    assert mentee_count(app, mentor) is None
    assert mail.deliver() == []


def test_accepting_a_missing_mentorship_is_not_found(app, client, mentor):
    assert post(client, mentor, "/mentoring/999999/accept").status_code == 404
    assert client.get("/mentoring/999999").status_code == 404


def test_accepting_needs_a_login(app, client, requested):
    response = client.post(f"/mentoring/{requested}/accept")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert state_of(app, requested) == "requested"


def test_accepting_twice_changes_nothing_the_second_time(
    app, client, mail, mentor, mentee, requested
):
    post(client, mentor, f"/mentoring/{requested}/accept")
    mail.deliver()

    page = text_of(post(client, mentor, f"/mentoring/{requested}/accept"))
    assert (
        "This is no longer possible: the mentorship is accepted: getting to know each other."
        in page
    )
    assert mentee_count(app, mentor) == 1
    assert len(events_of(app, requested)) == 2
    assert len(alerts_of(app, mentee)) == 1
    assert mail.deliver() == []


@pytest.mark.parametrize(
    ("ended_by", "state"), [("withdraw", "withdrawn"), ("decline", "declined")]
)
def test_an_ended_request_cannot_be_accepted(
    app, client, db, mentor, mentee, requested, ended_by, state
):
    if ended_by == "withdraw":
        lifecycle.withdraw_request(requested, mentee)
    else:
        lifecycle.decline_request(requested, mentor, "timing", "Not now, sorry.")
    db.session.commit()

    page = text_of(post(client, mentor, f"/mentoring/{requested}/accept"))
    assert f"This is no longer possible: the mentorship is {state}." in page
    assert state_of(app, requested) == state
    assert not mentee_count(app, mentor)


def test_a_mentor_without_room_cannot_accept(app, client, db, mail, mentor, create_user):
    first, second = create_user(), create_user()
    first_id, second_id = send(db, first, mentor), send(db, second, mentor)
    post(client, mentor, f"/mentoring/{first_id}/accept")
    mail.deliver()

    page = text_of(post(client, mentor, f"/mentoring/{second_id}/accept"))
    assert "You have no room for another mentee: raise your capacity in My data first." in page
    assert state_of(app, second_id) == "requested"
    assert mentee_count(app, mentor) == 1
    assert len(events_of(app, second_id)) == 1
    assert alerts_of(app, second) == []
    assert mail.deliver() == []

    # with more room, the same request can be accepted
    client.post("/mentoring/settings", data={"capacity": "2", "accepting": "y"})
    post(client, mentor, f"/mentoring/{second_id}/accept")
    assert state_of(app, second_id) == "accepted"
    assert mentee_count(app, mentor) == 2


# ---- declining ---------------------------------------------------------------------------------


def test_the_mentor_declines_with_a_reason_and_a_message(
    app, client, mail, mentor, mentee, requested
):
    mail.deliver()
    page = text_of(
        post(
            client,
            mentor,
            f"/mentoring/{requested}/decline",
            reason="timing",
            message="My calendar is full until June. Try Ada!",
        )
    )
    assert "You declined the request; the mentee has your message." in page
    assert ">declined</span>" in page
    assert "The timing does not work for me" in page
    assert "My calendar is full until June. Try Ada!" in page
    assert history(page)[-1] == (
        "Declined · Max Mentor The timing does not work for me "
        "“My calendar is full until June. Try Ada!”"
    )
    assert events_of(app, requested)[-1] == (
        "requested",
        "declined",
        mentor.id,
        "timing",
        "My calendar is full until June. Try Ada!",
    )
    assert activities_of(app, mentor) == ["mentoring.request_declined"]
    assert not mentee_count(app, mentor)

    expected = (
        "Max Mentor declined your mentorship request: “My calendar is full until June. Try Ada!”"
    )
    assert alerts_of(app, mentee) == [(expected, f"/mentoring/{requested}")]
    received = mail.deliver()
    assert [(m["To"], m["Subject"]) for m in received] == [
        ("mia@example.org", "Max Mentor declined your request")
    ]
    assert expected in body_of(received[0])

    # the mentee sees it on the page too
    client.login(mentee)
    page = text_of(client.get(f"/mentoring/{requested}"))
    assert "My calendar is full until June. Try Ada!" in page
    assert f'action="/mentoring/{requested}/withdraw"' not in page


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"reason": "timing", "message": ""}, "Write a few words to the mentee"),
        ({"reason": "timing", "message": "   "}, "Write a few words to the mentee"),
        ({"reason": "because", "message": "Sorry."}, "Not a valid choice"),
        ({"message": "Sorry."}, "Choose a reason from the list."),
        ({"reason": "timing", "message": "x" * 2001}, "Field cannot be longer than 2000"),
    ],
)
def test_declining_needs_a_listed_reason_and_a_message(
    app, client, mail, mentor, mentee, requested, data, error
):
    mail.deliver()
    response = post(client, mentor, f"/mentoring/{requested}/decline", **data)
    assert response.status_code == 200  # back on the request, still to be answered
    page = text_of(response)
    assert error in page
    assert f'action="/mentoring/{requested}/decline"' in page
    assert state_of(app, requested) == "requested"
    assert len(events_of(app, requested)) == 1
    assert alerts_of(app, mentee) == []
    assert mail.deliver() == []


@pytest.mark.parametrize("who", ["mentee", "stranger"])
def test_only_the_mentor_may_decline(app, client, request, requested, who):
    response = post(
        client,
        request.getfixturevalue(who),
        f"/mentoring/{requested}/decline",
        reason="other",
        message="No.",
    )
    assert response.status_code == 403
    assert state_of(app, requested) == "requested"


def test_declining_a_missing_mentorship_is_not_found(client, mentor):
    response = post(client, mentor, "/mentoring/999999/decline", reason="other", message="No.")
    assert response.status_code == 404


def test_an_accepted_request_cannot_be_declined(app, client, mentor, accepted):
    page = text_of(
        post(client, mentor, f"/mentoring/{accepted}/decline", reason="other", message="No.")
    )
    assert "This is no longer possible: the mentorship is accepted" in page
    assert state_of(app, accepted) == "accepted"
    assert mentee_count(app, mentor) == 1


# ---- withdrawing -------------------------------------------------------------------------------


def test_the_mentee_withdraws_a_pending_request(app, client, mail, mentor, mentee, requested):
    mail.deliver()
    page = text_of(post(client, mentee, f"/mentoring/{requested}/withdraw"))
    assert "You withdrew your request." in page
    assert ">withdrawn</span>" in page
    assert history(page)[-1] == "Withdrawn · Mia Mentee"
    assert f'action="/mentoring/{requested}/withdraw"' not in page
    assert state_of(app, requested) == "withdrawn"
    assert alerts_of(app, mentor)[-1] == (
        "Mia Mentee withdrew their mentorship request.",
        f"/mentoring/{requested}",
    )

    page = text_of(post(client, mentee, f"/mentoring/{requested}/withdraw"))  # again
    assert "This is no longer possible: the mentorship is withdrawn." in page
    assert len(events_of(app, requested)) == 2


@pytest.mark.parametrize("who", ["mentor", "stranger"])
def test_only_the_mentee_may_withdraw(app, client, request, requested, who):
    response = post(client, request.getfixturevalue(who), f"/mentoring/{requested}/withdraw")
    assert response.status_code == 403
    assert state_of(app, requested) == "requested"


def test_withdrawing_a_missing_mentorship_is_not_found(client, mentee):
    assert post(client, mentee, "/mentoring/999999/withdraw").status_code == 404


def test_an_accepted_request_cannot_be_withdrawn(app, client, mentor, mentee, accepted):
    page = text_of(post(client, mentee, f"/mentoring/{accepted}/withdraw"))
    assert (
        "This is no longer possible: the mentorship is accepted: getting to know each other."
        in page
    )
    assert state_of(app, accepted) == "accepted"
    assert mentee_count(app, mentor) == 1


# ---- ending early ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mentee", "mentor"])
def test_either_party_ends_the_mentorship_with_a_message(
    app, client, mail, request, mentor, mentee, accepted, create_user, who
):
    newcomer = create_user(display_name="Nina Newcomer")
    mail.deliver()
    actor = request.getfixturevalue(who)
    other = mentor if who == "mentee" else mentee

    page = text_of(
        post(client, actor, f"/mentoring/{accepted}/terminate", message="We do not fit, sorry.")
    )
    assert "The mentorship has ended." in page
    assert ">ended early</span>" in page
    assert "This chat is closed: the mentorship has ended." in page
    assert history(page)[-1] == (f"Ended early · {actor.display_name} “We do not fit, sorry.”")
    assert state_of(app, accepted) == "terminated"
    assert activities_of(app, actor)[-1] == "mentoring.mentorship_terminated"

    expected = f"{actor.display_name} ended your mentorship: “We do not fit, sorry.”"
    assert alerts_of(app, other)[-1] == (expected, f"/mentoring/{accepted}")
    received = mail.deliver()
    assert [(m["To"], m["Subject"]) for m in received] == [
        (other.email, f"{actor.display_name} ended your mentorship")
    ]
    assert expected in body_of(received[0])

    # the mentor's place is free again: a new mentee can ask and be accepted
    assert mentee_count(app, mentor) == 0
    assert ask(client, newcomer, mentor).status_code == 302
    new_id = stored(app, select(Mentorship.id).where(Mentorship.mentee_id == newcomer.id))
    post(client, mentor, f"/mentoring/{new_id}/accept")
    assert state_of(app, new_id) == "accepted"
    assert mentee_count(app, mentor) == 1
    # and the mentee may look for a mentor again, this one included
    assert count_rows(app, Mentorship, Mentorship.mentee_id == mentee.id) == 1


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("", "Tell the other party why, in a few words."),
        ("  ", "Tell the other party why, in a few words."),
        ("x" * 2001, "Field cannot be longer than 2000 characters."),
    ],
)
def test_ending_needs_a_message(app, client, mail, mentor, mentee, accepted, message, error):
    mail.deliver()
    response = post(client, mentee, f"/mentoring/{accepted}/terminate", message=message)
    assert response.status_code == 200
    assert error in text_of(response)
    assert state_of(app, accepted) == "accepted"
    assert mentee_count(app, mentor) == 1
    assert len(events_of(app, accepted)) == 2
    assert mail.deliver() == []


def test_a_pending_request_cannot_be_ended(app, client, mentee, requested):
    page = text_of(post(client, mentee, f"/mentoring/{requested}/terminate", message="Bye."))
    assert "This is no longer possible: the mentorship is requested." in page
    assert state_of(app, requested) == "requested"


def test_ending_twice_changes_nothing_the_second_time(app, client, mail, mentor, mentee, accepted):
    post(client, mentee, f"/mentoring/{accepted}/terminate", message="Bye.")
    mail.deliver()
    page = text_of(post(client, mentor, f"/mentoring/{accepted}/terminate", message="Bye too."))
    assert "This is no longer possible: the mentorship is ended early." in page
    assert mentee_count(app, mentor) == 0
    assert len(events_of(app, accepted)) == 3
    assert mail.deliver() == []


def test_a_stranger_cannot_end_a_mentorship(app, client, stranger, accepted, mentor):
    response = post(client, stranger, f"/mentoring/{accepted}/terminate", message="Ha.")
    assert response.status_code == 403
    assert state_of(app, accepted) == "accepted"
    assert post(client, mentor, "/mentoring/999999/terminate", message="x").status_code == 404


def test_an_active_mentorship_cannot_be_ended_by_one_party_alone(
    app, client, db, mentor, mentee, accepted
):
    # once the agreement is approved, ending early takes both (tests/plugins/mentoring/
    # test_agreement.py); here the state is set as the agreement sets it
    db.session.execute(update(Mentorship).values(state="active"))
    db.session.commit()
    page = text_of(
        post(client, mentor, f"/mentoring/{accepted}/terminate", message="Moving abroad.")
    )
    assert "propose to end early" in page
    assert state_of(app, accepted) == "active"
    assert mentee_count(app, mentor) == 1


# ---- history and who sees what -----------------------------------------------------------------


def test_every_transition_is_recorded_with_who_and_when(app, client, mentor, mentee):
    started = utcnow()
    ask(client, mentee, mentor, "Hello!")
    mentorship_id = stored(app, select(Mentorship.id))
    post(client, mentor, f"/mentoring/{mentorship_id}/accept")
    post(client, mentee, f"/mentoring/{mentorship_id}/terminate", message="Not a fit.")

    assert events_of(app, mentorship_id) == [
        (None, "requested", mentee.id, None, "Hello!"),
        ("requested", "accepted", mentor.id, None, ""),
        ("accepted", "terminated", mentee.id, None, "Not a fit."),
    ]
    times = [
        when
        for (when,) in all_of(app, select(MentorshipEvent.created_at).order_by(MentorshipEvent.id))
    ]
    assert started <= times[0] <= times[1] <= times[2] <= utcnow()

    for viewer in (mentor, mentee):  # both see the same history
        client.login(viewer)
        page = text_of(client.get(f"/mentoring/{mentorship_id}"))
        assert history(page) == [
            "Requested · Mia Mentee",
            "Accepted: getting to know each other · Max Mentor",
            "Ended early · Mia Mentee “Not a fit.”",
        ]
        assert page.count("<time datetime=") >= 3


def test_a_mentorship_page_is_only_for_its_two_parties(app, client, stranger, requested):
    client.login(stranger)
    response = client.get(f"/mentoring/{requested}")
    assert response.status_code == 403
    assert "Please mentor me." not in text_of(response)
    client.logout()
    response = client.get(f"/mentoring/{requested}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_my_mentorships_are_listed_to_me_and_to_nobody_else(
    app, client, db, mentor, mentee, stranger, make_mentor, accepted
):
    other_mentor = make_mentor("Olga Other")
    pending = send(db, mentee, other_mentor)

    client.login(mentee)
    for path in (f"/members/{mentee.id}/mentoring", "/mentoring/", "/me/data"):
        page = text_of(client.get(path))
        assert "Max Mentor" in page and "Olga Other" in page, path
        assert f'href="/mentoring/{accepted}"' in page and f'href="/mentoring/{pending}"' in page
        assert "accepted: getting to know each other" in page and ">requested</span>" in page
        assert "your mentor" in page

    client.login(mentor)
    page = text_of(client.get("/mentoring/"))
    assert "Mia Mentee" in page and "your mentee" in page
    assert "Olga Other" not in page

    # others, the mentor included, see nothing of the mentee's mentorships on their profile
    for viewer in (stranger, mentor):
        client.login(viewer)
        response = client.get(f"/members/{mentee.id}/mentoring")
        assert response.status_code == 200
        page = text_of(response)
        assert "Olga Other" not in page
        assert f'href="/mentoring/{accepted}"' not in page
        assert f'href="/mentoring/{pending}"' not in page
        assert "Nothing about mentoring here yet." in page
        if viewer is stranger:
            assert "Max Mentor" not in page


def test_with_no_mentorship_the_lists_say_so(client, mentee):
    client.login(mentee)
    for path in (f"/members/{mentee.id}/mentoring", "/mentoring/"):
        assert "No mentorships yet." in text_of(client.get(path))


# ---- expiry ------------------------------------------------------------------------------------


def expire_job(app):
    return next(job for job in alma(app).hooks.jobs() if job.id == "mentoring.expire_requests")


def test_unanswered_requests_expire_with_a_notice_to_both(
    app, client, db, mail, mentor, mentee, make_mentor, create_user
):
    old = send(db, mentee, mentor)
    newer_mentor = make_mentor("Nils Newer")
    newer = send(db, mentee, newer_mentor)
    db.session.execute(
        update(Mentorship)
        .where(Mentorship.id == old)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    mail.deliver()

    run_job(app, expire_job(app))

    assert state_of(app, old) == "expired"
    assert state_of(app, newer) == "requested"
    assert events_of(app, old)[-1] == ("requested", "expired", None, None, "")
    received = mail.deliver()
    assert sorted((m["To"], m["Subject"]) for m in received) == [
        ("max@example.org", "A mentorship request expired"),
        ("mia@example.org", "A mentorship request expired"),
    ]
    by_address = {m["To"]: body_of(m) for m in received}
    assert "Your request to Max Mentor expired without an answer." in by_address["mia@example.org"]
    assert "The mentorship request of Mia Mentee expired." in by_address["max@example.org"]
    assert all(f"http://alma.test/mentoring/{old}" in body for body in by_address.values())
    assert alerts_of(app, newer_mentor) == [
        ("Mia Mentee asks you to be their mentor: “Please mentor me.”", f"/mentoring/{newer}")
    ]

    client.login(mentee)
    page = text_of(client.get(f"/mentoring/{old}"))
    assert ">expired</span>" in page
    assert history(page)[-1] == "Expired"
    assert f'action="/mentoring/{old}/withdraw"' not in page

    # a second run finds nothing to do
    run_job(app, expire_job(app))
    assert mail.deliver() == []
    assert len(events_of(app, old)) == 2

    # the mentor cannot accept it any more; the mentee may ask again
    page = text_of(post(client, mentor, f"/mentoring/{old}/accept"))
    assert "This is no longer possible: the mentorship is expired." in page
    assert ask(client, mentee, mentor, "Trying again.").status_code == 302


def test_expiry_run_in_an_app_context_leaves_answered_requests_alone(
    app, db, mail, mentor, mentee, create_user
):
    from core.db import db as database

    other = create_user(display_name="Otto")
    answered = send(db, mentee, mentor)
    withdrawn = send(db, other, mentor)
    lifecycle.accept_request(answered, mentor)
    lifecycle.withdraw_request(withdrawn, other)
    db.session.execute(update(Mentorship).values(expires_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    mail.deliver()

    with app.app_context():
        lifecycle.expire_requests()
        database.session.commit()
        database.session.remove()

    assert state_of(app, answered) == "accepted"
    assert state_of(app, withdrawn) == "withdrawn"
    assert mail.deliver() == []


# ---- the capacity counter ----------------------------------------------------------------------


def test_the_mentee_count_follows_accepts_and_endings(app, client, db, mentor, create_user):
    directory.update_mentor_settings(mentor, capacity=3, accepting=True)
    db.session.commit()
    mentees = [create_user(display_name=f"Mentee {n}") for n in range(6)]
    ids = [send(db, m, mentor) for m in mentees]

    def consistent(expected: int) -> None:
        assert mentee_count(app, mentor) == paired(app, mentor) == expected

    for mentorship_id in ids[:3]:
        post(client, mentor, f"/mentoring/{mentorship_id}/accept")
    consistent(3)
    post(client, mentor, f"/mentoring/{ids[3]}/accept")  # no room
    consistent(3)
    post(client, mentees[0], f"/mentoring/{ids[0]}/terminate", message="Found my way.")
    consistent(2)
    post(client, mentees[0], f"/mentoring/{ids[0]}/terminate", message="Again.")  # refused
    consistent(2)
    post(client, mentor, f"/mentoring/{ids[3]}/accept")
    consistent(3)
    post(client, mentor, f"/mentoring/{ids[1]}/terminate", message="No time.")
    post(client, mentor, f"/mentoring/{ids[4]}/decline", reason="timing", message="Sorry.")
    post(client, mentees[5], f"/mentoring/{ids[5]}/withdraw")
    consistent(2)
    post(client, mentor, f"/mentoring/{ids[2]}/terminate", message="Done.")
    post(client, mentees[3], f"/mentoring/{ids[3]}/terminate", message="Done.")
    consistent(0)
    assert stored(app, select(func.min(MentoringMember.mentee_count))) == 0


def test_the_request_form_points_to_the_open_request_instead_of_asking_again(
    app, client, mentor, mentee, requested
):
    client.login(mentee)

    page = text_of(client.get(f"/mentoring/request/{mentor.id}"))

    assert "You already have a request or mentorship with" in page
    assert f'href="/mentoring/{requested}"' in page
    assert 'name="message"' not in page


def test_withdrawing_tells_the_mentor_by_mail_too(client, mail, mentor, mentee, requested):
    mail.deliver()
    post(client, mentee, f"/mentoring/{requested}/withdraw")

    [message] = mail.deliver()
    assert message["To"] == mentor.email and "withdrew" in message["Subject"]


# ---- what the Mentoring area offers, by role -------------------------------------------------


def main_of(response) -> str:
    """The page's own content, without the site's menu (which always offers the directory)."""
    page = response.get_data(as_text=True)
    return html.unescape(page.split('<main id="main"', 1)[1].split("</main>", 1)[0])


@pytest.mark.parametrize(
    ("mentors", "mentored", "says"),
    [
        (True, False, "No mentees yet. When a mentee asks you, the request shows here"),
        (False, True, "No mentorships yet. Find a mentor"),
        (True, True, "No mentorships yet. Find a mentor · Mentees who ask you show here too."),
        (False, False, "You have not said yet whether you mentor or look for a mentor."),
    ],
)
def test_the_mentoring_area_offers_what_fits_the_members_roles(
    client, create_user, mentors, mentored, says
):
    member = create_user(wants_to_mentor=mentors, wants_to_be_mentored=mentored)
    client.login(member)

    for path in (f"/members/{member.id}/mentoring", "/mentoring/"):
        page = main_of(client.get(path))
        assert " ".join(says.split()) in " ".join(re.sub(r"<[^>]+>", " ", page).split())
        assert ('href="/mentoring/mentors"' in page) == mentored
        assert ("Choose in My data" in page) == (not mentors and not mentored)


def test_my_data_asks_a_member_without_roles_to_choose_above_not_to_go_to_itself(
    client, create_user
):
    member = create_user(wants_to_mentor=False, wants_to_be_mentored=False)
    client.login(member)

    page = main_of(client.get("/me/data"))

    listed = page.split("My requests and mentorships", 1)[1]
    assert "You have not said yet whether you mentor or look for a mentor. Choose above." in (
        " ".join(re.sub(r"<[^>]+>", " ", listed).split())
    )
    assert "Choose in My data" not in listed and 'href="/me/data"' not in listed


def test_a_mentor_with_mentees_is_not_offered_to_find_a_mentor(client, mentee, mentor, requested):
    client.login(mentor)

    for path in (f"/members/{mentor.id}/mentoring", "/mentoring/", "/me/data"):
        page = main_of(client.get(path))
        assert "Mia Mentee" in page
        assert 'href="/mentoring/mentors"' not in page and "Find a mentor" not in page

    client.login(mentee)
    for path in ("/mentoring/", "/me/data"):
        assert 'href="/mentoring/mentors"' in main_of(client.get(path))
