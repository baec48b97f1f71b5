"""Creating and editing groups, the directory with its search and pages, the Groups area of a
profile, and the navigation: what a member sees and what the database keeps."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.testing import count_rows, stored
from plugins.groups.models import Group, Membership

pytestmark = pytest.mark.plugins("groups")

NEW_GROUP = {
    "name": "Python learners",
    "topic": "Python",
    "description": "We practise together.",
    "join_policy": "open",
    "visibility": "public",
}


def per_page(**sizes: int):
    return pytest.mark.parametrize("app_settings", [{"PLUGIN_SETTINGS": {"groups": sizes}}])


# ---- creating and editing ------------------------------------------------------------------


def test_a_member_creates_a_group_and_becomes_its_manager(app, act, manager, activities_of):
    page = act(manager, "/groups/new", **NEW_GROUP)

    assert "Your group is ready: you are its manager." in page.text
    assert '<h1 class="h3 mb-1 text-break">Python learners</h1>' in page.text
    group_id = stored(app, select(Group.id).where(Group.name == "Python learners"))
    assert stored(app, select(Membership.role).where(Membership.group_id == group_id)) == "manager"
    assert activities_of(manager) == [
        (
            "groups.group_created",
            f"groups.group_created:{manager.id}:groups.group:{group_id}",
            False,
        )
    ]


def test_the_creation_form_is_for_logged_in_members_only(client):
    assert client.get("/groups/new").status_code == 302
    assert client.get("/groups/").status_code == 302


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "   ", "This field is required."),
        ("name", "x" * 81, "Field cannot be longer than 80 characters."),
        # 80 characters, but 160 once lower-cased for the unique name key
        ("name", "İ" * 80, "Keep the name under 80 characters."),
        ("join_policy", "anyone", "Not a valid choice."),
        ("visibility", "secret", "Not a valid choice."),
    ],
)
def test_bad_input_creates_no_group(app, act, manager, field, value, message):
    page = act(manager, "/groups/new", **(NEW_GROUP | {field: value}))

    assert page.status_code == 400
    assert message in page.text
    assert count_rows(app, Group) == 0


def test_group_names_are_unique_whatever_their_case(app, act, manager, member, groups):
    groups.create(manager, "Python learners")

    page = act(member, "/groups/new", **(NEW_GROUP | {"name": "  PYTHON   Learners "}))

    assert page.status_code == 400
    assert "A group named “PYTHON Learners” exists already: choose another name." in page.text
    assert count_rows(app, Group) == 1


def test_a_manager_edits_the_group(app, act, manager, groups, activities_of):
    group_id = groups.create(manager)

    page = act(
        manager,
        f"/groups/{group_id}/edit",
        **(NEW_GROUP | {"name": "Pythonistas", "join_policy": "request"}),
    )

    assert "The group is saved." in page.text
    assert "Pythonistas" in page.text
    assert "On request: managers approve" in page.text
    assert [kind for kind, _key, _undone in activities_of(manager)] == [
        "groups.group_created",
        "groups.managed",
    ]


def test_saving_an_unchanged_group_records_no_management(app, act, manager, groups, activities_of):
    group_id = groups.create(manager, **{k: v for k, v in NEW_GROUP.items() if k != "name"})

    act(manager, f"/groups/{group_id}/edit", **NEW_GROUP)

    assert [kind for kind, _key, _undone in activities_of(manager)] == ["groups.group_created"]


def test_only_managers_edit_the_group(app, act, client, manager, member, groups):
    group_id = groups.create(manager)
    groups.add(group_id, member)

    client.login(member)
    assert client.get(f"/groups/{group_id}/edit").status_code == 403
    page = client.post(f"/groups/{group_id}/edit", data=NEW_GROUP | {"name": "Mine now"})

    assert page.status_code == 403
    assert stored(app, select(Group.name).where(Group.id == group_id)) == "Python learners"


def test_renaming_to_another_groups_name_is_refused(app, act, manager, groups):
    groups.create(manager, "Rust")
    group_id = groups.create(manager, "Python learners")

    page = act(manager, f"/groups/{group_id}/edit", **(NEW_GROUP | {"name": "rust"}))

    assert page.status_code == 400
    assert "A group named “rust” exists already" in page.text
    assert stored(app, select(Group.name).where(Group.id == group_id)) == "Python learners"


# ---- the directory -------------------------------------------------------------------------


def test_the_directory_lists_groups_with_their_members_and_the_viewers_role(
    client, manager, member, groups
):
    python = groups.create(manager, "Python learners", topic="Python")
    groups.create(manager, "Career changers", topic="Career change")
    groups.add(python, member)

    client.login(member)
    page = client.get("/groups/").text

    assert page.index("Career changers") < page.index("Python learners")
    assert "2 members" in page and "1 member" in page
    assert "You are a member" in page
    assert "You manage it" not in page


def test_the_group_page_shows_how_many_members_and_the_managers_by_name(
    client, manager, member, outsider, groups
):
    from plugins.groups.services import moderation

    group_id = groups.create(manager)
    groups.add(group_id, outsider, member)
    moderation.appoint_manager(group_id, manager, member.id)
    groups.db.session.commit()
    client.login(outsider)

    page = client.get(f"/groups/{group_id}").text

    assert "3 members" in page
    managers = page[page.index(">Managers</h2>") :]
    managers = managers[: managers.index("</ul>")]
    assert re.findall(r">([^<>]+)</a>", managers) == ["Grace Manager", "Mo Member"]


@pytest.mark.parametrize("words", ["python", "PRACTISE", "Learn Pyth", "data science"])
def test_the_directory_searches_names_descriptions_and_topics(client, manager, groups, words):
    groups.create(manager, "Python learners", description="We practise.", topic="Data science")
    groups.create(manager, "Gardening", description="Tomatoes", topic="Outdoors")

    client.login(manager)
    page = client.get("/groups/", query_string={"q": words}).text

    assert "Python learners" in page
    assert "Gardening" not in page


def test_a_search_finding_nothing_says_so(client, manager, groups):
    groups.create(manager, "Python learners")
    client.login(manager)

    page = client.get("/groups/", query_string={"q": "cobol"}).text

    assert "No group matches this search." in page


def test_searching_for_like_wildcards_finds_them_literally(client, manager, groups):
    groups.create(manager, "100% Python")
    groups.create(manager, "Gardening")
    client.login(manager)

    page = client.get("/groups/", query_string={"q": "%"}).text

    assert "100% Python" in page
    assert "Gardening" not in page


def test_an_empty_directory_invites_to_create_the_first_group(client, member):
    client.login(member)

    page = client.get("/groups/").text

    assert "There are no groups yet." in page
    assert 'href="/groups/new"' in page


def test_my_groups_lists_only_the_viewers_groups(client, manager, member, groups):
    python = groups.create(manager, "Python learners")
    groups.create(manager, "Gardening")
    groups.add(python, member)
    client.login(member)

    page = client.get("/groups/?mine=1").text
    assert "Python learners" in page and "Gardening" not in page
    assert "Gardening" not in client.get("/groups/?mine=1&q=garden").text


def test_my_groups_when_in_none_says_so(client, member):
    client.login(member)

    assert "You are in no group yet." in client.get("/groups/?mine=1").text


@per_page(groups_per_page=2)
def test_the_directory_comes_in_pages(client, manager, groups):
    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        groups.create(manager, name)
    client.login(manager)

    first = client.get("/groups/").text
    third = client.get("/groups/?page=3").text

    assert "Alpha" in first and "Bravo" in first and "Charlie" not in first
    assert "?page=2" in first
    assert "Echo" in third and "Delta" not in third
    assert "Next" not in third
    assert client.get("/groups/?page=banana").status_code == 200


# ---- the profile and the navigation ----------------------------------------------------------


def test_a_members_groups_show_in_the_groups_area_of_their_profile(client, manager, groups):
    groups.create(manager, "Python learners")
    groups.create(manager, "Hidden circle", visibility="members")

    client.login(manager)
    page = client.get(f"/members/{manager.id}/groups").text

    assert "Python learners" in page
    assert "Hidden circle" in page
    assert '<span class="badge text-bg-dark">Manager</span>' in page


def test_others_see_only_the_public_groups_of_a_member(client, manager, member, groups):
    groups.create(manager, "Python learners")
    hidden = groups.create(manager, "Hidden circle", visibility="members")
    groups.add(hidden, member)  # even a fellow member of the hidden group

    client.login(member)
    page = client.get(f"/members/{manager.id}/groups").text

    assert "Python learners" in page
    assert "Hidden circle" not in page


def test_a_member_without_groups_is_pointed_to_the_directory(client, member, outsider):
    client.login(member)
    assert "You are in no group yet." in client.get(f"/members/{member.id}/groups").text
    client.login(outsider)
    assert "You are in no group yet." not in client.get(f"/members/{member.id}/groups").text


def test_the_navigation_links_to_groups_and_counts_what_waits(
    client, manager, member, outsider, groups
):
    group_id = groups.create(manager, join_policy="request")
    client.login(outsider)
    client.post(f"/groups/{group_id}/request", data={"message": "Hello!"})

    client.login(manager)
    page = client.get("/groups/").text

    assert '<a class="nav-link active" aria-current="page" href="/groups/">Groups' in page
    assert 'data-nav-badge="groups.directory">1</span>' in page
    client.logout()
    assert 'href="/groups/"' not in client.get("/").text


def test_the_home_page_counts_the_public_groups(client, manager, groups):
    groups.create(manager, "Python learners")
    groups.create(manager, "Hidden circle", visibility="members")

    page = client.get("/").text

    assert re.search(r'<div class="counter">1</div>\s*<div class="text-muted">groups</div>', page)
