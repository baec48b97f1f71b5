"""A member suspended by staff (core's console) is listed in no group's members or managers,
nor among those a manager may invite; lifting the suspension lists them again."""

from __future__ import annotations


def suspension(client, coordinator, member, act: str) -> None:
    client.login(coordinator)
    response = client.post(f"/admin/members/{member.id}/{act}", data={"reason": "spam"})
    assert response.status_code == 302


def test_a_suspended_member_is_in_no_group_list_nor_invite_search(
    client, groups, manager, member, outsider, create_user
):
    coordinator = create_user(role="coordinator")
    mona = create_user(display_name="Mona Lisa")
    group_id = groups.create(manager)
    groups.add(group_id, member)

    def members_shown() -> bool:
        client.login(outsider)
        return "Mo Member" in client.get(f"/groups/{group_id}/members").text

    def invitable() -> bool:
        client.login(manager)
        return "Mona Lisa" in client.get(f"/groups/{group_id}/manage?q=Mona").text

    assert members_shown() and invitable()

    suspension(client, coordinator, member, "suspend")
    suspension(client, coordinator, mona, "suspend")
    assert not members_shown()
    assert not invitable()

    suspension(client, coordinator, member, "unsuspend")
    suspension(client, coordinator, mona, "unsuspend")
    assert members_shown() and invitable()


def test_a_suspended_manager_is_not_named_on_the_group_page(
    client, groups, manager, member, create_user
):
    coordinator = create_user(role="coordinator")
    group_id = groups.create(manager)

    def managers_named() -> bool:
        client.login(member)
        return "Grace Manager" in client.get(f"/groups/{group_id}").text

    assert managers_named()
    suspension(client, coordinator, manager, "suspend")
    assert not managers_named()
