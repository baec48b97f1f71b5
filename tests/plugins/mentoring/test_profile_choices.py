"""Whether a member offers mentoring or looks for a mentor: two checkboxes the mentoring
plugin adds to My data (core's ``ProfileField``), the badges beside the member's name, the
Mentoring area of the profile, and the demo's mentors and mentees."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.demo import create_demo_members
from core.models import User
from core.testing import stored
from plugins.mentoring.models import MentoringMember, Mentorship

CHOICES = ("wants_to_mentor", "wants_to_be_mentored")


def checkboxes(page: str) -> dict[str, bool]:
    """The mentoring checkboxes of My data, by name: ticked or not."""
    found = re.findall(r"<input[^>]*>", page)
    return {name: "checked" in tag for tag in found for name in CHOICES if f'name="{name}"' in tag}


def save_my_data(client, **ticked: str):
    data = {"display_name": "Ada", "timezone": "UTC"} | ticked
    return client.post("/me/data", data=data, follow_redirects=True)


def choices_of(app, user: User) -> tuple[bool, bool] | None:
    row = stored(app, select(MentoringMember).where(MentoringMember.user_id == user.id))
    return (row.wants_to_mentor, row.wants_to_be_mentored) if row else None


def test_my_data_has_the_two_checkboxes_under_mentoring(client, create_user):
    client.login(create_user())

    page = client.get("/me/data").text

    assert checkboxes(page) == {"wants_to_mentor": False, "wants_to_be_mentored": False}
    fieldset = page[page.index(">Mentoring</legend>") : page.index("</fieldset>")]
    assert "I would like to mentor others" in fieldset
    assert "I am looking for a mentor" in fieldset
    assert "whether you mentor or look for a mentor" in page  # who sees what they tell


def test_ticking_and_unticking_them_saves_them(app, client, create_user):
    member = create_user()
    client.login(member)

    page = save_my_data(client, wants_to_mentor="y")

    assert "Your data is saved." in page.text
    assert checkboxes(page.text) == {"wants_to_mentor": True, "wants_to_be_mentored": False}
    assert choices_of(app, member) == (True, False)

    page = save_my_data(client, wants_to_be_mentored="y")

    assert checkboxes(page.text) == {"wants_to_mentor": False, "wants_to_be_mentored": True}
    assert choices_of(app, member) == (False, True)


def test_a_refused_form_saves_no_choice(app, client, create_user):
    member = create_user()
    client.login(member)

    page = save_my_data(client, wants_to_mentor="y", timezone="Mars/Olympus_Mons")

    assert page.status_code == 400
    assert choices_of(app, member) is None  # never chose: no row either


def test_a_member_who_never_ticks_a_box_gets_no_mentoring_row(app, client, create_user):
    member = create_user()
    client.login(member)

    save_my_data(client)

    assert choices_of(app, member) is None


def test_ticking_offer_lists_the_member_in_the_directory_once_verified(
    app, db, client, create_user
):
    """Once staff verified them (verification = "staff", the default; with "none" at once:
    test_verification.py)."""
    from plugins.mentoring.services.verification import mark_verified

    browsing = app.test_client()
    browsing.login(create_user(display_name="Browsing Member"))
    ada = create_user()
    client.login(ada)
    assert "Ada" not in browsing.get("/mentoring/mentors").text

    save_my_data(client, wants_to_mentor="y")
    assert "Ada" not in browsing.get("/mentoring/mentors").text
    mark_verified(ada)

    assert "Ada" in browsing.get("/mentoring/mentors").text


def test_other_members_see_the_badges_beside_the_name(client, create_user):
    both = create_user(wants_to_mentor=True, wants_to_be_mentored=True)
    neither = create_user()
    client.login(neither)

    shown = client.get(f"/members/{both.id}").text
    plain = client.get(f"/members/{neither.id}").text

    assert '<span class="badge text-bg-success">Mentor</span>' in shown
    assert '<span class="badge text-bg-info">Looking for a mentor</span>' in shown
    assert ">Mentor</span>" not in plain and ">Looking for a mentor</span>" not in plain


def test_the_mentoring_area_is_a_tab_of_the_profile(client, create_user):
    member = create_user()
    client.login(member)

    page = client.get(f"/members/{member.id}/mentoring")

    assert page.status_code == 200
    tabs = page.text[page.text.index("profile-tabs") :]
    assert re.findall(r">([^<>]+)</a>", tabs[: tabs.index("</ul>")]) == [
        "Overview",
        "Mentoring",
        "My data",
    ]
    assert client.get(f"/members/{member.id}/groups").status_code == 404  # not enabled


@pytest.mark.plugins()
def test_without_mentoring_there_are_no_checkboxes_badges_or_area(client, create_user):
    member = create_user()
    client.login(member)

    page = client.get("/me/data").text
    profile = client.get(f"/members/{member.id}").text

    assert checkboxes(page) == {}
    assert ">Mentoring</legend>" not in page
    assert "whether you mentor or look for a mentor" not in page
    assert ">Mentoring</a>" not in profile
    assert client.get(f"/members/{member.id}/mentoring").status_code == 404
    assert "Your data is saved." in save_my_data(client, wants_to_mentor="y").text


def test_the_demo_makes_mentors_and_mentees(app, db):
    create_demo_members()
    db.session.commit()

    def by_choice(column) -> list[str]:
        query = select(User.email).join(MentoringMember, MentoringMember.user_id == User.id)
        return sorted(db.session.scalars(query.where(column.is_(True))))

    assert by_choice(MentoringMember.wants_to_mentor) == [
        "anna@example.org",
        "ben@example.org",
        "david@example.org",
    ]
    assert by_choice(MentoringMember.wants_to_be_mentored) == [
        "chloe@example.org",
        "david@example.org",
    ]
    pairs = db.session.execute(
        select(Mentorship.state, User.email).join(User, User.id == Mentorship.mentee_id)
    ).all()
    assert sorted(pairs) == [("active", "david@example.org"), ("requested", "chloe@example.org")]
