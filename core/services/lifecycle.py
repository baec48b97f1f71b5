"""A member's own account, from the end: deactivate (hidden, mails stop, back at the next
login), ask for its deletion (deactivated at once, erased after a grace period unless they
log in and cancel), and the erasure itself.

Each plugin answers for its own rows through the hooks ``member_deactivating`` and
``member_erasing``; core then clears its own and looks through every table for what is left
of the member. The ``users`` row stays, nameless: what others need (a chat, a forum thread,
a wiki revision, the other party's goals and certificate) keeps pointing at it and reads
"former member".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
    String,
    Text,
    and_,
    cast,
    column,
    delete,
    func,
    inspect,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.security import check_password_hash

from core.db import after_commit, db, like_pattern, utcnow
from core.errors import InvalidInput
from core.i18n import reading_as
from core.jobs import wake_job_after_commit
from core.models import (
    Activity,
    ApiToken,
    AuditEntry,
    DataExport,
    Goal,
    HeldMail,
    LoginFailure,
    MailPreference,
    Notification,
    OutboxMail,
    Report,
    User,
)
from core.services.accounts import end_all_sessions
from core.services.exports import export_file
from core.services.mail import send_mail
from core.services.profiles import remove_photo
from core.state import hooks
from core.urls import external_url

logger = logging.getLogger(__name__)

ERASE_JOB_ID = "core.erase_accounts"
# what an erased member is called wherever others still see what they did; stored as is
# (the rows outlive the language of whoever erased them)
FORMER_MEMBER = "former member"
# an erased member's address: in the reserved .invalid domain, so it never receives mail
ERASED_DOMAIN = "erased.invalid"
# a display name shorter than this is not looked for in others' text (it would match words)
MIN_NAME_LOOKED_FOR = 3


class ErasureIncomplete(RuntimeError):
    """After every plugin erased its part, a member's address was still found in a table."""


def _check_password(user: User, password: str) -> None:
    if not check_password_hash(user.password_hash, password):
        raise InvalidInput(_("Your password is not correct."))


# ---- deactivate and come back --------------------------------------------------------------


def deactivate(user: User, password: str) -> None:
    """The member deactivates their account, confirming with their password."""
    _check_password(user, password)
    if user.is_deactivated:
        raise InvalidInput(_("Your account is deactivated already."))
    _deactivate(user)


def _deactivate(user: User) -> None:
    user.deactivated_at = utcnow()
    db.session.flush()
    end_all_sessions(user)
    hooks().member_deactivating(user)


def reactivate(user: User) -> None:
    """The member, logged in again, takes their account back (and cancels a deletion)."""
    if not user.is_deactivated or user.erased_at is not None:
        raise InvalidInput(_("Your account is active."))
    user.deactivated_at = None
    user.deletion_due_at = None


# ---- deletion ---------------------------------------------------------------------------


def deletion_word() -> str:
    """The word a member types to confirm a deletion, in their language."""
    return _("DELETE")


def grace_period() -> timedelta:
    return timedelta(days=current_app.config["ACCOUNT_DELETION_GRACE_DAYS"])


def request_deletion(user: User, password: str, word: str) -> datetime:
    """The member asks for their account's deletion: it is deactivated now and erased by the
    job once the grace period is over, unless they log in and cancel. Returns when."""
    _check_password(user, password)
    if word.strip().casefold() != deletion_word().casefold():
        raise InvalidInput(_("Type %(word)s to confirm.", word=deletion_word()))
    if user.deletion_due_at is not None:
        raise InvalidInput(_("Your account is to be deleted already."))
    due = utcnow() + grace_period()
    if not user.is_deactivated:
        _deactivate(user)
    user.deletion_due_at = due
    with reading_as(user):
        send_mail(
            user.email,
            _("Your account will be deleted"),
            "mail/deletion_requested",
            user=user,
            due=due,
            link=external_url("auth.login"),
        )
    if not grace_period():
        wake_job_after_commit(ERASE_JOB_ID)
    return due


def erase_due_accounts() -> None:
    """Job: erase the accounts whose deletion is due. One that fails is logged and tried
    again at the next run; the others are erased all the same."""
    due = db.session.scalars(
        select(User)
        .where(User.deletion_due_at <= utcnow(), User.erased_at.is_(None))
        .order_by(User.id)
        .with_for_update(skip_locked=True)
    ).all()
    for user in due:
        try:
            with db.session.begin_nested():
                erase_account(user)
        except Exception:
            logger.exception("the erasure of member %s failed", user.id)


@dataclass(frozen=True)
class Leftover:
    """A column of a table still holding something of an erased member."""

    table: str
    column: str
    what: str  # "e-mail", "name" or "profile text"


def erase_account(user: User) -> list[Leftover]:
    """Erase ``user`` now: each plugin's part (``member_erasing``), then core's; then look
    through every table. Their address found anywhere raises :class:`ErasureIncomplete`
    (the caller rolls back); their name or profile text is logged, and returned."""
    looked_for = _looked_for(user)
    hooks().member_erasing(user)
    _erase_core_rows(user)
    db.session.flush()
    found = leftovers(looked_for)
    addresses = [left for left in found if left.what == "e-mail"]
    if addresses:
        raise ErasureIncomplete(
            "the erased member's address is left in "
            + ", ".join(f"{left.table}.{left.column}" for left in addresses)
        )
    for left in found:
        logger.warning("the erased member %s's %s is left in %s.%s", user.id, *_parts(left))
    return found


def _parts(left: Leftover) -> tuple[str, str, str]:
    return left.what, left.table, left.column


def forget_mentions(user: User, *columns: InstrumentedAttribute[Any]) -> None:
    """Replace ``user``'s name and address by "former member" in the given text columns, in
    every row (the alerts others got, a snapshot that quoted them). For ``member_erasing``."""
    for needle in _mentions(user):
        for text_column in columns:
            statement = (
                update(text_column.class_)
                .where(text_column.contains(needle, autoescape=True))
                .values({text_column: func.replace(text_column, needle, FORMER_MEMBER)})
                .execution_options(synchronize_session=False)
            )
            db.session.execute(statement)


def _mentions(user: User) -> list[str]:
    name = user.display_name.strip()
    return [user.email] + ([name] if len(name) >= MIN_NAME_LOOKED_FOR else [])


def _looked_for(user: User) -> dict[str, str]:
    found = {"e-mail": user.email}
    if len(user.display_name.strip()) >= MIN_NAME_LOOKED_FOR:
        found["name"] = user.display_name.strip()
    if user.bio.strip():
        found["profile text"] = user.bio.strip()
    return found


def _erase_core_rows(user: User) -> None:
    email = user.email
    remove_photo(user)
    end_all_sessions(user)
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(delete(OutboxMail).where(OutboxMail.to_address == email))
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    db.session.execute(delete(Activity).where(Activity.user_id == user.id))
    exports = db.session.scalars(select(DataExport).where(DataExport.user_id == user.id)).all()
    files = [export_file(export) for export in exports]
    after_commit(lambda: _unlink(files))
    db.session.execute(delete(DataExport).where(DataExport.user_id == user.id))
    for owned in (HeldMail.user_id, MailPreference.user_id, ApiToken.user_id):
        db.session.execute(delete(owned.class_).where(owned == user.id))
    # their reports keep their place in the moderators' record, without their words; what
    # they were reported for keeps no copy of what they wrote
    for words, by_them in (
        (Report.text, Report.reporter_id),
        (Report.snapshot_text, Report.author_id),
    ):
        db.session.execute(
            update(Report)
            .where(by_them == user.id)
            .values({words: ""})
            .execution_options(synchronize_session=False)
        )
    # others' alerts and mails, and the goals they share, name them
    forget_mentions(
        user,
        Notification.message,
        OutboxMail.subject,
        OutboxMail.text_body,
        OutboxMail.html_body,
        Goal.title,
        Report.snapshot_title,
        Report.snapshot_text,
        HeldMail.subject,
        HeldMail.text_body,
    )
    # The audit log keeps what staff did, and to whom by id; the one change it allows is
    # this: a label that names the member (their address, or a label of a mentorship or a
    # certificate that quotes it or their name) becomes "former member" (see core_0014).
    for label, id_column, extra in (
        (AuditEntry.target_label, AuditEntry.target_id, AuditEntry.target_kind == "member"),
        (AuditEntry.actor_label, AuditEntry.actor_id, AuditEntry.actor_id.is_not(None)),
    ):
        naming = [label.contains(needle, autoescape=True) for needle in _mentions(user)]
        db.session.execute(
            update(AuditEntry)
            .where(or_(and_(id_column == user.id, extra), *naming), label != FORMER_MEMBER)
            .values({label: FORMER_MEMBER})
            .execution_options(synchronize_session=False)
        )
    user.topics.clear()
    user.languages.clear()
    user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
    user.display_name = FORMER_MEMBER
    user.bio = ""
    user.password_hash = "!"  # no password matches it
    user.timezone = "UTC"
    user.locale = None
    user.role = None
    user.email_confirmed_at = None
    user.last_login_at = None
    user.deletion_due_at = None
    user.erased_at = utcnow()


def _unlink(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)


def leftovers(looked_for: dict[str, str]) -> list[Leftover]:
    """Every text column of every table of the database holding one of ``looked_for``
    (``{"e-mail": "ann@example.org", ...}``), in any case. The audit log's reasons are staff's
    own words, kept as written, and not looked through."""
    connection = db.session.connection()
    inspector = inspect(connection)
    found = []
    for table_name in inspector.get_table_names():
        columns = [
            described["name"]
            for described in inspector.get_columns(table_name)
            if isinstance(described["type"], String | Text | JSON)
            and (table_name, described["name"]) != (AuditEntry.__tablename__, "reason")
        ]
        for what, needle in looked_for.items():
            pattern = like_pattern(needle.lower())
            for name in columns:
                text = func.lower(cast(column(name), Text))
                hit = connection.execute(
                    select(func.count())
                    .select_from(table(table_name, column(name)))
                    .where(or_(text.like(pattern, escape="\\")))
                ).scalar_one()
                if hit:
                    found.append(Leftover(table_name, name, what))
    return found
