"""A mentorship's agreement and its ending through the HTTP API, as an app developer meets
them: the pages' rules (who proposes, who answers, in which state), and the ETag a change
sends back in If-Match, so that no change ignores one made meanwhile."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from core.db import utcnow
from core.testing import race, stored, token_headers
from plugins.mentoring.models import AgreementVersion, EndProposal, Mentorship, MentorshipEvent
from plugins.mentoring.services import agreements

from .conftest import agreement_terms

API = "/api/v1/mentoring/mentorships"


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.json["type"].rsplit("/", 1)[-1]


def terms(**changes) -> dict:
    """``agreement_terms()`` (those of the ``active`` mentorship) as JSON, with ``changes``."""
    agreed = agreement_terms().__dict__
    return {
        name: str(value) if "_on" in name else value for name, value in agreed.items()
    } | changes


def versions(app, mentorship_id: int) -> list[tuple[int, str]]:
    from core.db import db

    with app.app_context():
        try:
            return [
                (number, status)
                for number, status in db.session.execute(
                    select(AgreementVersion.number, AgreementVersion.status)
                    .where(AgreementVersion.mentorship_id == mentorship_id)
                    .order_by(AgreementVersion.number)
                )
            ]
        finally:
            db.session.remove()


def read(client, mentorship_id: int, headers: dict) -> tuple[dict, str]:
    """The agreement as the caller reads it, and its ETag."""
    response = client.get(f"{API}/{mentorship_id}/agreement", headers=headers)
    assert response.status_code == 200, response.json
    return response.json, response.headers["ETag"]


def post(client, path: str, headers: dict, etag: str | None, body: dict | None = None):
    sent = headers | ({"If-Match": etag} if etag else {})
    return client.post(f"{API}/{path}", json=body, headers=sent)


# ---- the first agreement -------------------------------------------------------------------


def test_the_mentee_proposes_and_the_mentor_approves_the_official_start(
    app, client, db, accepted, mentee, mentor
):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    empty, etag = read(client, accepted, mentee_token)
    assert empty["version"] == 0 and empty["in_force"] is None and empty["awaiting"] is None
    assert empty["actions"] == ["propose_agreement"]
    assert read(client, accepted, mentor_token)[0]["actions"] == []

    proposed = post(client, f"{accepted}/agreement", mentee_token, etag, terms(channels=" Chat "))
    assert proposed.status_code == 201, proposed.json
    awaiting = proposed.json["awaiting"]
    assert awaiting["number"] == 1 and awaiting["status"] == "proposed"
    assert awaiting["channels"] == "Chat" and awaiting["proposed_by_name"] == "Mia Mentee"
    assert awaiting["starts_on"] == terms()["starts_on"]
    assert proposed.json["actions"] == []
    assert proposed.headers["ETag"] == f'"agreement-{accepted}-r1"'

    shown, etag = read(client, accepted, mentor_token)
    assert shown["actions"] == ["approve", "send_back"]
    approved = post(client, f"{accepted}/agreement/approve", mentor_token, etag)
    assert approved.status_code == 200, approved.json
    in_force = approved.json["in_force"]
    assert in_force["status"] == "approved" and approved.json["awaiting"] is None
    assert in_force["decided_by_id"] == mentor.id and in_force["decided_by_name"] == "Max Mentor"
    assert stored(app, select(Mentorship.state)) == "active"
    assert read(client, accepted, mentee_token)[0]["actions"] == ["propose_amendment"]

    again = post(client, f"{accepted}/agreement/approve", mentor_token, etag)
    assert again.status_code == 422 and again.json["detail"] == "This version was already answered."


def test_a_version_sent_back_is_edited_and_sent_again(app, client, db, accepted, mentee, mentor):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    post(
        client,
        f"{accepted}/agreement",
        mentee_token,
        read(client, accepted, mentee_token)[1],
        terms(),
    )
    etag = read(client, accepted, mentor_token)[1]

    no_comment = post(
        client, f"{accepted}/agreement/send-back", mentor_token, etag, {"comment": " "}
    )
    assert no_comment.status_code == 422 and problem_type(no_comment) == "invalid-input"
    sent_back = post(
        client, f"{accepted}/agreement/send-back", mentor_token, etag, {"comment": "Monthly?"}
    )
    assert sent_back.status_code == 200
    assert versions(app, accepted) == [(1, "returned")]
    returned = client.get(f"{API}/{accepted}/agreement/versions/1", headers=mentee_token).json
    assert returned["comment"] == "Monthly?" and returned["decided_by_id"] == mentor.id

    etag = read(client, accepted, mentee_token)[1]
    unchanged = post(client, f"{accepted}/agreement", mentee_token, etag, terms())
    assert unchanged.status_code == 422 and "Nothing changed" in unchanged.json["detail"]
    edited = post(client, f"{accepted}/agreement", mentee_token, etag, terms(contact_every_days=30))
    assert edited.status_code == 201 and edited.json["version"] == 2
    assert versions(app, accepted) == [(1, "returned"), (2, "proposed")]


def test_only_the_mentee_proposes_and_only_the_other_party_answers(
    app, client, db, accepted, mentee, mentor
):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    etag = read(client, accepted, mentor_token)[1]
    by_mentor = post(client, f"{accepted}/agreement", mentor_token, etag, terms())
    assert by_mentor.status_code == 403 and problem_type(by_mentor) == "forbidden"
    assert by_mentor.json["detail"] == "Only the mentee fills the agreement."

    etag = post(client, f"{accepted}/agreement", mentee_token, etag, terms()).headers["ETag"]
    own = post(client, f"{accepted}/agreement/approve", mentee_token, etag)
    assert own.status_code == 403 and problem_type(own) == "forbidden"
    second = post(client, f"{accepted}/agreement", mentee_token, etag, terms(meetings_planned=8))
    assert second.status_code == 422 and "awaits an answer" in second.json["detail"]
    assert versions(app, accepted) == [(1, "proposed")]


def test_a_bad_agreement_is_refused_as_on_the_page(app, client, db, accepted, mentee):
    token = token_headers(mentee)
    etag = read(client, accepted, token)[1]
    backwards = terms(ends_on=utcnow().date().isoformat(), starts_on="2099-01-01")
    refused = post(client, f"{accepted}/agreement", token, etag, backwards)
    assert refused.status_code == 422 and "end comes before the start" in refused.json["detail"]
    missing = post(client, f"{accepted}/agreement", token, etag, {"channels": "Chat"})
    assert missing.status_code == 422 and "starts_on" in missing.json["errors"]["json"]
    assert versions(app, accepted) == []


# ---- who may read, and If-Match ----------------------------------------------------------------


def test_the_agreement_is_its_parties_alone(client, db, active, mentee, stranger):
    token = token_headers(stranger)
    for path in ("agreement", "agreement/versions", "agreement/versions/1", "agreement/compare"):
        refused = client.get(f"{API}/{active}/{path}", headers=token)
        assert refused.status_code == 403 and problem_type(refused) == "forbidden", path
    etag = f'"agreement-{active}-r1"'
    for path in ("agreement/approve", "agreement/send-back"):
        refused = post(client, f"{active}/{path}", token, etag, {"comment": "No"})
        assert refused.status_code == 403, path
    refused = post(client, f"{active}/agreement", token, etag, terms(reason="Mine"))
    assert refused.status_code == 403
    missing = client.get(f"{API}/{active + 100}/agreement", headers=token)
    assert missing.status_code == 404 and problem_type(missing) == "not-found"
    unknown = client.get(f"{API}/{active}/agreement/versions/9", headers=token_headers(mentee))
    assert unknown.status_code == 404


def test_a_change_needs_the_etag_read_and_a_stale_one_gets_the_current_agreement(
    app, client, db, active, mentee, mentor
):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    etag = read(client, active, mentor_token)[1]
    assert etag == f'"agreement-{active}-r1"'
    amendment = terms(meetings_planned=8, reason="More sessions")

    without = post(client, f"{active}/agreement", mentor_token, None, amendment)
    assert without.status_code == 428 and problem_type(without) == "precondition-required"
    star = post(client, f"{active}/agreement", mentor_token, "*", amendment)
    assert star.status_code == 428

    assert post(client, f"{active}/agreement", mentee_token, etag, amendment).status_code == 201
    stale = post(client, f"{active}/agreement", mentor_token, etag, terms(reason="Fewer"))
    assert stale.status_code == 412 and problem_type(stale) == "precondition-failed"
    assert stale.headers["ETag"] == f'"agreement-{active}-r2"'
    assert stale.json["current"]["awaiting"]["meetings_planned"] == 8
    assert stale.json["current"]["actions"] == ["approve", "send_back"]
    stale_approval = post(client, f"{active}/agreement/approve", mentor_token, etag)
    assert stale_approval.status_code == 412
    assert versions(app, active) == [(1, "approved"), (2, "proposed")]

    approved = post(client, f"{active}/agreement/approve", mentor_token, stale.headers["ETag"])
    assert approved.status_code == 200
    assert approved.json["in_force"]["meetings_planned"] == 8
    assert approved.json["in_force"]["reason"] == "More sessions"

    other = post(
        client, f"{active}/agreement/approve", mentor_token, f'"agreement-{active + 1}-r2"'
    )
    assert other.status_code == 412


def test_an_if_match_naming_no_version_is_stale_before_the_first_agreement_too(
    app, client, db, accepted, mentee
):
    """Before the first version the agreement is version 0: only its own tag names that."""
    token = token_headers(mentee)
    for tag in (
        '"nonsense"',
        f'"agreement-{accepted + 1}-r0"',  # another mentorship's
        f'"article-{accepted}-r0"',  # another kind's
        '""',
    ):
        refused = post(client, f"{accepted}/agreement", token, tag, terms())
        assert refused.status_code == 412 and problem_type(refused) == "precondition-failed", tag
        assert refused.headers["ETag"] == f'"agreement-{accepted}-r0"'
    assert versions(app, accepted) == []
    proposed = post(client, f"{accepted}/agreement", token, f'"agreement-{accepted}-r0"', terms())
    assert proposed.status_code == 201


def test_if_match_passes_when_any_tag_it_lists_names_the_newest_version(
    app, client, db, active, mentor
):
    """RFC 9110: any listed tag may match; not one of them picked at random (with 29 stale
    tags beside the current one, a random pick all but always failed)."""
    token = token_headers(mentor)
    stale = ", ".join(f'"agreement-{active}-r{number}"' for number in (0, *range(2, 30)))
    none_current = post(client, f"{active}/agreement", token, stale, terms(reason="Fewer"))
    assert none_current.status_code == 412

    listed = f'{stale}, "agreement-{active}-r1", "nonsense"'
    more = terms(meetings_planned=9, reason="More")
    amended = post(client, f"{active}/agreement", token, listed, more)
    assert amended.status_code == 201, amended.json
    assert amended.headers["ETag"] == f'"agreement-{active}-r2"'
    assert versions(app, active) == [(1, "approved"), (2, "proposed")]


def test_the_etag_names_the_version_the_answer_shows_though_staff_extend_it_meanwhile(
    app, client, db, active, mentee, create_user
):
    """On PostgreSQL each query sees what was committed before it: an ETag read apart from
    the body could name an extension the body does not show, and an amendment built on
    that body would pass If-Match, undoing the extension unseen."""
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite: a unit of work reads one snapshot, and a writer would wait on it")
    staff_id = create_user(display_name="Cora Coordinator", role="coordinator").id
    db.session.commit()
    later = agreement_terms().ends_on + timedelta(days=30)
    extended: list[bool] = []

    def extend() -> None:
        from core.models import User

        with app.app_context():
            staff = db.session.get(User, staff_id)
            agreements.extend_by_staff(active, staff, later, "A month more.")
            db.session.commit()
            db.session.remove()

    def after_the_first_read(connection, cursor, statement, *rest) -> None:
        if not extended and "mentoring_agreement_versions" in statement:
            extended.append(True)
            staff_thread = threading.Thread(target=extend)
            staff_thread.start()
            staff_thread.join()

    event.listen(db.engine, "after_cursor_execute", after_the_first_read)
    try:
        shown, etag = read(client, active, token_headers(mentee))
    finally:
        event.remove(db.engine, "after_cursor_execute", after_the_first_read)

    assert extended and versions(app, active)[-1] == (2, "approved")
    assert etag == f'"agreement-{active}-r{shown["version"]}"'
    assert shown["in_force"]["number"] == shown["version"]  # the ETag names what it shows
    built_on_it = terms(ends_on=shown["in_force"]["ends_on"], reason="Earlier")
    amendment = post(client, f"{active}/agreement", token_headers(mentee), etag, built_on_it)
    if shown["version"] == 1:  # read before the extension: stale now
        assert amendment.status_code == 412


def test_without_a_version_there_is_nothing_to_answer(client, db, accepted, mentor):
    token = token_headers(mentor)
    nothing = post(client, f"{accepted}/agreement/approve", token, f'"agreement-{accepted}-r0"')
    assert nothing.status_code == 422 and problem_type(nothing) == "invalid-input"


def test_read_only_tokens_read_but_never_change(app, client, db, active, mentee):
    reader = token_headers(mentee, "read")
    etag = read(client, active, reader)[1]
    refused = post(client, f"{active}/agreement", reader, etag, terms(reason="More"))
    assert refused.status_code == 403 and problem_type(refused) == "insufficient-scope"
    assert versions(app, active) == [(1, "approved")]


# ---- amendments, versions, comparison ------------------------------------------------------------


def test_either_party_amends_and_the_other_rejects_with_a_comment(
    app, client, db, active, mentee, mentor
):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    etag = read(client, active, mentor_token)[1]
    no_reason = post(client, f"{active}/agreement", mentor_token, etag, terms(meetings_planned=4))
    assert no_reason.status_code == 422 and "why you propose" in no_reason.json["detail"]
    nothing = post(client, f"{active}/agreement", mentor_token, etag, terms(reason="Same"))
    assert nothing.status_code == 422 and "Nothing changed" in nothing.json["detail"]

    amended = post(
        client, f"{active}/agreement", mentor_token, etag, terms(meetings_planned=4, reason="Busy")
    )
    assert amended.status_code == 201 and amended.json["awaiting"]["proposed_by_id"] == mentor.id
    assert amended.json["in_force"]["meetings_planned"] == 6

    etag = read(client, active, mentee_token)[1]
    rejected = post(client, f"{active}/agreement/send-back", mentee_token, etag, {"comment": "No"})
    assert rejected.status_code == 200
    assert rejected.json["in_force"]["meetings_planned"] == 6
    assert versions(app, active) == [(1, "approved"), (2, "rejected")]


def test_the_versions_list_newest_first_and_two_compare_term_by_term(
    client, db, active, mentee, mentor
):
    token = token_headers(mentee, "read")
    one = client.get(f"{API}/{active}/agreement/compare", headers=token)
    assert one.status_code == 422 and "only one version" in one.json["detail"]

    agreements.propose_amendment(
        active, mentor, agreement_terms(meetings_planned=9, channels="Chat"), "Pace"
    )
    db.session.commit()
    listed = client.get(f"{API}/{active}/agreement/versions?limit=1", headers=token)
    assert [v["number"] for v in listed.json["items"]] == [2] and listed.json["next"]
    rest = client.get(
        f"{API}/{active}/agreement/versions?limit=1&after={listed.json['next']}", headers=token
    )
    assert [v["number"] for v in rest.json["items"]] == [1]

    compared = client.get(f"{API}/{active}/agreement/compare", headers=token).json
    assert (compared["old"]["number"], compared["new"]["number"]) == (1, 2)
    changed = {c["term"]: (c["old"], c["new"]) for c in compared["changes"] if c["changed"]}
    assert changed == {"meetings_planned": (6, 9), "channels": ("Video calls and the chat", "Chat")}
    ends = next(c for c in compared["changes"] if c["term"] == "ends_on")
    assert ends["label"] == "End" and ends["old"] == ends["new"] and len(ends["old"]) == 10
    reversed_ = client.get(f"{API}/{active}/agreement/compare?a=2&b=1", headers=token).json
    assert reversed_["old"]["number"] == 2
    unknown = client.get(f"{API}/{active}/agreement/compare?a=7", headers=token)
    assert unknown.status_code == 404
    for beyond in ("a=1e20", "b=100000000000000000000", "a=0"):
        refused = client.get(f"{API}/{active}/agreement/compare?{beyond}", headers=token)
        assert refused.status_code == 422 and problem_type(refused) == "invalid-input", beyond


def test_an_amendment_a_meeting_needs_is_answered_with_the_meeting(
    client, db, planner, mentorship, mentee, mentor
):
    # a meeting after the agreed end (in a year) proposes to move the end along with it
    planner.propose(mentorship, mentee, starts_at=utcnow() + timedelta(days=400))
    token = token_headers(mentor)
    shown, etag = read(client, mentorship, token)
    assert shown["awaiting_meeting_id"] is not None and shown["actions"] == []
    refused = post(client, f"{mentorship}/agreement/approve", token, etag)
    assert refused.status_code == 422 and "answer the meeting" in refused.json["detail"]


def test_a_double_approval_at_once_starts_the_mentorship_once(app, db, accepted, mentee, mentor):
    version = agreements.propose_agreement(accepted, mentee, agreement_terms())
    db.session.commit()
    headers = token_headers(mentor) | {"If-Match": f'"agreement-{accepted}-r{version.number}"'}

    def approve():
        return app.test_client().post(f"{API}/{accepted}/agreement/approve", headers=headers)

    outcomes = race(app, approve, approve)

    assert sorted(response.status_code for _, response in outcomes) == [200, 422]
    started = select(MentorshipEvent.id).where(
        MentorshipEvent.mentorship_id == accepted, MentorshipEvent.to_state == "active"
    )
    assert len(stored_all(app, started)) == 1


def stored_all(app, statement) -> list:
    from core.db import db

    with app.app_context():
        try:
            return list(db.session.scalars(statement))
        finally:
            db.session.remove()


# ---- ending --------------------------------------------------------------------------------------


def test_before_the_agreement_either_party_ends_it_with_a_message(
    app, client, db, accepted, mentee, mentor
):
    token = token_headers(mentor)
    silent = client.post(f"{API}/{accepted}/terminate", json={"message": " "}, headers=token)
    assert silent.status_code == 422 and problem_type(silent) == "invalid-input"
    ended = client.post(f"{API}/{accepted}/terminate", json={"message": "Moving"}, headers=token)
    assert ended.status_code == 200 and ended.json["state"] == "terminated"
    again = client.post(f"{API}/{accepted}/terminate", json={"message": "Again"}, headers=token)
    assert again.status_code == 422

    shown, etag = read(client, accepted, token_headers(mentee))
    assert shown["actions"] == []
    frozen = post(client, f"{accepted}/agreement", token_headers(mentee), etag, terms())
    assert frozen.status_code == 422


def test_an_active_mentorship_ends_early_only_when_both_agree(
    app, client, db, active, mentee, mentor, stranger
):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    url = f"{API}/{active}/early-end"
    alone = client.post(f"{API}/{active}/terminate", json={"message": "Bye"}, headers=mentee_token)
    assert alone.status_code == 422 and "propose to end early" in alone.json["detail"]
    none = client.get(url, headers=mentee_token)
    assert none.status_code == 404 and problem_type(none) == "not-found"

    proposed = client.post(url, json={"message": "New job"}, headers=mentee_token)
    assert proposed.status_code == 201 and proposed.json["proposed_by_id"] == mentee.id
    assert proposed.json["actions"] == ["withdraw"]
    twice = client.post(url, json={"message": "Really"}, headers=mentor_token)
    assert twice.status_code == 422 and "already proposed" in twice.json["detail"]
    shown = client.get(url, headers=mentor_token).json
    assert shown["message"] == "New job" and shown["actions"] == ["agree", "refuse"]
    assert client.get(url, headers=token_headers(stranger)).status_code == 403

    own = client.post(f"{url}/agree", headers=mentee_token)
    assert own.status_code == 403 and problem_type(own) == "forbidden"
    not_theirs = client.post(f"{url}/withdraw", headers=mentor_token)
    assert not_theirs.status_code == 403
    agreed = client.post(f"{url}/agree", headers=mentor_token)
    assert agreed.status_code == 200 and agreed.json["state"] == "terminated"
    assert stored(app, select(Mentorship.state)) == "terminated"
    late = client.post(f"{url}/refuse", headers=mentor_token)
    assert late.status_code == 422 and "Nobody proposes" in late.json["detail"]


def test_a_proposal_to_end_early_is_refused_or_withdrawn_and_it_goes_on(
    app, client, db, active, mentee, mentor
):
    mentee_token, mentor_token = token_headers(mentee), token_headers(mentor)
    url = f"{API}/{active}/early-end"
    client.post(url, json={"message": "New job"}, headers=mentee_token)
    refused = client.post(f"{url}/refuse", headers=mentor_token)
    assert refused.status_code == 200 and refused.json["state"] == "active"
    client.post(url, json={"message": "Still"}, headers=mentee_token)
    withdrawn = client.post(f"{url}/withdraw", headers=mentee_token)
    assert withdrawn.status_code == 200 and withdrawn.json["state"] == "active"
    assert stored(app, select(EndProposal.mentorship_id)) is None


def test_the_openapi_document_describes_the_agreement(client):
    document = client.get("/api/v1/openapi.json").json
    paths = document["paths"]
    assert "current" in document["components"]["schemas"]["ChangedMeanwhile"]["properties"]
    assert "by number (`?page=`)" in document["info"]["description"]  # the directory does
    agreement = "/api/v1/mentoring/mentorships/{mentorship_id}/agreement"
    for path in (agreement, f"{agreement}/approve", f"{agreement}/send-back"):
        change = paths[path]["post"]
        assert "If-Match" in [parameter["name"] for parameter in change["parameters"]]
        for status in ("412", "428"):
            assert "application/problem+json" in change["responses"][status]["content"], path
        assert "ETag" in change["responses"]["412"]["headers"]
    read = paths[agreement]["get"]["responses"]["200"]
    assert "ETag" in read["headers"]
    assert "412" not in paths[agreement]["get"]["responses"]
    assert "/api/v1/mentoring/mentorships/{mentorship_id}/early-end/agree" in paths
