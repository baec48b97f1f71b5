"""The language switch in every page's footer: a member's choice is kept on their account,
a visitor's in their session, and a visitor who chose nothing gets the language their
browser prefers among ``LANGUAGES``."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.models import User
from core.testing import stored

GERMAN_BROWSER = {"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"}
ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.8"}


def language_of(page) -> str:
    return re.search(r'<html lang="([^"]+)"', page.text).group(1)


def choose(client, locale: str, back: str = "/register", **headers):
    return client.post("/language", data={"site_language": locale, "back": back}, headers=headers)


def test_every_page_offers_the_sites_languages_each_named_in_itself(client):
    page = client.get("/login", headers=ENGLISH_BROWSER).text

    footer = page[page.index("<footer") :]
    assert '<label for="site-language">Site language</label>' in footer
    assert '<option value="en" lang="en" selected>English</option>' in footer
    assert '<option value="de" lang="de">Deutsch</option>' in footer
    assert 'name="back" value="/login"' in footer


def test_a_visitor_gets_the_language_their_browser_prefers(client):
    assert language_of(client.get("/", headers=GERMAN_BROWSER)) == "de"
    assert language_of(client.get("/", headers=ENGLISH_BROWSER)) == "en"


def test_a_browser_asking_for_no_language_of_the_site_gets_the_first(client):
    assert language_of(client.get("/", headers={"Accept-Language": "ja, fr;q=0.5"})) == "en"


def test_a_visitors_choice_outweighs_their_browser_and_returns_them_to_their_page(client):
    response = choose(client, "de", "/register?next=%2Fme", **ENGLISH_BROWSER)

    assert response.status_code == 302
    assert response.headers["Location"] == "/register?next=%2Fme"
    assert language_of(client.get("/", headers=ENGLISH_BROWSER)) == "de"


def test_a_members_choice_is_kept_on_their_account(app, client, create_user):
    member = create_user(display_name="Greta")
    client.login(member)

    choose(client, "de", **ENGLISH_BROWSER)

    assert stored(app, select(User.locale).where(User.id == member.id)) == "de"
    elsewhere = app.test_client()  # another browser, that asks for English
    elsewhere.login(member)
    assert language_of(elsewhere.get("/", headers=ENGLISH_BROWSER)) == "de"


@pytest.mark.parametrize("locale", ["fr", "", "de\nx"])
def test_a_language_the_site_does_not_offer_is_refused(app, client, create_user, locale):
    member = create_user(locale="en")
    client.login(member)

    assert choose(client, locale).status_code == 400
    assert stored(app, select(User.locale).where(User.id == member.id)) == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\t/evil"])
def test_it_never_sends_a_visitor_off_the_site(client, target):
    response = choose(client, "de", target)

    assert response.headers["Location"] == "/"


def test_the_switch_needs_the_forms_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()

    assert choose(client, "de").status_code == 400
    page = client.get("/", headers=ENGLISH_BROWSER)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/language", data={"site_language": "de", "csrf_token": token})
    assert response.status_code == 302
    assert language_of(client.get("/", headers=ENGLISH_BROWSER)) == "de"
