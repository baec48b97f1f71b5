"""What alma does on its own around meetings, as the members see it in their mailboxes (the
real SMTP server of ``mail``): a reminder before a meeting, a request for feedback once both
confirmed it took place (and the feedback form it links to), and a nudge after a silence
longer than the pair agreed. Each job runs as the scheduler runs it (``run_job``: its own app
context and unit of work), and must send each mail exactly once: run twice, after a crash,
or twice at the same time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.models import User
from core.scheduler import run_job
from core.services.mail import DELIVER_JOB_ID
from core.state import alma
from core.testing import body_of, path_of, race, stored
from plugins.mentoring.models import ChatMessage, MeetingFeedback, Mentorship
from plugins.mentoring.services import chat, ending, followups, meetings

from .conftest import first_then_second

REMINDERS = "mentoring.meeting_reminders"
FEEDBACK_REQUESTS = "mentoring.meeting_feedback"
NUDGES = "mentoring.silence_nudges"

# ---- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Settings for ``app``; a test parametrizes it (``mentoring_settings``) to configure it."""
    return {}


@pytest.fixture
def app(make_app, app_settings):
    return make_app(**app_settings)


def mentoring_settings(**values: int) -> Any:
    """Run the test with these ``[plugins.mentoring]`` settings."""
    return pytest.mark.parametrize("app_settings", [{"PLUGIN_SETTINGS": {"mentoring": values}}])


@pytest.fixture
def mail(mail, db):
    """The mailbox; the test's own unit of work ends before each delivery, as before a
    request (on SQLite an open read would otherwise keep the test from writing afterwards)."""

    class Delivering:
        def deliver(self) -> list:
            db.session.commit()
            return mail.deliver()

    return Delivering()


@pytest.fixture
def quiet_mail(mail, mentorship):
    """The mailbox, once the mails the mentorship's own steps sent are delivered."""
    mail.deliver()
    return mail


def job(app, job_id: str):
    return next(job for job in alma(app).hooks.jobs() if job.id == job_id)


def run(app, db, job_id: str) -> None:
    """Run a job as the scheduler does, in its own unit of work."""
    db.session.commit()  # the test's own reads end: it sees what the job wrote
    run_job(app, job(app, job_id))


def ran(app, db, mail, job_id: str) -> list:
    """Run a job, then the outbox: the mails the SMTP server received."""
    run(app, db, job_id)
    return mail.deliver()


def addressed(received: list) -> list[tuple[str, str]]:
    return sorted((message["To"], message["Subject"]) for message in received)


FOOTER_LINK = re.compile(r"http://alma\.test/(unsubscribe/|me/notifications$)")


def links_in(message) -> list[str]:
    """The mail's own links: each of these mails can be turned off, and ends with a footer
    linking to its unsubscribe page and the member's Notifications page."""
    links = re.findall(r"https?://\S+", body_of(message))
    footer = [link for link in links if FOOTER_LINK.match(link)]
    assert len(footer) == 2 and message["List-Unsubscribe"] == f"<{footer[0]}>"
    return [link for link in links if not FOOTER_LINK.match(link)]


def spaced(text: str) -> str:
    return re.sub(r"[\s\u202f\xa0]+", " ", text)


def local(moment: datetime, zone: str) -> str:
    """A pattern for a time as a member in ``zone`` reads it in a mail: date, hour and minute
    on their clock (seconds or not), and the zone."""
    mine = moment.astimezone(ZoneInfo(zone))
    return re.escape(f"{mine:%b %-d, %Y}, {mine:%-I:%M}") + rf"(:\d\d)? {mine:%p} \({zone}\)"


def soon(hours: float) -> datetime:
    """A whole minute ``hours`` from now."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0)


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


# ---- reminders ---------------------------------------------------------------------------------


def test_both_get_one_reminder_on_their_own_clock(
    app, client, db, quiet_mail, planner, mentorship, mentee, mentor
):
    mentee.timezone = "Pacific/Auckland"
    mentor.timezone = "America/Los_Angeles"
    db.session.commit()
    starts = soon(5)
    meeting_id = planner.schedule(
        mentorship, mentee, mentor, starts, place="Café Central", agenda="Mock interview"
    )
    quiet_mail.deliver()  # the proposal's and the approval's own mails

    received = ran(app, db, quiet_mail, REMINDERS)

    assert addressed(received) == [
        ("max@example.org", "Reminder: your meeting with Mia Mentee"),
        ("mia@example.org", "Reminder: your meeting with Max Mentor"),
    ]
    texts = {message["To"]: spaced(body_of(message)) for message in received}
    assert re.search(
        f"you meet Max Mentor on {local(starts, 'Pacific/Auckland')}\\.", texts["mia@example.org"]
    )
    assert re.search(
        f"you meet Mia Mentee on {local(starts, 'America/Los_Angeles')}\\.",
        texts["max@example.org"],
    )
    for message in received:
        assert "Where: Café Central" in body_of(message)
        assert "Mock interview" in body_of(message)
        assert links_in(message) == [f"http://alma.test/mentoring/meetings/{meeting_id}"]

    assert ran(app, db, quiet_mail, REMINDERS) == []  # never twice

    client.login(mentor)  # the link opens the meeting, to move or cancel it
    page = client.get(path_of(links_in(received[0])[0])).text
    assert "Meeting with Mia Mentee" in page
    assert "Propose a change" in page


def test_a_meeting_further_away_is_reminded_once_it_comes_within_the_hours(
    app, db, quiet_mail, planner, mentorship, mentee, mentor
):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(30))
    quiet_mail.deliver()

    assert ran(app, db, quiet_mail, REMINDERS) == []

    planner.move_start(meeting_id, soon(23))  # time passes
    assert len(ran(app, db, quiet_mail, REMINDERS)) == 2


@mentoring_settings(reminder_hours_before=2)
def test_the_hours_before_are_a_setting(app, db, quiet_mail, planner, mentorship, mentee, mentor):
    later = planner.schedule(mentorship, mentee, mentor, soon(5))
    sooner = planner.schedule(mentorship, mentee, mentor, soon(1.5), place="Park bench")
    quiet_mail.deliver()

    received = ran(app, db, quiet_mail, REMINDERS)

    assert len(received) == 2
    assert all("Park bench" in body_of(message) for message in received)
    assert {links_in(m)[0] for m in received} == {f"http://alma.test/mentoring/meetings/{sooner}"}
    assert later != sooner


def propose_cancel(db, meeting_id: int, user) -> int:
    change = meetings.propose_change(meeting_id, user, "cancel", None, "I am ill.")
    db.session.commit()
    return change.id


def answer(db, change_id: int, user, *, accept: bool) -> None:
    meetings.answer_change(change_id, user, meetings.ACCEPT if accept else meetings.REFUSE)
    db.session.commit()


def left_proposed(db, planner, mentorship, mentee, mentor) -> int:
    return planner.propose(mentorship, mentee, soon(3))


def declined(db, planner, mentorship, mentee, mentor) -> int:
    meeting_id = planner.propose(mentorship, mentee, soon(3))
    meetings.decline(meeting_id, mentor, "Not that day, sorry.")
    db.session.commit()
    return meeting_id


def withdrawn(db, planner, mentorship, mentee, mentor) -> int:
    meeting_id = planner.propose(mentorship, mentee, soon(3))
    meetings.withdraw(meeting_id, mentee)
    db.session.commit()
    return meeting_id


def cancelled(db, planner, mentorship, mentee, mentor) -> int:
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    answer(db, propose_cancel(db, meeting_id, mentor), mentee, accept=True)
    return meeting_id


def ended_early(db, planner, mentorship, mentee, mentor) -> int:
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    ending.propose_early_end(mentorship, mentee, "We achieved what we wanted.")
    ending.answer_early_end(mentorship, mentor, "agree")
    db.session.commit()
    return meeting_id


@pytest.mark.parametrize(
    "make_meeting",
    [left_proposed, declined, withdrawn, cancelled, ended_early],
    ids=["proposed", "declined", "withdrawn", "cancelled", "mentorship-ended"],
)
def test_no_reminder_for_a_meeting_that_is_not_on(
    app, db, quiet_mail, planner, mentorship, mentee, mentor, make_meeting
):
    make_meeting(db, planner, mentorship, mentee, mentor)
    quiet_mail.deliver()

    assert ran(app, db, quiet_mail, REMINDERS) == []


def test_a_cancel_awaiting_an_answer_does_not_stop_the_reminder(
    app, db, quiet_mail, planner, mentorship, mentee, mentor
):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    propose_cancel(db, meeting_id, mentor)
    quiet_mail.deliver()

    assert len(ran(app, db, quiet_mail, REMINDERS)) == 2  # it is on until the mentee agrees


@pytest.mark.parametrize("began", [timedelta(minutes=1), timedelta(hours=3), timedelta(days=2)])
def test_no_reminder_for_a_meeting_that_began_while_alma_was_down(
    app, db, quiet_mail, planner, mentorship, mentee, mentor, began
):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    planner.move_start(meeting_id, datetime.now(UTC) - began)
    quiet_mail.deliver()

    assert ran(app, db, quiet_mail, REMINDERS) == []


def test_an_accepted_move_gives_a_new_reminder_for_the_new_time(
    app, db, quiet_mail, planner, mentorship, mentee, mentor
):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(4))
    quiet_mail.deliver()
    assert len(ran(app, db, quiet_mail, REMINDERS)) == 2

    refused = meetings.propose_change(
        meeting_id,
        mentor,
        "reschedule",
        meetings.MeetingPlan(starts_at=soon(7), duration_minutes=60, place=""),
        "Later?",
    )
    db.session.commit()
    answer(db, refused.id, mentee, accept=False)
    quiet_mail.deliver()
    assert ran(app, db, quiet_mail, REMINDERS) == []  # nothing changed

    new_time = soon(8)
    change = meetings.propose_change(
        meeting_id,
        mentor,
        "reschedule",
        meetings.MeetingPlan(starts_at=new_time, duration_minutes=60, place="Library"),
        "A clash, sorry.",
    )
    db.session.commit()
    answer(db, change.id, mentee, accept=True)
    quiet_mail.deliver()

    received = ran(app, db, quiet_mail, REMINDERS)

    assert addressed(received) == [
        ("max@example.org", "Reminder: your meeting with Mia Mentee"),
        ("mia@example.org", "Reminder: your meeting with Max Mentor"),
    ]
    for message in received:
        assert re.search(f"on {local(new_time, 'UTC')}\\.", spaced(body_of(message)))
        assert "Where: Library" in body_of(message)
    assert ran(app, db, quiet_mail, REMINDERS) == []


# ---- feedback after a meeting ------------------------------------------------------------------


@pytest.fixture
def held(db, planner, mentorship, mentee, mentor) -> int:
    """A meeting that began two hours ago, both confirmed it took place: its id."""
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    planner.hold(meeting_id, mentee, mentor)
    return meeting_id


def feedback_rows(app, meeting_id: int) -> list[tuple[int, int, str]]:
    from core.db import db

    with app.app_context():
        try:
            return [
                tuple(row)
                for row in db.session.execute(
                    select(MeetingFeedback.user_id, MeetingFeedback.rating, MeetingFeedback.comment)
                    .where(MeetingFeedback.meeting_id == meeting_id)
                    .order_by(MeetingFeedback.user_id)
                )
            ]
        finally:
            db.session.remove()


def give(client, user, meeting_id: int, **data: str):
    client.login(user)
    return client.post(f"/mentoring/meetings/{meeting_id}/feedback", data=data)


def test_after_both_confirm_each_is_asked_once_for_feedback(
    app, client, db, quiet_mail, planner, mentorship, mentee, mentor
):
    mentee.timezone = "Europe/Lisbon"
    db.session.commit()
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    planner.move_start(meeting_id, starts := datetime.now(UTC).replace(microsecond=0))
    meetings.confirm_held(meeting_id, mentee)
    db.session.commit()
    quiet_mail.deliver()
    assert ran(app, db, quiet_mail, FEEDBACK_REQUESTS) == []  # one confirmation is not enough

    meetings.confirm_held(meeting_id, mentor)
    db.session.commit()
    quiet_mail.deliver()
    received = ran(app, db, quiet_mail, FEEDBACK_REQUESTS)

    assert addressed(received) == [
        ("max@example.org", "How was your meeting with Mia Mentee?"),
        ("mia@example.org", "How was your meeting with Max Mentor?"),
    ]
    texts = {message["To"]: spaced(body_of(message)) for message in received}
    assert re.search(
        f"You and Max Mentor confirmed your meeting of {local(starts, 'Europe/Lisbon')} took",
        texts["mia@example.org"],
    )
    link = f"http://alma.test/mentoring/meetings/{meeting_id}/feedback"
    assert all(links_in(message) == [link] for message in received)

    assert ran(app, db, quiet_mail, FEEDBACK_REQUESTS) == []  # never twice

    client.login(mentee)
    page = client.get(path_of(link)).text
    assert "How was your meeting?" in page
    assert "Send my feedback" in page


def test_the_final_meeting_is_asked_about_too_once_the_mentorship_is_complete(
    app, client, db, quiet_mail, planner, mentorship, mentee, mentor
):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3), is_final=True)
    planner.hold(meeting_id, mentee, mentor)
    completed = [m for m in quiet_mail.deliver() if m["Subject"] == "Your mentorship is complete"]
    assert sorted(message["To"] for message in completed) == ["max@example.org", "mia@example.org"]

    received = ran(app, db, quiet_mail, FEEDBACK_REQUESTS)

    assert addressed(received) == [
        ("max@example.org", "How was your meeting with Mia Mentee?"),
        ("mia@example.org", "How was your meeting with Max Mentor?"),
    ]
    assert give(client, mentor, meeting_id, rating="5", comment="").status_code == 302
    assert feedback_rows(app, meeting_id) == [(mentor.id, 5, "")]


def test_no_feedback_request_for_a_meeting_reported_missed(
    app, db, quiet_mail, planner, mentorship, mentee, mentor
):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    planner.move_start(meeting_id, days_ago(0.1))
    meetings.confirm_held(meeting_id, mentee)
    meetings.report_missed(meeting_id, mentor)
    db.session.commit()
    quiet_mail.deliver()

    assert ran(app, db, quiet_mail, FEEDBACK_REQUESTS) == []


def test_feedback_is_stored_shown_to_its_giver_and_changed_when_given_again(
    app, client, held, mentee
):
    response = give(client, mentee, held, rating="3", comment="  Useful, a bit short.  ")

    assert response.status_code == 302
    assert response.location.endswith(f"/mentoring/meetings/{held}")
    page = client.get(response.location).text
    assert "Thank you for your feedback." in page
    assert "Your feedback: 3 of 5" in page
    assert "Change my feedback" in page
    assert feedback_rows(app, held) == [(mentee.id, 3, "Useful, a bit short.")]

    form = client.get(f"/mentoring/meetings/{held}/feedback").text
    assert re.search(r'<input[^>]*checked[^>]*value="3"|<input[^>]*value="3"[^>]*checked', form)
    assert "Useful, a bit short." in form

    give(client, mentee, held, rating="5", comment="On reflection: great.")

    assert feedback_rows(app, held) == [(mentee.id, 5, "On reflection: great.")]
    assert "Your feedback: 5 of 5" in client.get(f"/mentoring/meetings/{held}").text


def test_a_rating_alone_is_enough(app, client, held, mentee):
    """BUG (plugins/mentoring/views/meetings.py, ``feedback``): a post without the optional
    comment field at all (a script, an app, a form posted by curl) ends in a 500, as the
    form's ``comment.data`` is then None and ``give_feedback`` calls ``.strip()`` on it."""
    response = give(client, mentee, held, rating="4")

    assert response.status_code == 302
    assert feedback_rows(app, held) == [(mentee.id, 4, "")]


def test_the_other_partys_feedback_is_not_shown(app, client, held, mentee, mentor):
    give(client, mentor, held, rating="2", comment="Ada came unprepared.")

    client.login(mentee)
    meeting_page = client.get(f"/mentoring/meetings/{held}").text
    form = client.get(f"/mentoring/meetings/{held}/feedback").text

    for page in (meeting_page, form):
        assert "Ada came unprepared." not in page
        assert "2 of 5" not in page
    assert "Give feedback" in meeting_page
    assert "checked" not in form
    assert "Send my feedback" in form
    assert feedback_rows(app, held) == [(mentor.id, 2, "Ada came unprepared.")]


@pytest.mark.parametrize(
    "data",
    [{}, {"rating": ""}, {"rating": "0"}, {"rating": "6"}, {"rating": "abc"}, {"rating": "4.5"}],
    ids=["missing", "empty", "zero", "six", "word", "fraction"],
)
def test_a_rating_from_1_to_5_is_required(app, client, held, mentee, data):
    response = give(client, mentee, held, comment="My comment stays in the form", **data)

    assert response.status_code == 400
    errors = re.findall(r'<div class="text-danger small">(.*?)</div>', response.text)
    assert errors, "no error shown at the rating"
    assert "My comment stays in the form" in response.text
    assert feedback_rows(app, held) == []


def test_a_too_long_comment_is_refused(app, client, held, mentee):
    response = give(client, mentee, held, rating="4", comment="x" * 2001)

    assert response.status_code == 400
    assert "Field cannot be longer than 2000 characters." in response.text
    assert feedback_rows(app, held) == []


def test_feedback_waits_until_both_confirmed(app, client, db, planner, mentorship, mentee, mentor):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    planner.move_start(meeting_id, days_ago(0.1))
    meetings.confirm_held(meeting_id, mentee)
    db.session.commit()
    client.login(mentee)

    form = client.get(f"/mentoring/meetings/{meeting_id}/feedback")
    posted = give(client, mentee, meeting_id, rating="5")

    assert form.status_code == 200
    assert "Feedback opens once both of you confirmed the meeting took place." in form.text
    assert 'name="rating"' not in form.text
    assert posted.status_code in (400, 403)
    assert "Thank you for your feedback." not in posted.text
    assert feedback_rows(app, meeting_id) == []


def test_only_the_parties_give_feedback(app, client, held, outsider):
    client.login(outsider)
    assert client.get(f"/mentoring/meetings/{held}/feedback").status_code == 403
    assert give(client, outsider, held, rating="1").status_code == 403
    assert client.get(f"/mentoring/meetings/{held + 1000}/feedback").status_code == 404

    client.logout()
    visitor = client.post(f"/mentoring/meetings/{held}/feedback", data={"rating": "1"})
    assert visitor.status_code == 302
    assert "/login" in visitor.location
    assert feedback_rows(app, held) == []


@pytest.mark.parametrize("app_settings", [{"WTF_CSRF_ENABLED": True}])
def test_the_feedback_form_needs_its_csrf_token(app, client, held, mentee):
    client.login(mentee)
    form = client.get(f"/mentoring/meetings/{held}/feedback").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)

    refused = give(client, mentee, held, rating="5", comment="Forged")
    assert refused.status_code == 400
    assert feedback_rows(app, held) == []

    accepted = give(client, mentee, held, rating="5", comment="Mine", csrf_token=token)
    assert accepted.status_code == 302
    assert feedback_rows(app, held) == [(mentee.id, 5, "Mine")]


def test_the_database_keeps_one_feedback_per_party_and_meeting(app, db, held, mentee):
    db.session.add(MeetingFeedback(meeting_id=held, user_id=mentee.id, rating=4))
    db.session.commit()

    db.session.add(MeetingFeedback(meeting_id=held, user_id=mentee.id, rating=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    with pytest.raises(IntegrityError):
        db.session.execute(
            update(MeetingFeedback)
            .where(MeetingFeedback.meeting_id == held)
            .values(rating=6)  # the rating's range is a constraint too
        )
        db.session.commit()
    db.session.rollback()
    assert feedback_rows(app, held) == [(mentee.id, 4, "")]


def test_two_feedbacks_sent_at_once_leave_one(app, db, held, mentee):
    mentee_id = mentee.id
    outcomes = race(
        app,
        lambda: followups.give_feedback(held, member(mentee_id), 2, "First click").rating,
        lambda: followups.give_feedback(held, member(mentee_id), 4, "Second click").rating,
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    ((user_id, rating, comment),) = feedback_rows(app, held)
    assert user_id == mentee.id
    assert (rating, comment) in ((2, "First click"), (4, "Second click"))


# ---- a nudge after a long silence --------------------------------------------------------------


def last_contact(db, mentorship_id: int, when: datetime) -> None:
    """The pair's mentorship last changed state at ``when`` (nothing since, unless the test
    writes or meets)."""
    db.session.execute(
        update(Mentorship).where(Mentorship.id == mentorship_id).values(state_changed_at=when)
    )
    db.session.commit()


def wrote(db, mentorship_id: int, sender, when: datetime) -> None:
    message = chat.post_message(mentorship_id, sender, "Hello, how are you?")
    db.session.commit()
    db.session.execute(
        update(ChatMessage).where(ChatMessage.id == message.id).values(created_at=when)
    )
    db.session.commit()


def nudged(db, mentorship_id: int, when: datetime) -> None:
    db.session.execute(
        update(Mentorship).where(Mentorship.id == mentorship_id).values(nudged_at=when)
    )
    db.session.commit()


def test_no_nudge_while_the_pair_writes_within_their_agreed_period(
    app, db, quiet_mail, mentorship, mentee, mentor
):
    last_contact(db, mentorship, days_ago(60))
    wrote(db, mentorship, mentor, days_ago(13))
    quiet_mail.deliver()

    assert ran(app, db, quiet_mail, NUDGES) == []


def test_no_nudge_while_the_pair_met_within_their_agreed_period(
    app, db, quiet_mail, planner, mentorship, mentee, mentor
):
    meeting_id = planner.schedule(mentorship, mentee, mentor, soon(3))
    planner.hold(meeting_id, mentee, mentor, ago=timedelta(days=10))
    last_contact(db, mentorship, days_ago(60))
    wrote(db, mentorship, mentee, days_ago(40))
    quiet_mail.deliver()

    assert ran(app, db, quiet_mail, NUDGES) == []


def test_both_are_nudged_once_the_silence_exceeds_their_agreed_period(
    app, client, db, quiet_mail, mentorship, mentee, mentor
):
    last_contact(db, mentorship, days_ago(60))
    wrote(db, mentorship, mentee, days_ago(15.5))

    received = ran(app, db, quiet_mail, NUDGES)

    assert addressed(received) == [
        ("max@example.org", "How is your mentorship with Mia Mentee going?"),
        ("mia@example.org", "How is your mentorship with Max Mentor going?"),
    ]
    texts = {message["To"]: spaced(body_of(message)) for message in received}
    assert (
        "You and Max Mentor have not met or written to each other for 15 days."
        in texts["mia@example.org"]
    )
    link = f"http://alma.test/mentoring/{mentorship}"
    assert all(links_in(message) == [link] for message in received)
    client.login(mentor)
    assert "Mia Mentee" in client.get(path_of(link)).text

    assert ran(app, db, quiet_mail, NUDGES) == []  # not on the next run

    nudged(db, mentorship, days_ago(13))  # 13 days later, still silent: not yet
    assert ran(app, db, quiet_mail, NUDGES) == []

    nudged(db, mentorship, days_ago(14.1))  # a full period of silence since the nudge
    again = ran(app, db, quiet_mail, NUDGES)
    assert addressed(again) == addressed(received)
    assert ran(app, db, quiet_mail, NUDGES) == []


def test_writing_after_a_nudge_starts_the_period_again(
    app, db, quiet_mail, mentorship, mentee, mentor
):
    last_contact(db, mentorship, days_ago(60))
    nudged(db, mentorship, days_ago(20))
    wrote(db, mentorship, mentor, days_ago(10))

    assert ran(app, db, quiet_mail, NUDGES) == []


@mentoring_settings(inactivity_fallback_days=5)
def test_without_an_agreement_the_fallback_period_applies(app, db, mail, accepted, mentee, mentor):
    mail.deliver()
    last_contact(db, accepted, days_ago(4.5))
    assert ran(app, db, mail, NUDGES) == []

    last_contact(db, accepted, days_ago(5.5))
    received = ran(app, db, mail, NUDGES)
    assert addressed(received) == [
        ("max@example.org", "How is your mentorship with Mia Mentee going?"),
        ("mia@example.org", "How is your mentorship with Max Mentor going?"),
    ]
    assert "for 5 days." in spaced(body_of(received[0]))


@mentoring_settings(inactivity_fallback_days=5)
def test_the_agreed_period_wins_over_the_fallback(app, db, quiet_mail, mentorship):
    last_contact(db, mentorship, days_ago(10))

    assert ran(app, db, quiet_mail, NUDGES) == []  # they agreed on 14 days


def test_the_default_fallback_is_three_weeks(app, db, mail, accepted):
    mail.deliver()
    last_contact(db, accepted, days_ago(20))
    assert ran(app, db, mail, NUDGES) == []

    last_contact(db, accepted, days_ago(22))
    assert len(ran(app, db, mail, NUDGES)) == 2


def test_mentorships_not_under_way_are_never_nudged(
    app, db, mail, pairs, create_user, mentee, mentor
):
    ended = pairs.accept(mentee, mentor)
    ending.terminate(ended, mentor, "I have no time after all.")
    db.session.commit()
    other_mentor = create_user(display_name="Mo Second", wants_to_mentor=True)
    pending = pairs.request(mentee, other_mentor)
    for mentorship_id in (ended, pending):
        last_contact(db, mentorship_id, days_ago(200))
    mail.deliver()

    assert ran(app, db, mail, NUDGES) == []
    assert stored(app, select(Mentorship.nudged_at).where(Mentorship.id == ended)) is None


# ---- each mail exactly once: crashes and two runs at once ---------------------------------------


def reminder_due(db, planner, mentorship, mentee, mentor) -> None:
    planner.schedule(mentorship, mentee, mentor, soon(3))


def feedback_due(db, planner, mentorship, mentee, mentor) -> None:
    planner.hold(planner.schedule(mentorship, mentee, mentor, soon(3)), mentee, mentor)


def nudge_due(db, planner, mentorship, mentee, mentor) -> None:
    last_contact(db, mentorship, days_ago(30))


DUE = {REMINDERS: reminder_due, FEEDBACK_REQUESTS: feedback_due, NUDGES: nudge_due}
every_job = pytest.mark.parametrize("job_id", list(DUE))


@pytest.fixture
def due(db, quiet_mail, planner, mentorship, mentee, mentor, job_id) -> None:
    """Something the job ``job_id`` mails both parties about, and an empty mailbox."""
    DUE[job_id](db, planner, mentorship, mentee, mentor)
    quiet_mail.deliver()


def member(user_id: int) -> User:
    from core.db import db

    return db.session.get(User, user_id)


@every_job
def test_a_run_that_crashes_before_committing_loses_no_mail(
    app, db, quiet_mail, due, job_id, caplog
):
    from core.db import db as database

    with app.app_context():  # the job runs, then the process dies before its commit
        assert job(app, job_id).func() == 2
        database.session.rollback()
        database.session.remove()
    assert quiet_mail.deliver() == []

    received = ran(app, db, quiet_mail, job_id)  # the restarted scheduler's run

    assert sorted(message["To"] for message in received) == ["max@example.org", "mia@example.org"]
    assert ran(app, db, quiet_mail, job_id) == []
    assert "failed" not in caplog.text


@every_job
def test_two_runs_at_once_send_each_mail_once(app, db, quiet_mail, due, job_id):
    func = job(app, job_id).func

    outcomes = race(app, func, func, func)

    assert [kind for kind, _ in outcomes] == ["ok", "ok", "ok"]
    assert sorted(result for _, result in outcomes) == [0, 0, 2]
    received = quiet_mail.deliver()
    assert sorted(message["To"] for message in received) == ["max@example.org", "mia@example.org"]
    assert ran(app, db, quiet_mail, job_id) == []


@every_job
def test_a_run_waiting_for_another_uncommitted_run_sends_nothing_more(
    app, db, quiet_mail, due, job_id
):
    """The first run has claimed everything and queued its mails, but not committed yet (a
    slow SMTP-free commit, or a second scheduler process): the second run starts meanwhile,
    and must wait for it rather than send the same mails again."""
    sent = first_then_second(app, db, job(app, job_id).func)

    assert sent == {"first": 2, "second": 0}
    received = quiet_mail.deliver()
    assert sorted(message["To"] for message in received) == ["max@example.org", "mia@example.org"]


# ---- time moved, not waited for ------------------------------------------------------------------


def test_the_nudge_run_as_if_a_month_later_nudges_the_pair_that_keeps_silent(
    app, db, quiet_mail, smtp_server, mentorship, tmp_path
):
    """``alma jobs run NAME --now WHEN``: the job's code (the plugin's, with its own queries)
    sees that moment: the pair, just agreed, is silent a month later. What the job writes
    carries that moment too (a mail it queues is due then), so the outbox is run then."""
    from click.testing import CliRunner

    from core.cli import cli

    db.session.commit()
    operator = {
        "ALMA_DATABASE_URL": app.config["DATABASE_URL"],
        "ALMA_PLUGINS": "mentoring",
        "ALMA_INSTANCE_PATH": str(tmp_path),
        "ALMA_MAIL_BACKEND": "smtp",
        "ALMA_MAIL_HOST": smtp_server.host,
        "ALMA_MAIL_PORT": str(smtp_server.port),
    }

    def alma(job_id: str, *args: str) -> None:
        result = CliRunner().invoke(cli, ["jobs", "run", job_id, *args], env=operator)
        assert result.exit_code == 0, result.output
        assert result.output == f"job {job_id} done\n"

    before = len(smtp_server.messages)
    alma(NUDGES)
    alma(DELIVER_JOB_ID)
    assert smtp_server.messages[before:] == []  # today they have just agreed: nothing to say

    month_later = datetime.now(UTC) + timedelta(days=31)
    alma(NUDGES, "--now", month_later.isoformat())
    alma(DELIVER_JOB_ID, "--now", (month_later + timedelta(minutes=1)).isoformat())

    received = smtp_server.messages[before:]
    assert sorted(message["To"] for message in received) == ["max@example.org", "mia@example.org"]
    assert "How is your mentorship with Max Mentor going?" in [m["Subject"] for m in received]
