"""Meetings through the HTTP API, as an app developer meets them: the mentee schedules, the
mentor approves or declines, either party proposes to move or cancel and the other answers,
both confirm it took place, each gives feedback; with the pages' rules (who may do what, in
which state) and times sent from one time zone and read in another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import func, select

from core.models import ApiToken, GoalParty, Notification, User, WebhookEvent
from core.services.tokens import revoke_token
from core.services.webhooks import add_endpoint
from core.testing import assert_api_routes_refuse_visitors, count_rows, stored, token_headers
from plugins.mentoring.models import Meeting, MeetingChange, MeetingFeedback

API = "/api/v1/mentoring"


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.json["type"].rsplit("/", 1)[-1]


def soon(days: int = 3) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def plan(starts_at: datetime | str | None = None, **changes) -> dict:
    when = starts_at or soon()
    return {
        "starts_at": when if isinstance(when, str) else when.isoformat(),
        "duration_minutes": 60,
        "place": "https://meet.example.org/mia-max",
        "agenda": "Portfolio review",
    } | changes


def schedule(client, token, mentorship_id: int, **body):
    return client.post(
        f"{API}/mentorships/{mentorship_id}/meetings", json=plan(**body), headers=token
    )


def act(client, token, meeting_id: int, action: str, body: dict | None = None):
    return client.post(f"{API}/meetings/{meeting_id}/{action}", json=body or {}, headers=token)


def status_of(app, meeting_id: int) -> str:
    return stored(app, select(Meeting.status).where(Meeting.id == meeting_id))


def alerts_of(app, user: User) -> list[str]:
    with app.app_context():
        from core.db import db

        try:
            return list(
                db.session.scalars(
                    select(Notification.message)
                    .where(Notification.user_id == user.id)
                    .order_by(Notification.id)
                )
            )
        finally:
            db.session.remove()


# ---- the routes --------------------------------------------------------------------------------


def test_every_meeting_route_refuses_visitors_and_read_only_tokens(app, client, db, mentee):
    routes = {rule.rule for rule in app.url_map.iter_rules() if "meetings" in rule.rule}
    assert {
        "/api/v1/mentoring/mentorships/<int:mentorship_id>/meetings",
        "/api/v1/mentoring/meetings",
        "/api/v1/mentoring/meetings/<int:meeting_id>",
        "/api/v1/mentoring/meetings/<int:meeting_id>/approve",
        "/api/v1/mentoring/meetings/<int:meeting_id>/decline",
        "/api/v1/mentoring/meetings/<int:meeting_id>/withdraw",
        "/api/v1/mentoring/meetings/<int:meeting_id>/changes",
        "/api/v1/mentoring/meetings/changes/<int:change_id>/<answer>",
        "/api/v1/mentoring/meetings/<int:meeting_id>/confirm",
        "/api/v1/mentoring/meetings/<int:meeting_id>/missed",
        "/api/v1/mentoring/meetings/<int:meeting_id>/feedback",
    } <= routes
    assert_api_routes_refuse_visitors(app, client, token_headers(mentee, "read"))


def test_the_openapi_document_says_how_times_are_read(client):
    document = client.get("/api/v1/openapi.json").json
    scheduling = document["paths"]["/api/v1/mentoring/mentorships/{mentorship_id}/meetings"]
    assert set(scheduling) >= {"get", "post"}
    body = document["components"]["schemas"]["Schedule"]["properties"]["starts_at"]
    assert "the time zone of their profile" in body["description"]


# ---- scheduling and answering ------------------------------------------------------------------


def test_the_mentee_schedules_and_the_mentor_approves(app, client, db, mentee, mentor, active):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    when = soon()

    proposed = schedule(client, mentee_token, active, starts_at=when)
    assert proposed.status_code == 201, proposed.json
    meeting = proposed.json
    assert meeting["status"] == "proposed" and meeting["mentorship_id"] == active
    assert meeting["starts_at"] == when.isoformat()  # UTC, +00:00
    assert meeting["other_name"] == "Max Mentor" and meeting["actions"] == ["withdraw"]
    assert "Mia Mentee proposes a meeting on" in alerts_of(app, mentor)[-1]

    shown = client.get(f"{API}/meetings/{meeting['id']}", headers=mentor_token).json
    assert shown["actions"] == ["approve", "decline"] and shown["other_name"] == "Mia Mentee"
    assert shown["change"] is None and shown["can_confirm"] is False

    approved = act(client, mentor_token, meeting["id"], "approve")
    assert approved.status_code == 200 and approved.json["status"] == "scheduled"
    assert approved.json["decided_at"] is not None
    assert status_of(app, meeting["id"]) == "scheduled"
    assert "Max Mentor approved the meeting" in alerts_of(app, mentee)[-1]

    for token in (mentee_token, mentor_token):
        listed = client.get(f"{API}/mentorships/{active}/meetings", headers=token).json
        assert [one["id"] for one in listed["items"]] == [meeting["id"]]
        coming = client.get(f"{API}/meetings", headers=token).json
        assert [one["status"] for one in coming["items"]] == ["scheduled"]


def test_a_mentorships_meetings_come_by_time_a_page_at_a_time(
    client, db, mentee, mentor, accepted, planner
):
    mentorship = accepted  # no agreement: twenty-two meetings need no amendment
    later = planner.propose(mentorship, mentee, soon(9))
    earlier = planner.schedule(mentorship, mentee, mentor, soon(2))
    past = planner.schedule(mentorship, mentee, mentor, soon(5))
    planner.hold(past, mentee, mentor)  # now two hours ago: first
    for n in range(19):
        planner.propose(mentorship, mentee, soon(20 + n))
    token = token_headers(mentor, "read")

    first = client.get(f"{API}/mentorships/{mentorship}/meetings", headers=token)
    assert [one["id"] for one in first.json["items"][:3]] == [past, earlier, later]
    assert len(first.json["items"]) == 20 and first.json["next"] is not None
    assert 'rel="next"' in first.headers["Link"]
    after = first.json["next"]
    second = client.get(f"{API}/mentorships/{mentorship}/meetings?after={after}", headers=token)
    assert len(second.json["items"]) == 2 and second.json["next"] is None
    assert "Link" not in second.headers

    coming = client.get(f"{API}/meetings", headers=token).json  # not the one that took place
    assert [one["id"] for one in coming["items"][:2]] == [earlier, later]
    assert past not in [one["id"] for one in coming["items"]]
    bad = client.get(f"{API}/meetings?limit=0", headers=token)
    assert bad.status_code == 422 and problem_type(bad) == "invalid-input"
    forged = client.get(f"{API}/meetings?after=bm9wZQ", headers=token)
    assert forged.status_code == 400 and problem_type(forged) == "invalid-cursor"


def test_the_upcoming_meetings_page_on_though_meetings_begin_meanwhile(
    client, db, mentee, accepted, planner
):
    start = datetime(2027, 3, 1, 9, tzinfo=UTC)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        planned = [planner.propose(accepted, mentee, start + timedelta(hours=n)) for n in range(25)]
        token = token_headers(mentee, "read")
        first = client.get(f"{API}/meetings?limit=10", headers=token).json
    assert [one["id"] for one in first["items"]] == planned[:10]

    # three of the first page's meetings, and two of the next, begin before the next read:
    # the next page still starts where the first ended (an offset would skip five)
    with time_machine.travel(start + timedelta(hours=11, minutes=30), tick=False):
        second = client.get(f"{API}/meetings?limit=10&after={first['next']}", headers=token).json
        from_the_start = client.get(f"{API}/meetings?limit=10", headers=token).json
    assert [one["id"] for one in second["items"]] == planned[12:22]
    assert [one["id"] for one in from_the_start["items"]] == planned[12:22]


def test_only_the_mentee_schedules_and_only_the_mentor_answers(
    app, client, db, mentee, mentor, stranger, active, planner
):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    by_mentor = schedule(client, mentor_token, active)
    assert by_mentor.status_code == 403 and problem_type(by_mentor) == "forbidden"
    assert count_rows(app, Meeting) == 0

    meeting_id = planner.propose(active, mentee)
    refused = act(client, mentee_token, meeting_id, "approve")
    assert refused.status_code == 403 and "Only the mentor" in refused.json["detail"]
    refused = act(client, mentee_token, meeting_id, "decline", {"message": "No."})
    assert refused.status_code == 403
    refused = act(client, mentor_token, meeting_id, "withdraw")
    assert refused.status_code == 403 and "Only the mentee" in refused.json["detail"]
    assert status_of(app, meeting_id) == "proposed"


def test_a_meeting_is_its_pairs_alone(app, client, db, mentee, stranger, active, planner):
    meeting_id = planner.propose(active, mentee)
    token = token_headers(stranger)

    assert problem_type(client.get(f"{API}/meetings/{meeting_id}", headers=token)) == "forbidden"
    listed = client.get(f"{API}/mentorships/{active}/meetings", headers=token)
    assert listed.status_code == 403
    assert client.get(f"{API}/meetings", headers=token).json["items"] == []
    assert schedule(client, token, active).status_code == 403
    assert act(client, token, meeting_id, "approve").status_code == 403
    assert act(client, token, meeting_id, "withdraw").status_code == 403
    missing = client.get(f"{API}/meetings/{meeting_id + 100}", headers=token)
    assert missing.status_code == 404 and problem_type(missing) == "not-found"
    assert status_of(app, meeting_id) == "proposed"


def test_a_bad_meeting_is_refused_and_nothing_stored(app, client, db, mentee, active):
    token = token_headers(mentee)
    past = schedule(client, token, active, starts_at=soon(0) - timedelta(hours=1))
    assert past.status_code == 422 and past.json["detail"] == "Choose a time in the future."
    short = schedule(client, token, active, duration_minutes=5)
    assert short.status_code == 422 and "between 15 minutes and 8 hours" in short.json["detail"]
    nowhere = schedule(client, token, active, place="  ")
    assert nowhere.status_code == 422 and problem_type(nowhere) == "invalid-input"
    missing = client.post(
        f"{API}/mentorships/{active}/meetings",
        json={"starts_at": soon().isoformat()},
        headers=token,
    )
    assert missing.status_code == 422 and "place" in missing.json["errors"]["json"]
    nonsense = schedule(client, token, active, starts_at="next Tuesday")
    assert nonsense.status_code == 422 and "starts_at" in nonsense.json["errors"]["json"]
    far = schedule(client, token, active, starts_at="0001-01-01T00:30:00+13:00")
    assert far.status_code == 422 and problem_type(far) == "invalid-input"
    not_json = client.post(f"{API}/mentorships/{active}/meetings", data="x", headers=token)
    assert not_json.status_code == 415
    assert count_rows(app, Meeting) == 0


def test_a_meeting_sent_twice_is_stored_once(app, client, db, mentee, active):
    token, when = token_headers(mentee), soon()
    assert schedule(client, token, active, starts_at=when).status_code == 201
    twice = schedule(client, token, active, starts_at=when)
    assert (
        twice.status_code == 422 and "already have a meeting at that time" in twice.json["detail"]
    )
    assert count_rows(app, Meeting) == 1


def test_read_only_and_revoked_tokens_change_nothing(
    app, client, db, mentee, mentor, active, planner
):
    meeting_id = planner.propose(active, mentee)
    reader = token_headers(mentor, "read")
    assert client.get(f"{API}/meetings/{meeting_id}", headers=reader).status_code == 200
    refused = act(client, reader, meeting_id, "approve")
    assert refused.status_code == 403 and problem_type(refused) == "insufficient-scope"

    writer = token_headers(mentor)
    token_id = stored(app, select(func.max(ApiToken.id)))
    revoke_token(mentor, token_id)
    db.session.commit()
    revoked = act(client, writer, meeting_id, "approve")
    assert revoked.status_code == 401 and problem_type(revoked) == "invalid-token"
    assert status_of(app, meeting_id) == "proposed"


def test_the_mentor_declines_with_a_message(app, client, db, mentee, mentor, active, planner):
    meeting_id = planner.propose(active, mentee)
    token = token_headers(mentor)

    blank = act(client, token, meeting_id, "decline", {"message": "  "})
    assert blank.status_code == 422 and "Say why" in blank.json["detail"]
    missing = act(client, token, meeting_id, "decline")
    assert missing.status_code == 422 and "message" in missing.json["errors"]["json"]

    declined = act(client, token, meeting_id, "decline", {"message": "Thursday suits me."})
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert "Thursday suits me." in alerts_of(app, mentee)[-1]
    again = act(client, token, meeting_id, "approve")
    assert again.status_code == 422 and again.json["detail"] == "This meeting was already answered."


def test_the_mentee_takes_a_meeting_back_until_it_is_answered(
    app, client, db, mentee, mentor, active, planner
):
    token = token_headers(mentee)
    waiting = planner.propose(active, mentee)
    taken = act(client, token, waiting, "withdraw")
    assert taken.status_code == 200 and taken.json["status"] == "cancelled"

    answered = planner.schedule(active, mentee, mentor, soon(4))
    late = act(client, token, answered, "withdraw")
    assert late.status_code == 422 and "propose to cancel it" in late.json["detail"]
    assert status_of(app, answered) == "scheduled"


def test_a_meeting_whose_time_passed_is_not_approved(
    app, client, db, mentee, mentor, active, planner
):
    meeting_id = planner.propose(active, mentee)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(minutes=5))
    late = act(client, token_headers(mentor), meeting_id, "approve")
    assert late.status_code == 422 and "time has passed" in late.json["detail"]
    assert status_of(app, meeting_id) == "proposed"


# ---- moving or cancelling ----------------------------------------------------------------------


def test_a_move_proposed_by_the_mentor_and_accepted_by_the_mentee(
    app, client, db, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor, soon())
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    later = soon(4)
    url = f"{API}/meetings/{meeting_id}/changes"

    proposed = client.post(
        url,
        json={"kind": "reschedule", "starts_at": later.isoformat(), "message": "Busy then."},
        headers=mentor_token,
    )
    assert proposed.status_code == 201, proposed.json
    change = proposed.json["change"]
    assert change["kind"] == "reschedule" and change["starts_at"] == later.isoformat()
    assert (
        change["duration_minutes"] == 60 and change["place"] == "https://meet.example.org/ada-rui"
    )
    assert change["answers"] == ["withdraw"] and change["proposed_by_id"] == mentor.id
    assert proposed.json["starts_at"] != later.isoformat()  # until the mentee agrees
    assert "Max Mentor proposes to change the meeting" in alerts_of(app, mentee)[-1]

    twice = client.post(url, json={"kind": "cancel"}, headers=mentee_token)
    assert twice.status_code == 422 and "already awaits an answer" in twice.json["detail"]

    seen = client.get(f"{API}/meetings/{meeting_id}", headers=mentee_token).json
    assert seen["change"]["answers"] == ["accept", "refuse"]
    own = client.post(f"{API}/meetings/changes/{change['id']}/accept", headers=mentor_token)
    assert own.status_code == 403 and problem_type(own) == "forbidden"
    unknown = client.post(f"{API}/meetings/changes/{change['id']}/postpone", headers=mentee_token)
    assert unknown.status_code == 404

    accepted = client.post(f"{API}/meetings/changes/{change['id']}/accept", headers=mentee_token)
    assert accepted.status_code == 200
    assert accepted.json["starts_at"] == later.isoformat() and accepted.json["change"] is None
    assert "Mia Mentee agreed to your change" in alerts_of(app, mentor)[-1]
    again = client.post(f"{API}/meetings/changes/{change['id']}/refuse", headers=mentee_token)
    assert again.status_code == 422 and "already answered" in again.json["detail"]


def test_a_cancellation_refused_keeps_the_meeting(app, client, db, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    proposed = act(client, token_headers(mentee), meeting_id, "changes", {"kind": "cancel"})
    assert proposed.status_code == 201 and proposed.json["change"]["kind"] == "cancel"
    change_id = proposed.json["change"]["id"]

    kept = client.post(f"{API}/meetings/changes/{change_id}/refuse", headers=token_headers(mentor))
    assert kept.status_code == 200 and kept.json["status"] == "scheduled"
    assert stored(app, select(MeetingChange.status)) == "rejected"


def test_a_change_that_changes_nothing_or_is_unknown_is_refused(
    app, client, db, mentee, mentor, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    token = token_headers(mentee)
    same = act(client, token, meeting_id, "changes", {"kind": "reschedule"})
    assert same.status_code == 422 and same.json["detail"].startswith("Nothing changed")
    odd = act(client, token, meeting_id, "changes", {"kind": "postpone"})
    assert odd.status_code == 422 and "move or to cancel" in odd.json["detail"]
    proposed = planner.propose(active, mentee, soon(6))
    early = act(client, token, proposed, "changes", {"kind": "cancel"})
    assert early.status_code == 422
    assert count_rows(app, MeetingChange) == 0


def test_a_move_of_the_place_alone_keeps_the_time(app, client, db, mentee, mentor, active, planner):
    when = soon()
    meeting_id = planner.schedule(active, mentee, mentor, when)
    moved = act(
        client,
        token_headers(mentee),
        meeting_id,
        "changes",
        {"kind": "reschedule", "place": "Café"},
    )
    assert moved.status_code == 201
    assert moved.json["change"]["starts_at"] == when.isoformat()
    assert moved.json["change"]["place"] == "Café"


# ---- did it take place? ------------------------------------------------------------------------


def test_both_confirm_and_the_meeting_is_held(app, client, db, mentee, mentor, active, planner):
    add_endpoint("https://crm.example.org/alma-hooks", ["meeting.held"])
    db.session.commit()
    meeting_id = planner.schedule(active, mentee, mentor)
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)

    early = act(client, mentee_token, meeting_id, "confirm")
    assert early.status_code == 422 and "once it has begun" in early.json["detail"]

    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(hours=2))
    before = client.get(f"{API}/meetings/{meeting_id}", headers=mentee_token).json
    assert before["can_confirm"] is True and before["my_confirmation"] is None
    assert before["actions"] == ["confirm", "missed"]

    confirmed = act(client, mentee_token, meeting_id, "confirm")
    assert confirmed.status_code == 200 and confirmed.json["status"] == "scheduled"
    assert confirmed.json["my_confirmation"] == "consented"
    assert confirmed.json["their_confirmation"] == "pending"
    assert confirmed.json["can_confirm"] is False
    alerts = len(alerts_of(app, mentor))

    twice = act(client, mentee_token, meeting_id, "confirm")
    assert twice.status_code == 200 and twice.json["my_confirmation"] == "consented"
    assert len(alerts_of(app, mentor)) == alerts  # the mentor is not asked a second time
    assert count_rows(app, GoalParty, GoalParty.decision == "consented") == 1

    theirs = client.get(f"{API}/meetings/{meeting_id}", headers=mentor_token).json
    assert theirs["their_confirmation"] == "consented" and theirs["can_confirm"] is True
    held = act(client, mentor_token, meeting_id, "confirm")
    assert held.status_code == 200 and held.json["status"] == "held"
    assert held.json["held_at"] is not None and held.json["actions"] == []
    event = stored(app, select(WebhookEvent).where(WebhookEvent.type == "meeting.held"))
    assert f'"meeting_id":{meeting_id}' in event.body

    after = act(client, mentor_token, meeting_id, "confirm")
    assert after.status_code == 422 and "Only a scheduled meeting" in after.json["detail"]


def test_a_meeting_reported_missed_does_not_count(app, client, db, mentee, mentor, active, planner):
    meeting_id = planner.schedule(active, mentee, mentor)
    planner.move_start(meeting_id, datetime.now(UTC) - timedelta(hours=2))
    missed = act(client, token_headers(mentor), meeting_id, "missed")
    assert missed.status_code == 200 and missed.json["status"] == "missed"
    assert "says your meeting of" in alerts_of(app, mentee)[-1]
    late = act(client, token_headers(mentee), meeting_id, "confirm")
    assert late.status_code == 422


def test_feedback_once_the_meeting_was_held(
    app, client, db, mentee, mentor, stranger, active, planner
):
    meeting_id = planner.schedule(active, mentee, mentor)
    token, url = token_headers(mentee), f"{API}/meetings/{meeting_id}/feedback"

    early = client.put(url, json={"rating": 5}, headers=token)
    assert early.status_code == 403 and "both of you confirmed" in early.json["detail"]

    planner.hold(meeting_id, mentee, mentor)
    given = client.put(url, json={"rating": 4, "comment": " Helpful. "}, headers=token)
    assert given.status_code == 200 and given.json["rating"] == 4
    assert given.json["comment"] == "Helpful."
    changed = client.put(url, json={"rating": 5}, headers=token)
    assert changed.status_code == 200 and changed.json["comment"] == ""
    assert count_rows(app, MeetingFeedback) == 1
    wrong = client.put(url, json={"rating": 9}, headers=token)
    assert wrong.status_code == 422 and "from 1 to 5" in wrong.json["detail"]

    mine = client.get(f"{API}/meetings/{meeting_id}", headers=token).json["my_feedback"]
    assert mine["rating"] == 5
    theirs = client.get(f"{API}/meetings/{meeting_id}", headers=token_headers(mentor)).json
    assert theirs["my_feedback"] is None  # the mentee's is hers alone
    other = client.put(url, json={"rating": 1}, headers=token_headers(stranger))
    assert other.status_code == 403


# ---- time zones --------------------------------------------------------------------------------


def test_a_meeting_from_auckland_read_in_vienna_across_the_change_of_clocks(
    app, client, db, mentee, mentor, pairs
):
    """Vienna's clocks go forward on 28 March 2027, Auckland's back on 4 April: a meeting
    the Auckland mentee sends on her clock is one instant, read in UTC, and the Vienna
    mentor's alerts name it on his summer clock."""
    mentee.timezone, mentor.timezone, mentor.locale = "Pacific/Auckland", "Europe/Vienna", "de"
    db.session.commit()
    with time_machine.travel(datetime(2027, 3, 20, 9, tzinfo=UTC)):
        active = pairs.active(mentee, mentor)
        mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)

        winter = schedule(client, mentee_token, active, starts_at="2027-03-27T08:00:00")
        assert winter.json["starts_at"] == "2027-03-26T19:00:00+00:00"  # NZDT +13
        assert "26. März 2027, 20:00 (Europe/Vienna)" in alerts_of(app, mentor)[-1]  # CET
        summer = schedule(client, mentee_token, active, starts_at="2027-03-29T08:00")
        assert summer.json["starts_at"] == "2027-03-28T19:00:00+00:00"
        assert "28. März 2027, 21:00 (Europe/Vienna)" in alerts_of(app, mentor)[-1]  # CEST

        read = client.get(f"{API}/meetings/{summer.json['id']}", headers=mentor_token).json
        starts = datetime.fromisoformat(read["starts_at"])
        assert starts.astimezone(ZoneInfo("Europe/Vienna")).hour == 21
        same = schedule(client, mentee_token, active, starts_at="2027-03-29T08:00:00+13:00")
        assert same.status_code == 422 and "already have a meeting" in same.json["detail"]

        twice = schedule(client, mentee_token, active, starts_at="2027-04-04T02:30:00")
        assert twice.status_code == 422 and "comes twice" in twice.json["detail"]
        first = schedule(client, mentee_token, active, starts_at="2027-04-04T02:30:00+13:00")
        second = schedule(client, mentee_token, active, starts_at="2027-04-04T02:30:00+12:00")
        assert first.json["starts_at"] == "2027-04-03T13:30:00+00:00"
        assert second.json["starts_at"] == "2027-04-03T14:30:00+00:00"
        skipped = schedule(client, mentee_token, active, starts_at="2027-09-26T02:30:00")
        assert skipped.status_code == 422 and "skip this time" in skipped.json["detail"]


def test_a_held_final_meeting_completes_the_mentorship(
    app, client, db, mentee, mentor, active, planner
):
    final = schedule(client, token_headers(mentee), active, is_final=True).json
    assert final["is_final"] is True
    act(client, token_headers(mentor), final["id"], "approve")
    planner.move_start(final["id"], datetime.now(UTC) - timedelta(hours=1))
    for party in (mentee, mentor):
        act(client, token_headers(party), final["id"], "confirm")
    shown = client.get(f"{API}/mentorships/{active}", headers=token_headers(mentee)).json
    assert shown["state"] == "completed"


def test_a_meeting_beyond_the_agreement_carries_its_amendment(client, db, mentee, mentor, pairs):
    mentorship_id = pairs.active(mentee, mentor, meetings_planned=1)
    token = token_headers(mentee)
    planned = schedule(client, token, mentorship_id).json
    extra = schedule(client, token, mentorship_id, starts_at=soon(5)).json
    assert planned["amendment"] is None and extra["amendment"] == 2


def test_meetings_at_the_same_time_page_one_by_one(
    client, db, create_user, mentee, mentor, accepted, pairs, planner
):
    """The mentor's two mentorships may each meet at the same time: a cursor names the
    meeting too, not its time alone, so a page ending between them skips neither."""
    from plugins.mentoring.services import directory

    directory.update_mentor_settings(mentor, capacity=2, accepting=True)
    noa = create_user(display_name="Noa Mentee", wants_to_be_mentored=True)
    other = pairs.accept(noa, mentor)
    together = [planner.propose(accepted, mentee, soon(4)), planner.propose(other, noa, soon(4))]
    token = token_headers(mentor, "read")

    first = client.get(f"{API}/meetings?limit=1", headers=token).json
    second = client.get(f"{API}/meetings?limit=1&after={first['next']}", headers=token).json
    assert [one["id"] for one in first["items"] + second["items"]] == sorted(together)
    assert second["next"] is None


def test_a_meeting_starts_on_a_whole_minute(app, client, db, mentee, mentor, accepted, planner):
    """The unique index keeps one live meeting per mentorship at a time, on the exact time:
    10:00:01 would be a second meeting at 10:00. Such a time is refused, not cut."""
    token = token_headers(mentee)
    hour = soon(4)
    for sent in (
        hour.replace(second=1).isoformat(),
        hour.replace(microsecond=500000).isoformat(),
        hour.replace(tzinfo=None, second=30).isoformat(),  # on the caller's clock
    ):
        refused = schedule(client, token, accepted, starts_at=sent)
        assert refused.status_code == 422 and problem_type(refused) == "invalid-input"
        assert "whole minutes" in refused.json["errors"]["json"]["starts_at"][0]
    odd_offset = client.post(
        f"{API}/mentorships/{accepted}/meetings",
        json=plan("2027-05-03T10:00:00+05:30:30"),
        headers=token,
    )
    assert odd_offset.status_code == 422
    assert count_rows(app, Meeting) == 0

    meeting_id = planner.schedule(accepted, mentee, mentor, hour)
    move = {"kind": "reschedule", "starts_at": (hour + timedelta(seconds=1)).isoformat()}
    moved = act(client, token, meeting_id, "changes", move)
    assert moved.status_code == 422 and "starts_at" in moved.json["errors"]["json"]
    assert count_rows(app, MeetingChange) == 0

    whole = schedule(client, token, accepted, starts_at=(hour + timedelta(minutes=1)).isoformat())
    assert whole.status_code == 201, whole.json


def test_unbounded_numbers_in_a_query_are_invalid_input(client, db, mentee, accepted):
    """Numbers beyond any column are refused (422), not passed on to fail the query (500)."""
    token = token_headers(mentee, "read")
    for path in (
        "/meetings?limit=10000000000000000000",
        f"/mentorships/{accepted}/meetings?limit=10000000000000000000",
        "/mentors?page=10000000000000000000",
    ):
        huge = client.get(API + path, headers=token)
        assert huge.status_code == 422 and problem_type(huge) == "invalid-input", path
    a_cursor_beyond = client.get(
        f"{API}/meetings?after=dDIwMjctMDEtMDFUMDA6MDA6MDArMDA6MDB8OTk5OTk5OTk5OTk5OQ",
        headers=token,
    )
    assert a_cursor_beyond.status_code == 400 and problem_type(a_cursor_beyond) == "invalid-cursor"
