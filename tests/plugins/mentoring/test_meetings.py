"""Meetings through the pages: the mentee schedules, the mentor approves or declines, either
proposes to move or cancel and the other confirms, both confirm it took place (core's goal),
departures from the agreement become amendments both confirm, the final meeting completes the
mentorship once, and an early end takes both."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from core import hookimpl
from core.api import allowed_actions, local_clock
from core.db import db as _db
from core.models import Goal, GoalParty, Notification, User
from core.testing import count_rows, stored
from plugins.mentoring.models import (
    AgreementVersion,
    Meeting,
    MentoringMember,
    Mentorship,
    MentorshipEvent,
)
from plugins.mentoring.services import agreements, meetings

from .conftest import agreement_terms, page, statements_run_by_get, text


def soon(days: int = 3) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


def meeting_form(when: datetime | None = None, **changes) -> dict[str, str]:
    when = when or soon()
    data = {
        "day": when.date().isoformat(),
        "time": when.strftime("%H:%M"),
        "duration_minutes": "60",
        "place": "https://meet.example.org/mia-max",
        "agenda": "Portfolio review",
    }
    return {**data, **changes}


def status_of(app, meeting_id: int) -> str:
    return stored(app, select(Meeting.status).where(Meeting.id == meeting_id))


def state_of(app, mentorship_id: int) -> str:
    return stored(app, select(Mentorship.state).where(Mentorship.id == mentorship_id))


def last_alert(app, user: User) -> str:
    return stored(
        app,
        select(Notification.message)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(1),
    )


def newest_meeting(app) -> int:
    return stored(app, select(func.max(Meeting.id)))


# ---- scheduling and answering --------------------------------------------------------------


def test_the_mentee_schedules_and_the_mentor_approves(app, client, mentee, mentor, active):
    response = page(client, mentee, f"/mentoring/{active}/meetings/new", meeting_form())
    assert "Max Mentor is asked to approve the meeting." in text(response)
    meeting_id = newest_meeting(app)
    assert status_of(app, meeting_id) == "proposed"
    assert "Mia Mentee proposes a meeting on" in last_alert(app, mentor)

    review = text(page(client, mentor, f"/mentoring/meetings/{meeting_id}"))
    assert "Portfolio review" in review and "Approve" in review
    page(client, mentor, f"/mentoring/meetings/{meeting_id}/approve", {})

    assert status_of(app, meeting_id) == "scheduled"
    assert "Max Mentor approved the meeting" in last_alert(app, mentee)
    listed = text(page(client, mentee, f"/mentoring/{active}"))
    assert "scheduled" in listed


def test_only_the_mentee_schedules(app, client, mentor, stranger, active):
    assert page(client, mentor, f"/mentoring/{active}/meetings/new").status_code == 403
    assert page(client, stranger, f"/mentoring/{active}/meetings/new").status_code == 403
    assert (
        page(client, mentor, f"/mentoring/{active}/meetings/new", meeting_form()).status_code == 403
    )
    assert count_rows(app, Meeting) == 0


def test_an_ended_mentorship_schedules_no_meeting(app, client, mentee, mentor, accepted):
    page(client, mentee, f"/mentoring/{accepted}/terminate", {"message": "It does not fit."})

    refused = page(client, mentee, f"/mentoring/{accepted}/meetings/new")
    assert refused.status_code == 302
    assert refused.headers["Location"].endswith(f"/mentoring/{accepted}")
    posted = page(client, mentee, f"/mentoring/{accepted}/meetings/new", meeting_form())
    assert "Meetings are scheduled while the mentorship is under way." in text(posted)
    assert "Schedule a meeting" not in text(page(client, mentee, f"/mentoring/{accepted}"))
    assert count_rows(app, Meeting) == 0


def test_a_meeting_waits_for_the_request_to_be_accepted(app, client, pairs, mentee, mentor):
    requested = pairs.request(mentee, mentor)
    response = page(client, mentee, f"/mentoring/{requested}/meetings/new", meeting_form())
    assert "Meetings are scheduled while the mentorship is under way." in text(response)
    assert count_rows(app, Meeting) == 0


def test_a_first_meeting_can_come_before_the_agreement(app, client, pairs, mentee, mentor):
    accepted = pairs.accept(mentee, mentor)
    page(client, mentee, f"/mentoring/{accepted}/meetings/new", meeting_form())
    assert status_of(app, newest_meeting(app)) == "proposed"
    # but not as the final meeting: that needs an agreement
    final = page(client, mentee, f"/mentoring/{accepted}/meetings/new", meeting_form(is_final="y"))
    assert "The final meeting comes once the agreement is approved." in text(final)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"day": "2020-01-01"}, "Choose a time in the future."),
        ({"place": "  "}, "This field is required."),
        ({"duration_minutes": "5"}, "Not a valid choice."),
        ({"time": "25:00"}, "Not a valid time value."),
        ({"day": "someday"}, "Not a valid date value."),
        ({"agenda": "x" * 4001}, "Field cannot be longer than 4000 characters."),
    ],
)
def test_a_bad_meeting_is_refused(app, client, mentee, active, changes, error):
    response = page(client, mentee, f"/mentoring/{active}/meetings/new", meeting_form(**changes))
    assert response.status_code == 400
    assert error in text(response)
    assert count_rows(app, Meeting) == 0


@pytest.mark.parametrize(
    ("zone", "day", "time"),
    [("America/New_York", "9999-12-31", "23:00"), ("Asia/Tokyo", "0001-01-01", "00:30")],
)
def test_a_time_at_the_ends_of_the_calendar_is_refused_in_words(
    app, client, db, mentee, active, zone, day, time
):
    mentee.timezone = zone  # in UTC, these times fall outside the years a date can hold
    db.session.commit()
    form = meeting_form(day=day, time=time)
    response = page(client, mentee, f"/mentoring/{active}/meetings/new", form)
    assert response.status_code == 400
    assert "Choose a time in the next three years." in text(response)
    assert count_rows(app, Meeting) == 0


def test_a_time_the_clocks_skip_is_refused_not_moved(app, client, db, mentee, active):
    mentee.timezone = "Europe/Berlin"
    db.session.commit()
    berlin = ZoneInfo("Europe/Berlin")
    # the next night the clocks go forward there: 02:30 does not exist on it
    spring = next(
        day
        for day in (date.today() + timedelta(days=n) for n in range(2, 400))
        if datetime.combine(day, time(2, 30), berlin).utcoffset()
        != datetime.combine(day, time(4, 0), berlin).utcoffset()
    )
    form = meeting_form(day=spring.isoformat(), time="02:30")

    response = page(client, mentee, f"/mentoring/{active}/meetings/new", form)

    assert response.status_code == 400
    assert "The clocks skip this time that night where you are" in text(response)
    assert count_rows(app, Meeting) == 0


def next_night_clocks_go_back(zone: ZoneInfo) -> date:
    """The next day on which 02:30 comes twice in ``zone``."""
    return next(
        day
        for day in (date.today() + timedelta(days=n) for n in range(2, 400))
        # the first 02:30 is still on summer time, the second on winter time
        if datetime.combine(day, time(2, 30), zone).utcoffset()
        > datetime.combine(day, time(2, 30), zone).replace(fold=1).utcoffset()
    )


def test_a_time_the_clocks_show_twice_is_refused_not_guessed(app, client, db, mentee, active):
    mentee.timezone = "Europe/Berlin"
    db.session.commit()
    autumn = next_night_clocks_go_back(ZoneInfo("Europe/Berlin"))
    form = meeting_form(day=autumn.isoformat(), time="02:30")

    response = page(client, mentee, f"/mentoring/{active}/meetings/new", form)

    assert response.status_code == 400
    assert "The clocks go back that night where you are, so this time comes twice" in text(response)
    assert count_rows(app, Meeting) == 0


def test_a_change_sent_as_it_opened_keeps_a_meeting_at_the_second_of_two_equal_times(
    app, client, db, mentee, mentor, active, planner
):
    mentee.timezone = mentor.timezone = "Europe/Berlin"
    db.session.commit()
    autumn = next_night_clocks_go_back(ZoneInfo("Europe/Berlin"))
    second = datetime.combine(autumn, time(2, 30), ZoneInfo("Europe/Berlin")).replace(fold=1)
    starts = second.astimezone(UTC)  # the second 02:30, an hour after the first
    meeting_id = planner.schedule(active, mentee, mentor, starts)
    values = change_form_values(text(page(client, mentee, f"/mentoring/meetings/{meeting_id}")))
    assert (values["day"], values["time"]) == (autumn.isoformat(), "02:30")

    page(client, mentee, f"/mentoring/meetings/{meeting_id}/change", {**values, "place": "Room 5"})

    change = stored(app, select(meetings.MeetingChange))
    assert (change.starts_at, change.place) == (starts, "Room 5")
    shown = text(page(client, mentor, f"/mentoring/meetings/{meeting_id}"))
    assert (
        "<strong>Time" not in shown.split("proposes to change the meeting", 1)[1].split("</ul>")[0]
    )


def test_times_are_read_in_each_members_time_zone(app, client, db, mentee, mentor, active):
    mentee.timezone, mentor.timezone = "Europe/Paris", "America/New_York"
    db.session.commit()
    when = soon().replace(hour=18, minute=30, second=0)  # on the mentee's clock
    page(client, mentee, f"/mentoring/{active}/meetings/new", meeting_form(when))

    starts = stored(app, select(Meeting.starts_at))
    paris = starts.astimezone(ZoneInfo("Europe/Paris"))
    assert (paris.hour, paris.minute) == (18, 30)
    shown_to_mentor = text(page(client, mentor, f"/mentoring/meetings/{newest_meeting(app)}"))
    new_york = starts.astimezone(ZoneInfo("America/New_York"))
    assert new_york.strftime("%-I:%M") in shown_to_mentor
    assert "America/New_York" in shown_to_mentor


def test_the_mentor_declines_with_a_message(app, client, mentee, mentor, active, planner):
    meeting_id = planner.propose(active, mentee)
    refused = page(client, mentor, f"/mentoring/meetings/{meeting_id}/decline", {"message": ""})
    assert "Say why" in text(refused)
    page(client, mentor, f"/mentoring/meetings/{meeting_id}/decline", {"message": "Thursday?"})

    assert status_of(app, meeting_id) == "declined"
    assert "Thursday?" in last_alert(app, mentee)
    again = page(client, mentor, f"/mentoring/meetings/{meeting_id}/approve", {})
    assert "This meeting was already answered." in text(again)
    assert status_of(app, meeting_id) == "declined"


def test_only_the_mentor_answers_and_only_the_mentee_takes_back(
    app, client, mentee, mentor, stranger, active, planner
):
    meeting_id = planner.propose(active, mentee)
    assert page(client, mentee, f"/mentoring/meetings/{meeting_id}/approve", {}).status_code == 403
    assert page(client, mentor, f"/mentoring/meetings/{meeting_id}/withdraw", {}).status_code == 403
    for path in ("", "/approve", "/withdraw", "/confirm", ".ics"):
        client.login(stranger)
        response = (
            client.get(f"/mentoring/meetings/{meeting_id}{path}")
            if path in ("", ".ics")
            else client.post(f"/mentoring/meetings/{meeting_id}{path}")
        )
        assert response.status_code == 403, path
    assert status_of(app, meeting_id) == "proposed"

    page(client, mentee, f"/mentoring/meetings/{meeting_id}/withdraw", {})
    assert status_of(app, meeting_id) == "cancelled"
    assert page(client, mentee, "/mentoring/meetings/999999").status_code == 404


def test_a_passed_proposal_cannot_be_approved(app, client, mentee, mentor, active, planner):
    meeting_id = planner.propose(active, mentee)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(hours=1))
    response = page(client, mentor, f"/mentoring/meetings/{meeting_id}/approve", {})
    assert "This meeting's time has passed" in text(response)
    assert status_of(app, meeting_id) == "proposed"


# ---- moving and cancelling -----------------------------------------------------------------


def test_the_mentor_proposes_a_new_time_and_the_mentee_agrees(
    app, client, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    later = soon(5).replace(hour=9, minute=0, second=0)
    page(
        client,
        mentor,
        f"/mentoring/meetings/{meeting_id}/change",
        {**meeting_form(later), "kind": "reschedule", "place": "", "message": "Sorry!"},
    )
    alert = last_alert(app, mentee)
    assert "Max Mentor proposes to change the meeting of" in alert
    assert "Time: " in alert and "9:00" in alert.split("→")[1]
    assert "Place" not in alert  # kept as it was: not a change
    before = stored(app, select(Meeting.starts_at).where(Meeting.id == meeting_id))
    change_id = stored(app, select(func.max(meetings.MeetingChange.id)))

    # the proposer cannot accept their own change
    assert (
        page(client, mentor, f"/mentoring/meetings/changes/{change_id}/accept", {}).status_code
        == 403
    )
    page(client, mentee, f"/mentoring/meetings/changes/{change_id}/accept", {})

    moved = stored(app, select(Meeting).where(Meeting.id == meeting_id))
    assert moved.starts_at == later and moved.starts_at != before
    assert moved.place == "https://meet.example.org/ada-rui"  # the planner's, kept when empty
    assert moved.sequence == 2 and moved.status == "scheduled"  # approved, then moved
    assert "agreed to your change" in last_alert(app, mentor)


def test_a_refused_change_leaves_the_meeting_as_it_was(
    app, client, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    page(client, mentee, f"/mentoring/meetings/{meeting_id}/change", {"kind": "cancel"})
    second = page(client, mentor, f"/mentoring/meetings/{meeting_id}/change", {"kind": "cancel"})
    assert "already awaits an answer" in text(second)
    change_id = stored(app, select(func.max(meetings.MeetingChange.id)))

    page(client, mentor, f"/mentoring/meetings/changes/{change_id}/refuse", {})

    assert status_of(app, meeting_id) == "scheduled"
    assert "keeps the meeting as it was" in last_alert(app, mentee)


def test_a_cancellation_both_confirm(app, client, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    page(client, mentee, f"/mentoring/meetings/{meeting_id}/change", {"kind": "cancel"})
    change_id = stored(app, select(func.max(meetings.MeetingChange.id)))
    assert status_of(app, meeting_id) == "scheduled"  # not before the other confirms
    page(client, mentor, f"/mentoring/meetings/changes/{change_id}/accept", {})
    assert status_of(app, meeting_id) == "cancelled"


def test_a_reschedule_needs_a_new_time(app, client, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    response = page(
        client, mentee, f"/mentoring/meetings/{meeting_id}/change", {"kind": "reschedule"}
    )
    assert "Choose the new date and time." in text(response)
    assert count_rows(app, meetings.MeetingChange) == 0


def change_form_values(page: str) -> dict[str, str]:
    form = page.split('/change" class="mt-3"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form))
    for name, options in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        values[name] = re.search(r'<option value="([^"]*)" selected', options).group(1)
    return values


def test_propose_a_change_opens_on_the_meeting_as_it_is_on_each_members_clock(
    app, client, db, mentee, mentor, active, planner
):
    mentee.timezone, mentor.timezone = "Pacific/Auckland", "America/Los_Angeles"
    db.session.commit()
    starts = soon(4).replace(hour=23, minute=30, second=0)  # a different day in Auckland
    meeting_id = planner.schedule(
        active, mentee, mentor, starts, duration_minutes=90, place="Library, room 2"
    )

    opened = {}
    for member in (mentee, mentor):
        local = starts.astimezone(ZoneInfo(member.timezone))
        values = change_form_values(text(page(client, member, f"/mentoring/meetings/{meeting_id}")))
        assert values["day"] == local.date().isoformat()
        assert values["time"] == local.strftime("%H:%M")
        assert values["duration_minutes"] == "90"
        assert values["place"] == "Library, room 2"
        assert values["kind"] == "reschedule"
        opened[member] = values

    # the mentee sends her form as it opened, with a new time only: the rest stays as it was
    later = starts.astimezone(ZoneInfo("Pacific/Auckland")) + timedelta(days=1)
    page(
        client,
        mentee,
        f"/mentoring/meetings/{meeting_id}/change",
        {**opened[mentee], "day": later.date().isoformat(), "time": later.strftime("%H:%M")},
    )
    change = stored(app, select(meetings.MeetingChange))
    assert change.starts_at == starts + timedelta(days=1)
    assert (change.duration_minutes, change.place) == (90, "Library, room 2")


# Each answer to a proposed change (the mentor proposes it): who may give it, the change's
# status after it, the meeting's status after it, and the proposer's alert.
ANSWERS = {
    "accept": ("other", "accepted", "cancelled", "agreed to your change"),
    "refuse": ("other", "rejected", "scheduled", "keeps the meeting as it was"),
    "withdraw": ("proposer", "withdrawn", "scheduled", None),
}


def change_status(app, change_id: int) -> str:
    return stored(
        app, select(meetings.MeetingChange.status).where(meetings.MeetingChange.id == change_id)
    )


def proposed_cancellation(app, client, mentor, meeting_id: int) -> int:
    page(client, mentor, f"/mentoring/meetings/{meeting_id}/change", {"kind": "cancel"})
    return stored(app, select(func.max(meetings.MeetingChange.id)))


@pytest.mark.parametrize("answer", sorted(ANSWERS))
@pytest.mark.parametrize("who", ["proposer", "other", "stranger"])
def test_each_answer_to_a_change_does_what_it_says_for_its_rightful_party_only(
    app, client, request, mentee, mentor, stranger, active, planner, answer, who
):
    meeting_id = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, meeting_id)
    member = {"proposer": mentor, "other": mentee, "stranger": stranger}[who]
    alerts_before = count_rows(app, Notification, Notification.user_id == mentor.id)
    rightful, changed_to, meeting_after, alert = ANSWERS[answer]

    response = page(client, member, f"/mentoring/meetings/changes/{change_id}/{answer}", {})

    if who == rightful:
        assert response.status_code == 200
        assert change_status(app, change_id) == changed_to
        assert status_of(app, meeting_id) == meeting_after
        if alert:
            assert alert in last_alert(app, mentor)
        else:  # taking back one's own change tells nobody
            assert count_rows(app, Notification, Notification.user_id == mentor.id) == (
                alerts_before
            )
    else:
        assert response.status_code == 403
        assert change_status(app, change_id) == "proposed"
        assert status_of(app, meeting_id) == "scheduled"


def test_the_meeting_page_offers_each_party_only_its_own_answers(
    app, client, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, meeting_id)
    action = f'action="/mentoring/meetings/changes/{change_id}/'

    proposer_page = text(page(client, mentor, f"/mentoring/meetings/{meeting_id}"))
    other_page = text(page(client, mentee, f"/mentoring/meetings/{meeting_id}"))

    assert f"{action}withdraw" in proposer_page and "Take it back" in proposer_page
    assert f"{action}accept" not in proposer_page and f"{action}refuse" not in proposer_page
    assert f"{action}accept" in other_page and f"{action}refuse" in other_page
    assert f"{action}withdraw" not in other_page


def test_an_unknown_answer_to_a_change_is_not_found(app, client, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, meeting_id)

    response = page(client, mentee, f"/mentoring/meetings/changes/{change_id}/approve", {})

    assert response.status_code == 404
    assert change_status(app, change_id) == "proposed"


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_a_change_already_answered_takes_no_second_answer(
    app, client, mentee, mentor, active, planner, answer
):
    meeting_id = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, meeting_id)
    page(client, mentee, f"/mentoring/meetings/changes/{change_id}/refuse", {})
    rightful = mentor if ANSWERS[answer][0] == "proposer" else mentee

    response = page(client, rightful, f"/mentoring/meetings/changes/{change_id}/{answer}", {})

    assert "This change was already answered." in text(response)
    assert change_status(app, change_id) == "rejected"
    assert status_of(app, meeting_id) == "scheduled"


def proposed_move(app, client, member, meeting_id: int, **changes) -> int:
    """``member`` sends the "Propose a change" form as their page opens it, with ``changes``."""
    values = change_form_values(text(page(client, member, f"/mentoring/meetings/{meeting_id}")))
    page(client, member, f"/mentoring/meetings/{meeting_id}/change", {**values, **changes})
    return stored(app, select(func.max(meetings.MeetingChange.id)))


def test_a_change_of_the_place_only_shows_the_place_old_and_new(
    app, client, mail, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor, place="Library, room 2")
    mail.deliver()  # the mails of scheduling it

    proposed_move(app, client, mentee, meeting_id, place="Café Zentral")

    shown = text(page(client, mentor, f"/mentoring/meetings/{meeting_id}"))
    pending = shown.split("Move or cancel", 1)[1].split("</section>", 1)[0]
    assert "Mia Mentee proposes to change the meeting." in pending
    assert re.search(
        r"Place\s*</strong>: <span[^>]*>Library, room 2</span> → Café Zentral", pending
    )
    assert "<strong>Time" not in pending and "<strong>Length" not in pending
    alert = last_alert(app, mentor)
    assert "Place: Library, room 2 → Café Zentral" in alert and "Time" not in alert
    [received] = mail.deliver()
    assert "Place: Library, room 2 → Café Zentral" in received.get_content()


def test_a_change_of_time_and_length_shows_both(app, client, mentee, mentor, active, planner):
    starts = soon(4).replace(hour=10, minute=0, second=0)
    meeting_id = planner.schedule(active, mentee, mentor, starts)

    proposed_move(app, client, mentor, meeting_id, time="11:15", duration_minutes="90")

    pending = text(page(client, mentee, f"/mentoring/meetings/{meeting_id}"))
    pending = pending.split("Move or cancel", 1)[1].split("</section>", 1)[0]
    assert "11:15" in pending.split("Time", 1)[1].split("</li>")[0]
    assert "60 minutes</span> → 90 minutes" in pending
    assert "<strong>Place" not in pending
    assert "Length: 60 minutes → 90 minutes" in last_alert(app, mentee)


def test_a_change_that_changes_nothing_is_refused(app, client, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    alerts = count_rows(app, Notification, Notification.user_id == mentor.id)

    values = change_form_values(text(page(client, mentee, f"/mentoring/meetings/{meeting_id}")))
    response = page(client, mentee, f"/mentoring/meetings/{meeting_id}/change", values)

    assert "Nothing changed: edit the time, the length or the place." in text(response)
    assert count_rows(app, meetings.MeetingChange) == 0
    assert count_rows(app, Notification, Notification.user_id == mentor.id) == alerts


def test_a_change_cannot_be_accepted_once_the_meeting_began(
    app, client, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, meeting_id)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(minutes=5))

    response = page(client, mentee, f"/mentoring/meetings/changes/{change_id}/accept", {})

    assert "This meeting has begun or ended: it can no longer change." in text(response)
    assert change_status(app, change_id) == "proposed"
    assert status_of(app, meeting_id) == "scheduled"


def test_a_move_to_a_time_that_passed_is_not_offered_nor_accepted(
    app, client, db, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor, soon(5))
    change_id = proposed_move(app, client, mentor, meeting_id, day=soon(2).date().isoformat())
    passed = datetime.now(UTC) - timedelta(hours=1)  # the proposed time went by unanswered
    db.session.execute(
        update(meetings.MeetingChange)
        .where(meetings.MeetingChange.id == change_id)
        .values(starts_at=passed)
    )
    db.session.commit()

    shown = text(page(client, mentee, f"/mentoring/meetings/{meeting_id}"))
    assert f"/mentoring/meetings/changes/{change_id}/accept" not in shown
    assert f"/mentoring/meetings/changes/{change_id}/refuse" in shown
    response = page(client, mentee, f"/mentoring/meetings/changes/{change_id}/accept", {})

    assert "The proposed time has passed: propose another one." in text(response)
    assert change_status(app, change_id) == "proposed"
    assert stored(app, select(Meeting.starts_at).where(Meeting.id == meeting_id)) > passed


def test_a_move_onto_another_meeting_is_refused_when_accepted(
    app, client, mentee, mentor, active, planner
):
    first = planner.schedule(active, mentee, mentor, soon(3))
    other = planner.schedule(active, mentee, mentor, soon(6).replace(second=0))
    taken = local_clock(stored(app, select(Meeting.starts_at).where(Meeting.id == other)), mentee)
    change_id = proposed_move(
        app, client, mentee, first, day=taken.date().isoformat(), time=taken.strftime("%H:%M")
    )

    response = page(client, mentor, f"/mentoring/meetings/changes/{change_id}/accept", {})

    assert "You already have another meeting at that time." in text(response)
    assert change_status(app, change_id) == "proposed"
    assert stored(app, select(Meeting.starts_at).where(Meeting.id == first)) < taken


@pytest.mark.parametrize(
    ("answer", "by", "version_status"),
    [
        ("accept", "mentor", "approved"),
        ("refuse", "mentor", "rejected"),
        ("withdraw", "mentee", "rejected"),
    ],
)
def test_a_move_past_the_agreed_end_carries_an_amendment_that_shares_its_answer(
    app, client, pairs, mentee, mentor, planner, answer, by, version_status
):
    active = pairs.active(mentee, mentor)
    meeting_id = planner.schedule(active, mentee, mentor)
    end = stored(app, select(AgreementVersion.ends_on))
    late = end + timedelta(days=10)
    change_id = proposed_move(app, client, mentee, meeting_id, day=late.isoformat())
    amendment = stored(app, select(AgreementVersion).where(AgreementVersion.number == 2))
    assert (amendment.status, amendment.ends_on) == ("proposed", late)

    page(
        client,
        {"mentor": mentor, "mentee": mentee}[by],
        f"/mentoring/meetings/changes/{change_id}/{answer}",
        {},
    )

    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        version_status
    )
    in_force = stored(
        app,
        select(AgreementVersion.ends_on)
        .where(AgreementVersion.status == "approved")
        .order_by(AgreementVersion.number.desc())
        .limit(1),
    )
    assert in_force == (late if answer == "accept" else end)


def test_only_the_proposer_takes_back_a_change_and_is_told_so(
    app, client, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, meeting_id)

    response = page(client, mentee, f"/mentoring/meetings/changes/{change_id}/withdraw", {})

    assert response.status_code == 403
    assert "Only the member who proposed the change can take it back." in text(response)
    assert change_status(app, change_id) == "proposed"


def test_a_member_outside_the_pair_may_give_no_answer_to_a_change(
    app, client, mentee, mentor, stranger, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, meeting_id)

    with app.test_request_context():
        change = _db.session.get(meetings.MeetingChange, change_id)
        assert allowed_actions(change, stranger) == {}
        assert list(allowed_actions(change, mentee)) == ["accept", "refuse"]


@pytest.mark.parametrize("taken_back", ["meeting", "move"])
def test_an_amendment_taken_back_with_its_meeting_reads_withdrawn_by_its_proposer(
    app, client, pairs, mentee, mentor, planner, taken_back
):
    active = pairs.active(mentee, mentor)
    late = stored(app, select(AgreementVersion.ends_on)) + timedelta(days=10)
    if taken_back == "meeting":
        meeting_id = planner.propose(active, mentee, datetime.combine(late, time(10), UTC))
        page(client, mentee, f"/mentoring/meetings/{meeting_id}/withdraw", {})
    else:
        meeting_id = planner.schedule(active, mentee, mentor)
        change_id = proposed_move(app, client, mentee, meeting_id, day=late.isoformat())
        page(client, mentee, f"/mentoring/meetings/changes/{change_id}/withdraw", {})

    version_page = text(page(client, mentor, f"/mentoring/{active}/agreement/versions/2"))
    header = version_page.split("Version 2 of the agreement", 1)[1].split("</header>", 1)[0]
    assert "withdrawn" in header and "rejected" not in header
    answer = version_page.split("The answer", 1)[1].split("</section>", 1)[0]
    assert "Withdrawn by Mia Mentee with the meeting or the move that needed it" in answer
    assert "Answered by" not in answer and "Not answered yet." not in answer
    listed = text(page(client, mentor, f"/mentoring/{active}/agreement"))
    listed = listed.split('id="versions-title"', 1)[1]
    assert "Withdrawn by Mia Mentee" in listed and "Answered by Mia" not in listed


# ---- did it take place? --------------------------------------------------------------------


def test_both_confirm_the_meeting_took_place_and_its_goal_completes_for_both(
    app, client, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    early = page(client, mentee, f"/mentoring/meetings/{meeting_id}/confirm", {})
    assert "You can confirm a meeting once it has begun." in text(early)

    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(hours=2))
    page(client, mentee, f"/mentoring/meetings/{meeting_id}/confirm", {})
    assert status_of(app, meeting_id) == "scheduled"  # one confirmation is not enough
    assert "confirm it too" in last_alert(app, mentor)
    waiting = text(page(client, mentor, f"/members/{mentor.id}"))
    assert "Meeting of Mia Mentee and Max Mentor" in waiting  # awaiting their consent

    page(client, mentor, f"/mentoring/meetings/{meeting_id}/confirm", {})

    assert status_of(app, meeting_id) == "held"
    goal = stored(app, select(Goal).where(Goal.kind == meetings.MEETING_ATTENDED))
    assert goal.completed_at is not None
    for member in (mentee, mentor):
        overview = text(page(client, member, f"/members/{member.id}"))
        assert "Attended a mentoring meeting" in overview
    assert "1 held of 6 planned" in text(page(client, mentee, f"/mentoring/{active}"))


def test_confirming_twice_counts_once(app, client, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(hours=2))
    page(client, mentee, f"/mentoring/meetings/{meeting_id}/confirm", {})
    page(client, mentee, f"/mentoring/meetings/{meeting_id}/confirm", {})
    assert status_of(app, meeting_id) == "scheduled"
    assert count_rows(app, GoalParty, GoalParty.decision == "consented") == 1


def test_consenting_on_the_profile_marks_the_meeting_held_too(
    app, client, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(hours=2))
    page(client, mentee, f"/mentoring/meetings/{meeting_id}/confirm", {})
    goal_id = stored(app, select(Goal.id))

    page(client, mentor, f"/goals/{goal_id}/consent", {})

    assert status_of(app, meeting_id) == "held"


def test_a_meeting_reported_missed_does_not_count(app, client, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(hours=2))
    page(client, mentee, f"/mentoring/meetings/{meeting_id}/confirm", {})
    page(client, mentor, f"/mentoring/meetings/{meeting_id}/missed", {})

    assert status_of(app, meeting_id) == "missed"
    assert stored(app, select(Goal.declined_at)) is not None
    again = page(client, mentee, f"/mentoring/meetings/{meeting_id}/confirm", {})
    assert "Only a scheduled meeting can be confirmed." in text(again)
    assert "0 held of 6 planned" in text(page(client, mentee, f"/mentoring/{active}"))


def test_declining_a_meetings_goal_on_the_profile_marks_it_missed(
    app, client, mentee, mentor, active, planner
):
    final = planner.schedule(active, mentee, mentor, is_final=True)
    planner.move_start(final, datetime.now(UTC) - timedelta(hours=2))
    page(client, mentee, f"/mentoring/meetings/{final}/confirm", {})
    goal_id = stored(app, select(Meeting.goal_id).where(Meeting.id == final))

    # the mentor answers from the goals awaiting them on their profile
    page(client, mentor, f"/goals/{goal_id}/decline", {})

    assert status_of(app, final) == "missed"
    assert "says your meeting of" in last_alert(app, mentee)
    assert "did not take place" in last_alert(app, mentee)
    again = page(client, mentee, f"/mentoring/meetings/{final}/confirm", {})
    assert "Only a scheduled meeting can be confirmed." in text(again)
    # and the pair can plan another final meeting: the mentorship is not stuck
    page(client, mentee, f"/mentoring/{active}/meetings/new", meeting_form(is_final="y"))
    assert stored(app, select(Meeting.is_final).where(Meeting.id == newest_meeting(app)))
    assert newest_meeting(app) != final


# ---- departures from the agreement ---------------------------------------------------------


def test_a_meeting_beyond_the_agreed_number_carries_an_amendment_both_confirm(
    app, client, pairs, mentee, mentor, planner
):
    active = pairs.active(mentee, mentor, meetings_planned=1)
    planner.schedule(active, mentee, mentor)
    page(client, mentee, f"/mentoring/{active}/meetings/new", meeting_form(soon(10)))
    extra = newest_meeting(app)
    amendment = stored(app, select(AgreementVersion).where(AgreementVersion.number == 2))
    assert (amendment.status, amendment.meetings_planned) == ("proposed", 2)
    assert "carries amendment version 2" in text(
        page(client, mentor, f"/mentoring/meetings/{extra}")
    )

    page(client, mentor, f"/mentoring/meetings/{extra}/approve", {})

    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        "approved"
    )
    assert "0 held of 2 planned" in text(page(client, mentee, f"/mentoring/{active}"))


def test_declining_an_extra_meeting_rejects_its_amendment(
    app, client, pairs, mentee, mentor, planner
):
    active = pairs.active(mentee, mentor, meetings_planned=1)
    planner.schedule(active, mentee, mentor)
    extra = planner.propose(active, mentee, soon(10))
    page(client, mentor, f"/mentoring/meetings/{extra}/decline", {"message": "One is enough."})
    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        "rejected"
    )
    assert "0 held of 1 planned" in text(page(client, mentee, f"/mentoring/{active}"))


def test_a_meetings_amendment_is_answered_with_the_meeting_not_on_the_agreement_page(
    app, client, pairs, mentee, mentor, planner
):
    active = pairs.active(mentee, mentor, meetings_planned=1)
    planner.schedule(active, mentee, mentor)
    extra = planner.propose(active, mentee, soon(10))
    amendment = stored(app, select(AgreementVersion.id).where(AgreementVersion.number == 2))

    agreement_page = text(page(client, mentor, f"/mentoring/{active}/agreement"))
    assert "It comes with a meeting: answering the meeting answers it too." in agreement_page
    assert f"/mentoring/meetings/{extra}" in agreement_page
    assert f"/mentoring/agreement/{amendment}/approve" not in agreement_page
    for answer, form in [("approve", {}), ("send-back", {"comment": "No, too many."})]:
        response = page(client, mentor, f"/mentoring/agreement/{amendment}/{answer}", form)
        assert "This amendment comes with a meeting: answer the meeting" in text(response)
    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        "proposed"
    )

    # so declining the meeting cannot undo an amendment already in force
    page(client, mentor, f"/mentoring/meetings/{extra}/decline", {"message": "One is enough."})
    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        "rejected"
    )
    assert "0 held of 1 planned" in text(page(client, mentee, f"/mentoring/{active}"))


def test_a_meeting_after_the_agreed_end_extends_it_once_both_confirm(
    app, client, pairs, mentee, mentor
):
    active = pairs.active(mentee, mentor)
    in_force_end = stored(app, select(AgreementVersion.ends_on))
    late = datetime.combine(in_force_end + timedelta(days=10), datetime.min.time(), UTC)
    page(
        client,
        mentee,
        f"/mentoring/{active}/meetings/new",
        meeting_form(late + timedelta(hours=10)),
    )
    extension = stored(app, select(AgreementVersion).where(AgreementVersion.number == 2))
    assert extension.ends_on == in_force_end + timedelta(days=10)
    page(client, mentor, f"/mentoring/meetings/{newest_meeting(app)}/approve", {})
    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        "approved"
    )


# ---- the final meeting ---------------------------------------------------------------------


class GoalListener:
    def __init__(self) -> None:
        self.completed: list[tuple[str, list[str]]] = []

    @hookimpl
    def goal_completed(self, goal: Goal) -> None:
        self.completed.append((goal.kind, sorted(party.decision for party in goal.parties)))


@pytest.fixture
def listener() -> GoalListener:
    return GoalListener()


@pytest.fixture
def app(make_app, listener):
    return make_app(extra_plugins={"listener": listener}, PLUGINS=["mentoring", "listener"])


def test_the_final_meeting_completes_the_mentorship_once_with_both_consents(
    app, client, mentee, mentor, active, planner, listener
):
    other = planner.schedule(active, mentee, mentor, soon(20))
    page(client, mentee, f"/mentoring/{active}/meetings/new", meeting_form(is_final="y"))
    final = newest_meeting(app)
    page(client, mentor, f"/mentoring/meetings/{final}/approve", {})
    planner.move_start(final, datetime.now(UTC) - timedelta(hours=1))
    page(client, mentee, f"/mentoring/meetings/{final}/confirm", {})
    assert state_of(app, active) == "active"

    page(client, mentor, f"/mentoring/meetings/{final}/confirm", {})

    assert state_of(app, active) == "completed"
    assert listener.completed == [
        (meetings.MEETING_ATTENDED, ["consented", "consented"]),
        (meetings.MENTORSHIP_FINISHED, ["consented", "consented"]),
    ]
    assert count_rows(app, Goal, Goal.kind == meetings.MENTORSHIP_FINISHED) == 1
    assert "is complete. Congratulations!" in last_alert(app, mentee)
    assert "is complete. Congratulations!" in last_alert(app, mentor)
    assert status_of(app, other) == "cancelled"  # what was still to come
    assert stored(app, select(MentoringMember.mentee_count)) == 0
    # everything stays readable to the pair
    for member in (mentee, mentor):
        mentorship_page = text(page(client, member, f"/mentoring/{active}"))
        assert "completed" in mentorship_page and "This chat is closed" in mentorship_page
        assert page(client, member, f"/mentoring/{active}/agreement").status_code == 200
        assert page(client, member, f"/mentoring/meetings/{final}").status_code == 200
        assert "Finished a mentorship" in text(page(client, member, f"/members/{member.id}"))
    facts = dict(
        meetings.describe_finished(
            stored(app, select(Goal).where(Goal.kind == meetings.MENTORSHIP_FINISHED))
        )
    )
    assert facts["Mentor"] == "Max Mentor" and facts["Mentee"] == "Mia Mentee"
    assert facts["Meetings held"] == "1"


def test_there_is_one_final_meeting_at_a_time(app, client, db, mentee, mentor, active, planner):
    planner.propose(active, mentee, is_final=True)
    second = page(client, mentee, f"/mentoring/{active}/meetings/new", meeting_form(is_final="y"))
    assert "You already have a final meeting" in text(second)
    db.session.add(
        Meeting(
            mentorship_id=active,
            starts_at=soon(9),
            duration_minutes=60,
            place="x",
            is_final=True,
            status="scheduled",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# ---- ending early --------------------------------------------------------------------------


def test_an_early_end_takes_both_and_does_not_count_as_finished(
    app, client, mentee, mentor, active, listener
):
    page(client, mentee, f"/mentoring/{active}/end/propose", {"message": "I changed jobs."})
    assert state_of(app, active) == "active"
    assert "proposes to end your mentorship early" in last_alert(app, mentor)
    own = page(client, mentee, f"/mentoring/{active}/end/agree", {})
    assert own.status_code == 403
    assert state_of(app, active) == "active"

    page(client, mentor, f"/mentoring/{active}/end/agree", {})

    assert state_of(app, active) == "terminated"
    reason = stored(
        app, select(MentorshipEvent.reason).order_by(MentorshipEvent.id.desc()).limit(1)
    )
    assert reason == "mutual"
    assert "Ended early by mutual consent" in text(page(client, mentee, f"/mentoring/{active}"))
    assert listener.completed == []  # not finished
    assert stored(app, select(MentoringMember.mentee_count)) == 0


def test_the_page_asks_once_whether_an_early_end_is_proposed(app, client, mentee, active):
    # the page shows the proposal, and offers "propose to end early" only without one
    client.login(mentee)

    statements = statements_run_by_get(app, client, f"/mentoring/{active}")

    assert sum("mentoring_end_proposals" in statement for statement in statements) == 1


def test_the_other_party_may_go_on_and_the_proposer_may_take_it_back(
    app, client, mentee, mentor, active
):
    page(client, mentor, f"/mentoring/{active}/end/propose", {"message": "Too busy."})
    again = page(client, mentee, f"/mentoring/{active}/end/propose", {"message": "Me too."})
    assert "already proposed" in text(again)
    # each answers as who they are: the mentee cannot "take back" the mentor's proposal
    assert page(client, mentee, f"/mentoring/{active}/end/withdraw", {}).status_code == 403
    assert page(client, mentor, f"/mentoring/{active}/end/refuse", {}).status_code == 403
    page(client, mentee, f"/mentoring/{active}/end/refuse", {})
    assert state_of(app, active) == "active"
    assert "would rather go on" in last_alert(app, mentor)

    page(client, mentor, f"/mentoring/{active}/end/propose", {"message": "Really too busy."})
    page(client, mentor, f"/mentoring/{active}/end/withdraw", {})
    assert state_of(app, active) == "active"
    nothing = page(client, mentee, f"/mentoring/{active}/end/agree", {})
    assert "Nobody proposes to end this mentorship now." in text(nothing)


def test_ending_early_needs_an_active_mentorship(app, client, pairs, mentee, mentor):
    accepted = pairs.accept(mentee, mentor)
    response = page(client, mentee, f"/mentoring/{accepted}/end/propose", {"message": "Bye"})
    assert "Only an active mentorship can be ended early by agreement." in text(response)


def test_after_an_early_end_a_meeting_that_began_can_still_be_confirmed(
    app, client, mentee, mentor, active, planner, listener
):
    begun = planner.schedule(active, mentee, mentor)
    planner.move_start(begun, datetime.now(UTC) - timedelta(hours=2))
    to_come = planner.schedule(active, mentee, mentor, soon(5))
    page(client, mentee, f"/mentoring/meetings/{begun}/confirm", {})
    page(client, mentee, f"/mentoring/{active}/end/propose", {"message": "I changed jobs."})
    page(client, mentor, f"/mentoring/{active}/end/agree", {})
    assert state_of(app, active) == "terminated"
    assert status_of(app, to_come) == "cancelled"

    page(client, mentor, f"/mentoring/meetings/{begun}/confirm", {})

    # it took place, so it counts as held, rather than a cancelled meeting with a goal
    assert status_of(app, begun) == "held"
    assert [kind for kind, _decisions in listener.completed] == ["mentoring.meeting_attended"]


def test_ending_before_the_agreement_cancels_the_meetings_to_come(
    app, client, pairs, mentee, mentor, planner
):
    accepted = pairs.accept(mentee, mentor)
    meeting_id = planner.schedule(accepted, mentee, mentor)
    page(client, mentor, f"/mentoring/{accepted}/terminate", {"message": "Not a fit."})
    assert status_of(app, meeting_id) == "cancelled"


def pending_amendment(app, client, db, mentee, mentor, active, planner, carried_by: str) -> str:
    """An amendment awaiting the mentor's answer, proposed alone or carried by a meeting or a
    move past the agreed end; returns the path that answers it."""
    late = stored(app, select(AgreementVersion.ends_on)) + timedelta(days=10)
    if carried_by == "meeting":
        meeting_id = planner.propose(active, mentee, datetime.combine(late, time(10), UTC))
        return f"/mentoring/meetings/{meeting_id}/approve"
    if carried_by == "move":
        meeting_id = planner.schedule(active, mentee, mentor, soon(5))
        change_id = proposed_move(app, client, mentee, meeting_id, day=late.isoformat())
        return f"/mentoring/meetings/changes/{change_id}/accept"
    with app.test_request_context():
        terms = agreement_terms(meetings_planned=8)
        version = agreements.propose_amendment(active, mentee, terms, "Two more meetings")
        db.session.commit()
        return f"/mentoring/agreement/{version.id}/approve"


@pytest.mark.parametrize("carried_by", ["nothing", "meeting", "move"])
def test_ending_early_ends_the_proposals_no_one_answered_and_offers_no_answer(
    app, client, db, mentee, mentor, active, planner, carried_by
):
    begun = planner.schedule(active, mentee, mentor)
    change_id = proposed_cancellation(app, client, mentor, begun)
    planner.move_start(begun, datetime.now(UTC) - timedelta(hours=1))
    answer_amendment = pending_amendment(
        app, client, db, mentee, mentor, active, planner, carried_by
    )

    page(client, mentee, f"/mentoring/{active}/end/propose", {"message": "I changed jobs."})
    page(client, mentor, f"/mentoring/{active}/end/agree", {})

    assert change_status(app, change_id) == "ended"
    changes = meetings.MeetingChange
    assert count_rows(app, changes, changes.status != "ended") == 0  # a move's too
    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        "ended"
    )
    for member in (mentee, mentor):  # the begun meeting stays, with no answer to its change
        meeting_page = text(page(client, member, f"/mentoring/meetings/{begun}"))
        assert "/mentoring/meetings/changes/" not in meeting_page
        assert "Take it back" not in meeting_page and "Keep it as it is" not in meeting_page
    agreement_page = text(page(client, mentor, f"/mentoring/{active}/agreement"))
    assert "/mentoring/agreement/" not in agreement_page.replace(
        "/mentoring/agreement/versions", ""
    )
    assert "Unanswered when the mentorship ended" in agreement_page
    version_page = text(page(client, mentor, f"/mentoring/{active}/agreement/versions/2"))
    assert "ended with the mentorship" in version_page

    late_answer = page(client, mentor, answer_amendment, {})
    late_refusal = page(client, mentee, f"/mentoring/meetings/changes/{change_id}/refuse", {})

    assert "This mentorship has ended" in text(late_answer)
    assert "This mentorship has ended." in text(late_refusal)
    assert stored(app, select(AgreementVersion.status).where(AgreementVersion.number == 2)) == (
        "ended"
    )
    assert change_status(app, change_id) == "ended"
    assert stored(app, select(Meeting.status).where(Meeting.id == begun)) == "scheduled"


def test_ending_before_the_agreement_ends_the_proposed_one(app, client, pairs, mentee, mentor):
    accepted = pairs.accept(mentee, mentor)
    with app.test_request_context():
        version = agreements.propose_agreement(accepted, mentee, agreement_terms())
        _db.session.commit()
        version_id = version.id

    page(client, mentor, f"/mentoring/{accepted}/terminate", {"message": "Not a fit."})

    assert stored(app, select(AgreementVersion.status)) == "ended"
    agreement_page = text(page(client, mentor, f"/mentoring/{accepted}/agreement"))
    assert f"/mentoring/agreement/{version_id}/approve" not in agreement_page
    assert f"/mentoring/agreement/{version_id}/send-back" not in agreement_page
    late = page(client, mentor, f"/mentoring/agreement/{version_id}/approve", {})
    assert "This mentorship has ended: its agreement can no longer change." in text(late)
    assert stored(app, select(AgreementVersion.status)) == "ended"
