"""The mentorship agreement through the pages: only the mentee fills it, only the mentor
approves it (the official start) or sends it back; amendments need the other party's
approval; every version is kept and any two compare; a non-party sees nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.api import InvalidInput, NotAllowed
from core.db import utcnow
from core.models import Notification, OutboxMail, User
from core.testing import count_rows, stored
from plugins.mentoring.models import AgreementVersion, Mentorship, MentorshipEvent
from plugins.mentoring.services import agreements

from .conftest import agreement_terms, page, text


def form(**changes) -> dict[str, str]:
    today = utcnow().date()
    data = {
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=90)).isoformat(),
        "meetings_planned": "6",
        "channels": "Video calls and the chat",
        "contact_every_days": "14",
        "agenda": "1. Portfolio\n2. Interviews",
        "notes": "We meet on Tuesdays.",
        "reason": "",
    }
    return {**data, **changes}


def versions(app, mentorship_id: int) -> list[tuple[int, str, int]]:
    from core.db import db

    with app.app_context():
        rows = db.session.execute(
            select(
                AgreementVersion.number,
                AgreementVersion.status,
                AgreementVersion.meetings_planned,
            )
            .where(AgreementVersion.mentorship_id == mentorship_id)
            .order_by(AgreementVersion.number)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def state(app, mentorship_id: int) -> str:
    return stored(app, select(Mentorship.state).where(Mentorship.id == mentorship_id))


def alerts(app, user: User) -> list[str]:
    from core.db import db

    with app.app_context():
        found = list(
            db.session.scalars(
                select(Notification.message)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            )
        )
        db.session.remove()
    return found


# ---- the first agreement -------------------------------------------------------------------


def test_the_mentee_sends_the_agreement_and_the_mentor_is_asked_by_alert_and_mail(
    app, client, mentee, mentor, accepted
):
    response = page(client, mentee, f"/mentoring/{accepted}/agreement", form())

    assert "Sent: Max Mentor is asked to approve it." in text(response)
    assert versions(app, accepted) == [(1, "proposed", 6)]
    assert state(app, accepted) == "accepted"  # not official before the mentor approves
    assert alerts(app, mentor)[-1] == "Mia Mentee sent you the mentorship agreement to approve."
    assert count_rows(app, OutboxMail, OutboxMail.to_address == "max@example.org") == 2

    review = text(page(client, mentor, f"/mentoring/{accepted}/agreement"))
    assert "Proposed agreement (version 1)" in review
    assert "We meet on Tuesdays." in review
    assert "Approve" in review


def test_the_mentors_approval_is_the_official_start(app, client, mentee, mentor, accepted):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    version_id = stored(app, select(AgreementVersion.id))

    response = page(client, mentor, f"/mentoring/agreement/{version_id}/approve", {})

    assert "Approved. The agreement is in force." in text(response)
    assert state(app, accepted) == "active"
    started = stored(app, select(Mentorship.started_at).where(Mentorship.id == accepted))
    assert utcnow() - started < timedelta(minutes=1)
    assert (
        stored(app, select(MentorshipEvent.to_state).order_by(MentorshipEvent.id.desc()).limit(1))
        == "active"
    )
    assert "your mentorship has officially started" in alerts(app, mentee)[-1]
    mentorship_page = text(page(client, mentee, f"/mentoring/{accepted}"))
    assert "0 held of 6 planned" in mentorship_page
    assert "89 days" in mentorship_page or "90 days" in mentorship_page


def test_only_the_mentee_fills_the_agreement(app, client, mentee, mentor, accepted):
    response = page(client, mentor, f"/mentoring/{accepted}/agreement", form())
    assert response.status_code == 403
    assert versions(app, accepted) == []

    with pytest.raises(Exception, match="Only the mentee"):
        agreements.propose_agreement(accepted, mentor, agreement_terms())


def form_title(response) -> str | None:
    """The heading of the agreement form the page offers, if it offers one."""
    found = re.search(r'id="form-title">([^<]*)<', text(response))
    return found.group(1) if found else None


def test_the_form_is_offered_to_whoever_may_propose_now(app, client, mentee, mentor, accepted):
    assert form_title(page(client, mentee, f"/mentoring/{accepted}/agreement")) == (
        "Fill in the agreement"
    )
    assert "Fill in the agreement" in text(page(client, mentee, f"/mentoring/{accepted}"))
    assert form_title(page(client, mentor, f"/mentoring/{accepted}/agreement")) is None
    assert "Fill in the agreement" not in text(page(client, mentor, f"/mentoring/{accepted}"))

    page(client, mentee, f"/mentoring/{accepted}/agreement", form())  # now it awaits an answer
    assert form_title(page(client, mentee, f"/mentoring/{accepted}/agreement")) is None
    assert "Fill in the agreement" not in text(page(client, mentee, f"/mentoring/{accepted}"))

    version_id = stored(app, select(AgreementVersion.id))
    page(client, mentor, f"/mentoring/agreement/{version_id}/approve", {})
    for member in (mentee, mentor):
        offered = page(client, member, f"/mentoring/{accepted}/agreement")
        assert form_title(offered) == "Propose an amendment"
        assert 'name="reason"' in text(offered)


def test_only_the_mentee_proposes_the_first_agreement_in_the_services(db, mentee, mentor, accepted):
    with pytest.raises(NotAllowed, match="Only the mentee fills the agreement"):
        agreements.propose_agreement(accepted, mentor, agreement_terms())
    agreements.propose_agreement(accepted, mentee, agreement_terms())
    with pytest.raises(InvalidInput, match="awaits an answer: settle it first"):
        agreements.propose_agreement(accepted, mentee, agreement_terms(meetings_planned=4))
    with pytest.raises(InvalidInput, match="Only the agreement of an active mentorship"):
        agreements.propose_amendment(accepted, mentee, agreement_terms(), "Why not.")


def test_the_proposer_cannot_approve_their_own_version(app, client, mentee, mentor, accepted):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    version_id = stored(app, select(AgreementVersion.id))

    assert page(client, mentee, f"/mentoring/agreement/{version_id}/approve", {}).status_code == 403
    assert state(app, accepted) == "accepted"


def test_a_non_party_sees_nothing_and_changes_nothing(
    app, client, mentee, mentor, stranger, accepted
):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    version_id = stored(app, select(AgreementVersion.id))

    client.login(stranger)
    assert client.get(f"/mentoring/{accepted}/agreement").status_code == 403
    assert client.get(f"/mentoring/{accepted}/agreement/compare").status_code == 403
    assert client.post(f"/mentoring/agreement/{version_id}/approve").status_code == 403
    assert client.post(
        f"/mentoring/agreement/{version_id}/send-back", data={"comment": "No"}
    ).status_code in (403, 302)
    assert client.post(f"/mentoring/{accepted}/agreement", data=form()).status_code == 403
    assert versions(app, accepted) == [(1, "proposed", 6)]
    assert client.get("/mentoring/agreement/999999/approve").status_code == 405
    assert client.post("/mentoring/agreement/999999/approve").status_code == 404


def test_visitors_are_sent_to_log_in(client, accepted):
    response = client.get(f"/mentoring/{accepted}/agreement")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_mentor_sends_it_back_with_a_comment_and_the_mentee_sends_a_new_version(
    app, client, mentee, mentor, accepted
):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    first = stored(app, select(AgreementVersion.id))

    refused = page(client, mentor, f"/mentoring/agreement/{first}/send-back", {"comment": " "})
    assert "Say what should change" in text(refused)
    page(
        client,
        mentor,
        f"/mentoring/agreement/{first}/send-back",
        {"comment": "Four meetings are enough for me."},
    )

    assert versions(app, accepted) == [(1, "returned", 6)]
    assert state(app, accepted) == "accepted"
    assert "Four meetings are enough for me." in alerts(app, mentee)[-1]
    again = text(page(client, mentee, f"/mentoring/{accepted}/agreement"))
    assert "Max Mentor answered:" in again and "Four meetings are enough for me." in again

    page(client, mentee, f"/mentoring/{accepted}/agreement", form(meetings_planned="4"))
    second = stored(app, select(AgreementVersion.id).where(AgreementVersion.number == 2))
    page(client, mentor, f"/mentoring/agreement/{second}/approve", {})
    assert versions(app, accepted) == [(1, "returned", 6), (2, "approved", 4)]
    assert state(app, accepted) == "active"


def form_values(page: str) -> dict[str, str]:
    """What each field of the agreement form shows: an input's value, a textarea's text, a
    select's chosen option."""
    form = page.split('id="form-title"', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form))
    values |= dict(re.findall(r'<textarea[^>]*name="(\w+)"[^>]*>\s*(.*?)</textarea>', form, re.S))
    for name, options in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        values[name] = re.search(r'<option value="([^"]*)" selected', options).group(1)
    return values


def test_a_version_sent_back_reopens_the_form_with_what_the_mentee_wrote(
    app, client, mentee, mentor, accepted
):
    sent = form(
        meetings_planned="5",
        channels="Chat here, calls on Fridays",
        contact_every_days="30",
        agenda="1. My CV\n2. Mock interviews",
        notes="I work mornings.",
    )
    page(client, mentee, f"/mentoring/{accepted}/agreement", sent)
    first = stored(app, select(AgreementVersion.id))
    page(client, mentor, f"/mentoring/agreement/{first}/send-back", {"comment": "Fewer, please."})

    values = form_values(text(page(client, mentee, f"/mentoring/{accepted}/agreement")))

    assert values["meetings_planned"] == "5"
    assert values["channels"] == "Chat here, calls on Fridays"
    assert values["contact_every_days"] == "30"
    assert values["agenda"].strip() == "1. My CV\n2. Mock interviews"
    assert values["notes"].strip() == "I work mornings."
    assert values["starts_on"] == sent["starts_on"] and values["ends_on"] == sent["ends_on"]


def test_an_amendment_form_opens_with_the_terms_in_force_and_no_reason(
    app, client, mentee, mentor, active
):
    page(
        client, mentee, f"/mentoring/{active}/agreement", form(meetings_planned="8", reason="More")
    )
    amendment = stored(app, select(AgreementVersion.id).where(AgreementVersion.number == 2))
    page(client, mentor, f"/mentoring/agreement/{amendment}/approve", {})

    values = form_values(text(page(client, mentor, f"/mentoring/{active}/agreement")))

    assert values["meetings_planned"] == "8"
    assert values.get("reason", "") == ""  # the next amendment gives its own reason


def test_a_version_sent_back_stays_readable_by_both_parties_with_the_comment(
    app, client, mentee, mentor, stranger, accepted
):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form(agenda="Portfolio <b>first</b>"))
    first = stored(app, select(AgreementVersion.id))
    page(client, mentor, f"/mentoring/agreement/{first}/send-back", {"comment": "Add interviews."})
    page(client, mentee, f"/mentoring/{accepted}/agreement", form(agenda="Interviews"))
    path = f"/mentoring/{accepted}/agreement/versions/1"

    for party in (mentee, mentor):
        listed = page(client, party, f"/mentoring/{accepted}/agreement").get_data(as_text=True)
        assert f'href="{path}"' in listed
        shown = page(client, party, path)
        assert shown.status_code == 200
        raw = shown.get_data(as_text=True)
        assert "Portfolio &lt;b&gt;first&lt;/b&gt;" in raw  # as written, escaped
        assert "sent back" in raw and "Add interviews." in raw
        assert "Answered by Max Mentor" in text(shown)
        compared = text(page(client, party, f"/mentoring/{accepted}/agreement/compare?a=1&b=2"))
        assert "Portfolio <b>first</b>" in compared and "Interviews" in compared

    client.login(stranger)
    assert client.get(path).status_code == 403
    assert "Add interviews." not in client.get(path).get_data(as_text=True)
    client.login(mentee)
    assert client.get(f"/mentoring/{accepted}/agreement/versions/3").status_code == 404


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"ends_on": (utcnow().date() - timedelta(days=1)).isoformat()}, "The end comes before"),
        ({"channels": "   "}, "This field is required."),
        ({"meetings_planned": "0"}, "Number must be between 1 and 100."),
        ({"meetings_planned": "many"}, "Not a valid integer value."),
        ({"contact_every_days": "3"}, "Not a valid choice."),
        ({"agenda": "x" * 4001}, "Field cannot be longer than 4000 characters."),
        ({"starts_on": "tomorrow"}, "Not a valid date value."),
    ],
)
def test_a_bad_agreement_is_refused_and_nothing_is_stored(
    app, client, mentee, accepted, changes, error
):
    response = page(client, mentee, f"/mentoring/{accepted}/agreement", form(**changes))

    assert response.status_code == 400
    assert error in text(response)
    assert versions(app, accepted) == []


def test_a_second_proposal_waits_for_the_answer_to_the_first(
    app, client, db, mentee, mentor, accepted
):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    response = page(client, mentee, f"/mentoring/{accepted}/agreement", form(notes="Changed"))

    assert "awaits an answer" in text(response)
    assert versions(app, accepted) == [(1, "proposed", 6)]
    # and the database itself refuses two versions awaiting an answer
    terms = agreement_terms()
    db.session.add(
        AgreementVersion(
            mentorship_id=accepted, number=2, proposed_by_id=mentee.id, **terms.__dict__
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_answering_twice_changes_nothing_the_second_time(app, client, mentee, mentor, accepted):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    version_id = stored(app, select(AgreementVersion.id))
    page(client, mentor, f"/mentoring/agreement/{version_id}/approve", {})

    again = page(client, mentor, f"/mentoring/agreement/{version_id}/send-back", {"comment": "No"})

    assert "This version was already answered." in text(again)
    assert versions(app, accepted) == [(1, "approved", 6)]


# ---- amendments ----------------------------------------------------------------------------


@pytest.mark.parametrize("proposer", ["mentee", "mentor"])
def test_either_party_proposes_an_amendment_and_the_other_approves_it(
    app, client, request, mentee, mentor, active, proposer
):
    author = request.getfixturevalue(proposer)
    other = mentor if author is mentee else mentee
    response = page(
        client,
        author,
        f"/mentoring/{active}/agreement",
        form(meetings_planned="8", reason="We need two more sessions on interviews."),
    )
    assert "is asked to approve it" in text(response)
    assert versions(app, active) == [(1, "approved", 6), (2, "proposed", 8)]
    assert alerts(app, other)[-1].endswith("proposes to amend your mentorship agreement.")

    # the agreement in force does not change before the other party approves
    assert "0 held of 6 planned" in text(page(client, author, f"/mentoring/{active}"))
    amendment = stored(app, select(AgreementVersion.id).where(AgreementVersion.number == 2))
    assert page(client, author, f"/mentoring/agreement/{amendment}/approve", {}).status_code == 403

    page(client, other, f"/mentoring/agreement/{amendment}/approve", {})
    assert versions(app, active) == [(1, "approved", 6), (2, "approved", 8)]
    assert "0 held of 8 planned" in text(page(client, author, f"/mentoring/{active}"))


def test_a_rejected_amendment_leaves_the_agreement_in_force(app, client, mentee, mentor, active):
    page(
        client, mentor, f"/mentoring/{active}/agreement", form(meetings_planned="3", reason="Busy")
    )
    amendment = stored(app, select(AgreementVersion.id).where(AgreementVersion.number == 2))

    page(client, mentee, f"/mentoring/agreement/{amendment}/send-back", {"comment": "Please no."})

    assert versions(app, active) == [(1, "approved", 6), (2, "rejected", 3)]
    assert "0 held of 6 planned" in text(page(client, mentor, f"/mentoring/{active}"))
    assert "rejected the amendment" in alerts(app, mentor)[-1]


def test_an_amendment_needs_a_reason_and_a_change(app, client, mentee, active):
    without_reason = page(client, mentee, f"/mentoring/{active}/agreement", form(notes="x"))
    assert "Say in a few words why" in text(without_reason)
    unchanged = page(
        client,
        mentee,
        f"/mentoring/{active}/agreement",
        form(notes="", reason="Just because"),
    )
    assert "Nothing changed" in text(unchanged)
    assert versions(app, active) == [(1, "approved", 6)]


def test_any_two_versions_compare_side_by_side(app, client, mentee, mentor, active):
    amended = form(meetings_planned="8", notes="", reason="More")
    page(client, mentee, f"/mentoring/{active}/agreement", amended)
    amendment = stored(app, select(AgreementVersion.id).where(AgreementVersion.number == 2))
    page(client, mentor, f"/mentoring/agreement/{amendment}/approve", {})

    compared = text(page(client, mentor, f"/mentoring/{active}/agreement/compare?a=1&b=2"))

    assert "1 term differs." in compared
    changed_rows = [row for row in compared.split("<tr") if "table-warning" in row]
    assert len(changed_rows) == 1 and "Meetings planned" in changed_rows[0]
    assert ">6<" in changed_rows[0] and ">8<" in changed_rows[0]
    same = text(page(client, mentor, f"/mentoring/{active}/agreement/compare?a=2&b=2"))
    assert "These versions say the same." in same
    assert page(client, mentor, f"/mentoring/{active}/agreement/compare?a=1&b=9").status_code == 404


def test_a_version_numbered_0_is_no_version_not_the_default(db, mentee, mentor, active):
    """Only a number left out means "the two newest": 0 names a version none has."""
    from core.api import NotFound

    agreements.propose_amendment(active, mentor, agreement_terms(meetings_planned=8), "More")
    db.session.commit()
    mentorship = db.session.get(Mentorship, active)
    every = agreements.versions_of(mentorship)
    old, new = agreements.versions_compared(mentorship, mentee, every)
    assert (old.number, new.number) == (1, 2)
    for numbers in ((0, None), (None, 0), (0, 0)):
        with pytest.raises(NotFound):
            agreements.versions_compared(mentorship, mentee, every, *numbers)


def test_with_one_version_there_is_nothing_to_compare(client, mentee, active):
    response = page(client, mentee, f"/mentoring/{active}/agreement/compare")
    assert response.status_code == 302


def test_every_version_is_listed_with_who_proposed_and_who_answered(
    app, client, mentee, mentor, active
):
    page(
        client,
        mentor,
        f"/mentoring/{active}/agreement",
        form(meetings_planned="7", reason="One more"),
    )
    amendment = stored(app, select(AgreementVersion.id).where(AgreementVersion.number == 2))
    page(client, mentee, f"/mentoring/agreement/{amendment}/approve", {})

    listed = text(page(client, mentee, f"/mentoring/{active}/agreement"))

    assert "Version 2" in listed and "Version 1" in listed
    assert "Proposed by Max Mentor" in listed and "Answered by Mia Mentee" in listed
    assert "Proposed by Mia Mentee" in listed and "Answered by Max Mentor" in listed
    assert "One more" in listed


def test_an_ended_mentorship_keeps_its_agreement_readable_but_frozen(
    app, client, db, mentee, mentor, active
):
    db.session.execute(
        Mentorship.__table__.update().where(Mentorship.id == active).values(state="completed")
    )
    db.session.commit()

    readable = page(client, mentee, f"/mentoring/{active}/agreement")
    assert readable.status_code == 200 and "In force (version 1)" in text(readable)
    refused = page(client, mentee, f"/mentoring/{active}/agreement", form(notes="x", reason="y"))
    assert "Only the agreement of an active mentorship can be amended." in text(refused)
    assert versions(app, active) == [(1, "approved", 6)]


def test_an_agreement_sent_back_is_not_sent_again_unchanged(app, client, mentee, mentor, accepted):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    first = stored(app, select(AgreementVersion.id))
    page(client, mentor, f"/mentoring/agreement/{first}/send-back", {"comment": "Fewer, please."})
    reopened = form_values(text(page(client, mentee, f"/mentoring/{accepted}/agreement")))

    response = page(client, mentee, f"/mentoring/{accepted}/agreement", reopened)

    assert "Nothing changed since it came back: edit at least one term." in text(response)
    assert count_rows(app, AgreementVersion) == 1
    edited = page(
        client, mentee, f"/mentoring/{accepted}/agreement", {**reopened, "meetings_planned": "4"}
    )
    assert "Sent: Max Mentor is asked to approve it." in text(edited)
    assert count_rows(app, AgreementVersion) == 2


def test_a_version_is_read_by_the_pair_only_on_its_page_and_in_the_comparison(
    app, client, mentee, mentor, stranger, accepted
):
    page(client, mentee, f"/mentoring/{accepted}/agreement", form())
    first = stored(app, select(AgreementVersion.id))
    page(client, mentor, f"/mentoring/agreement/{first}/send-back", {"comment": "Fewer, please."})
    page(client, mentee, f"/mentoring/{accepted}/agreement", form(meetings_planned="4"))

    for path in ("versions/2", "compare?a=1&b=2"):
        assert page(client, stranger, f"/mentoring/{accepted}/agreement/{path}").status_code == 403
    assert page(client, mentor, f"/mentoring/{accepted}/agreement/versions/3").status_code == 404
    assert (
        page(client, mentor, f"/mentoring/{accepted}/agreement/compare?a=1&b=3").status_code == 404
    )
    compared = text(page(client, mentor, f"/mentoring/{accepted}/agreement/compare?a=1&b=2"))
    assert "Meetings planned" in compared


def test_long_links_in_the_terms_wrap_between_words_not_inside_them(
    app, client, mentee, mentor, accepted
):
    link = "https://meet.example.org/" + "a" * 120
    page(client, mentee, f"/mentoring/{accepted}/agreement", form(notes=f"Join at {link}"))

    for path in ("", "/versions/1"):
        shown = text(page(client, mentor, f"/mentoring/{accepted}/agreement{path}"))
        notes = re.search(r'<dd class="([^"]*)">Join at', shown)
        assert "term-value" in notes.group(1).split() and "text-break" not in notes.group(1)
