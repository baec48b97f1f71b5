"""E-mail through a durable outbox.

``send_mail`` only writes a row in the caller's transaction: if the transaction rolls back, no
mail goes out; if it commits, the mail is sent by the ``core.deliver_mail`` job, retried with
backoff while the SMTP server is unreachable, and never lost. Delivery is at-least-once: a
crash between the SMTP server's acceptance and the row's update can send a mail twice; the
copies then carry the same Message-ID (fixed when the mail is queued), so mail programs show
one.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import ngettext
from jinja2 import TemplateNotFound
from sqlalchemy import Select, delete, func, select, update

from core.contributions import MAIL_DIGEST, MAIL_NOW, MAIL_OFF, MailKind
from core.db import db, rows_changed, utcnow, work_through_due
from core.i18n import reading_as
from core.jobs import wake_job_after_commit
from core.models import HeldMail, OutboxMail, User
from core.services.mail_kinds import (
    DIGEST,
    catalog,
    choice_of,
    hold_for_digest,
    mail_kind_of,
    unsubscribe_url,
    wanted_in_digest,
)
from core.urls import external_url

logger = logging.getLogger(__name__)

DELIVER_JOB_ID = "core.deliver_mail"
DIGEST_JOB_ID = "core.send_digests"
BATCH_SIZE = 50
MAX_BACKOFF = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=5)


def send_mail(
    to: str,
    subject: str,
    template: str,
    *,
    kind: str | None = None,
    **context: Any,
) -> OutboxMail | None:
    """Queue a mail rendered from the template ``<template>.txt`` (and ``<template>.html`` when
    it exists), e.g. ``"mail/confirm"`` or a plugin's ``"wiki/mail/article_rated"``. The
    context's ``user`` is the recipient: the mail is written in their language and its times
    on their clock, whoever's request sends it (build the subject inside
    :func:`core.i18n.reading_as` too).

    ``kind`` names the mail's declared ``MailKind``; without it, the kind whose ``templates``
    hold ``template`` (see :func:`core.services.mail_kinds.mail_kind_of` for a mail of no
    kind). As the member at ``to`` chose for that kind, the mail is queued (with an
    unsubscribe link and headers, if it can be turned off), held for their daily digest, or
    not written at all: then this returns ``None``.

    Nothing is queued either, and ``None`` returned, to a member who deactivated their
    account, unless the kind cannot be turned off (a login link, a password reset, the deletion
    they asked for: mail about the account itself), nor ever to an erased member's address."""
    mail_kind = mail_kind_of(kind, template)
    if mail_stopped(to, mail_kind):
        return None
    context.setdefault("site_name", current_app.config["SITE_NAME"])
    subject = " ".join(subject.split())  # one line: names in subjects cannot add headers
    recipient = context.get("user")
    reader = recipient if isinstance(recipient, User) else None
    # whom the member's choices and the unsubscribe link are about: a mail that can be turned
    # off, to a member's address
    member = None
    if mail_kind is not None and mail_kind.can_turn_off:
        member = reader if reader is not None and reader.email == to else _member_at(to)
    choice = choice_of(member, mail_kind) if member and mail_kind else MAIL_NOW
    if choice == MAIL_OFF:
        return None
    unsubscribe = None
    with reading_as(reader):
        text = render_template(f"{template}.txt", **context)
        try:
            html: str | None = render_template(f"{template}.html", **context)
        except TemplateNotFound:
            html = None
        if member and mail_kind:
            if choice == MAIL_DIGEST:
                hold_for_digest(member, mail_kind, subject, text)
                return None
            unsubscribe = unsubscribe_url(member, [mail_kind.name])
            text, html = _with_unsubscribe_footer(text, html, unsubscribe)
    return _queue(
        to,
        subject,
        template,
        text,
        html,
        kind=mail_kind.name if mail_kind else None,
        unsubscribe_url=unsubscribe,
    )


def _member_at(address: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == address.lower()))


def _queue(
    to: str,
    subject: str,
    template: str,
    text: str,
    html: str | None,
    *,
    kind: str | None,
    unsubscribe_url: str | None,
) -> OutboxMail:
    mail = OutboxMail(
        to_address=to,
        template=template,
        subject=subject,
        text_body=text,
        html_body=html,
        kind=kind,
        unsubscribe_url=unsubscribe_url,
    )
    db.session.add(mail)
    db.session.flush()
    mail.message_id = new_message_id(mail)
    wake_job_after_commit(DELIVER_JOB_ID)
    return mail


def mail_stopped(address: str, kind: MailKind | None = None) -> bool:
    """Whether no mail of ``kind`` goes to ``address``: none to an erased member's address
    (in the reserved ``.invalid`` domain); to a member who deactivated their account, only
    the kinds that cannot be turned off."""
    if address.endswith(".invalid"):
        return True
    if kind is not None and not kind.can_turn_off:
        return False
    return (
        db.session.scalar(
            select(User.id).where(User.email == address, User.deactivated_at.is_not(None))
        )
        is not None
    )


def _with_unsubscribe_footer(
    text: str, html: str | None, unsubscribe: str
) -> tuple[str, str | None]:
    """The bodies with a footer saying how to stop such mails (read as the recipient)."""
    links = {"unsubscribe_link": unsubscribe, "preferences_link": external_url("mail.preferences")}
    text = text.rstrip("\n") + "\n\n" + render_template("mail/_unsubscribe.txt", **links)
    if html is not None:
        html += render_template("mail/_unsubscribe.html", **links)
    return text, html


# ---- the daily digest ------------------------------------------------------------------------


def send_digests() -> int:
    """Job: each member with held mails that are due gets them in one digest; how many
    digests were written. The held mails are deleted in the unit of work that queues their
    digest: a second run at the same moment finds nothing left."""
    now = utcnow()
    member_ids = db.session.scalars(
        select(HeldMail.user_id).where(HeldMail.due_at <= now).distinct()
    ).all()
    written = 0
    for member_id in member_ids:
        held = db.session.execute(
            delete(HeldMail)
            .where(HeldMail.user_id == member_id, HeldMail.due_at <= now)
            .returning(HeldMail.id, HeldMail.kind, HeldMail.subject, HeldMail.text_body)
        ).all()
        member = db.session.get(User, member_id)
        if member is None or not held or mail_stopped(member.email):
            continue
        wanted = wanted_in_digest(member, {row.kind for row in held})
        items = sorted((row for row in held if row.kind in wanted), key=lambda row: row.id)
        if items:
            _queue_digest(member, items)
            written += 1
    return written


def _queue_digest(member: User, items: list[Any]) -> None:
    kinds = catalog().kinds
    turnable = sorted({item.kind for item in items if item.kind in kinds})
    site_name = current_app.config["SITE_NAME"]
    with reading_as(member):
        subject = ngettext(
            "%(num)d e-mail of the day from %(site)s",
            "%(num)d e-mails of the day from %(site)s",
            len(items),
            site=site_name,
        )
        text = render_template(
            "mail/digest.txt",
            user=member,
            items=items,
            labels={name: str(kinds[name].label) for name in turnable},
            site_name=site_name,
        )
        unsubscribe = unsubscribe_url(member, turnable) if turnable else None
        if unsubscribe:
            text, _html = _with_unsubscribe_footer(text, None, unsubscribe)
    _queue(
        member.email,
        subject,
        "mail/digest",
        text,
        None,
        kind=DIGEST,
        unsubscribe_url=unsubscribe,
    )


def count_mails(to: str, template: str, since: datetime) -> int:
    """How many mails of one kind were written to an address since a moment."""
    return db.session.execute(
        select(func.count())
        .select_from(OutboxMail)
        .where(
            OutboxMail.to_address == to,
            OutboxMail.template == template,
            OutboxMail.created_at >= since,
        )
    ).scalar_one()


SENT_COUNTED = timedelta(days=7)  # the console counts the mails sent this long ago or since


@dataclass(frozen=True)
class OutboxCounts:
    queued: int  # not sent, never tried (or tried and claimed, not failed)
    failed: int  # not sent, at least one attempt failed: retried with backoff
    sent: int  # sent in the last ``SENT_COUNTED``


def outbox_counts() -> OutboxCounts:
    """The outbox at a glance, for the console: one statement."""
    unsent, failed = OutboxMail.sent_at.is_(None), OutboxMail.attempts > 0
    since = utcnow() - SENT_COUNTED
    row = db.session.execute(
        select(
            func.count().filter(unsent, ~failed),
            func.count().filter(unsent, failed),
            func.count().filter(OutboxMail.sent_at >= since),
        )
    ).one()
    return OutboxCounts(*row)


def retry_failed_mails() -> int:
    """Make every failed mail due now (their backoff forgotten) and wake the delivery job once
    this commits; how many there are."""
    retried = rows_changed(
        update(OutboxMail)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.attempts > 0)
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    wake_job_after_commit(DELIVER_JOB_ID)
    return retried


def deliver_outbox() -> int:
    """Send the mails that are due; returns how many were sent.

    Each mail is first *claimed* (its next attempt moved a lease ahead) and committed, so no
    database lock is held while talking to the SMTP server and two schedulers never send the
    same mail; a process that dies mid-send leaves the mail to be retried after the lease.
    Batches follow each other until nothing is due, so a mail committed while the job runs
    (its wake-up skipped, as the job is busy) goes out in this run, not at the next poll.
    """
    return work_through_due(_due_mails, _deliver, batch=BATCH_SIZE)


def prune_sent_mails() -> None:
    """Job: forget mails sent longer than ``MAIL_KEEP_DAYS`` ago. Their bodies hold links
    into members' accounts, and the outbox would otherwise grow with every mail ever sent.
    Unsent mails stay, however old: they are still being retried."""
    kept = timedelta(days=current_app.config["MAIL_KEEP_DAYS"])
    db.session.execute(delete(OutboxMail).where(OutboxMail.sent_at < utcnow() - kept))


def _due_mails() -> Select[int]:
    return (
        select(OutboxMail.id)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.next_attempt_at <= utcnow())
        .order_by(OutboxMail.id)
    )


def _deliver(mail_id: int) -> bool:
    """Claim, send and record one mail; whether it was sent."""
    message = _claim(mail_id)
    if message is None:  # claimed meanwhile by another process, or cannot be built
        return False
    try:
        transport().send(message, accepted=lambda: _record_sent(mail_id))
    except (OSError, smtplib.SMTPException) as error:
        _schedule_retry(mail_id, error)
        db.session.commit()
        return False
    return True


def _record_sent(mail_id: int) -> None:
    """Called the moment the server has accepted the mail, before the session ends: a
    process killed while saying goodbye must not leave a sent mail to be sent again."""
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id).values(sent_at=utcnow()))
    db.session.commit()


def _claim(mail_id: int) -> EmailMessage | None:
    now = utcnow()
    claimed = rows_changed(
        update(OutboxMail)
        .where(
            OutboxMail.id == mail_id,
            OutboxMail.sent_at.is_(None),
            OutboxMail.next_attempt_at <= now,
        )
        .values(next_attempt_at=now + CLAIM_LEASE)
        .execution_options(synchronize_session=False)
    )
    message = None
    if claimed:
        mail = db.session.get_one(OutboxMail, mail_id)
        if mail.message_id is None:  # queued before Message-IDs were kept: fixed at first try
            mail.message_id = new_message_id(mail)
        try:
            message = build_message(mail)
        except ValueError as error:  # a line break in a header: kept, and the outbox goes on
            _schedule_retry(mail_id, error)
    db.session.commit()
    return message


def _schedule_retry(mail_id: int, error: Exception) -> None:
    mail = db.session.get_one(OutboxMail, mail_id)
    mail.attempts += 1
    mail.last_error = f"{type(error).__name__}: {error}"
    # a bounded exponent: timedelta overflows at attempt 43, some 35 hours into an outage
    backoff = min(timedelta(seconds=30 * 2 ** min(mail.attempts - 1, 20)), MAX_BACKOFF)
    mail.next_attempt_at = utcnow() + backoff
    logger.warning(
        "mail %s to %s not sent (attempt %s): %s",
        mail.id,
        mail.to_address,
        mail.attempts,
        mail.last_error,
    )


def new_message_id(mail: OutboxMail) -> str:
    return make_msgid(f"outbox{mail.id}", urlsplit(current_app.config["BASE_URL"]).hostname)


def build_message(mail: OutboxMail) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    if mail.unsubscribe_url:  # RFC 2369 and RFC 8058: mail programs offer one click
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text_body)
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
    return message


class FileTransport:
    """Writes each mail as an ``.eml`` file into ``<instance>/mail`` (the default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage, accepted: Callable[[], object]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%d-%H%M%S")
        name = message["Message-ID"].strip("<>").split("@")[0]
        (self.folder / f"{stamp}-{name}.eml").write_bytes(bytes(message))
        accepted()


class SMTPTransport:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, message: EmailMessage, accepted: Callable[[], object]) -> None:
        """Send ``message``, calling ``accepted()`` as soon as the server has taken it."""
        config = self.config
        host, port, timeout = config["MAIL_HOST"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
        if config["MAIL_SECURITY"] == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if config["MAIL_SECURITY"] == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        except BaseException:
            smtp.close()
            raise
        try:
            accepted()
        finally:
            _say_goodbye(smtp)


def _say_goodbye(smtp: smtplib.SMTP) -> None:
    """End a session whose mail the server accepted. The mail is sent once the server
    answered its data: a server that then hangs up or errs on QUIT must not make the outbox
    send it again."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException) as error:
        logger.info("the SMTP server accepted a mail, then ended badly: %s", error)
        smtp.close()


def transport() -> FileTransport | SMTPTransport:
    config = current_app.config
    if config["MAIL_BACKEND"] == "smtp":
        return SMTPTransport(config)
    return FileTransport(Path(current_app.instance_path) / "mail")
