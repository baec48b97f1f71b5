"""Mails a visitor's form sends to a member (a reset link, a warning that someone used their
address) are written in the member's language, subject and body alike, whatever language the
visitor's browser asked for (a small German catalog stands in for the ones not shipped yet)."""

from __future__ import annotations

import re

import pytest

from core.testing import TEST_PASSWORD, body_of, compiled_catalogs, path_of

GERMAN = {
    "Reset your password": "Setze dein Passwort zurück",
    "Your e-mail address was changed": "Deine E-Mail-Adresse wurde geändert",
    "Someone tried to register with your address": (
        "Jemand wollte sich mit deiner Adresse registrieren"
    ),
    "Confirm your e-mail address": "Bestätigen Sie Ihre E-Mail-Adresse",
    "If you did not register, ignore this message.": (
        "Falls Sie sich nicht registriert haben, ignorieren Sie diese Nachricht."
    ),
}


@pytest.fixture
def app(make_app, tmp_path):
    folder = compiled_catalogs(tmp_path / "translations", {"de": GERMAN})
    return make_app(LANGUAGES=["en", "de"], BABEL_TRANSLATION_DIRECTORIES=folder)


@pytest.fixture
def german_member(create_user):
    return create_user(display_name="Greta", email="greta@example.org", locale="de")


ENGLISH_BROWSER = {"Accept-Language": "en"}


def test_a_reset_link_reaches_a_member_in_her_language(client, mail, german_member):
    client.post("/reset", data={"email": "greta@example.org"}, headers=ENGLISH_BROWSER)

    [reset] = mail.deliver()
    assert reset["Subject"] == "Setze dein Passwort zurück"


def test_a_registration_with_a_members_address_warns_her_in_her_language(
    client, mail, german_member
):
    form = {"email": "greta@example.org", "display_name": "Eve", "password": TEST_PASSWORD}
    client.post("/register", data=form, headers=ENGLISH_BROWSER)

    [warning] = mail.deliver()
    assert warning["Subject"] == "Jemand wollte sich mit deiner Adresse registrieren"


def test_the_notice_of_a_changed_address_reaches_her_in_her_language(client, mail, german_member):
    client.login(german_member)
    form = {"em-new_email": "greta.neu@example.org", "em-current_password": TEST_PASSWORD}
    client.post("/account/email", data=form)
    [confirm] = mail.deliver()
    link = re.search(r"https?://\S+", body_of(confirm)).group()

    # followed from another browser, logged out, that asks for English
    other_browser = client.application.test_client()
    other_browser.get(path_of(link), headers=ENGLISH_BROWSER)

    [notice] = mail.deliver()
    assert notice["To"] == "greta@example.org"
    assert notice["Subject"] == "Deine E-Mail-Adresse wurde geändert"


def test_a_visitor_who_registers_in_german_keeps_german_for_their_mails(app, client, mail):
    form = {"email": "gerda@example.org", "display_name": "Gerda", "password": TEST_PASSWORD}
    client.post("/register", data=form, headers={"Accept-Language": "de-DE,de;q=0.9"})

    [confirm] = mail.deliver()
    assert confirm["Subject"] == "Bestätigen Sie Ihre E-Mail-Adresse"
    assert "Falls Sie sich nicht registriert haben" in body_of(confirm)
    # asked for again from a browser in English, the link comes in her language still
    client.post("/confirm", data={"email": "gerda@example.org"}, headers=ENGLISH_BROWSER)
    [again] = mail.deliver()
    assert again["Subject"] == "Bestätigen Sie Ihre E-Mail-Adresse"


def test_templates_and_code_follow_a_forced_language_and_return_to_the_pages_own(app):
    from flask import render_template_string
    from flask_babel import force_locale, gettext, refresh

    def title() -> tuple[str, str]:  # as a template and as Python code translate it
        return render_template_string('{{ _("Reset your password") }}'), gettext(
            "Reset your password"
        )

    german, english = ("Setze dein Passwort zurück",) * 2, ("Reset your password",) * 2
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert title() == german
        with force_locale("en"):  # a mail to an English-speaking member, sent from this page
            assert title() == english
        assert title() == german
        refresh()  # the language chosen anew (here: the same browser's)
        assert title() == german
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert title() == english
