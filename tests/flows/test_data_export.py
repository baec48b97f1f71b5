"""A member downloads a copy of their data (My data): core's part and each plugin's
(``export_member_data``) in one ZIP, built by a job, sent by alert and mail, for them alone,
for 7 days, once a day."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from alma_kudos.services import give_kudos
from core.models import DataExport
from core.testing import body_of, count_rows, run_job
from plugins.certificates.models import RENDERED, Certificate
from plugins.groups.services import directory, forum
from plugins.mentoring.services import agreements, chat, lifecycle, meetings
from plugins.wiki import services as wiki

pytestmark = pytest.mark.plugins("mentoring", "wiki", "groups", "credits", "certificates", "kudos")

JOB = "core.build_data_exports"
OTHER_EMAIL = "max@example.org"


@pytest.fixture
def pair(create_user):
    mentee = create_user(display_name="Mia Mentee", email="mia@example.org", bio="I like Rust.")
    mentor = create_user(display_name="Max Mentor", email=OTHER_EMAIL, wants_to_mentor=True)
    return mentee, mentor


@pytest.fixture
def active_member(db, pair):
    """Mia, with a mentorship and its chat, a wiki article and a rating, a group and its
    first post, kudos, credits and a certificate."""
    mia, max_ = pair
    mentorship = lifecycle.send_request(mia, max_, "Would you mentor me?")
    lifecycle.accept_request(mentorship.id, max_)
    today = datetime.now(UTC).date()
    terms = agreements.Terms(today, today + timedelta(days=60), 2, "Video calls", 14)
    agreements.approve(agreements.propose_agreement(mentorship.id, mia, terms).id, max_)
    plan = meetings.MeetingPlan(
        datetime.now(UTC) + timedelta(days=2), 60, "https://meet.example.org/mia-max"
    )
    meetings.approve(meetings.schedule(mentorship.id, mia, plan).id, max_)
    chat.post_message(mentorship.id, mia, "Hello Max, shall we meet on Tuesday?")
    chat.post_message(mentorship.id, max_, "Tuesday suits me.")
    wiki.create_article(mia, "Borrowing in Rust", "The borrow checker, explained kindly.")
    theirs = wiki.create_article(max_, "Code review", "How to review a change.")
    wiki.rate_article(theirs.id, mia, 4)
    group = directory.create_group(mia, name="Rustaceans")
    forum.start_topic(group.id, mia, "Welcome", "Say hello to the group here.")
    give_kudos(max_, mia, "Thanks for the great questions")
    give_kudos(mia, max_, "Thanks for your patience")
    db.session.add(
        Certificate(
            number="ALMA-TEST-0001",
            user_id=mia.id,
            holder_name=mia.display_name,
            goal_kind="mentoring.finished",
            achievement="Finished a mentorship",
            goal_title="A mentorship",
            completed_on=date(2026, 11, 30),
            facts=[],
            status=RENDERED,
            rendered_at=datetime.now(UTC),
            pdf=b"%PDF-1.7 the certificate of Mia",
        )
    )
    db.session.commit()
    return mia, mentorship.id


def ask_for_export(client):
    return client.post("/me/data/export", follow_redirects=True)


def link_in(mail) -> str:
    """The site path of the download link of the mail ``mail``."""
    (message,) = mail
    return re.search(r"https?://[^/\s]+(/me/data/export/[\w-]+)", body_of(message)).group(1)


def zip_files(response) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_member_downloads_every_part_of_their_data(app, client, mail, pair, active_member):
    mia, mentorship_id = active_member
    client.login(mia)

    page = html.unescape(ask_for_export(client).get_data(as_text=True))
    assert "We are gathering your data." in page
    assert "Your copy is being prepared" in page
    run_job(app, JOB)

    received = [m for m in mail.deliver() if m["Subject"] == "Your data is ready to download"]
    assert [m["To"] for m in received] == ["mia@example.org"]
    path = link_in(received)
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    files = zip_files(response)

    assert {
        "README.txt",
        "core.json",
        "mentoring.json",
        f"mentoring/chat-{mentorship_id}.txt",
        "wiki.json",
        "groups.json",
        "credits.json",
        "certificates.json",
        "certificates/certificate-ALMA-TEST-0001.pdf",
        "kudos.json",
    } <= set(files)
    readme = files["README.txt"].decode()
    for part in ("core", "mentoring", "wiki", "groups", "credits", "certificates", "kudos"):
        assert f"{part}.json: " in readme

    core = json.loads(files["core.json"])
    assert core["profile"]["email"] == "mia@example.org"
    assert core["profile"]["bio"] == "I like Rust."
    mentoring = json.loads(files["mentoring.json"])
    assert mentoring["mentorships"][0]["with"] == "Max Mentor"
    assert mentoring["mentorships"][0]["request_message"] == "Would you mentor me?"
    (agreement,) = mentoring["mentorships"][0]["agreements"]
    assert (agreement["channels"], agreement["proposed_by"]) == ("Video calls", "Mia Mentee")
    (meeting,) = mentoring["mentorships"][0]["meetings"]
    assert meeting["place"] == "https://meet.example.org/mia-max"
    transcript = files[f"mentoring/chat-{mentorship_id}.txt"].decode()
    assert "Mia Mentee: Hello Max, shall we meet on Tuesday?" in transcript
    assert "Max Mentor: Tuesday suits me." in transcript
    wiki_part = json.loads(files["wiki.json"])
    assert [a["title"] for a in wiki_part["articles_created"]] == ["Borrowing in Rust"]
    assert wiki_part["ratings"] == [
        {"article": "Code review", "stars": 4, "rated_at": wiki_part["ratings"][0]["rated_at"]}
    ]
    groups = json.loads(files["groups.json"])
    assert groups["memberships"][0]["group"] == "Rustaceans"
    assert groups["forum_posts"][0]["body"] == "Say hello to the group here."
    credits = json.loads(files["credits.json"])
    assert credits["balance"] > 0 and credits["ledger"]
    assert files["certificates/certificate-ALMA-TEST-0001.pdf"].startswith(b"%PDF")
    kudos = json.loads(files["kudos.json"])
    assert [(k["from"], k["message"]) for k in kudos["received"]] == [
        ("Max Mentor", "Thanks for the great questions")
    ]
    assert [(k["to"], k["message"]) for k in kudos["given"]] == [
        ("Max Mentor", "Thanks for your patience")
    ]
    # the other member appears by name only: their e-mail is nowhere in the ZIP
    assert not [name for name, content in files.items() if OTHER_EMAIL.encode() in content]

    # the site alert links to the same download, and My data offers it
    alerts = html.unescape(client.get("/alerts/").get_data(as_text=True))
    assert "A copy of your data is ready to download for 7 days." in alerts
    assert path in client.get("/me/data").get_data(as_text=True)


def test_only_the_member_downloads_only_for_7_days(app, client, mail, pair):
    mia, max_ = pair
    client.login(mia)
    ask_for_export(client)
    run_job(app, JOB)
    path = link_in(mail.deliver())

    client.login(max_)
    assert client.get(path).status_code == 404
    client.logout()
    assert client.get(path).status_code in (302, 401)  # to the login page
    client.login(mia)
    assert client.get(path).status_code == 200

    with time_machine.travel(datetime.now(UTC) + timedelta(days=7, minutes=1)):
        assert client.get(path).status_code == 404
        run_job(app, JOB)
    assert count_rows(app, DataExport) == 0
    assert not list((Path(app.instance_path) / "exports").glob("*.zip"))


def test_a_second_export_the_same_day_is_refused(app, client, mail, pair):
    mia, _max = pair
    client.login(mia)
    ask_for_export(client)
    run_job(app, JOB)

    page = html.unescape(client.get("/me/data").get_data(as_text=True))
    assert "You can ask for a copy once a day: a new one from" in page
    assert "Download my data" not in page
    # asked all the same (a second tab, a form posted twice): refused, saying why
    page = html.unescape(ask_for_export(client).get_data(as_text=True))

    assert "You asked for a copy of your data less than a day ago." in page
    assert count_rows(app, DataExport) == 1
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1, minutes=1)):
        assert "Download my data" in client.get("/me/data").get_data(as_text=True)
        ask_for_export(client)
        assert count_rows(app, DataExport) == 2
