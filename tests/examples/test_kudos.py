"""The example plugin of docs/writing-plugins.md, installed as a package and enabled by name."""

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from alma_kudos import services
from alma_kudos.models import Kudos
from core.api import Activity, ConfigError, Goal, goal_facts
from core.models import Notification
from core.plugins import installed_plugins
from core.testing import body_of, run_job

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


# ---- what the example shows of core.api, each as a plugin author tests it ------------------


def give(client, giver, receiver, message="Thanks!"):
    client.login(giver)
    return client.post(f"/kudos/{receiver.id}", data={"message": message}, follow_redirects=True)


def test_the_giver_withdraws_kudos_and_the_activity_is_undone(client, db, create_user):
    giver, receiver = create_user(), create_user(display_name="Rui")
    give(client, giver, receiver, "Great review!")
    [kudos] = db.session.scalars(select(Kudos))

    profile = client.get(f"/members/{receiver.id}").text
    assert f"/kudos/{kudos.id}/withdraw" in profile  # the giver's only button: Withdraw
    assert f"/kudos/{kudos.id}/keep" not in profile
    page = client.post(
        f"/kudos/{kudos.id}/withdraw",
        data={"next": f"/members/{receiver.id}"},
        follow_redirects=True,
    )

    assert "Kudos withdrawn." in page.text
    assert "Great review!" not in page.text
    assert f"/kudos/{kudos.id}/withdraw" not in page.text
    db.session.refresh(kudos)
    assert kudos.status == "withdrawn"
    assert thanks_goal(db).declined_at is not None
    activity = db.session.scalar(select(Activity).where(Activity.user_id == giver.id))
    assert activity.undone_at is not None
    again = give(client, giver, receiver, "Sorry, thanks after all")  # one kudos per pair
    assert "You already gave kudos to Rui." in again.text


def thanks_goal(db):
    return db.session.scalar(select(Goal).where(Goal.kind == "kudos.thanked"))


def test_the_receiver_keeps_kudos_from_their_kudos_page(client, db, create_user):
    giver, receiver = create_user(display_name="Gina"), create_user()
    give(client, giver, receiver, "Great review!")
    kudos_id = db.session.scalar(select(Kudos.id))

    client.login(receiver)
    listed = client.get("/kudos/").text
    assert ">Keep</button>" in listed and ">Decline</button>" in listed
    assert "/withdraw" not in listed
    page = client.post(f"/kudos/{kudos_id}/keep", follow_redirects=True)

    assert "Kept among your completed goals." in page.text
    assert ">Keep</button>" not in page.text  # nothing is left to answer
    goal = thanks_goal(db)
    assert goal.completed_at is not None
    assert goal_facts(goal) == [("From", "Gina"), ("Thanks", "Great review!")]


def test_kudos_kept_from_the_goal_are_kept_and_can_no_longer_be_withdrawn(client, db, create_user):
    giver, receiver = create_user(display_name="Gina"), create_user()
    give(client, giver, receiver, "Great review!")
    goal = thanks_goal(db)

    client.login(receiver)
    page = client.post(f"/goals/{goal.id}/consent", follow_redirects=True)

    assert "Goal completed: Thanked by Gina" in page.text
    [kudos] = db.session.scalars(select(Kudos))
    assert kudos.status == "kept"
    client.login(giver)
    profile = client.get(f"/members/{receiver.id}").text
    assert "“Great review!” (kept)" in profile
    assert f"/kudos/{kudos.id}/withdraw" not in profile
    refused = client.post(f"/kudos/{kudos.id}/withdraw", follow_redirects=True)
    assert "They kept these kudos: they can no longer be withdrawn or declined." in refused.text


@pytest.mark.parametrize("where", ["goal", "kudos page"])
def test_the_receiver_declines_kudos_and_they_are_gone(client, db, create_user, where):
    giver, receiver = create_user(), create_user()
    give(client, giver, receiver, "Great review!")
    [kudos] = db.session.scalars(select(Kudos))

    client.login(receiver)
    if where == "goal":
        client.post(f"/goals/{thanks_goal(db).id}/decline")
    else:
        page = client.post(f"/kudos/{kudos.id}/decline", follow_redirects=True)
        assert "Kudos declined." in page.text

    db.session.refresh(kudos)
    assert kudos.status == "declined"
    client.login(giver)  # (the receiver's own profile still lists the alert)
    assert "Great review!" not in client.get(f"/members/{receiver.id}").text
    assert services.total_kudos() == 0  # the home page counts kudos standing
    activity = db.session.scalar(select(Activity).where(Activity.user_id == giver.id))
    assert activity.undone_at is not None


def test_kudos_answered_once_refuse_a_second_answer(client, db, create_user):
    giver, receiver = create_user(), create_user()
    give(client, giver, receiver)
    kudos_id = db.session.scalar(select(Kudos.id))
    client.post(f"/kudos/{kudos_id}/withdraw")

    client.login(receiver)
    page = client.post(f"/kudos/{kudos_id}/keep", follow_redirects=True)

    assert "These kudos were withdrawn already." in page.text
    assert thanks_goal(db).completed_at is None


@pytest.mark.parametrize(
    ("who", "action", "status", "words"),
    [
        ("receiver", "withdraw", 403, "Only the giver can withdraw kudos."),
        ("giver", "keep", 403, "Only the receiver can keep or decline kudos."),
        ("receiver", "frame", 404, "Kudos cannot be answered that way."),
        ("stranger", "withdraw", 404, "There are no such kudos."),
    ],
)
def test_only_the_side_a_step_names_may_take_it(
    client, db, create_user, who, action, status, words
):
    members = {"giver": create_user(), "receiver": create_user(), "stranger": create_user()}
    give(client, members["giver"], members["receiver"])
    kudos_id = db.session.scalar(select(Kudos.id))

    client.login(members[who])
    page = client.post(f"/kudos/{kudos_id}/{action}")

    assert page.status_code == status
    assert words in page.text
    assert db.session.scalar(select(Kudos.status)) == "sent"


@pytest.fixture
def app(make_app):
    """Settings for the example, as an operator's ``[plugins.kudos]`` table gives them."""
    return make_app(PLUGIN_SETTINGS={"kudos": {"per_day": 2}})


def test_a_member_gives_per_day_kudos_a_day(client, create_user):
    giver = create_user()
    receivers = [create_user(display_name=f"Receiver {n}") for n in range(3)]
    with time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False) as clock:
        give(client, giver, receivers[0])
        give(client, giver, receivers[1])
        refused = give(client, giver, receivers[2])
        clock.move_to(datetime(2027, 3, 2, 9, 1, tzinfo=UTC))
        accepted = give(client, giver, receivers[2])

    assert "You gave 2 kudos in the last 24 hours: give more tomorrow." in refused.text
    assert "Kudos sent to Receiver 2." in accepted.text


def test_a_bad_setting_stops_startup_naming_it(make_app):
    with pytest.raises(ConfigError, match=r"plugins\.kudos\.per_day"):
        make_app(PLUGIN_SETTINGS={"kudos": {"per_day": 0}})


def test_the_kudos_page_shows_them_a_page_at_a_time_and_clears_the_badge(
    client, db, create_user, monkeypatch
):
    monkeypatch.setattr(services, "PER_PAGE", 2)
    receiver = create_user(display_name="Rui")
    for n in range(3):
        db.session.add(Kudos(giver_id=create_user().id, receiver_id=receiver.id, message=f"#{n}"))
    db.session.commit()
    client.login(receiver)
    assert 'data-nav-badge="kudos.index">3</span>' in client.get("/").text

    first = client.get("/kudos/").text
    second = client.get("/kudos/?page=2").text

    assert "“#2”" in first and "“#1”" in first and "“#0”" not in first
    assert "“#0”" in second and "?page=1" in second
    assert 'data-nav-badge="kudos.index">0</span>' in client.get("/").text


def test_the_daily_digest_mails_each_kudos_once(client, db, create_user, mail):
    receiver = create_user(display_name="Rui", timezone="Europe/Lisbon")
    with time_machine.travel(datetime(2027, 7, 1, 21, 30, tzinfo=UTC), tick=False):
        give(client, create_user(display_name="Gina"), receiver, "Great review!")

    run_job(client.application, "kudos.digest")
    run_job(client.application, "kudos.digest")  # nothing left to mail
    [received] = mail.deliver()

    assert received["To"] == receiver.email
    assert received["Subject"] == "You received 1 kudos"
    body = body_of(received)
    assert "“Great review!” from Gina, Jul 1, 2027, 10:30\u202fPM (Europe/Lisbon)" in body
    assert "http://alma.test/kudos/" in body


def test_member_cards_say_how_many_kudos_a_member_received(client, create_user):
    receiver = create_user()
    give(client, create_user(), receiver)
    assert "1 kudos" in client.get(f"/members/{receiver.id}").text


def test_the_receiver_hears_of_kudos_live_and_a_tab_asks_how_many_are_new(
    client, create_user, socket_as
):
    giver, receiver = create_user(display_name="Gina"), create_user()
    tab = socket_as(receiver, "kudos.received", "badge")

    give(client, giver, receiver)

    assert tab.next("kudos.received") == {"from": "Gina"}
    assert tab.next("badge") == {"endpoint": "kudos.index", "count": 1}
    assert tab.call("kudos.unseen") == {"unseen": 1}


# ---- the plugin's part of the HTTP API -------------------------------------------------------


def test_kudos_are_given_and_read_through_the_api_by_the_pages_rules(client, db, create_user):
    from core.services.tokens import create_token

    giver, receiver = create_user(display_name="Gina"), create_user(display_name="Rui")
    giving = {"Authorization": f"Bearer {create_token(giver, 'bot', 'write')}"}
    reading = {"Authorization": f"Bearer {create_token(receiver, 'app', 'read')}"}
    db.session.commit()

    given = client.post(
        "/api/v1/kudos", json={"receiver_id": receiver.id, "message": "Thanks!"}, headers=giving
    )
    assert given.status_code == 201
    assert given.json["message"] == "Thanks!" and given.json["status"] == "sent"
    again = client.post(
        "/api/v1/kudos", json={"receiver_id": receiver.id, "message": "Again"}, headers=giving
    )
    assert again.status_code == 422
    assert again.json["detail"] == "You already gave kudos to Rui."
    nobody = client.post("/api/v1/kudos", json={"receiver_id": 999, "message": "x"}, headers=giving)
    assert nobody.status_code == 404
    beyond = client.post(
        "/api/v1/kudos", json={"receiver_id": 2**64, "message": "x"}, headers=giving
    )
    assert beyond.status_code == 422 and "receiver_id" in beyond.json["errors"]["json"]

    received = client.get("/api/v1/kudos/received", headers=reading).json
    assert [kudos["message"] for kudos in received["items"]] == ["Thanks!"]
    assert received["next"] is None
    document = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/kudos", "/api/v1/kudos/received"} <= set(document["paths"])
