"""The seed journey through the HTTP API alone (issue 20): a mentee and a verified mentor, each
with an app holding their personal access token, go from finding each other to each one's
certificate without a page, a session or a service call. What each step asserts is what the
app would notice: status codes, states, the fields it reads, and the refusals it meets on the
way (a missing or stale ``If-Match``, the wrong party, too early). The members are made by
the fixtures (the mentor with their identity checked); the rest, down to the mentee's "I am
looking for a mentor", goes through the API.

The clock moves with time-machine (a meeting is confirmed once it has begun); jobs are run,
not waited for. It runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from core.db import db
from core.services.tokens import revoke_token, tokens_of
from core.testing import run_job, token_headers, verified

pytestmark = pytest.mark.plugins("mentoring", "credits", "certificates")

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday morning
MENTEE, MENTOR = "Noor Haddad", "Tomás Lindqvist-Okafor"
EVENTS = ("mentorship.started", "mentorship.completed", "meeting.held", "certificate.issued")


@pytest.fixture
def app(make_app):
    return make_app(WEBHOOK_ALLOW_LOCAL_HTTP=True)  # the receiver listens on 127.0.0.1


class Member:
    """A member's app: each call goes to ``/api/v1/`` with their token (scope write), and
    sends back in ``If-Match`` the agreement's ``ETag`` it read last."""

    def __init__(self, app, user) -> None:
        self.id, self.name = user.id, user.display_name
        self.client = app.test_client()
        self.headers = token_headers(user, "write")
        self.etag: str | None = None

    def get(self, path: str, **query: Any):
        response = self.client.get(f"/api/v1{path}", query_string=query, headers=self.headers)
        self.etag = response.headers.get("ETag", self.etag)
        return response

    def post(self, path: str, body: dict | None = None, *, if_match: str | None = None):
        headers = self.headers | ({"If-Match": if_match} if if_match else {})
        response = self.client.post(f"/api/v1{path}", json=body or {}, headers=headers)
        self.etag = response.headers.get("ETag", self.etag)
        return response

    def put(self, path: str, body: dict):
        return self.client.put(f"/api/v1{path}", json=body, headers=self.headers)

    def patch(self, path: str, body: dict):
        return self.client.patch(f"/api/v1{path}", json=body, headers=self.headers)

    def items(self, path: str, **query: Any) -> list[dict]:
        response = self.get(path, **query)
        assert response.status_code == 200, response.json
        return response.json["items"]


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def refused(response, status: int, problem: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == f"/api/problems/{problem}"
    return response.json


def pdf_text(pdf: bytes) -> str:
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(result.stdout.decode().split())


@pytest.fixture
def mentee(app, create_user) -> Member:
    user = create_user(display_name=MENTEE, email="noor@example.org")
    return Member(app, user)


@pytest.fixture
def mentor(app, create_user) -> Member:
    user = create_user(display_name=MENTOR, email="tomas@example.org", wants_to_mentor=True)
    return Member(app, user)


@pytest.fixture
def stranger(app, create_user) -> Member:
    return Member(app, create_user(display_name="Sam Stranger", email="sam@example.org"))


@pytest.fixture
def revoked(app, create_user) -> Member:
    """A member's app whose token its member revoked."""
    user = create_user(display_name="Rea Revoked", email="rea@example.org")
    app_of_theirs = Member(app, user)
    [token] = tokens_of(user)
    revoke_token(user, token.id)
    db.session.commit()
    return app_of_theirs


# ---- the steps -----------------------------------------------------------------------------


def fill_profiles(mentee: Member, mentor: Member) -> None:
    """Both say what they know and want to learn; the mentee starts looking for a mentor, and
    the mentor, whose identity staff checked, is listed."""
    ok(
        mentee.patch(
            "/me",
            {
                "bio": "Nurse for eight years, now learning to program.",
                "interests": ["Career change", "Python"],
                "languages": ["en", "ar"],
            },
        )
    )
    looking = ok(mentee.patch("/mentoring/me", {"looks_for_mentor": True}))
    assert looking["looks_for_mentor"] is True and looking["listed"] is False
    ok(
        mentor.patch(
            "/me",
            {
                "bio": "Backend engineer; I help people moving into software.",
                "expertise": ["Career change", "Python", "Job interviews"],
                "languages": ["en", "sv"],
            },
        )
    )
    offering = ok(mentor.get("/mentoring/me"))
    assert offering["verification"] == "verified" and offering["listed"] is True
    assert (offering["capacity"], offering["mentee_count"]) == (1, 0)


def find_the_mentor(mentee: Member, mentor: Member) -> None:
    """In the directory by topic, and among the mentee's suggestions with a reason; a mentor
    looks for nobody, so suggestions are not theirs."""
    found = ok(mentee.get("/mentoring/mentors", topic="Career change"))
    [listed] = [item for item in found["items"] if item["id"] == mentor.id]
    assert listed["display_name"] == MENTOR and listed["has_room"] is True
    assert "Job interviews" in listed["expertise"] and found["next_page"] is None

    suggested = ok(mentee.get("/mentoring/suggestions"))
    [suggestion] = [item for item in suggested["items"] if item["mentor_id"] == mentor.id]
    assert suggestion["display_name"] == MENTOR and suggestion["reasons"]
    refused(mentor.get("/mentoring/suggestions"), 403, "forbidden")


def request_and_accept(mentee: Member, mentor: Member) -> int:
    asked = ok(
        mentee.post(
            "/mentoring/mentorships",
            {
                "mentor_id": mentor.id,
                "message": "I am a nurse moving into software: would you guide me?",
                "topics": "Career change, Python",
            },
        ),
        201,
    )
    assert (asked["state"], asked["role"], asked["other_id"]) == ("requested", "mentee", mentor.id)
    mentorship_id = asked["id"]

    [waiting] = mentor.items("/mentoring/mentorships")
    assert (waiting["id"], waiting["role"], waiting["other_name"]) == (
        mentorship_id,
        "mentor",
        MENTEE,
    )
    refused(mentee.post(f"/mentoring/mentorships/{mentorship_id}/accept"), 403, "forbidden")
    accepted = ok(mentor.post(f"/mentoring/mentorships/{mentorship_id}/accept"))
    assert accepted["state"] == "accepted"
    refused(mentor.post(f"/mentoring/mentorships/{mentorship_id}/accept"), 422, "invalid-input")
    return mentorship_id


def chat_both_ways(mentee: Member, mentor: Member, mentorship_id: int) -> None:
    """Each reads what is new since the last message they saw, with ``after=``; a retry with
    the same key is stored once."""
    chat = f"/mentoring/mentorships/{mentorship_id}/messages"
    hello = {"text": "Thank you for accepting! Could we talk on Tuesday?", "key": "hello-0001"}
    first = ok(mentee.post(chat, hello), 201)
    assert ok(mentee.post(chat, hello), 201)["id"] == first["id"]  # a retry

    read = ok(mentor.get(chat, after=0))
    assert [m["text"] for m in read["items"]] == [hello["text"]]
    assert read["items"][0]["sender"] == MENTEE and read["has_newer"] is False
    answer = ok(mentor.post(chat, {"text": "Tuesday works. First our agreement, please."}), 201)

    new = ok(mentee.get(chat, after=first["id"]))
    assert [(m["id"], m["sender_id"]) for m in new["items"]] == [(answer["id"], mentor.id)]
    assert ok(mentee.get(chat, after=answer["id"]))["items"] == []


def terms(**changes: Any) -> dict[str, Any]:
    today = START.date()
    return {
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=60)).isoformat(),
        "meetings_planned": 2,
        "channels": "Video calls and the chat",
        "contact_every_days": 14,
        "agenda": "1. A portfolio project",
    } | changes


def agree(mentee: Member, mentor: Member, mentorship_id: int) -> None:
    """The mentee proposes, the mentor sends it back once with a comment, the mentee proposes
    it again, edited, and the mentor approves what they read: the official start."""
    agreement = f"/mentoring/mentorships/{mentorship_id}/agreement"
    empty = ok(mentee.get(agreement))
    assert empty["version"] == 0 and empty["actions"] == ["propose_agreement"]
    refused(mentee.post(agreement, terms()), 428, "precondition-required")
    first = ok(mentee.post(agreement, terms(), if_match=mentee.etag), 201)
    assert first["awaiting"]["status"] == "proposed" and first["in_force"] is None

    asked = ok(mentor.get(agreement))
    assert sorted(asked["actions"]) == ["approve", "send_back"]
    comment = {"comment": "Add practice interviews to the agenda, please."}
    sent_back = ok(mentor.post(f"{agreement}/send-back", comment, if_match=mentor.etag))
    assert sent_back["awaiting"] is None and sent_back["in_force"] is None
    [returned] = mentee.items(f"{agreement}/versions")
    assert (returned["status"], returned["comment"]) == ("returned", comment["comment"])

    ok(mentee.get(agreement))
    edited = terms(agenda="1. A portfolio project\n2. Practice interviews")
    ok(mentee.post(agreement, edited, if_match=mentee.etag), 201)
    stale = refused(
        mentor.post(f"{agreement}/approve", if_match=mentor.etag), 412, "precondition-failed"
    )
    assert stale["current"]["awaiting"]["agenda"].endswith("Practice interviews")
    changes = ok(mentor.get(f"{agreement}/compare"))["changes"]
    assert [change["term"] for change in changes if change["changed"]] == ["agenda"]
    approved = ok(mentor.post(f"{agreement}/approve", if_match=mentor.etag))
    assert approved["in_force"]["number"] == 2 and approved["in_force"]["status"] == "approved"
    assert ok(mentee.get(f"/mentoring/mentorships/{mentorship_id}"))["state"] == "active"


def amendment_sent_back(mentee: Member, mentor: Member, mentorship_id: int) -> None:
    """The mentor proposes an amendment; the mentee rejects it, and the agreement in force
    stays as it was."""
    agreement = f"/mentoring/mentorships/{mentorship_id}/agreement"
    ok(mentor.get(agreement))
    weekly = terms(contact_every_days=7, reason="Weekly suits the interviews better.")
    proposed = ok(mentor.post(agreement, weekly, if_match=mentor.etag), 201)
    assert proposed["awaiting"]["reason"] == weekly["reason"]
    refused(mentor.post(f"{agreement}/approve", if_match=mentor.etag), 403, "forbidden")

    ok(mentee.get(agreement))
    rejected = ok(
        mentee.post(
            f"{agreement}/send-back",
            {"comment": "Every two weeks is enough."},
            if_match=mentee.etag,
        )
    )
    assert rejected["awaiting"] is None and rejected["in_force"]["contact_every_days"] == 14
    newest = mentee.items(f"{agreement}/versions")[0]
    assert (newest["number"], newest["status"]) == (3, "rejected")


def schedule_and_approve(
    mentee: Member, mentor: Member, mentorship_id: int, starts_at: datetime, *, final: bool
) -> int:
    """The mentee proposes a meeting; a mentor may not, and approves it. Returns its id."""
    plan = {
        "starts_at": starts_at.isoformat(),
        "duration_minutes": 60,
        "place": "https://meet.example.org/noor-tomas",
        "agenda": "Wrap up and next steps" if final else "My portfolio",
        "is_final": final,
    }
    meetings = f"/mentoring/mentorships/{mentorship_id}/meetings"
    refused(mentor.post(meetings, plan), 403, "forbidden")
    proposed = ok(mentee.post(meetings, plan), 201)
    assert (proposed["status"], proposed["actions"]) == ("proposed", ["withdraw"])
    assert proposed["starts_at"] == starts_at.isoformat() and proposed["is_final"] is final
    approved = ok(mentor.post(f"/mentoring/meetings/{proposed['id']}/approve"))
    assert approved["status"] == "scheduled" and approved["other_name"] == MENTEE
    return proposed["id"]


def moved(mentee: Member, mentor: Member, meeting_id: int, to: datetime) -> int:
    """The mentor proposes another time, the mentee accepts it: the meeting moves."""
    change = {"kind": "reschedule", "starts_at": to.isoformat(), "message": "A day later?"}
    asked = ok(mentor.post(f"/mentoring/meetings/{meeting_id}/changes", change), 201)
    assert asked["change"]["answers"] == ["withdraw"]
    pending = ok(mentee.get(f"/mentoring/meetings/{meeting_id}"))["change"]
    assert sorted(pending["answers"]) == ["accept", "refuse"]
    assert pending["message"] == "A day later?"
    answered = ok(mentee.post(f"/mentoring/meetings/changes/{pending['id']}/accept"))
    assert answered["starts_at"] == to.isoformat() and answered["change"] is None
    assert answered["status"] == "scheduled"
    return pending["id"]


def confirmed_by_both(mentee: Member, mentor: Member, meeting_id: int) -> dict:
    """Both say it took place, each from their app; the second makes it held."""
    meeting = f"/mentoring/meetings/{meeting_id}"
    first = ok(mentee.post(f"{meeting}/confirm"))
    assert (first["status"], first["my_confirmation"]) == ("scheduled", "consented")
    assert first["their_confirmation"] == "pending"
    held = ok(mentor.post(f"{meeting}/confirm"))
    assert held["status"] == "held" and held["held_at"] is not None
    return held


def held_through_the_goal(mentee: Member, mentor: Member, meeting_id: int) -> None:
    """The mentee confirms the meeting; the mentor consents to its goal, as from their
    profile's overview: the meeting is held."""
    ok(mentee.post(f"/mentoring/meetings/{meeting_id}/confirm"))
    [goal] = mentor.items("/goals", awaiting="true")
    assert goal["kind"] == "mentoring.meeting_attended" and goal["my_decision"] == "pending"
    assert goal["state"] == "open"
    consented = ok(mentor.post(f"/goals/{goal['id']}/consent"))
    assert consented["state"] == "completed" and consented["my_decision"] == "consented"
    assert mentor.items("/goals", awaiting="true") == []
    assert ok(mentee.get(f"/mentoring/meetings/{meeting_id}"))["status"] == "held"


def feedback(mentee: Member, meeting_id: int) -> None:
    given = {"rating": 4, "comment": "Very practical: I know what to build next."}
    kept = ok(mentee.put(f"/mentoring/meetings/{meeting_id}/feedback", given))
    assert (kept["rating"], kept["comment"]) == (4, given["comment"])
    assert ok(mentee.get(f"/mentoring/meetings/{meeting_id}"))["my_feedback"]["rating"] == 4


def certificate_of(member: Member, other: Member) -> str:
    """The member's one certificate, rendered: its PDF names both parties. Returns its
    number."""
    [certificate] = member.items("/certificates")
    assert certificate["ready"] is True and certificate["revoked_at"] is None
    number = certificate["number"]
    pdf = member.get(f"/certificates/{number}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    text = pdf_text(pdf.data).casefold()  # the certificate's style capitalises labels
    assert member.name.casefold() in text and other.name.casefold() in text
    refused(other.get(f"/certificates/{number}/pdf"), 404, "not-found")
    return number


def publicly_verified(client, number: str, holder: str) -> None:
    """Anyone verifies it, without a token; the PDF stays the holder's."""
    verification = ok(client.get(f"/api/v1/certificates/{number}/verify"))
    assert verification["valid"] is True and verification["holder_name"] == holder
    assert verification["number"] == number
    refused(client.get(f"/api/v1/certificates/{number}/pdf"), 401, "unauthorized")


def credits_of(member: Member, points: int) -> list[str]:
    """The ledger's labels; the balance is ``points``."""
    assert ok(member.get("/credits/balance"))["total"] == points
    ledger = member.items("/credits/ledger", limit=50)
    assert sum(entry["points"] for entry in ledger) == points
    assert {entry["entry_kind"] for entry in ledger} == {"credit"}
    return [entry["label"] for entry in ledger]


def alerts_of(member: Member) -> list[str]:
    return [alert["message"] for alert in member.items("/alerts", limit=100)]


SHARED = {"api_members.member"}  # routes naming a row any member may read: a profile


def strangers_reach_nothing(app, stranger: Member, revoked: Member, rows: dict[str, Any], pair):
    """The route x role rule with real rows, for every API route: a third member's token
    (scope write) reads nothing of the pair's (403 or 404) and changes nothing of it, whatever
    each write answers; a revoked token is refused everywhere (401). ``pair`` is the pair's
    own view of what they share (a list of (member, path)), compared before and after. A
    public route (a certificate's proof) ignores tokens."""

    def views() -> list[Any]:
        return [ok(member.get(path)) for member, path in pair]

    def path_of(rule) -> str:
        named = rows | ({"number": rows["certificate"]} if "certificates" in rule.rule else {})
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(named[m[1]]), rule.rule)

    before = views()
    for rule in app.url_map.iter_rules():
        public = getattr(app.view_functions[rule.endpoint], "api_public", False)
        if not rule.rule.startswith("/api/v1/") or "openapi" in rule.endpoint or public:
            continue
        path = path_of(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            refusal = revoked.client.open(path, method=method, json={}, headers=revoked.headers)
            assert refusal.status_code == 401, (method, path)
            if not rule.arguments or rule.endpoint in SHARED:
                continue  # the stranger's own, or any member's
            answer = stranger.client.open(path, method=method, json={}, headers=stranger.headers)
            allowed = {403, 404} if method == "GET" else {403, 404, 422}
            assert answer.status_code in allowed, (method, path, answer.json)
    assert views() == before


# ---- the journey ---------------------------------------------------------------------------


def test_from_request_to_certificate_through_the_api_alone(
    app, client, mentee, mentor, stranger, revoked, webhook_receiver
):
    _, secret = webhook_receiver.subscribe(app, *EVENTS)
    with time_machine.travel(START, tick=False) as clock:
        fill_profiles(mentee, mentor)
        find_the_mentor(mentee, mentor)
        mentorship_id = request_and_accept(mentee, mentor)
        chat_both_ways(mentee, mentor, mentorship_id)
        agree(mentee, mentor, mentorship_id)
        amendment_sent_back(mentee, mentor, mentorship_id)

        # ---- a first meeting: scheduled, approved, moved a day, held, with feedback --------
        first_at = datetime(2027, 3, 8, 18, 0, tzinfo=UTC)
        first = schedule_and_approve(mentee, mentor, mentorship_id, first_at, final=False)
        change = moved(mentee, mentor, first, first_at + timedelta(days=1))
        refused(mentee.post(f"/mentoring/meetings/{first}/confirm"), 422, "invalid-input")
        refused(
            mentee.put(f"/mentoring/meetings/{first}/feedback", {"rating": 4}), 403, "forbidden"
        )
        [upcoming] = mentee.items("/mentoring/meetings")
        assert upcoming["id"] == first

        # ---- meanwhile, another member's app, and one whose token was revoked ------------
        rows = {
            "mentorship_id": mentorship_id,
            "meeting_id": first,
            "change_id": change,
            "answer": "accept",
            "number": 1,  # the agreement's first version
            "goal_id": 1,
            "alert_id": mentee.items("/alerts")[0]["id"],
            "member_id": mentee.id,
            "certificate": "none-yet",
        }
        shared = f"/mentoring/mentorships/{mentorship_id}"
        pair = [
            (mentee, shared),
            (mentee, f"{shared}/agreement/versions"),
            (mentor, f"{shared}/meetings"),
            (mentee, f"{shared}/messages"),
            (mentee, f"/mentoring/meetings/{first}"),
            (mentee, "/alerts/unread"),
            (mentor, "/credits/balance"),
        ]
        strangers_reach_nothing(app, stranger, revoked, rows, pair)

        clock.move_to(first_at + timedelta(days=1, hours=1, minutes=30))
        held_through_the_goal(mentee, mentor, first)
        feedback(mentee, first)
        assert mentee.items("/mentoring/meetings") == []

        # ---- the final meeting completes the mentorship ------------------------------------
        final_at = datetime(2027, 3, 23, 18, 0, tzinfo=UTC)
        final = schedule_and_approve(mentee, mentor, mentorship_id, final_at, final=True)
        clock.move_to(final_at + timedelta(hours=1))
        confirmed_by_both(mentee, mentor, final)
        completed = ok(mentor.get(f"/mentoring/mentorships/{mentorship_id}"))
        assert completed["state"] == "completed"
        assert ok(mentor.get("/mentoring/me"))["mentee_count"] == 0  # room for the next
        assert completed["state_changed_at"] == (final_at + timedelta(hours=1)).isoformat()
        meetings = ok(mentee.get(f"/mentoring/mentorships/{mentorship_id}/meetings"))["items"]
        assert [(m["id"], m["status"]) for m in meetings] == [(first, "held"), (final, "held")]

        # ---- goals: all three completed, none awaits either party --------------------------
        for member in (mentee, mentor):
            goals = member.items("/goals")
            assert {goal["state"] for goal in goals} == {"completed"}
            assert sorted(goal["kind"] for goal in goals) == [
                "mentoring.finished",
                "mentoring.meeting_attended",
                "mentoring.meeting_attended",
            ]

        # ---- the certificates: being prepared until the job renders them ------------------
        [preparing] = mentee.items("/certificates")
        assert preparing["ready"] is False
        refused(mentee.get(f"/certificates/{preparing['number']}/pdf"), 409, "refused")
        run_job(app, "certificates.render")
        numbers = {
            MENTEE: certificate_of(mentee, mentor),
            MENTOR: certificate_of(mentor, mentee),
        }
        assert numbers[MENTEE] == preparing["number"]
        for holder, number in numbers.items():
            publicly_verified(client, number, holder)

        run_job(app, "core.deliver_webhooks")

    # ---- credits: the request (1) or accepting it (10), two meetings (5 each), finishing (50)
    mentee_credits = credits_of(mentee, 61)
    mentor_credits = credits_of(mentor, 70)
    for labels in (mentee_credits, mentor_credits):
        assert labels.count("Attended a mentoring meeting") == 2
        assert "Finished a mentorship" in labels

    # ---- alerts: each learnt what the other did, newest first --------------------------------
    assert alerts_of(mentee) == [
        "Your certificate \u201cFinished a mentorship\u201d is ready.",
        f"Your mentorship with {MENTOR} is complete. Congratulations!",
        f"{MENTOR} approved the meeting on Mar 23, 2027, 6:00\u202fPM (UTC).",
        f"{MENTOR} proposes to change the meeting of Mar 8, 2027, 6:00\u202fPM (UTC): "
        "Time: Mar 8, 2027, 6:00\u202fPM (UTC) \u2192 Mar 9, 2027, 6:00\u202fPM (UTC).",
        f"{MENTOR} approved the meeting on Mar 8, 2027, 6:00\u202fPM (UTC).",
        f"{MENTOR} proposes to amend your mentorship agreement.",
        f"{MENTOR} approved the agreement: your mentorship has officially started.",
        f"{MENTOR} sent the agreement back: "
        "\u201cAdd practice interviews to the agenda, please.\u201d",
        f"{MENTOR} accepted your mentorship request.",
    ]
    assert alerts_of(mentor) == [
        "Your certificate \u201cFinished a mentorship\u201d is ready.",
        f"Your mentorship with {MENTEE} is complete. Congratulations!",
        f"{MENTEE} confirmed your meeting of Mar 23, 2027, 6:00\u202fPM (UTC) took place: "
        "confirm it too.",
        f"{MENTEE} proposes a meeting on Mar 23, 2027, 6:00\u202fPM (UTC).",
        f"{MENTEE} confirmed your meeting of Mar 9, 2027, 6:00\u202fPM (UTC) took place: "
        "confirm it too.",
        f"{MENTEE} agreed to your change of the meeting.",
        f"{MENTEE} proposes a meeting on Mar 8, 2027, 6:00\u202fPM (UTC).",
        f"{MENTEE} rejected the amendment: \u201cEvery two weeks is enough.\u201d",
        f"{MENTEE} sent you the mentorship agreement to approve.",
        f"{MENTEE} sent you the mentorship agreement to approve.",
        f"{MENTEE} asks you to be their mentor: "
        "\u201cI am a nurse moving into software: would you guide me?\u201d",
    ]

    # ---- webhooks: the events, signed, in the mentorship's order ---------------------------
    received = [(hook.payload["type"], hook.payload["data"]) for hook in webhook_receiver.received]
    assert all(verified(hook, secret) for hook in webhook_receiver.received)
    pair = {"mentorship_id": mentorship_id, "mentee_id": mentee.id, "mentor_id": mentor.id}
    assert [item for item in received if item[0] != "certificate.issued"] == [
        ("mentorship.started", pair),
        ("meeting.held", {"meeting_id": first, "mentorship_id": mentorship_id, "final": False}),
        ("meeting.held", {"meeting_id": final, "mentorship_id": mentorship_id, "final": True}),
        ("mentorship.completed", pair),
    ]
    issued = {
        data["number"]: data["holder_id"] for kind, data in received if kind == "certificate.issued"
    }
    assert issued == {numbers[MENTEE]: mentee.id, numbers[MENTOR]: mentor.id}
