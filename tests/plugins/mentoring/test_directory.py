"""The mentor directory (/mentoring/mentors), a mentor's public offer on their profile, and a
mentor's own settings (capacity, pause) under My data → My mentoring."""

from __future__ import annotations

import html
import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from core.models import User
from core.testing import stored
from plugins.mentoring.models import MentoringMember
from plugins.mentoring.services import lifecycle
from plugins.mentoring.services.directory import DIRECTORY_PAGE_SIZE

# ---- helpers -------------------------------------------------------------------------------


@pytest.fixture
def client(app, create_user):
    """A member browsing (the directory is for members, as profiles are)."""
    browsing = app.test_client()
    browsing.login(create_user(display_name="Browsing Member"))
    return browsing


@pytest.fixture
def give_mentee(db, create_user):
    """``give_mentee(mentor)``: a new member asks ``mentor`` and is accepted (the real flow)."""

    def give(mentor: User) -> User:
        mentee = create_user(display_name=f"Mentee of {mentor.display_name}")
        mentorship = lifecycle.send_request(mentee, mentor, "Please mentor me.")
        db.session.commit()
        lifecycle.accept_request(mentorship.id, mentor)
        db.session.commit()
        return mentee

    return give


def listed(page: str) -> list[str]:
    """The mentors' names on a directory page, in their order."""
    return [html.unescape(name) for name in re.findall(r'class="stretched-link">([^<]*)</a>', page)]


def link(page: str, label: str) -> str | None:
    """The href of the link labelled ``label`` on a page."""
    match = re.search(rf'href="([^"]*)">{re.escape(label)}</a>', page)
    return html.unescape(match.group(1)) if match else None


def directory(client, **query: str) -> str:
    response = client.get("/mentoring/mentors", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ---- the directory ---------------------------------------------------------------------------


def test_the_directory_is_for_members(app):
    response = app.test_client().get("/mentoring/mentors")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "/mentoring/mentors" not in app.test_client().get("/").text  # nor in their menu


def test_the_directory_lists_confirmed_members_offering_mentoring(client, make_mentor, create_user):
    make_mentor("Ada Lovelace", bio="Analytical engines and poetry.", expertise=("Maths",))
    make_mentor("Grace Hopper")
    make_mentor("Unconfirmed Una", confirmed=False)
    create_user(display_name="Mentee Only", wants_to_be_mentored=True)

    page = directory(client)

    assert listed(page) == ["Ada Lovelace", "Grace Hopper"]
    assert "Analytical engines and poetry." in page
    assert "Maths" in page
    assert "Unconfirmed Una" not in page and "Mentee Only" not in page


def test_search_by_free_text_matches_name_bio_and_topics_ignoring_case(client, make_mentor):
    make_mentor("Ada Lovelace", bio="I love ANALYTICAL engines.")
    make_mentor("Grace Hopper", expertise=("COBOL",))
    make_mentor("Linus Pauling", interests=("Chemistry",))
    make_mentor("Alan Turing", bio="Codebreaking.")

    assert listed(directory(client, q="lovelace")) == ["Ada Lovelace"]
    assert listed(directory(client, q="analytical")) == ["Ada Lovelace"]
    assert listed(directory(client, q="cobol")) == ["Grace Hopper"]
    assert listed(directory(client, q="CHEMISTRY")) == ["Linus Pauling"]
    # every word must match, in any of the fields
    assert listed(directory(client, q="alan codebreaking")) == ["Alan Turing"]
    assert listed(directory(client, q="alan cobol")) == []


def test_percent_and_underscore_in_the_search_are_literal(client, make_mentor):
    make_mentor("Percy", bio="Raised conversion by 100% in a year.")
    make_mentor("Snake", bio="I write snake_case Python.")
    make_mentor("Plain", bio="Nothing special here, 1000 users.")

    assert listed(directory(client, q="%")) == ["Percy"]
    assert listed(directory(client, q="100%")) == ["Percy"]
    assert listed(directory(client, q="_")) == ["Snake"]
    assert listed(directory(client, q="e_c")) == ["Snake"]  # "e_c" is not "any char" here
    assert listed(directory(client, q="\\")) == []


def test_filter_by_expertise_topic_and_language(client, make_mentor):
    make_mentor("Ada Lovelace", expertise=("Python", "Maths"), languages=("en", "fr"))
    make_mentor("Grace Hopper", expertise=("COBOL",), interests=("Python",), languages=("en",))
    make_mentor("Hedy Lamarr", expertise=("python",), languages=("de",))

    # an expertise topic, in any case; an interest in the topic is not expertise
    assert listed(directory(client, topic="PYTHON")) == ["Ada Lovelace", "Hedy Lamarr"]
    assert listed(directory(client, language="en")) == ["Ada Lovelace", "Grace Hopper"]
    assert listed(directory(client, language="fr")) == ["Ada Lovelace"]
    assert listed(directory(client, topic="python", language="de")) == ["Hedy Lamarr"]
    assert listed(directory(client, topic="Java")) == []


def test_each_card_shows_its_own_mentors_expertise_and_languages(client, make_mentor):
    make_mentor(
        "Ada Lovelace", expertise=("Python", "Maths"), interests=("Poetry",), languages=("fr", "en")
    )
    make_mentor("Grace Hopper", expertise=("COBOL",))
    make_mentor("Hedy Lamarr", languages=("de",))

    ada, grace, hedy = directory(client).split('<div class="card h-100">')[1:]

    assert re.findall(r'class="badge topic">([^<]*)<', ada) == ["Python", "Maths"]  # their order
    assert "Speaks:</span> English, French" in ada
    assert "Poetry" not in ada  # an interest is not expertise
    assert re.findall(r'class="badge topic">([^<]*)<', grace) == ["COBOL"]
    assert "Speaks" not in grace
    assert re.findall(r'class="badge topic">', hedy) == []
    assert "Speaks:</span> German" in hedy


def test_has_room_now_hides_full_and_paused_mentors(client, make_mentor, give_mentee):
    make_mentor("Ada Lovelace", capacity=2)
    full = make_mentor("Bea Full")
    give_mentee(full)  # capacity 1 by default
    make_mentor("Cid Paused", accepting=False)
    half = make_mentor("Dee Half", capacity=2)
    give_mentee(half)

    everyone = directory(client)
    assert set(listed(everyone)) == {"Ada Lovelace", "Bea Full", "Cid Paused", "Dee Half"}
    assert everyone.count("Full for now") == 2

    with_room = directory(client, free="1")
    assert listed(with_room) == ["Ada Lovelace", "Dee Half"]
    assert "Full for now" not in with_room
    assert 'id="free" name="free" value="1" checked' in with_room  # the box stays ticked


def test_mentors_with_room_come_first(client, make_mentor, give_mentee):
    give_mentee(make_mentor("Aaron Full"))
    make_mentor("Abby Paused", accepting=False)
    make_mentor("Zoe Free")
    make_mentor("Yann Free")

    assert listed(directory(client)) == ["Yann Free", "Zoe Free", "Aaron Full", "Abby Paused"]


def test_pages_go_on_from_the_mentors_with_room_to_those_without(client, make_mentor):
    free = [f"Free {n:02d}" for n in range(DIRECTORY_PAGE_SIZE + 2)]
    paused = [f"Paused {n:02d}" for n in range(DIRECTORY_PAGE_SIZE + 4)]
    for name in free:
        make_mentor(name)
    for name in paused:
        make_mentor(name, accepting=False)
    everyone = free + paused

    pages = [directory(client, page=str(number)) for number in (1, 2, 3, 4)]

    for number, page in enumerate(pages):
        start = number * DIRECTORY_PAGE_SIZE
        assert listed(page) == everyone[start : start + DIRECTORY_PAGE_SIZE], number
    assert [link(page, "Next") is not None for page in pages] == [True, True, False, False]
    assert pages[1].count("Full for now") == DIRECTORY_PAGE_SIZE - 2  # the seam: 2 free first
    assert listed(directory(client, page="2", free="1")) == free[DIRECTORY_PAGE_SIZE:]


def test_pagination_keeps_the_filters(client, make_mentor):
    names = [f"Mentor {n:02d}" for n in range(1, DIRECTORY_PAGE_SIZE + 4)]
    for name in names:
        make_mentor(name, expertise=("Python",), languages=("en",))
    make_mentor("Other Topic", expertise=("Cooking",), languages=("en",))

    first = directory(client, topic="Python", language="en")
    assert listed(first) == names[:DIRECTORY_PAGE_SIZE]
    assert link(first, "Previous") is None
    next_url = link(first, "Next")
    assert next_url is not None
    assert "topic=Python" in next_url and "language=en" in next_url and "page=2" in next_url

    response = client.get(next_url)
    assert response.status_code == 200
    second = response.get_data(as_text=True)
    assert listed(second) == names[DIRECTORY_PAGE_SIZE:]
    assert "Other Topic" not in second
    assert link(second, "Next") is None
    previous_url = link(second, "Previous")
    assert previous_url is not None and "topic=Python" in previous_url

    back = client.get(previous_url).get_data(as_text=True)
    assert listed(back) == names[:DIRECTORY_PAGE_SIZE]


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "²", "99", "99999999999999999999999"])
def test_odd_page_numbers_do_not_break_the_directory(client, make_mentor, page):
    make_mentor("Ada Lovelace")
    response = client.get("/mentoring/mentors", query_string={"page": page})
    assert response.status_code == 200
    if page == "99":
        assert "No mentor matches this search." in response.get_data(as_text=True)
    else:
        assert listed(response.get_data(as_text=True)) == ["Ada Lovelace"]


def test_empty_directory_and_a_search_without_result_say_so(client, make_mentor):
    page = directory(client)
    assert listed(page) == []
    assert "No mentor matches this search." in page

    make_mentor("Ada Lovelace")
    page = directory(client, q="nobody-like-this")
    assert listed(page) == []
    assert "No mentor matches this search." in page
    assert 'value="nobody-like-this"' in page  # the search stays in the box


# ---- a mentor's profile ----------------------------------------------------------------------


def test_a_mentor_profile_offers_other_members_to_ask(client, make_mentor, create_user):
    mentor = make_mentor("Ada O'Brien")
    visitor = create_user(display_name="Vic Visitor")

    client.login(visitor)
    page = client.get(f"/members/{mentor.id}").get_data(as_text=True)
    assert str(escape("Ada O'Brien offers mentoring and has room for a mentee.")) in page
    assert str(escape("Ask Ada O'Brien to mentor you")) in page
    assert f'href="/mentoring/request/{mentor.id}"' in page

    client.login(mentor)  # not to themselves
    page = client.get(f"/members/{mentor.id}").get_data(as_text=True)
    assert str(escape("Ada O'Brien offers mentoring and has room for a mentee.")) in page
    assert "to mentor you" not in page
    assert f'href="/mentoring/request/{mentor.id}"' not in page


@pytest.mark.parametrize("why", ["full", "paused"])
def test_a_full_or_paused_mentor_profile_says_not_taking_new_mentees(
    client, make_mentor, create_user, give_mentee, why
):
    mentor = make_mentor("Ada Lovelace", accepting=why != "paused")
    if why == "full":
        give_mentee(mentor)
    visitor = create_user()

    client.login(visitor)
    page = client.get(f"/members/{mentor.id}").get_data(as_text=True)
    assert "Ada Lovelace offers mentoring but is not taking new mentees now." in page
    assert "Ask Ada Lovelace to mentor you" not in page
    assert f'href="/mentoring/request/{mentor.id}"' not in page


def test_a_member_not_offering_mentoring_has_no_offer_on_their_profile(client, create_user):
    member = create_user(display_name="Mo Mentee", wants_to_be_mentored=True)
    client.login(create_user())
    response = client.get(f"/members/{member.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "offers mentoring" not in page
    assert "to mentor you" not in page


# ---- mentor settings -------------------------------------------------------------------------


def capacity_of(app, user: User) -> tuple[int, bool, int] | None:
    member = stored(app, select(MentoringMember).where(MentoringMember.user_id == user.id))
    return (member.capacity, member.accepting, member.mentee_count) if member else None


def test_my_data_shows_my_mentoring_settings_with_their_defaults(client, make_mentor):
    mentor = make_mentor("Ada Lovelace")
    client.login(mentor)
    page = client.get("/me/data").get_data(as_text=True)
    assert 'id="my-mentoring"' in page
    assert 'action="/mentoring/settings"' in page
    assert "You mentor 0 of 1 now." in page
    assert re.search(r'<input[^>]*name="capacity"[^>]*value="1"', page)
    assert re.search(r'<input[^>]*checked[^>]*name="accepting"|name="accepting"[^>]*checked', page)


def test_a_member_not_offering_mentoring_is_told_how_to_offer_it(client, create_user):
    member = create_user()
    client.login(member)
    page = client.get("/me/data").get_data(as_text=True)
    assert "to offer mentoring" in page
    assert 'action="/mentoring/settings"' not in page


def test_a_mentor_sets_their_capacity(app, client, make_mentor):
    mentor = make_mentor("Ada Lovelace")
    client.login(mentor)

    response = client.post(
        "/mentoring/settings", data={"capacity": "3", "accepting": "y"}, follow_redirects=True
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your mentoring settings are saved." in page
    assert "You mentor 0 of 3 now." in page
    assert capacity_of(app, mentor) == (3, True, 0)


@pytest.mark.parametrize("capacity", ["0", "21", "-1", "", "many"])
def test_a_capacity_out_of_range_is_refused(app, client, make_mentor, capacity):
    mentor = make_mentor("Ada Lovelace", capacity=2)
    client.login(mentor)

    response = client.post(
        "/mentoring/settings",
        data={"capacity": capacity, "accepting": "y"},
        follow_redirects=True,
    )
    assert "Choose a capacity between 1 and 20 mentees." in response.get_data(as_text=True)
    assert capacity_of(app, mentor) == (2, True, 0)


def test_a_mentor_pauses_and_resumes(app, client, make_mentor, create_user):
    mentor = make_mentor("Ada Lovelace")
    visitor = create_user()
    client.login(mentor)

    client.post("/mentoring/settings", data={"capacity": "1"})  # the box unticked
    assert capacity_of(app, mentor) == (1, False, 0)
    assert listed(directory(client, free="1")) == []
    assert "Full for now" in directory(client)
    client.login(visitor)
    page = client.get(f"/members/{mentor.id}").get_data(as_text=True)
    assert "is not taking new mentees now" in page

    client.login(mentor)
    client.post("/mentoring/settings", data={"capacity": "1", "accepting": "y"})
    assert capacity_of(app, mentor) == (1, True, 0)
    assert listed(directory(client, free="1")) == ["Ada Lovelace"]


def test_capacity_below_the_current_mentees_is_refused(app, client, make_mentor, give_mentee):
    mentor = make_mentor("Ada Lovelace", capacity=3)
    give_mentee(mentor)
    give_mentee(mentor)
    client.login(mentor)

    response = client.post(
        "/mentoring/settings", data={"capacity": "1", "accepting": "y"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "You have 2 mentees now: choose a capacity of at least 2." in page
    assert capacity_of(app, mentor) == (3, True, 2)

    # exactly as many as now is fine, and the directory shows the mentor as full
    client.post("/mentoring/settings", data={"capacity": "2", "accepting": "y"})
    assert capacity_of(app, mentor) == (2, True, 2)
    assert listed(directory(client, free="1")) == []


def test_settings_need_a_login(app, client, make_mentor):
    mentor = make_mentor("Ada Lovelace")
    client.logout()
    response = client.post("/mentoring/settings", data={"capacity": "5", "accepting": "y"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert capacity_of(app, mentor) == (1, True, 0)  # the defaults, as before


def test_a_refused_my_data_form_keeps_showing_the_stored_mentoring_settings(
    app, client, make_mentor
):
    """The profile form and the mentoring settings share the My data page: a profile post
    that is refused (here without a name) must not show the mentoring settings as empty or
    paused, which a second click on "Save mentoring settings" would then store."""
    mentor = make_mentor("Ada Lovelace", capacity=4)
    client.login(mentor)

    response = client.post(
        "/me/data", data={"display_name": "", "timezone": "UTC", "wants_to_mentor": "y"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'<input[^>]*name="capacity"[^>]*value="4"', page)
    assert re.search(r'<input[^>]*checked[^>]*name="accepting"|name="accepting"[^>]*checked', page)
    assert capacity_of(app, mentor) == (4, True, 0)


def test_the_settings_form_carries_its_csrf_token(make_app, db, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    mentor = create_user(wants_to_mentor=True)
    client.login(mentor)

    page = client.get("/me/data").get_data(as_text=True)
    form = page.split('id="my-mentoring"', 1)[1].split("</form>", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)

    refused = client.post("/mentoring/settings", data={"capacity": "3", "accepting": "y"})
    assert refused.status_code == 400
    assert capacity_of(app, mentor) == (1, True, 0)  # unchanged

    saved = client.post(
        "/mentoring/settings",
        data={"csrf_token": token, "capacity": "3", "accepting": "y"},
        follow_redirects=True,
    )
    assert "Your mentoring settings are saved." in saved.get_data(as_text=True)
    assert capacity_of(app, mentor) == (3, True, 0)
