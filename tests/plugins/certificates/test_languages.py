"""A holder's alerts about their certificate are written in their language, whoever's job or
command sends them (a small German catalog stands in for the ones the project does not ship
yet)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import db as _db
from core.models import Notification
from core.testing import compiled_catalogs, stored
from plugins.certificates.models import Certificate

from .conftest import FINISHED, CertificateProbe

GERMAN = {
    "Your certificate “%(achievement)s” is ready.": "Dein Zertifikat „%(achievement)s“ ist fertig.",
    "Your certificate %(number)s was revoked: %(reason)s": (
        "Dein Zertifikat %(number)s wurde widerrufen: %(reason)s"
    ),
}


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(
        extra_plugins={"probe": CertificateProbe()},
        PLUGINS=["probe", "certificates"],
        PLUGIN_SETTINGS={"certificates": {"goal_kinds": [FINISHED]}},
        LANGUAGES=["en", "de"],
        BABEL_TRANSLATION_DIRECTORIES=compiled_catalogs(tmp_path / "translations", {"de": GERMAN}),
    )


def alerts_of(app, member) -> list[str]:
    with app.app_context():
        try:
            return list(
                _db.session.scalars(
                    select(Notification.message)
                    .where(Notification.user_id == member.id)
                    .order_by(Notification.id)
                )
            )
        finally:
            _db.session.remove()


def test_a_holder_hears_of_their_certificate_in_their_language(
    app, create_user, complete_goal, run_render_job, operator
):
    ada = create_user(display_name="Ada Lovelace")
    bob = create_user(display_name="Bob Smith", locale="de")
    complete_goal(ada, bob)

    run_render_job()  # a scheduler's job: nobody's request, nobody's language
    number = stored(app, select(Certificate.number).where(Certificate.user_id == bob.id))
    operator("revoke", number, "--reason", "Irrtum")

    assert alerts_of(app, bob) == [
        "Dein Zertifikat „Finished the probe course“ ist fertig.",
        f"Dein Zertifikat {number} wurde widerrufen: Irrtum",
    ]
    assert alerts_of(app, ada) == ["Your certificate “Finished the probe course” is ready."]
