"""The Groups area of a profile is the groups plugin's: a tab it contributes, there while the
plugin is enabled and gone with it."""

from __future__ import annotations

import re

import pytest


def tab_titles(page: str) -> list[str]:
    tabs = page[page.index("profile-tabs") :]
    return re.findall(r">([^<>]+)</a>", tabs[: tabs.index("</ul>")])


def test_the_groups_area_is_a_tab_with_an_empty_state(client, create_user):
    member, viewer = create_user(display_name="Ada"), create_user()
    client.login(viewer)

    page = client.get(f"/members/{member.id}/groups")

    assert page.status_code == 200
    assert tab_titles(page.text) == ["Overview", "Groups"]
    assert "No groups here yet." in page.text  # Ada is in none, and says so to no one else


@pytest.mark.plugins("mentoring", "wiki", "credits")
def test_without_groups_there_is_no_groups_area(client, create_user):
    member, viewer = create_user(), create_user()
    client.login(viewer)

    profile = client.get(f"/members/{member.id}").text
    area = client.get(f"/members/{member.id}/groups")

    assert tab_titles(profile) == ["Overview", "Mentoring"]
    assert "No groups here yet." not in profile
    assert area.status_code == 404
    assert "No groups here yet." not in area.text
