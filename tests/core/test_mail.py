"""The mail outbox: written in the caller's transaction, delivered after commit by the
``core.deliver_mail`` job through a real SMTP server (or into files), retried while the server
is unreachable, never lost and never sent twice."""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Blueprint
from sqlalchemy import func, select, update

from core import hookimpl
from core.contributions import MailKind
from core.db import db as database
from core.db import utcnow
from core.models import OutboxMail
from core.services.mail import MAX_BACKOFF, deliver_outbox, send_mail
from core.services.notifications import notify
from core.testing import Mailbox, SMTPSink, body_of, free_port, stored

FIRST_BACKOFF = timedelta(seconds=30)
SLACK = timedelta(seconds=5)


def queue(to: str = "ada@example.org", subject: str = "Hello", message: str = "Hi there") -> int:
    """Queue a notification mail in the current unit of work; returns the outbox row's id."""
    mail = send_mail(
        to,
        subject,
        "mail/notification",
        user=SimpleNamespace(display_name="Ada"),
        message=message,
        link="http://alma.test/alerts/",
    )
    return mail.id


def outbox() -> list[OutboxMail]:
    """Every outbox row, as committed (ends the session's snapshot first)."""
    database.session.commit()
    return list(database.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def make_due() -> None:
    """Move every unsent mail's next attempt to the past, as if the backoff had elapsed."""
    database.session.execute(
        update(OutboxMail)
        .where(OutboxMail.sent_at.is_(None))
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    database.session.commit()


@contextmanager
def smtp(**options):
    """Another real SMTP server on 127.0.0.1, with aiosmtpd's ``options`` (AUTH, TLS...)."""
    sink = SMTPSink("127.0.0.1", free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port, **options)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# ---- the unit of work ----------------------------------------------------------------------


def test_a_mail_queued_in_a_unit_of_work_that_rolls_back_is_never_sent(db, mail):
    queue()
    db.session.rollback()

    assert mail.deliver() == []
    assert outbox() == []


def test_nothing_is_sent_before_commit_and_everything_after(db, mail, app):
    queue(to="ada@example.org", subject="Your request", message="Rui accepted your request.")
    db.session.flush()

    assert mail.deliver() == []  # not committed yet: the job cannot even see it

    db.session.commit()
    [message] = mail.deliver()

    assert message["From"] == app.config["MAIL_FROM"]
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Your request"
    assert message["Message-ID"]
    assert message["Date"]
    assert not message.is_multipart()  # the notification template has no HTML version
    text = body_of(message)
    assert "Hello Ada," in text
    assert "Rui accepted your request." in text
    assert "http://alma.test/alerts/" in text
    [row] = outbox()
    assert row.sent_at is not None
    assert row.attempts == 0
    assert row.last_error is None


def test_an_alert_with_an_email_subject_is_mailed_to_the_member(db, mail, create_user):
    ada = create_user(email="ada@example.org", display_name="Ada Lovelace")
    notify(ada, "Rui accepted your request.", url="/alerts/", email_subject="Request accepted")
    db.session.commit()

    [message] = mail.deliver()

    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Request accepted"
    text = body_of(message)
    assert "Hello Ada Lovelace," in text
    assert "Rui accepted your request." in text
    assert "http://alma.test/alerts/" in text  # an absolute link, from BASE_URL


def test_a_sent_mail_is_never_sent_again(db, mail):
    queue()
    db.session.commit()
    assert len(mail.deliver()) == 1

    assert mail.deliver() == []
    # even when its next attempt is due, a sent mail stays sent
    db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert mail.deliver() == []
    assert len(mail.messages) == 1


def test_mails_are_sent_in_order_and_each_once(db, mail):
    for number in range(3):
        queue(to=f"member{number}@example.org", subject=f"Mail {number}")
    db.session.commit()

    received = mail.deliver()

    assert [m["Subject"] for m in received] == ["Mail 0", "Mail 1", "Mail 2"]
    assert [m["To"] for m in received] == [f"member{n}@example.org" for n in range(3)]
    assert len({m["Message-ID"] for m in received}) == 3
    assert mail.deliver() == []


class HTMLMailPlugin:
    """A throwaway plugin whose blueprint ships a mail template with an HTML version."""

    def __init__(self, folder: Path) -> None:
        (folder / "mail").mkdir()
        (folder / "mail" / "htmlmail_welcome.txt").write_text("Hello {{ name }}, in text.\n")
        (folder / "mail" / "htmlmail_welcome.html").write_text(
            "<p>Hello <b>{{ name }}</b>, in HTML.</p>\n"
        )
        self.blueprint = Blueprint("htmlmail", __name__, template_folder=str(folder))

    @hookimpl
    def register_blueprints(self):
        return [self.blueprint]

    @hookimpl
    def register_mail_kinds(self):
        return [MailKind("htmlmail.welcome", "Welcome", templates=("mail/htmlmail_welcome",))]


class TestHTMLAlternative:
    @pytest.fixture
    def app(self, make_app, tmp_path):
        return make_app(extra_plugins={"htmlmail": HTMLMailPlugin(tmp_path)}, PLUGINS=["htmlmail"])

    def test_a_template_with_an_html_version_is_sent_as_text_and_html(self, db, mail):
        send_mail("ada@example.org", "Welcome", "mail/htmlmail_welcome", name="Ada & Rui")
        db.session.commit()

        [message] = mail.deliver()

        assert message.get_content_type() == "multipart/alternative"
        assert body_of(message).strip() == "Hello Ada & Rui, in text."
        html = message.get_body(preferencelist=("html",)).get_content()
        assert html.strip() == "<p>Hello <b>Ada &amp; Rui</b>, in HTML.</p>"  # autoescaped


# ---- SMTP down: nothing lost ---------------------------------------------------------------


def test_while_smtp_is_down_the_mail_waits_with_growing_backoff_then_goes_once(
    make_app, smtp_server
):
    down = make_app(MAIL_PORT=free_port())  # nothing listens there: connection refused
    with down.app_context():
        queue(subject="Patience")
        database.session.commit()

        started = utcnow()
        assert deliver_outbox() == 0

        [row] = outbox()
        assert row.sent_at is None
        assert row.attempts == 1
        assert "refused" in row.last_error.lower()
        assert started + FIRST_BACKOFF <= row.next_attempt_at <= utcnow() + FIRST_BACKOFF

        # not due yet: a run right away does not even try
        assert deliver_outbox() == 0
        assert outbox()[0].attempts == 1

        # each failed attempt doubles the wait
        for attempts, backoff in ((2, 60), (3, 120), (4, 240)):
            make_due()
            started = utcnow()
            assert deliver_outbox() == 0
            [row] = outbox()
            assert row.attempts == attempts
            wait = row.next_attempt_at - started
            assert timedelta(seconds=backoff) <= wait <= timedelta(seconds=backoff) + SLACK

        # up to a cap
        database.session.execute(update(OutboxMail).values(attempts=9))
        make_due()
        started = utcnow()
        deliver_outbox()
        [row] = outbox()
        assert row.attempts == 10
        assert MAX_BACKOFF <= row.next_attempt_at - started <= MAX_BACKOFF + SLACK
    assert smtp_server.messages == []

    up = make_app()  # the same database, the SMTP server reachable again
    with up.app_context():
        assert deliver_outbox() == 0  # still waiting for its next attempt
        make_due()
        assert deliver_outbox() == 1
        make_due()
        assert deliver_outbox() == 0
        [row] = outbox()
        assert row.sent_at is not None
        assert row.attempts == 10  # the successful attempt is not a failure

    [message] = smtp_server.messages
    assert message["Subject"] == "Patience"
    assert message["To"] == "ada@example.org"


def test_a_very_long_outage_keeps_backing_off_by_the_cap(make_app, smtp_server):
    down = make_app(MAIL_PORT=free_port())
    with down.app_context():
        queue()
        database.session.execute(update(OutboxMail).values(attempts=100))  # days of outage
        database.session.commit()

        started = utcnow()
        assert deliver_outbox() == 0

        [row] = outbox()
        assert row.attempts == 101
        assert MAX_BACKOFF <= row.next_attempt_at - started <= MAX_BACKOFF + SLACK


def test_a_line_break_in_a_subject_cannot_add_headers(db, mail):
    # display names flow into subjects ("New request from <name>")
    queue(subject="Evil\r\nBcc: everyone@example.org")
    db.session.commit()

    [message] = mail.deliver()

    assert message["Subject"] == "Evil Bcc: everyone@example.org"
    assert message["Bcc"] is None


def test_a_mail_that_cannot_be_sent_does_not_hold_back_the_others(db, mail):
    db.session.add(OutboxMail(to_address="broken\r\n@example.org", subject="Broken", text_body="?"))
    db.session.flush()
    queue(to="fine@example.org", subject="Fine")
    db.session.commit()

    received = mail.deliver()

    assert [m["To"] for m in received] == ["fine@example.org"]
    broken, fine = outbox()
    assert fine.sent_at is not None
    assert broken.sent_at is None  # kept, for a retry and for the operator to see
    assert broken.attempts == 1
    assert broken.last_error.startswith("ValueError")


def test_two_outbox_runs_at_once_send_each_mail_once(db, app, smtp_server):
    total = 40
    for number in range(total):
        queue(to=f"member{number}@example.org", subject=f"Mail {number}")
    db.session.commit()

    start = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                sent.append(deliver_outbox())
                database.session.remove()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sum(sent) == total
    recipients = sorted(m["To"] for m in smtp_server.messages)
    assert recipients == sorted(f"member{n}@example.org" for n in range(total))
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMail).where(OutboxMail.sent_at.is_(None))
        )
        == 0
    )


def test_a_mail_claimed_by_another_run_is_left_to_it(db, mail):
    """The claim is a lease: a run that finds the mail leased (another process is sending it)
    skips it; once the lease expires (that process died) it is sent."""
    queue()
    db.session.commit()
    leased_until = utcnow() + timedelta(minutes=5)
    db.session.execute(update(OutboxMail).values(next_attempt_at=leased_until))
    db.session.commit()

    assert mail.deliver() == []

    make_due()
    assert len(mail.deliver()) == 1


class SlowSMTPSink(SMTPSink):
    """A real SMTP server that keeps each mail, yet answers slowly: the first mail's data
    (``slow_data``) after the sender gave up waiting; QUIT (``slow_quit``) once the test
    says so, and then with an error."""

    def __init__(self, *, slow_data: bool = False, slow_quit: bool = False) -> None:
        super().__init__("127.0.0.1", free_port())
        self.slow_data, self.slow_quit = slow_data, slow_quit
        self.quitting, self.answer_quit = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.slow_data:
            self.slow_data = False
            await asyncio.sleep(SLOW_ANSWER)
        return answer

    async def handle_QUIT(self, server, session, envelope) -> str:
        if not self.slow_quit:
            return "221 Bye"
        self.quitting.set()
        await asyncio.to_thread(self.answer_quit.wait, 10)
        return "421 4.3.0 Shutting down"


SLOW_ANSWER = 2  # seconds; the sender waits MAIL_TIMEOUT=1


@contextmanager
def slow_smtp(**slowness: bool) -> Iterator[SlowSMTPSink]:
    sink = SlowSMTPSink(**slowness)
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def test_a_mail_resent_after_a_lost_answer_keeps_its_message_id(make_app):
    """The server received the mail, but its answer came too late: the outbox cannot know,
    and sends it again. Both copies carry the Message-ID given when the mail was queued, so
    the recipient's mail program shows one mail."""
    with slow_smtp(slow_data=True) as sink:
        app = make_app(MAIL_PORT=sink.port, MAIL_TIMEOUT=1)
        with app.app_context():
            queued_id = send_mail_id(queue(subject="Twice received"))
            database.session.commit()

            assert deliver_outbox() == 0  # timed out waiting for the answer: to be retried
            [row] = outbox()
            assert row.sent_at is None
            assert "timed out" in row.last_error
            make_due()
            assert deliver_outbox() == 1

    first, second = sink.messages
    assert first["Message-ID"] == second["Message-ID"] == queued_id
    assert first["Subject"] == second["Subject"] == "Twice received"


def send_mail_id(mail_id: int) -> str:
    """The Message-ID a queued mail was given (before any attempt to send it)."""
    message_id = database.session.get(OutboxMail, mail_id).message_id
    assert message_id.endswith(f".outbox{mail_id}@alma.test>")
    return message_id


def test_a_mail_is_recorded_as_sent_once_accepted_not_once_the_session_ends(make_app):
    """Once the server accepted the mail's data, the mail is sent: it is recorded so while
    the session is still ending (a scheduler killed meanwhile does not send it again), and a
    server that then errs on QUIT does not make the outbox send it again."""
    with slow_smtp(slow_quit=True) as sink:
        app = make_app(MAIL_PORT=sink.port)
        with app.app_context():
            queue(subject="Once")
            database.session.commit()
        delivery = threading.Thread(target=lambda: Mailbox(app, sink).deliver())
        delivery.start()
        try:
            assert sink.quitting.wait(10)
            assert stored(app, select(OutboxMail.sent_at)) is not None  # QUIT unanswered yet
        finally:
            sink.answer_quit.set()
            delivery.join(10)

        with app.app_context():
            [row] = outbox()
            assert row.sent_at is not None
            assert row.attempts == 0 and row.last_error is None
            make_due()
            assert deliver_outbox() == 0

    assert [m["Subject"] for m in sink.messages] == ["Once"]


def test_a_mail_queued_before_message_ids_were_kept_gets_one_at_its_first_try(db, mail):
    queue(subject="From before the upgrade")
    db.session.execute(update(OutboxMail).values(message_id=None))
    db.session.commit()

    [message] = mail.deliver()

    [row] = outbox()
    assert row.message_id is not None
    assert message["Message-ID"] == row.message_id


# ---- backends and server settings ----------------------------------------------------------


def test_the_file_backend_writes_an_eml_file_into_the_instance_folder(make_app, smtp_server):
    app = make_app(MAIL_BACKEND="file", MAIL_FROM="alma <hello@alma.test>")
    with app.app_context():
        queue(to="ada@example.org", subject="On disk", message="Kept in a file.")
        database.session.commit()
        assert deliver_outbox() == 1
        assert deliver_outbox() == 0
        [row] = outbox()
        assert row.sent_at is not None

    [path] = (Path(app.instance_path) / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["From"] == "alma <hello@alma.test>"
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "On disk"
    assert "Kept in a file." in body_of(message)
    assert smtp_server.messages == []


class Authenticator:
    """An aiosmtpd authenticator accepting one login, remembering every attempt."""

    def __init__(self, login: str, password: str) -> None:
        self.expected = (login, password)
        self.attempts: list[tuple[str, str]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        given = (auth_data.login.decode(), auth_data.password.decode())
        self.attempts.append(given)
        # handled=False: aiosmtpd answers (235 or 535) itself
        return AuthResult(success=given == self.expected, handled=False)


INSECURE_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@INSECURE_AUTH
def test_the_login_settings_are_used_against_a_server_requiring_auth(make_app):
    authenticator = Authenticator("alma", "s3cret")
    with smtp(authenticator=authenticator, auth_required=True, auth_require_tls=False) as sink:
        app = make_app(MAIL_PORT=sink.port, MAIL_USERNAME="alma", MAIL_PASSWORD="s3cret")
        with app.app_context():
            queue(subject="Authenticated")
            database.session.commit()
            assert deliver_outbox() == 1

    assert authenticator.attempts == [("alma", "s3cret")]
    [message] = sink.messages
    assert message["Subject"] == "Authenticated"


@INSECURE_AUTH
@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({}, "530"),  # no login configured: the server refuses the mail
        ({"MAIL_USERNAME": "alma", "MAIL_PASSWORD": "wrong"}, "SMTPAuthenticationError"),
    ],
)
def test_a_refused_login_keeps_the_mail_for_a_retry(make_app, settings, error):
    authenticator = Authenticator("alma", "s3cret")
    with smtp(authenticator=authenticator, auth_required=True, auth_require_tls=False) as sink:
        app = make_app(MAIL_PORT=sink.port, **settings)
        with app.app_context():
            queue()
            database.session.commit()
            assert deliver_outbox() == 0
            [row] = outbox()

    assert sink.messages == []
    assert row.sent_at is None
    assert row.attempts == 1
    assert error in row.last_error


# ---- TLS -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> SimpleNamespace:
    """A throwaway certificate authority and a certificate for 127.0.0.1 signed by it."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    folder = tmp_path_factory.mktemp("tls")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    new_key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl(
        "req",
        "-x509",
        *new_key,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=alma test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    openssl(
        "req", *new_key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"
    )
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return SimpleNamespace(ca=folder / "ca.pem", server_context=context)


@pytest.fixture
def trusted(certificates, monkeypatch) -> SimpleNamespace:
    """The test CA trusted by ``ssl.create_default_context()``, as an operator would install
    their SMTP server's CA."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificates


def test_starttls_then_login(make_app, trusted):
    authenticator = Authenticator("alma", "s3cret")
    options = {
        "tls_context": trusted.server_context,
        "require_starttls": True,  # the server refuses anything before STARTTLS
        "authenticator": authenticator,
        "auth_required": True,
    }
    with smtp(**options) as sink:
        app = make_app(
            MAIL_PORT=sink.port,
            MAIL_SECURITY="starttls",
            MAIL_USERNAME="alma",
            MAIL_PASSWORD="s3cret",
        )
        with app.app_context():
            queue(subject="Over STARTTLS")
            database.session.commit()
            assert deliver_outbox() == 1

    assert authenticator.attempts == [("alma", "s3cret")]
    assert [m["Subject"] for m in sink.messages] == ["Over STARTTLS"]


def test_implicit_tls(make_app, trusted):
    with smtp(ssl_context=trusted.server_context) as sink:
        app = make_app(MAIL_PORT=sink.port, MAIL_SECURITY="ssl")
        with app.app_context():
            queue(subject="Over TLS")
            database.session.commit()
            assert deliver_outbox() == 1

    assert [m["Subject"] for m in sink.messages] == ["Over TLS"]


def test_starttls_required_but_not_offered_sends_nothing_in_the_clear(make_app, smtp_server):
    app = make_app(MAIL_SECURITY="starttls", MAIL_USERNAME="alma", MAIL_PASSWORD="s3cret")
    with app.app_context():
        queue()
        database.session.commit()
        assert deliver_outbox() == 0
        [row] = outbox()

    assert smtp_server.messages == []
    assert row.sent_at is None
    assert "STARTTLS" in row.last_error


def test_an_untrusted_certificate_is_refused(make_app, certificates):
    # SSL_CERT_FILE is not set: the test CA is unknown, as a forged server's would be.
    with smtp(ssl_context=certificates.server_context) as sink:
        app = make_app(MAIL_PORT=sink.port, MAIL_SECURITY="ssl", MAIL_TIMEOUT=5)
        with app.app_context():
            queue()
            database.session.commit()
            assert deliver_outbox() == 0
            [row] = outbox()

    assert sink.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
