"""Alerts and mails about a mentorship are written in their recipient's language, whoever's
action sends them (the project ships no catalogs yet: a small German one stands in)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from core.models import Notification, OutboxMail, User
from core.testing import body_of, compiled_catalogs, stored
from plugins.mentoring.models import AgreementVersion
from plugins.mentoring.services import agreements, meetings

from .conftest import agreement_terms

GERMAN = {
    "%(name)s asks you to be their mentor: “%(message)s”": (
        "%(name)s bittet dich, ihr Mentor zu sein: „%(message)s“"
    ),
    "Mentorship request from %(name)s": "Mentoring-Anfrage von %(name)s",
    "%(name)s keeps the meeting as it was.": "%(name)s lässt das Treffen, wie es war.",
    "%(name)s agreed to your change of the meeting.": (
        "%(name)s ist mit deiner Änderung einverstanden."
    ),
    "%(name)s sent you the mentorship agreement to approve.": (
        "%(name)s hat dir die Mentoring-Vereinbarung geschickt."
    ),
    "%(name)s sent the agreement back: “%(comment)s”": (
        "%(name)s hat die Vereinbarung zurückgeschickt: „%(comment)s“"
    ),
    "%(name)s approved the agreement: your mentorship has officially started.": (
        "%(name)s hat die Vereinbarung angenommen: euer Mentoring hat begonnen."
    ),
    "%(name)s proposes to amend your mentorship agreement.": (
        "%(name)s schlägt eine Änderung eurer Vereinbarung vor."
    ),
    "%(name)s proposes a meeting on %(when)s.": "%(name)s schlägt ein Treffen am %(when)s vor.",
    "%(name)s proposes a meeting": "%(name)s schlägt ein Treffen vor",
    "Hello %(name)s,": "Hallo %(name)s,",
}


@pytest.fixture
def app(make_app, tmp_path):
    """The app in English and German, :data:`GERMAN` its German catalog."""
    folder = compiled_catalogs(tmp_path / "translations", {"de": GERMAN})
    return make_app(LANGUAGES=["en", "de"], BABEL_TRANSLATION_DIRECTORIES=folder)


def reads_german(db, member: User) -> None:
    member.locale = "de"
    db.session.commit()


def last_alert(app, member: User) -> str:
    return stored(
        app,
        select(Notification.message)
        .where(Notification.user_id == member.id)
        .order_by(Notification.id.desc())
        .limit(1),
    )


def last_subject(app, member: User) -> str:
    return stored(
        app,
        select(OutboxMail.subject)
        .where(OutboxMail.to_address == member.email)
        .order_by(OutboxMail.id.desc())
        .limit(1),
    )


def test_a_request_reaches_the_mentor_in_his_language(app, client, db, mentee, mentor):
    reads_german(db, mentor)
    client.login(mentee)
    client.post(f"/mentoring/request/{mentor.id}", data={"message": "Hallo!"})

    assert last_alert(app, mentor) == "Mia Mentee bittet dich, ihr Mentor zu sein: „Hallo!“"
    assert last_subject(app, mentor) == "Mentoring-Anfrage von Mia Mentee"


def test_the_agreement_alerts_reach_each_party_in_their_language(
    app, client, db, pairs, mentee, mentor
):
    reads_german(db, mentor)
    reads_german(db, mentee)
    accepted = pairs.accept(mentee, mentor)

    first = agreements.propose_agreement(accepted, mentee, agreement_terms()).id
    db.session.commit()
    assert last_alert(app, mentor) == "Mia Mentee hat dir die Mentoring-Vereinbarung geschickt."
    agreements.send_back(first, mentor, "Weniger.")
    db.session.commit()
    assert last_alert(app, mentee) == "Max Mentor hat die Vereinbarung zurückgeschickt: „Weniger.“"
    second = agreements.propose_agreement(accepted, mentee, agreement_terms(meetings_planned=4))
    agreements.approve(second.id, mentor)
    db.session.commit()
    assert last_alert(app, mentee) == (
        "Max Mentor hat die Vereinbarung angenommen: euer Mentoring hat begonnen."
    )
    agreements.propose_amendment(accepted, mentee, agreement_terms(meetings_planned=5), "Mehr.")
    db.session.commit()
    assert last_alert(app, mentor) == "Mia Mentee schlägt eine Änderung eurer Vereinbarung vor."
    assert stored(app, select(func.count()).select_from(AgreementVersion)) == 3


@pytest.mark.parametrize(
    ("answer", "german"),
    [
        ("refuse", "Max Mentor lässt das Treffen, wie es war."),
        ("accept", "Max Mentor ist mit deiner Änderung einverstanden."),
    ],
)
def test_the_answer_to_a_change_reaches_its_proposer_in_her_language(
    app, client, db, pairs, planner, mentee, mentor, answer, german
):
    active = pairs.active(mentee, mentor)
    meeting_id = planner.schedule(active, mentee, mentor)
    reads_german(db, mentee)
    change = meetings.propose_change(meeting_id, mentee, meetings.CANCEL, None, "")
    db.session.commit()

    client.login(mentor)
    client.post(f"/mentoring/meetings/changes/{change.id}/{answer}")

    assert last_alert(app, mentee) == german


def test_an_english_members_action_reaches_a_german_member_in_his_language_and_zone(
    app, client, db, mail, pairs, mentee, mentor
):
    """Mia (English, Auckland, an English browser) proposes a meeting on the page: Max (German,
    Vienna) reads its alert and its mail in German, the time on his clock, as Germans write
    dates."""
    mentee.timezone = "Pacific/Auckland"
    mentor.timezone, mentor.locale = "Europe/Vienna", "de"
    db.session.commit()
    with time_machine.travel(datetime(2027, 11, 20, 9, 0, tzinfo=UTC), tick=False):
        mentorship_id = pairs.active(mentee, mentor)
        mail.deliver()  # the mails that made the mentorship
        client.login(mentee)
        client.post(
            f"/mentoring/{mentorship_id}/meetings/new",
            data={"day": "2027-12-04", "time": "12:30", "duration_minutes": "60", "place": "Zoom"},
            headers={"Accept-Language": "en"},
        )
        received = mail.deliver()

    # 12:30 in Auckland is 00:30 in Vienna
    german = "Mia Mentee schlägt ein Treffen am 4. Dez. 2027, 00:30 (Europe/Vienna) vor."
    assert last_alert(app, mentor) == german
    [to_max] = received
    assert to_max["Subject"] == "Mia Mentee schlägt ein Treffen vor"
    assert body_of(to_max).startswith("Hallo Max Mentor,")
    assert german in body_of(to_max)
