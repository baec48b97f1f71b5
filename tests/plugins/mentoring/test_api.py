"""The mentoring plugin's part of the HTTP API as an app developer meets it: the mentor
directory and suggestions, and a mentorship from the request to the answer, with the pages'
rules (who may see and do what, in which state)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.db import utcnow
from core.models import UserTopic
from core.services.profiles import topic_named
from core.services.tokens import create_token
from core.testing import assert_api_routes_refuse_visitors, stored, token_headers
from plugins.mentoring.models import ChatMessage, Mentorship
from plugins.mentoring.services import fields

from .conftest import statements_of_get

API = "/api/v1/mentoring"


def bearer(db, user, scope: str = "write") -> dict[str, str]:
    secret = create_token(user, "my app", scope)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.json["type"].rsplit("/", 1)[-1]


def test_every_mentoring_route_refuses_visitors_and_read_only_tokens(app, client, db, mentee):
    assert_api_routes_refuse_visitors(app, client, token_headers(mentee, "read"))


def test_the_openapi_document_describes_the_mentoring_part(client):
    document = client.get("/api/v1/openapi.json").json
    assert "mentoring" in [tag["name"] for tag in document["tags"]]
    chat = document["paths"]["/api/v1/mentoring/mentorships/{mentorship_id}/messages"]
    assert set(chat) >= {"get", "post"}
    assert chat["post"]["summary"] == "Write in the pair's chat (the other party sees it live)."


# ---- the directory and suggestions --------------------------------------------------------------


def test_the_directory_filters_as_its_page(client, db, make_mentor, mentee):
    make_mentor("Ada Python", expertise=("Python",), languages=("de",))
    bo = make_mentor("Bo Rust", expertise=("Rust",), languages=("en",))
    fields.choose_fields(bo, fields.MENTOR, ["054"])
    db.session.commit()
    make_mentor("Cy Full", expertise=("Python",), accepting=False)
    token = bearer(db, mentee, "read")

    everyone = client.get(f"{API}/mentors", headers=token).json
    assert [one["display_name"] for one in everyone["items"]] == [
        "Ada Python",
        "Bo Rust",
        "Cy Full",
    ]
    assert [one["has_room"] for one in everyone["items"]] == [True, True, False]
    assert everyone["next_page"] is None
    assert everyone["items"][0]["expertise"] == ["Python"]
    assert [one["languages"] for one in everyone["items"]] == [["de"], ["en"], []]
    assert "email" not in everyone["items"][0]

    python = client.get(f"{API}/mentors?topic=python&free=true", headers=token).json
    assert [one["display_name"] for one in python["items"]] == ["Ada Python"]
    english = client.get(f"{API}/mentors?language=en", headers=token).json
    assert [one["display_name"] for one in english["items"]] == ["Bo Rust"]
    words = client.get(f"{API}/mentors?q=rust", headers=token).json
    assert [one["display_name"] for one in words["items"]] == ["Bo Rust"]
    bo = client.get(f"{API}/mentors?q=bo", headers=token).json["items"][0]
    assert bo["fields_of_study"] == ["Mathematics and statistics"]
    broad = client.get(f"{API}/mentors?field=05", headers=token).json
    assert [one["display_name"] for one in broad["items"]] == ["Bo Rust"]
    unknown = client.get(f"{API}/mentors?field=nonsense", headers=token)
    assert unknown.status_code == 422 and problem_type(unknown) == "invalid-input"


def test_the_directory_reads_the_same_statements_for_a_page_of_mentors(
    app, client, db, make_mentor, mentee
):
    token = bearer(db, mentee, "read")

    def statements() -> int:
        return statements_of_get(app, client, f"{API}/mentors", headers=token)

    make_mentor("Mentor 00", expertise=("Python",), languages=("en",))
    statements()  # its first use writes down when the token was used
    few = statements()
    for number in range(1, 12):
        make_mentor(f"Mentor {number:02}", expertise=("Python", "data"), languages=("de", "en"))
    assert statements() == few


def test_the_directory_pages_by_number(client, db, make_mentor, mentee):
    for n in range(13):
        make_mentor(f"Mentor {n:02}")
    token = bearer(db, mentee, "read")
    first = client.get(f"{API}/mentors", headers=token).json
    assert len(first["items"]) == 12 and first["next_page"] == 2
    second = client.get(f"{API}/mentors?page=2", headers=token).json
    assert [one["display_name"] for one in second["items"]] == ["Mentor 12"]
    assert second["next_page"] is None
    assert problem_type(client.get(f"{API}/mentors?page=0", headers=token)) == "invalid-input"
    beyond = client.get(f"{API}/mentors?page={2**40}", headers=token)  # an offset no database holds
    assert beyond.status_code == 422 and problem_type(beyond) == "invalid-input"


def test_suggestions_come_with_their_reasons(client, db, make_mentor, create_user):
    make_mentor("Ada Python", expertise=("Python",))
    seeker = create_user(display_name="Sam", wants_to_be_mentored=True)
    seeker.topics = [UserTopic(topic=topic_named("Python"), kind="interest", position=0)]
    db.session.commit()

    found = client.get(f"{API}/suggestions", headers=bearer(db, seeker, "read")).json
    assert found["has_interests"] is True
    assert [one["display_name"] for one in found["items"]] == ["Ada Python"]
    assert any("Python" in reason for reason in found["items"][0]["reasons"])


def test_suggestions_are_only_for_members_looking_for_a_mentor(client, db, stranger):
    refused = client.get(f"{API}/suggestions", headers=bearer(db, stranger, "read"))
    assert refused.status_code == 403 and problem_type(refused) == "forbidden"


# ---- the member's mentoring choices ---------------------------------------------------------


def test_a_member_looks_for_a_mentor_and_a_mentor_sets_their_room_through_the_api(
    client, db, stranger, make_mentor
):
    """What My data and the mentor settings set: a member who starts looking for a mentor
    gets suggestions; a mentor's fields and capacity show in the directory."""
    token = bearer(db, stranger)
    before = client.get(f"{API}/me", headers=token).json
    assert before == {
        "offers_mentoring": False,
        "looks_for_mentor": False,
        "fields_as_mentor": [],
        "fields_as_mentee": [],
        "verification": None,
        "listed": False,
        "capacity": 1,
        "accepting": True,
        "mentee_count": 0,
    }
    looking = client.patch(f"{API}/me", json={"looks_for_mentor": True}, headers=token)
    assert looking.status_code == 200 and looking.json["looks_for_mentor"] is True
    assert client.get(f"{API}/suggestions", headers=token).status_code == 200

    mentor = make_mentor("Ada Python", expertise=("Python",))
    as_mentor = bearer(db, mentor)
    changed = client.patch(
        f"{API}/me", json={"fields_as_mentor": ["054"], "capacity": 3}, headers=as_mentor
    ).json
    assert changed["fields_as_mentor"] == ["054"] and changed["capacity"] == 3
    assert changed["offers_mentoring"] is True and changed["accepting"] is True
    assert changed["verification"] == "verified" and changed["listed"] is True
    [listed] = client.get(f"{API}/mentors", query_string={"field": "054"}, headers=token).json[
        "items"
    ]
    assert listed["display_name"] == "Ada Python"


def test_mentoring_choices_refuse_what_my_data_refuses(client, db, mentor, pairs, mentee):
    pairs.accept(mentee, mentor)  # one mentee now, of a capacity of one
    token = bearer(db, mentor)
    for change, words in (
        ({"fields_as_mentor": ["nope"]}, "nope is not a field of study here."),
        ({"capacity": 21}, "Choose a capacity between 1 and 20 mentees."),
        ({"capacity": 2, "accepting": "maybe"}, None),
    ):
        refused = client.patch(f"{API}/me", json=change, headers=token)
        assert refused.status_code == 422 and problem_type(refused) == "invalid-input"
        if words:
            assert refused.json["detail"] == words
    stopped = client.patch(f"{API}/me", json={"offers_mentoring": False}, headers=token).json
    assert stopped["offers_mentoring"] is False and stopped["listed"] is False
    # the refusals changed nothing
    assert (stopped["capacity"], stopped["mentee_count"], stopped["fields_as_mentor"]) == (1, 1, [])
    read_only = client.patch(
        f"{API}/me", json={"looks_for_mentor": True}, headers=bearer(db, mentor, "read")
    )
    assert read_only.status_code == 403 and problem_type(read_only) == "insufficient-scope"


# ---- mentorships ------------------------------------------------------------------------------


def ask(client, token, mentor, message="Would you mentor me in Python?"):
    return client.post(
        f"{API}/mentorships", json={"mentor_id": mentor.id, "message": message}, headers=token
    )


def test_a_request_accepted_through_the_api(app, client, db, mentee, mentor):
    mentee_token, mentor_token = bearer(db, mentee), bearer(db, mentor)

    asked = ask(client, mentee_token, mentor)
    assert asked.status_code == 201
    assert asked.json["state"] == "requested" and asked.json["role"] == "mentee"
    assert asked.json["other_id"] == mentor.id and asked.json["other_name"] == "Max Mentor"
    mentorship_id = asked.json["id"]

    listed = client.get(f"{API}/mentorships", headers=mentor_token).json
    assert [(one["id"], one["role"], one["other_name"]) for one in listed["items"]] == [
        (mentorship_id, "mentor", "Mia Mentee")
    ]
    assert listed["next"] is None

    accepted = client.post(f"{API}/mentorships/{mentorship_id}/accept", headers=mentor_token)
    assert accepted.status_code == 200 and accepted.json["state"] == "accepted"
    assert stored(app, select(Mentorship.state)) == "accepted"
    shown = client.get(f"{API}/mentorships/{mentorship_id}", headers=mentee_token).json
    assert shown["state"] == "accepted"

    again = client.post(f"{API}/mentorships/{mentorship_id}/accept", headers=mentor_token)
    assert again.status_code == 422 and problem_type(again) == "invalid-input"


def test_a_refused_accept_changes_nothing(app, client, db, pairs, create_user, mentee, mentor):
    pairs.accept(mentee, mentor)  # the mentor's one place
    other = create_user(display_name="Noa", wants_to_be_mentored=True)
    db.session.add(
        Mentorship(
            mentee_id=other.id,
            mentor_id=mentor.id,
            message="Me too?",
            expires_at=utcnow() + timedelta(days=7),
        )
    )
    db.session.commit()
    waiting = stored(app, select(Mentorship.id).where(Mentorship.mentee_id == other.id))

    full = client.post(f"{API}/mentorships/{waiting}/accept", headers=bearer(db, mentor))
    assert full.status_code == 422 and "no room" in full.json["detail"]
    assert stored(app, select(Mentorship.state).where(Mentorship.id == waiting)) == "requested"


def test_a_request_declined_with_a_reason_and_a_message(app, client, db, pairs, mentee, mentor):
    mentorship_id = pairs.request(mentee, mentor)
    token = bearer(db, mentor)
    url = f"{API}/mentorships/{mentorship_id}/decline"

    no_reason = client.post(url, json={"reason": "bored", "message": "Sorry"}, headers=token)
    assert no_reason.status_code == 422 and problem_type(no_reason) == "invalid-input"
    missing = client.post(url, json={"reason": "timing"}, headers=token)
    assert missing.status_code == 422 and "message" in missing.json["errors"]["json"]

    declined = client.post(url, json={"reason": "timing", "message": "Not now."}, headers=token)
    assert declined.status_code == 200 and declined.json["state"] == "declined"
    assert stored(app, select(Mentorship.state)) == "declined"


def test_only_the_mentee_withdraws_and_only_the_mentor_answers(
    app, client, db, pairs, mentee, mentor
):
    mentorship_id = pairs.request(mentee, mentor)
    mentee_token, mentor_token = bearer(db, mentee), bearer(db, mentor)

    refused = client.post(f"{API}/mentorships/{mentorship_id}/accept", headers=mentee_token)
    assert refused.status_code == 403 and problem_type(refused) == "forbidden"
    refused = client.post(f"{API}/mentorships/{mentorship_id}/withdraw", headers=mentor_token)
    assert refused.status_code == 403 and problem_type(refused) == "forbidden"
    assert stored(app, select(Mentorship.state)) == "requested"

    withdrawn = client.post(f"{API}/mentorships/{mentorship_id}/withdraw", headers=mentee_token)
    assert withdrawn.status_code == 200 and withdrawn.json["state"] == "withdrawn"


def test_a_mentorship_is_its_parties_alone(client, db, pairs, mentee, mentor, stranger):
    mentorship_id = pairs.request(mentee, mentor)
    token = bearer(db, stranger)

    other = client.get(f"{API}/mentorships/{mentorship_id}", headers=token)
    assert other.status_code == 403 and problem_type(other) == "forbidden"
    assert client.get(f"{API}/mentorships", headers=token).json["items"] == []
    declined = client.post(
        f"{API}/mentorships/{mentorship_id}/decline",
        json={"reason": "timing", "message": "Not now."},
        headers=token,
    )
    assert declined.status_code == 403
    missing = client.get(f"{API}/mentorships/{mentorship_id + 100}", headers=token)
    assert missing.status_code == 404 and problem_type(missing) == "not-found"


def test_a_request_breaks_the_pages_rules_no_more(client, db, mentee, mentor, stranger):
    token = bearer(db, mentee)
    not_a_mentor = ask(client, token, stranger)
    assert not_a_mentor.status_code == 404 and problem_type(not_a_mentor) == "not-found"
    for no_id in (0, -1, 2**31, 2**70, "7", 7.5):  # no id a database holds, or not a number
        wrong = client.post(
            f"{API}/mentorships", json={"mentor_id": no_id, "message": "Hello"}, headers=token
        )
        assert wrong.status_code == 422 and problem_type(wrong) == "invalid-input", no_id
    empty = ask(client, token, mentor, message="  ")
    assert empty.status_code == 422 and problem_type(empty) == "invalid-input"
    assert ask(client, token, mentor).status_code == 201
    twice = ask(client, token, mentor)
    assert twice.status_code == 422 and "already" in twice.json["detail"]
    yourself = ask(client, bearer(db, mentor), mentor)
    assert yourself.status_code == 422


def test_the_mentorships_come_a_page_at_a_time(client, db, make_mentor, mentee):
    for n in range(3):
        ask(client, bearer(db, mentee), make_mentor(f"Mentor {n}"))
    token = bearer(db, mentee, "read")
    first = client.get(f"{API}/mentorships?limit=2", headers=token)
    assert [one["other_name"] for one in first.json["items"]] == ["Mentor 2", "Mentor 1"]
    assert 'rel="next"' in first.headers["Link"]
    rest = client.get(f"{API}/mentorships?limit=2&after={first.json['next']}", headers=token)
    assert [one["other_name"] for one in rest.json["items"]] == ["Mentor 0"]


# ---- the chat ----------------------------------------------------------------------------------


def test_the_pair_chats_through_the_api(app, client, db, chat, mentee, mentor):
    mentee_token, mentor_token = bearer(db, mentee), bearer(db, mentor)
    url = f"{API}/mentorships/{chat}/messages"

    written = client.post(url, json={"text": " Hello Max! "}, headers=mentee_token)
    assert written.status_code == 201
    assert written.json["text"] == "Hello Max!" and written.json["sender"] == "Mia Mentee"
    client.post(url, json={"text": "Hi Mia"}, headers=mentor_token)

    shown = client.get(url, headers=mentor_token).json
    assert [one["text"] for one in shown["items"]] == ["Hello Max!", "Hi Mia"]
    assert shown["has_older"] is False and shown["has_newer"] is False
    first = shown["items"][0]["id"]
    after = client.get(f"{url}?after={first}", headers=mentee_token).json
    assert [one["text"] for one in after["items"]] == ["Hi Mia"] and after["has_older"] is True
    before = client.get(f"{url}?before={first + 1}", headers=mentee_token).json
    assert [one["text"] for one in before["items"]] == ["Hello Max!"]


def test_a_chat_message_sent_twice_with_its_key_is_stored_once(client, db, chat, mentee):
    token, url = bearer(db, mentee), f"{API}/mentorships/{chat}/messages"
    sent = [
        client.post(url, json={"text": "Hello", "key": "abcdefgh1"}, headers=token).json["id"]
        for _ in range(2)
    ]
    assert sent[0] == sent[1]
    assert len(client.get(url, headers=token).json["items"]) == 1


def test_a_hidden_message_shows_without_its_text(app, client, db, chat, mentee, mentor):
    url = f"{API}/mentorships/{chat}/messages"
    written = client.post(url, json={"text": "Something rude"}, headers=bearer(db, mentee))
    db.session.execute(
        update(ChatMessage).where(ChatMessage.id == written.json["id"]).values(hidden_at=utcnow())
    )
    db.session.commit()
    shown = client.get(url, headers=bearer(db, mentor)).json["items"]
    assert [(one["text"], one["hidden"]) for one in shown] == [("", True)]


def test_the_chat_refuses_others_wrong_states_and_bad_text(
    client, db, pairs, chat, mentee, mentor, stranger, make_mentor
):
    url = f"{API}/mentorships/{chat}/messages"
    other = bearer(db, stranger)
    assert problem_type(client.get(url, headers=other)) == "forbidden"
    assert client.post(url, json={"text": "Hi"}, headers=other).status_code == 403

    token = bearer(db, mentee)
    empty = client.post(url, json={"text": "   "}, headers=token)
    assert empty.status_code == 422 and problem_type(empty) == "invalid-input"
    bad_cursor = client.get(f"{url}?before=-1", headers=token)
    assert bad_cursor.status_code == 422

    pending = pairs.request(mentee, make_mentor("Pat Pending"))
    not_yet = client.post(
        f"{API}/mentorships/{pending}/messages", json={"text": "Hi"}, headers=token
    )
    assert not_yet.status_code == 422 and "accepts" in not_yet.json["detail"]
