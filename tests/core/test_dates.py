"""One way to show dates: ``format_when`` (the filter ``when``) writes every date and time in
its reader's language and on their clock: the viewer of a page, the recipient of a mail even
when another member's request sends it. Two members 13 hours apart in December (Auckland and
London) read the same moment as different days."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

import pytest
import time_machine
from flask import Blueprint
from flask_login import current_user

from core import hookimpl
from core.contributions import MailKind
from core.db import db
from core.models import User
from core.services.mail import send_mail
from core.testing import body_of

MOMENT = datetime(2027, 12, 3, 23, 30, tzinfo=UTC)  # 23:30 in London, 12:30 next day in Auckland
ROOT = Path(__file__).resolve().parents[2]


class Reminder:
    """A throwaway plugin: a member's request mails another member a moment, written by the
    mail's own template (``{{ moment | when("zoned") }}``)."""

    def __init__(self, folder: Path) -> None:
        (folder / "mail").mkdir()
        (folder / "mail" / "reminder_moment.txt").write_text(
            'Hello {{ user.display_name }}: {{ moment | when("zoned") }}\n'
        )
        self.blueprint = Blueprint("reminder", __name__, template_folder=str(folder))
        self.blueprint.add_url_rule(
            "/reminder/<int:user_id>", view_func=self.send, methods=["POST"]
        )

    @staticmethod
    def send(user_id: int) -> str:
        recipient = db.session.get(User, user_id)
        send_mail(
            recipient.email, "A moment", "mail/reminder_moment", user=recipient, moment=MOMENT
        )
        db.session.commit()
        return f"sent by {current_user.display_name}"

    @hookimpl
    def register_blueprints(self):
        return [self.blueprint]

    @hookimpl
    def register_mail_kinds(self):
        # always sent, so without an unsubscribe footer after the moment
        moments = MailKind(
            "reminder.moments", "Moments", can_turn_off=False, templates=("mail/reminder_moment",)
        )
        return [moments]


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(
        extra_plugins={"reminder": Reminder(tmp_path)},
        PLUGINS=["reminder"],
        LANGUAGES=["en", "de"],
        DEFAULT_TIMEZONE="Pacific/Auckland",
    )


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_mail_is_written_as_its_recipient_reads_whoever_sends_it(client, mail, create_user):
    ana = create_user(display_name="Ana", timezone="Pacific/Auckland", locale="en")
    leo = create_user(display_name="Leo", timezone="Europe/London", locale="de")
    client.login(ana)
    assert client.post(f"/reminder/{leo.id}").text == "sent by Ana"
    client.post(f"/reminder/{ana.id}")

    received = {message["To"]: body_of(message).strip() for message in mail.deliver()}
    assert received[leo.email] == "Hello Leo: 3. Dez. 2027, 23:30 (Europe/London)"
    assert received[ana.email] == "Hello Ana: Dec 4, 2027, 12:30\u202fPM (Pacific/Auckland)"


def test_a_page_shows_a_date_on_its_viewers_clock(client, create_user):
    with time_machine.travel(MOMENT, tick=False):
        newcomer = create_user(display_name="Nia", timezone="Europe/London")
    ana = create_user(display_name="Ana", timezone="Pacific/Auckland")
    leo = create_user(display_name="Leo", timezone="Europe/London", locale="de")

    client.login(ana)
    assert "Member since Dec 4, 2027" in squeezed(client.get(f"/members/{newcomer.id}"))
    client.login(leo)
    assert "Mitglied seit 3. Dez. 2027" in squeezed(client.get(f"/members/{newcomer.id}"))


def squeezed(response) -> str:
    """The page's text without its tags, each run of blanks one space."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def test_every_template_writes_dates_with_the_one_helper():
    """Flask-Babel's own filters, ``strftime`` and ``isoformat`` give other shapes, or the
    server's clock: what a template shows goes through ``when`` (a link's parameters and a
    ``<time datetime>`` or ``data-`` attribute are for machines)."""
    other_ways = re.compile(r"\|\s*(dateformat|datetimeformat|timeformat)\b|strftime\(|isoformat\(")
    found = []
    templates = [
        ROOT.glob(f"{folder}/**/templates/**/*") for folder in ("core", "plugins", "examples")
    ]
    for template in chain(*templates):
        if template.suffix not in (".html", ".txt"):
            continue
        source = template.read_text()
        for shown in re.finditer(r"\{\{(.*?)\}\}", source, re.DOTALL):
            in_attribute = re.search(r'(datetime|data-[\w-]+)="$', source[: shown.start()])
            machine_read = "url_for(" in shown[1] or in_attribute is not None
            if other_ways.search(shown[1]) and not machine_read:
                found.append(f"{template.relative_to(ROOT)}: {shown[0]}")
    assert found == []
