"""The example plugin beside the credits plugin: kudos declares its kind and says nothing of
its worth, so giving kudos earns credits only once the operator writes a rule for it."""

import re

import pytest

pytestmark = pytest.mark.plugins("kudos", "credits")


@pytest.fixture
def credits_settings() -> dict:
    return {}


@pytest.fixture
def app(make_app, credits_settings):
    return make_app(PLUGIN_SETTINGS={"credits": credits_settings})


def give_kudos_and_read_the_givers_facts(client, create_user) -> str:
    giver, receiver = create_user(), create_user()
    client.login(giver)
    client.post(f"/kudos/{receiver.id}", data={"message": "Thanks"})
    found = re.search(r'member-facts">([^<]*)<', client.get(f"/members/{giver.id}").text)
    return found[1].strip() if found else ""


def test_without_a_rule_kudos_earn_nothing(client, create_user):
    assert give_kudos_and_read_the_givers_facts(client, create_user) == ""
    assert "Gave kudos" not in client.get("/credits/").text  # not among the ways to earn


@pytest.mark.parametrize("credits_settings", [{"rules": {"kudos.given": 2}}])
def test_the_operators_rule_gives_kudos_their_worth(client, create_user):
    assert give_kudos_and_read_the_givers_facts(client, create_user) == "2 credits"
    how_to_earn = client.get("/credits/").text.split("How to earn credits")[1]
    assert re.search(r"Gave kudos</span>\s*<span[^>]*>\+2<", how_to_earn)
