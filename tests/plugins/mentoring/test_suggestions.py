""" "Suggested for you" on a mentee's mentorships and at the top of the directory: who is
suggested, why in words, who is left out, "Not for me" and its undo, all private."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import UserTopic
from core.services.profiles import topic_named
from core.testing import count_rows, stored
from plugins.mentoring.models import SuggestionDismissal
from plugins.mentoring.services import lifecycle

from .conftest import page, statements_of_get, text

SUGGESTED = "Suggested for you"


@pytest.fixture
def make_mentee(db, create_user):
    """``make_mentee(name, interests=, languages=, timezone=)``: a member looking for a
    mentor, committed."""
    from core.models import UserLanguage

    def make(name: str, *, interests=(), languages=(), timezone="Europe/Vienna"):
        user = create_user(display_name=name, wants_to_be_mentored=True, timezone=timezone)
        user.topics = [
            UserTopic(topic=topic_named(topic), kind="interest", position=position)
            for position, topic in enumerate(interests)
        ]
        user.languages = [UserLanguage(code=code) for code in languages]
        db.session.commit()
        return user

    return make


def suggested(html: str) -> list[str]:
    """The names of the suggested mentors on a page, in their order."""
    cards = re.findall(r'<div class="card h-100 suggestion">.*?</h3>', html, re.S)
    return [re.search(r'">([^<]*)</a></h3>', card).group(1) for card in cards]


@pytest.fixture
def mia(make_mentee):
    return make_mentee("Mia", interests=("Python", "careers", "data"), languages=("de", "en"))


def test_a_mentee_sees_mentors_suggested_with_their_reasons(app, client, mia, make_mentor, db):
    ada = make_mentor("Ada", expertise=("Python", "careers", "data"), languages=("de",))
    ada.timezone = "Europe/London"
    db.session.commit()
    make_mentor("Bob", expertise=("Python",), languages=("fr",))
    make_mentor("Cyd", expertise=("Rust",))  # nothing in common: not suggested

    for path in ("/mentoring/", "/mentoring/mentors"):
        shown = text(page(client, mia, path))
        assert SUGGESTED in shown
        assert suggested(shown) == ["Ada", "Bob"]
    assert "3 topics in common: Python, careers, data" in shown
    assert "both speak German" in shown
    assert "1 hour apart" in shown
    assert "1 topic in common: Python" in shown


def test_a_rarer_topic_in_common_comes_first(client, make_mentee, make_mentor):
    mentee = make_mentee("Mia", interests=("Python", "Haskell"))
    for number in range(3):
        make_mentor(f"Py {number}", expertise=("Python",))
    make_mentor("Zed", expertise=("Haskell",))

    assert suggested(text(page(client, mentee, "/mentoring/")))[0] == "Zed"


def test_the_answers_of_a_mentor_show_in_words(app, client, mia, make_mentor, create_user, pairs):
    ada = make_mentor("Ada", expertise=("Python",), capacity=5)
    for number in range(2):
        pairs.accept(create_user(display_name=f"Asker {number}"), ada)

    assert "answered 2 of 2 requests" in text(page(client, mia, "/mentoring/"))


def test_left_out_mentors_declined_asked_full_or_unlisted(
    app, client, db, mia, make_mentor, pairs, create_user
):
    declined = make_mentor("Declined Dee", expertise=("Python",))
    mentorship_id = pairs.request(mia, declined)
    lifecycle.decline_request(mentorship_id, declined, "timing", "Not now, sorry.")
    db.session.commit()
    pairs.request(mia, make_mentor("Asked Abe", expertise=("Python",)))
    pairs.accept(create_user(), make_mentor("Full Fay", expertise=("Python",)))
    make_mentor("Paused Pat", expertise=("Python",), accepting=False)
    make_mentor("Unconfirmed Una", expertise=("Python",), confirmed=False)
    make_mentor("Open Ora", expertise=("Python",))

    assert suggested(text(page(client, mia, "/mentoring/"))) == ["Open Ora"]


def test_not_for_me_hides_a_suggestion_until_undone(app, client, mia, make_mentor):
    ada = make_mentor("Ada", expertise=("Python",))
    make_mentor("Bob", expertise=("Python",))

    shown = text(
        page(
            client, mia, f"/mentoring/suggestions/{ada.id}/dismiss", {"next": "/mentoring/mentors"}
        )
    )
    assert "Ada will not be suggested to you again" in shown
    assert suggested(shown) == ["Bob"]  # back on the directory
    # a double submit is one dismissal
    page(client, mia, f"/mentoring/suggestions/{ada.id}/dismiss", {})
    assert count_rows(app, SuggestionDismissal) == 1

    listed = text(page(client, mia, "/mentoring/suggestions/dismissed"))
    assert "Ada" in listed and "Bob" not in listed

    shown = text(page(client, mia, f"/mentoring/suggestions/{ada.id}/restore", {}))
    assert "may be suggested to you again" in shown
    assert "You have not dismissed any suggestion." in shown
    assert suggested(text(page(client, mia, "/mentoring/"))) == ["Ada", "Bob"]


def test_dismissals_are_private(app, client, mia, make_mentee, make_mentor):
    ada = make_mentor("Ada", expertise=("Python",))
    other = make_mentee("Oli", interests=("Python",))

    # another member's "Not for me" is theirs only: there is no way to post one for Mia
    page(client, other, f"/mentoring/suggestions/{ada.id}/dismiss", {})
    assert stored(app, select(SuggestionDismissal.mentee_id)) == other.id
    assert suggested(text(page(client, mia, "/mentoring/"))) == ["Ada"]
    assert "Ada" not in text(page(client, mia, "/mentoring/suggestions/dismissed"))
    # nor can Mia undo Oli's
    page(client, mia, f"/mentoring/suggestions/{ada.id}/restore", {})
    assert count_rows(app, SuggestionDismissal) == 1
    # and the mentor sees nothing of it, nor any suggestion
    for path in ("/mentoring/", "/mentoring/mentors", "/mentoring/suggestions/dismissed"):
        shown = text(page(client, ada, path))
        assert SUGGESTED not in shown and "Oli" not in shown


def test_dismissing_no_one_or_oneself_is_not_found(client, mia):
    assert page(client, mia, "/mentoring/suggestions/99999/dismiss", {}).status_code == 404
    assert page(client, mia, f"/mentoring/suggestions/{mia.id}/dismiss", {}).status_code == 404


def test_the_pages_are_for_members(app):
    visitor = app.test_client()
    assert visitor.post("/mentoring/suggestions/1/dismiss").status_code == 302
    assert "/login" in visitor.get("/mentoring/suggestions/dismissed").headers["Location"]


def test_without_interests_the_mentee_is_told_how_to_get_suggestions(
    client, make_mentee, make_mentor
):
    make_mentor("Ada", expertise=("Python",))
    shown = text(page(client, make_mentee("Mia"), "/mentoring/"))
    assert "Add topics you want to learn about to get suggestions." in shown
    assert 'href="/me/data">Add your interests' in shown


def test_no_mentor_in_common_says_so(client, mia, make_mentor):
    make_mentor("Cyd", expertise=("Rust",))
    assert "No available mentor shares your interests right now" in text(
        page(client, mia, "/mentoring/")
    )


def test_a_search_of_the_directory_shows_no_suggestions(client, mia, make_mentor):
    make_mentor("Ada", expertise=("Python",))
    assert SUGGESTED in text(page(client, mia, "/mentoring/mentors"))
    assert SUGGESTED not in text(page(client, mia, "/mentoring/mentors?q=Ada"))


def test_the_directory_reads_the_same_statements_for_many_mentors(
    app, client, mia, make_mentor, pairs, create_user
):
    client.login(mia)

    def statements() -> int:
        return statements_of_get(app, client, "/mentoring/mentors")

    # the directory's own reads differ with mentors with room or without: both, each time
    pairs.accept(create_user(), make_mentor("Has room", expertise=("Python",), capacity=3))
    pairs.accept(create_user(), make_mentor("Full", expertise=("Python",)))
    few = statements()
    for number in range(12):
        mentor = make_mentor(f"Mentor {number}", expertise=("Python", "data"), languages=("de",))
        if number % 3 == 0:
            pairs.accept(create_user(), mentor)
    assert statements() == few


def test_export_and_erasure_cover_dismissals(app, client, db, mia, make_mentor):
    from core.db import utcnow
    from core.services.lifecycle import erase_account
    from plugins.mentoring.export import mentoring_part

    ada = make_mentor("Ada", expertise=("Python",))
    page(client, mia, f"/mentoring/suggestions/{ada.id}/dismiss", {})

    part = mentoring_part(mia)
    assert part is not None
    assert [d["mentor"] for d in part.data["dismissed_suggestions"]] == ["Ada"]

    mia.deactivated_at = utcnow()  # as a deletion does, before the erasure job
    assert erase_account(mia) == []
    db.session.commit()
    assert count_rows(app, SuggestionDismissal) == 0


def test_the_directory_shows_three_suggestions_the_mentoring_area_six(client, mia, make_mentor):
    for number in range(8):
        make_mentor(f"Mentor {number}", expertise=("Python",))

    assert len(suggested(text(page(client, mia, "/mentoring/mentors")))) == 3
    assert len(suggested(text(page(client, mia, "/mentoring/")))) == 6


def test_a_field_of_study_in_common_ranks_first_and_says_so(client, db, mia, make_mentor):
    from plugins.mentoring.services.fields import choose_fields

    ada = make_mentor("Ada", expertise=("Python",))
    bob = make_mentor("Bob", expertise=("Python",))
    cyd = make_mentor("Cyd", expertise=("Python",))
    choose_fields(mia, "mentee", ["061"])  # information and communication technologies
    choose_fields(bob, "mentor", ["061"])
    choose_fields(cyd, "mentor", ["06"])  # the broad field only
    choose_fields(ada, "mentee", ["061"])  # as a mentee: not what she offers
    db.session.commit()

    shown = text(page(client, mia, "/mentoring/"))
    assert suggested(shown) == ["Bob", "Cyd", "Ada"]
    assert "1 field of study in common" in shown
    assert "a related field of study" in shown
