"""A group's alerts and mails are written in their recipient's language, whoever's action
sends them (a small German catalog stands in for the ones the project does not ship yet)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.models import OutboxMail
from core.testing import compiled_catalogs, stored

GERMAN = {
    "Announcement in %(group)s: “%(text)s”": "Ankündigung in %(group)s: „%(text)s“",
    "%(name)s invites you to join the group %(group)s.": (
        "%(name)s lädt dich in die Gruppe %(group)s ein."
    ),
    "Invitation to join %(group)s": "Einladung in %(group)s",
}


@pytest.fixture
def app(make_app, tmp_path):
    folder = compiled_catalogs(tmp_path / "translations", {"de": GERMAN})
    return make_app(LANGUAGES=["en", "de"], BABEL_TRANSLATION_DIRECTORIES=folder)


def test_an_announcement_reaches_each_member_in_their_language(
    app, db, groups, act, alerts_of, manager, member, create_user
):
    german = create_user(display_name="Greta Deutsch", email="greta@example.org", locale="de")
    group_id = groups.create(manager)
    groups.add(group_id, member, german)

    act(manager, f"/groups/{group_id}/announcements", body="Wir treffen uns am Montag.")

    assert (
        alerts_of(german)[-1][0] == "Ankündigung in Python learners: „Wir treffen uns am Montag.“"
    )
    assert (
        alerts_of(member)[-1][0] == "Announcement in Python learners: “Wir treffen uns am Montag.”"
    )


def test_an_invitation_reaches_the_invitee_in_her_language(
    app, db, groups, act, alerts_of, manager, create_user
):
    german = create_user(display_name="Greta Deutsch", email="greta@example.org", locale="de")
    group_id = groups.create(manager)

    act(manager, f"/groups/{group_id}/invitations", member_id=str(german.id))

    assert alerts_of(german)[-1][0] == "Grace Manager lädt dich in die Gruppe Python learners ein."
    subject = select(OutboxMail.subject).where(OutboxMail.to_address == german.email)
    assert stored(app, subject) == "Einladung in Python learners"
