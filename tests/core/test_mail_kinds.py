"""Mail kinds (issue 16): each member chooses per kind at once, daily digest or off; every
mail that can be turned off carries a one-click unsubscribe link (RFC 8058) that works without
login; account security mails always go out. Real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Blueprint
from sqlalchemy import select, update

from core import hookimpl
from core.contributions import MAIL_DIGEST, MAIL_OFF, MailKind
from core.db import db as database
from core.db import utcnow
from core.models import HeldMail, MailPreference, OutboxMail, User
from core.plugins import PluginError
from core.services import mail_kinds
from core.services.accounts import change_password
from core.services.mail import deliver_outbox, send_mail
from core.services.notifications import notify
from core.testing import (
    TEST_PASSWORD,
    Mailbox,
    body_of,
    count_rows,
    free_port,
    path_of,
    run_job,
    stored,
)

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
NEWS, TIPS, WEEKLY = "probe.news", "probe.tips", "probe.weekly"


class MailingProbe:
    """A throwaway plugin that sends alerts by mail of three kinds."""

    @hookimpl
    def register_mail_kinds(self):
        return [
            MailKind(NEWS, "News from the probe"),
            MailKind(TIPS, "Tips from the probe", default=MAIL_DIGEST),
            MailKind(WEEKLY, "The probe's weekly letter", default=MAIL_OFF, heading="Letters"),
        ]


@pytest.fixture
def app(make_app):
    return make_app(extra_plugins={"probe": MailingProbe()}, PLUGINS=["probe"])


@pytest.fixture
def csrf_app(make_app):
    return make_app(
        extra_plugins={"probe": MailingProbe()}, PLUGINS=["probe"], WTF_CSRF_ENABLED=True
    )


def alert(db, member, kind=NEWS, text="Something new"):
    notify(member, text, url="/me", email_subject=f"Subject: {text}", mail_kind=kind)
    db.session.commit()


def choose(db, member, **choices):
    mail_kinds.choose(member, {f"probe.{name}": choice for name, choice in choices.items()})
    db.session.commit()


def held_kinds(app, member) -> list[str]:
    with app.app_context():
        try:
            return list(
                database.session.scalars(select(HeldMail.kind).where(HeldMail.user_id == member.id))
            )
        finally:
            database.session.remove()


def unsubscribe_link(message) -> str:
    header = message["List-Unsubscribe"]
    assert header.startswith("<http://alma.test/unsubscribe/") and header.endswith(">")
    return path_of(header[1:-1])


# ---- headers and footer ------------------------------------------------------------------------


def test_a_mail_that_can_be_turned_off_carries_the_unsubscribe_headers_and_link(
    db, mail, create_user
):
    member = create_user(display_name="Ada")
    alert(db, member)

    [message] = mail.deliver()

    assert message["Subject"] == "Subject: Something new"
    link = unsubscribe_link(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = body_of(message)
    assert "Something new" in body
    assert f"http://alma.test{link}" in body
    assert "http://alma.test/me/notifications" in body
    assert stored(mail.app, select(OutboxMail.kind)) == NEWS


def test_account_security_mails_carry_no_unsubscribe_and_cannot_be_turned_off(
    db, mail, create_user
):
    member = create_user(email="ada@example.org")
    with pytest.raises(Exception, match="cannot be turned off"):
        mail_kinds.choose(member, {mail_kinds.ACCOUNT_SECURITY: MAIL_OFF})
    db.session.rollback()
    # even a row written behind the service's back does not stop them
    db.session.add(
        MailPreference(user_id=member.id, kind=mail_kinds.ACCOUNT_SECURITY, choice="off")
    )
    db.session.commit()

    change_password(member, TEST_PASSWORD, "a new long passphrase")
    db.session.commit()

    [message] = mail.deliver()
    assert message["Subject"] == "Your password was changed"
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
    assert "/unsubscribe/" not in body_of(message)


def test_a_mail_to_an_address_of_no_member_carries_no_unsubscribe_link(db, mail):
    send_mail(
        "stranger@example.org",
        "Hello",
        "mail/notification",
        kind=NEWS,
        user=None,
        message="Hi",
        link=None,
    )
    db.session.commit()
    [message] = mail.deliver()
    assert message["List-Unsubscribe"] is None


def test_a_retried_mail_carries_the_same_unsubscribe_headers(make_app, mail, create_user):
    down = make_app(
        extra_plugins={"probe": MailingProbe()}, PLUGINS=["probe"], MAIL_PORT=free_port()
    )
    with down.app_context():
        member = create_user()
        alert(database, member)
        assert deliver_outbox() == 0  # refused: kept, to be retried
        database.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
        database.session.commit()
        database.session.remove()

    [message] = mail.deliver()  # the same row, sent by a process that reaches the server
    stored_url = stored(mail.app, select(OutboxMail.unsubscribe_url))
    assert message["List-Unsubscribe"] == f"<{stored_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert stored(mail.app, select(OutboxMail.attempts)) == 1


# ---- choices --------------------------------------------------------------------------------


def test_a_kind_turned_off_queues_no_mail_but_the_alert_stays(client, db, mail, create_user):
    member = create_user()
    choose(db, member, news=MAIL_OFF)

    alert(db, member, text="Quiet news")

    assert count_rows(mail.app, OutboxMail) == 0
    assert mail.deliver() == []
    client.login(member)
    assert "Quiet news" in client.get("/alerts/").text


def test_a_kind_off_by_default_sends_nothing_until_the_member_turns_it_on(db, mail, create_user):
    member = create_user()
    alert(db, member, kind=WEEKLY, text="Letter one")
    assert count_rows(mail.app, OutboxMail) == 0

    choose(db, member, weekly="now")
    alert(db, member, kind=WEEKLY, text="Letter two")
    assert [m["Subject"] for m in mail.deliver()] == ["Subject: Letter two"]


# ---- one-click unsubscribe -------------------------------------------------------------------


def test_the_one_click_post_without_cookies_turns_the_kind_off(csrf_app, mail, create_user, db):
    member = create_user()
    alert(db, member)
    [message] = mail.deliver()
    link = unsubscribe_link(message)

    mail_program = csrf_app.test_client()  # no cookie, no CSRF token: what RFC 8058 sends
    response = mail_program.post(
        link,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "you no longer get these e-mails" in response.text

    assert stored(csrf_app, select(MailPreference.choice)) == MAIL_OFF
    alert(db, member, text="After unsubscribing")
    assert mail.deliver() == []
    # a second click (a mail program retrying) changes nothing and still succeeds
    assert mail_program.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert count_rows(csrf_app, MailPreference) == 1


def test_following_the_link_only_asks_and_the_button_needs_its_csrf_token(
    csrf_app, mail, create_user, db
):
    member = create_user()
    alert(db, member)
    link = unsubscribe_link(mail.deliver()[0])
    browser = csrf_app.test_client()  # logged out, as in another browser

    page = browser.get(link)  # a link scanner does this too: nothing changes
    assert page.status_code == 200
    assert "Stop getting this kind of e-mail?" in page.text
    assert "News from the probe" in page.text
    assert count_rows(csrf_app, MailPreference) == 0

    forged = browser.post(link, data={})
    assert forged.status_code == 400
    assert count_rows(csrf_app, MailPreference) == 0

    token = CSRF_INPUT.search(page.text).group(1)
    done = browser.post(link, data={"csrf_token": token})
    assert done.status_code == 200
    assert "you no longer get these e-mails" in done.text
    assert stored(csrf_app, select(MailPreference.choice)) == MAIL_OFF


def test_a_deactivated_member_logged_in_can_still_unsubscribe(client, app, mail, create_user, db):
    member = create_user()
    alert(db, member)
    link = unsubscribe_link(mail.deliver()[0])
    db.session.execute(update(User).where(User.id == member.id).values(deactivated_at=utcnow()))
    db.session.commit()
    client.login(member)

    page = client.get(link)  # not sent to the welcome-back page first
    assert page.status_code == 200
    assert "Stop getting this kind of e-mail?" in page.text
    done = client.post(link, data={})
    assert done.status_code == 200
    assert "you no longer get these e-mails" in done.text
    assert stored(app, select(MailPreference.choice)) == MAIL_OFF
    # everything else still waits for their choice
    assert client.get("/me/data").headers["Location"].endswith("/me/welcome-back")


def test_a_tampered_or_foreign_link_is_refused_and_changes_nothing(
    client, app, mail, create_user, db
):
    member, other = create_user(), create_user()
    alert(db, member)
    link = unsubscribe_link(mail.deliver()[0])
    token = link.rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)
    tampered = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"

    # the same payload for another member, signed with another key
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("not the site's key", salt="unsubscribe").dumps(
        {"uid": other.id, "kinds": [NEWS]}
    )
    for bad in (tampered, forged, "garbage"):
        for method in (client.get, client.post):
            response = method(f"/unsubscribe/{bad}", data={"List-Unsubscribe": "One-Click"})
            assert response.status_code == 404, bad
            assert "This unsubscribe link is not valid" in response.text
    assert count_rows(app, MailPreference) == 0


def test_a_link_of_a_kind_that_cannot_be_turned_off_is_refused(client, app, create_user, db):
    member = create_user()
    from itsdangerous import URLSafeSerializer

    token = URLSafeSerializer("test-secret-key", salt="unsubscribe").dumps(
        {"uid": member.id, "kinds": [mail_kinds.ACCOUNT_SECURITY]}
    )
    assert (
        client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}).status_code
        == 404
    )
    assert count_rows(app, MailPreference) == 0


# ---- the daily digest ------------------------------------------------------------------------


def test_digest_mails_come_once_the_next_local_morning_across_time_zones_and_dst(
    app, db, mail, create_user
):
    # Berlin moves its clocks forward in the night of 28 to 29 March 2026; Tokyo never does
    berlin = create_user(email="berlin@example.org", timezone="Europe/Berlin")
    tokyo = create_user(email="tokyo@example.org", timezone="Asia/Tokyo")
    choose(db, berlin, news=MAIL_DIGEST)  # tips are "digest" by default
    choose(db, tokyo, news=MAIL_DIGEST)

    # 21:00 in Berlin (CET), 05:00 the next day in Tokyo
    with time_machine.travel(datetime(2026, 3, 28, 20, 0, tzinfo=UTC), tick=False):
        for member in (berlin, tokyo):
            alert(db, member, NEWS, "First news")
            alert(db, member, TIPS, "A tip")
    assert count_rows(app, OutboxMail) == 0
    assert sorted(held_kinds(app, berlin)) == [NEWS, TIPS]

    # 07:00 in Tokyo on the 29th: Tokyo's digest, not Berlin's (23:00 there)
    with time_machine.travel(datetime(2026, 3, 28, 22, 0, tzinfo=UTC), tick=False):
        run_job(app, "core.send_digests")
    [tokyo_digest] = mail.deliver()
    assert tokyo_digest["To"] == "tokyo@example.org"

    # 06:00 in Berlin, the first hour of summer time: not yet
    with time_machine.travel(datetime(2026, 3, 29, 4, 0, tzinfo=UTC), tick=False):
        run_job(app, "core.send_digests")
    assert mail.deliver() == []
    # 07:00 in Berlin (CEST, UTC+2): one digest with both mails; a second run sends nothing
    with time_machine.travel(datetime(2026, 3, 29, 5, 0, tzinfo=UTC), tick=False):
        run_job(app, "core.send_digests")
        run_job(app, "core.send_digests")
    [berlin_digest] = mail.deliver()
    assert berlin_digest["To"] == "berlin@example.org"
    assert berlin_digest["Subject"] == "2 e-mails of the day from alma"
    body = body_of(berlin_digest)
    assert body.index("Subject: First news") < body.index("Subject: A tip")
    assert "Something new" not in body and "First news" in body and "A tip" in body
    # its one-click link turns off the kinds it gathers
    assert berlin_digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert held_kinds(app, berlin) == []


def test_a_mail_just_after_midnight_waits_for_that_mornings_digest(app, db, mail, create_user):
    member = create_user(timezone="America/New_York")  # UTC-5 in January
    choose(db, member, news=MAIL_DIGEST)
    with time_machine.travel(datetime(2027, 1, 15, 5, 30, tzinfo=UTC), tick=False):  # 00:30
        alert(db, member, NEWS, "Night owl")
    with time_machine.travel(datetime(2027, 1, 15, 11, 59, tzinfo=UTC), tick=False):  # 06:59
        run_job(app, "core.send_digests")
        assert mail.deliver() == []
    with time_machine.travel(datetime(2027, 1, 15, 12, 0, tzinfo=UTC), tick=False):  # 07:00
        run_job(app, "core.send_digests")
        [digest] = mail.deliver()
    assert digest["Subject"] == "1 e-mail of the day from alma"


def test_a_kind_turned_off_after_its_mails_were_held_is_left_out_of_the_digest(
    app, db, mail, create_user
):
    member = create_user()
    choose(db, member, news=MAIL_DIGEST)
    with time_machine.travel(datetime(2027, 1, 15, 12, 0, tzinfo=UTC), tick=False):
        alert(db, member, NEWS, "Held news")
        alert(db, member, TIPS, "Held tip")
    choose(db, member, news=MAIL_OFF)
    with time_machine.travel(datetime(2027, 1, 16, 7, 0, tzinfo=UTC), tick=False):
        run_job(app, "core.send_digests")
        [digest] = mail.deliver()
    assert "Held tip" in body_of(digest) and "Held news" not in body_of(digest)


# ---- the Notifications page --------------------------------------------------------------------


def test_the_notifications_page_lists_kinds_by_group_and_saves_choices(
    client, app, db, create_user
):
    member = create_user()
    client.login(member)

    page = client.get("/me/notifications")
    assert page.status_code == 200
    text = page.text
    assert "Your account" in text and "Probe" in text and "Letters" in text
    assert text.index("Your account") < text.index("Probe") < text.index("Other")
    assert "Always sent at once" in text
    assert (
        'name="probe.tips" id="probe.tips-digest" value="digest" autocomplete="off" checked' in text
    )
    assert f'name="{mail_kinds.ACCOUNT_SECURITY}"' not in text

    form = {NEWS: "digest", TIPS: "now", WEEKLY: "off", "core.alerts": "now"}
    saved = client.post("/me/notifications", data=form)
    assert saved.status_code == 302
    assert "Your choices are saved." in client.get("/me/notifications").text
    assert mail_kinds.choices_of(member)[NEWS] == MAIL_DIGEST
    assert mail_kinds.choices_of(member)[TIPS] == "now"
    # only choices unlike the default are stored
    assert dict(db.session.execute(select(MailPreference.kind, MailPreference.choice)).all()) == {
        NEWS: "digest",
        TIPS: "now",
    }
    # the same form again (a double submit) changes nothing
    assert client.post("/me/notifications", data=form).status_code == 302
    assert count_rows(app, MailPreference) == 2


def test_a_bad_choice_refuses_the_whole_form(client, app, db, create_user):
    member = create_user()
    client.login(member)
    response = client.post(
        "/me/notifications", data={NEWS: "off", TIPS: "sometimes", WEEKLY: "off"}
    )
    assert response.status_code == 400
    assert "Choose at once, daily digest or off for “Tips from the probe”" in response.text
    assert count_rows(app, MailPreference) == 0


def test_the_notifications_page_needs_a_login_and_a_csrf_token(csrf_app, create_user):
    member = create_user()
    visitor = csrf_app.test_client()
    response = visitor.get("/me/notifications")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    assert visitor.post("/me/notifications", data={NEWS: "off"}).status_code == 400

    browser = csrf_app.test_client()
    browser.login(member)
    assert browser.post("/me/notifications", data={NEWS: "off"}).status_code == 400
    assert count_rows(csrf_app, MailPreference) == 0
    token = CSRF_INPUT.search(browser.get("/me/notifications").text).group(1)
    response = browser.post("/me/notifications", data={NEWS: "off", "csrf_token": token})
    assert response.status_code == 302
    assert count_rows(csrf_app, MailPreference) == 1


def test_my_data_links_to_the_notifications(client, create_user):
    client.login(create_user())
    assert 'href="/me/notifications"' in client.get("/me/data").text


# ---- declaring kinds --------------------------------------------------------------------------


def test_an_undeclared_kind_fails_loudly_naming_the_fix(db, create_user):
    member = create_user()
    with pytest.raises(mail_kinds.UnknownMailKind, match=r"register_mail_kinds\(\)") as error:
        notify(member, "Hi", email_subject="Hi", mail_kind="probe.undeclared")
    assert "'probe.undeclared'" in str(error.value)
    with pytest.raises(mail_kinds.UnknownMailKind, match="mail/undeclared"):
        send_mail(member.email, "Hi", "mail/undeclared", user=member)


class OldPlugin:
    """A plugin written before mail kinds: it mails from a template it declares no kind for."""

    def __init__(self, folder):
        (folder / "oldplugin" / "mail").mkdir(parents=True)
        (folder / "oldplugin" / "mail" / "hello.txt").write_text("Hello from before kinds\n")
        self.blueprint = Blueprint("oldplugin", __name__, template_folder=str(folder))

    @hookimpl
    def register_blueprints(self):
        return [self.blueprint]


def test_outside_tests_a_template_of_no_kind_still_goes_out_with_a_deprecation_warning(
    make_app, mail, tmp_path
):
    production = make_app(
        extra_plugins={"oldplugin": OldPlugin(tmp_path)}, PLUGINS=["oldplugin"], TESTING=False
    )
    with production.app_context():
        with pytest.warns(DeprecationWarning, match="belongs to no declared mail kind"):
            send_mail("ada@example.org", "Old", "oldplugin/mail/hello", user=None)
        database.session.commit()
        database.session.remove()
    [message] = Mailbox(production, mail.sink).deliver()
    assert body_of(message).strip() == "Hello from before kinds"
    assert message["List-Unsubscribe"] is None


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        (MailKind("news", "No prefix"), "must start with 'probe.'"),
        (MailKind("probe.x", "Odd", default="weekly"), "has the default 'weekly'"),
        (MailKind("probe.x", "Key", can_turn_off=False, default="digest"), "default must be 'now'"),
        (
            MailKind("probe.x", "Steal", templates=("mail/reset",)),
            "claims the template 'mail/reset'",
        ),
    ],
)
def test_a_bad_declaration_stops_alma_naming_the_plugin(make_app, kind, problem):
    class Bad:
        @hookimpl
        def register_mail_kinds(self):
            return [kind]

    with pytest.raises(PluginError, match=re.escape(problem)):
        make_app(extra_plugins={"probe": Bad()}, PLUGINS=["probe"])


def test_a_members_data_export_holds_their_mail_choices_and_held_mails(db, create_user):
    from core.services.exports import core_part

    member = create_user()
    choose(db, member, news=MAIL_DIGEST)
    alert(db, member, NEWS, "Held for tomorrow")

    data = core_part(member).data
    assert data["mail_choices"][NEWS] == MAIL_DIGEST
    assert data["mail_choices"][mail_kinds.ACCOUNT_SECURITY] == "now"
    assert [held["subject"] for held in data["mails_held_for_digest"]] == [
        "Subject: Held for tomorrow"
    ]
