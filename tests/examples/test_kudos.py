"""The example plugin of docs/writing-plugins.md, installed as a package and enabled by name."""

import pytest
from sqlalchemy import func, select

from core.models import Activity, Notification
from core.plugins import installed_plugins

pytestmark = pytest.mark.plugins("kudos")


def test_the_example_is_installed_through_its_entry_point():
    plugin = installed_plugins()["kudos"]
    assert plugin.version == "1.0.0"
    assert plugin.load().__name__ == "alma_kudos.plugin"


def test_giving_kudos_records_an_activity_and_alerts_the_receiver(client, db, create_user):
    giver, receiver = create_user(display_name="Gina"), create_user(display_name="Rui")
    client.login(giver)

    page = client.post(
        f"/kudos/{receiver.id}", data={"message": "Great review!"}, follow_redirects=True
    )

    assert "Kudos sent to Rui." in page.text
    assert "“Great review!”" in page.text
    activity = db.session.scalar(select(Activity).where(Activity.user_id == giver.id))
    assert activity.kind == "kudos.given"
    alert = db.session.scalar(select(Notification).where(Notification.user_id == receiver.id))
    assert alert.message == "Gina gave you kudos: “Great review!”"


@pytest.mark.parametrize(
    ("to_self", "message", "expected"),
    [
        (True, "Me!", "You cannot give kudos to yourself."),
        (False, "   ", "Say thanks in 1 to 200 characters."),
    ],
)
def test_bad_kudos_are_refused_and_change_nothing(
    client, db, create_user, to_self, message, expected
):
    giver = create_user()
    receiver = giver if to_self else create_user()
    client.login(giver)

    page = client.post(f"/kudos/{receiver.id}", data={"message": message}, follow_redirects=True)

    assert expected in page.text
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 0


def test_kudos_twice_to_the_same_member_is_refused(client, db, create_user):
    giver, receiver = create_user(), create_user(display_name="Rui")
    client.login(giver)
    client.post(f"/kudos/{receiver.id}", data={"message": "Thanks"})

    page = client.post(
        f"/kudos/{receiver.id}", data={"message": "Thanks again"}, follow_redirects=True
    )

    assert "You already gave kudos to Rui." in page.text
    assert db.session.scalar(select(func.count()).select_from(Activity)) == 1


def test_the_home_page_counts_kudos(client, create_user):
    giver, receiver = create_user(), create_user()
    client.login(giver)
    client.post(f"/kudos/{receiver.id}", data={"message": "Thanks"})

    home = client.get("/").text

    assert "kudos given" in home


@pytest.mark.plugins()
def test_disabled_the_example_contributes_nothing(client, create_user):
    member = create_user()
    client.login(member)
    assert client.post(f"/kudos/{member.id}", data={"message": "x"}).status_code == 404
    assert "kudos given" not in client.get("/").text
