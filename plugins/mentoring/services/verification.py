"""A mentor's identity check (setting ``verification = "staff"``).

A member who offers mentoring sends an identity document (PDF, JPEG or PNG of at most 5 MB,
its type read from its first bytes, not from its name), or says they will send it by e-mail.
Until a coordinator verifies them they are not in the directory and can neither receive nor
accept requests. The coordinator approves, or rejects with a message; the member gets a mail
either way, the document is deleted, and the decision writes one row of the audit log.

The document is stored under the instance folder, never under ``static/``: only staff read
it, through the console. With ``verification = "none"`` nothing here applies.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, func, select, true, update
from sqlalchemy.orm import InstrumentedAttribute, joinedload
from werkzeug.datastructures import FileStorage

from core.api import (
    InvalidInput,
    NotAllowed,
    NotFound,
    User,
    after_commit,
    db,
    external_url,
    insert_on_conflict,
    reading_as,
    record_staff_act,
    rows_changed,
    send_mail,
    utcnow,
)
from plugins.mentoring.models import (
    PENDING,
    REJECTED,
    VERIFIED,
    MentoringMember,
    MentorVerification,
)
from plugins.mentoring.services.settings import settings

MAX_DOCUMENT_BYTES = 5_000_000
MAX_REJECTION_MESSAGE = 2000
# the first bytes of each accepted type, and the file extension it is stored with
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
APPROVED_ACT, REJECTED_ACT = "mentoring.mentor_verified", "mentoring.mentor_rejected"

STATE_LABELS = {
    PENDING: _l("Mentor: identity to verify"),
    VERIFIED: _l("Mentor: identity verified"),
    REJECTED: _l("Mentor: identity check rejected"),
}
NOT_SENT_LABEL = _l("Mentor: no identity document sent")


def required() -> bool:
    """Whether mentors need a coordinator's check before they can be found."""
    return settings().verification == "staff"


def mail_address() -> str:
    """Where mentors may e-mail their document instead ("": they upload it)."""
    return settings().verification_address


def document_folder() -> Path:
    return Path(current_app.instance_path) / "mentoring" / "verification"


def verification_of(user: User) -> MentorVerification | None:
    return db.session.get(MentorVerification, user.id)


def is_verified(user: User) -> bool:
    """Whether ``user`` may mentor as far as their identity goes (always, without checks)."""
    if not required():
        return True
    found = verification_of(user)
    return found is not None and found.state == VERIFIED


def verified_condition(
    user_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> ColumnElement[bool]:
    """A condition on a query of members: the member ``user_id`` is verified, or need not be.

    Asked member by member (``OFFSET 0`` keeps PostgreSQL from turning it into a join):
    joined, PostgreSQL takes "verified" and "a mentor" for independent, expects a tenth of
    the directory's matches, and sorts every mentor instead of reading them by name up to
    the page's last one (at 10,000 members: 19 ms against 2 ms; 23 ms against 20 ms for a
    word nobody wrote)."""
    if not required():
        return true()
    return (
        select(MentorVerification.user_id)
        .where(MentorVerification.user_id == user_id, MentorVerification.state == VERIFIED)
        .offset(0)
        .exists()
    )


# ---- the member's side ----------------------------------------------------------------------


def submit_document(user: User, upload: FileStorage) -> MentorVerification:
    """Store ``upload`` as ``user``'s identity document and put them in the staff's queue
    (again, after a rejection); a document sent before and not yet read is replaced."""
    data = upload.read(MAX_DOCUMENT_BYTES + 1)
    if not data:
        raise InvalidInput(_("Choose a file to upload."))
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(_("The document may be at most 5 MB: scan it at a lower resolution."))
    kind = next(((mime, ext) for magic, mime, ext in SIGNATURES if data.startswith(magic)), None)
    if kind is None:
        raise InvalidInput(_("Upload a PDF, a JPEG or a PNG file: this file is none of them."))
    mime, ext = kind
    folder = document_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # for alma's own user only
    name = secrets.token_hex(16) + ext
    with os.fdopen(os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(data)
    try:
        return _submit(user, document_name=name, document_type=mime, by_mail=False)
    except Exception:
        (folder / name).unlink(missing_ok=True)  # nothing points at it
        raise


def promise_by_mail(user: User) -> MentorVerification:
    """``user`` will send their document by e-mail (to the ``verification_address``): they
    wait in the staff's queue."""
    if not mail_address():
        raise InvalidInput(_("Upload your document: this programme takes none by e-mail."))
    return _submit(user, document_name=None, document_type=None, by_mail=True)


def _submit(
    user: User, *, document_name: str | None, document_type: str | None, by_mail: bool
) -> MentorVerification:
    if not required():
        raise InvalidInput(_("Mentors need no identity check here."))
    _require_offer(user)
    sent = {
        "state": PENDING,
        "by_mail": by_mail,
        "document_name": document_name,
        "document_type": document_type,
        "submitted_at": utcnow(),
        "decided_at": None,
        "decided_by_id": None,
        "message": "",
    }
    created = db.session.scalar(  # a first submission; a concurrent one may make it first
        insert_on_conflict(MentorVerification)
        .values(user_id=user.id, **sent)
        .on_conflict_do_nothing()
        .returning(MentorVerification.user_id)
    )
    if created is None:  # sent again: after a rejection, or to replace a document unread
        found = db.session.scalar(
            select(MentorVerification)
            .where(MentorVerification.user_id == user.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert found is not None
        if found.state == VERIFIED:
            raise InvalidInput(_("Your identity is verified already."))
        replaced = found.document_name
        for column, value in sent.items():
            setattr(found, column, value)
        db.session.flush()
        if replaced:
            _delete_after_commit(replaced)
    return db.session.get_one(MentorVerification, user.id)


def _require_offer(user: User) -> None:
    member = db.session.get(MentoringMember, user.id)
    if member is None or not member.wants_to_mentor:
        raise InvalidInput(_("Tick “I would like to mentor others” under My data first."))


def mark_verified(user: User) -> None:
    """Record ``user`` as verified without a review: for ``alma demo``'s mentors and tests'."""
    db.session.execute(
        insert_on_conflict(MentorVerification)
        .values(user_id=user.id, state=VERIFIED, submitted_at=utcnow(), decided_at=utcnow())
        .on_conflict_do_nothing()
    )
    db.session.flush()


# ---- the staff's side -----------------------------------------------------------------------


def _waiting() -> ColumnElement[bool]:
    """A check waits for staff while it is pending and its member's account is active: a
    member who deactivated theirs comes back to the queue when they reactivate it."""
    return and_(
        MentorVerification.state == PENDING,
        select(User.id)
        .where(User.id == MentorVerification.user_id, User.deactivated_at.is_(None))
        .exists(),
    )


def queue_query() -> Select[MentorVerification]:
    """The checks waiting for staff, oldest first."""
    return (
        select(MentorVerification)
        .options(joinedload(MentorVerification.user))
        .where(_waiting())
        .order_by(MentorVerification.submitted_at, MentorVerification.user_id)
    )


def count_waiting() -> int:
    """The console's badge: how many checks wait."""
    if not required():
        return 0
    return db.session.execute(
        select(func.count()).select_from(MentorVerification).where(_waiting())
    ).scalar_one()


@dataclass(frozen=True)
class Document:
    path: Path
    mime_type: str


def pending_document(user_id: int) -> Document:
    """The document a member sent and staff have not decided on yet."""
    found = db.session.get(MentorVerification, user_id)
    if found is None or found.state != PENDING or found.document_name is None:
        raise NotFound(_("There is no document to read here."))
    path = document_folder() / found.document_name
    if not path.is_file():
        raise NotFound(_("The document's file is missing."))
    return Document(path, found.document_type or "application/octet-stream")


def approve(staff: User, user_id: int, reason: str) -> MentorVerification:
    """``staff`` verified the member ``user_id``; the member is told by e-mail."""
    return _decide(staff, user_id, VERIFIED, reason, message="")


def reject(staff: User, user_id: int, message: str) -> MentorVerification:
    """``staff`` rejected the member's check with ``message``, which the member reads (and
    which is the audit log's reason); the member may send another document."""
    message = message.strip()
    if not message:
        raise InvalidInput(_("Tell the member why: they read your message."))
    if len(message) > MAX_REJECTION_MESSAGE:
        raise InvalidInput(_("Keep your message under %(n)d characters.", n=MAX_REJECTION_MESSAGE))
    return _decide(staff, user_id, REJECTED, message, message=message)


def _decide(
    staff: User, user_id: int, state: str, reason: str, *, message: str
) -> MentorVerification:
    if staff.id == user_id:
        raise NotAllowed(_("Staff cannot decide on their own identity check."))
    found = db.session.get(MentorVerification, user_id)
    if found is None:
        raise NotFound(_("This member has no identity check."))
    document = found.document_name
    # Two coordinators deciding at once: only the one whose UPDATE finds the check still
    # pending goes on (the other waits for the first's commit, then changes nothing).
    decided = rows_changed(
        update(MentorVerification)
        .where(MentorVerification.user_id == user_id, MentorVerification.state == PENDING)
        .values(
            state=state,
            decided_at=utcnow(),
            decided_by_id=staff.id,
            message=message,
            document_name=None,
            document_type=None,
        )
    )
    if decided != 1:
        raise InvalidInput(_("Another coordinator decided on this member already."))
    found = db.session.scalar(
        select(MentorVerification)
        .where(MentorVerification.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    member = found.user
    record_staff_act(staff, APPROVED_ACT if state == VERIFIED else REJECTED_ACT, member, reason)
    with reading_as(member):
        if state == VERIFIED:
            send_mail(
                member.email,
                _("You are a verified mentor"),
                "mentoring/mail/mentor_verified",
                user=member,
                link=external_url("mentoring.directory"),
            )
        else:
            send_mail(
                member.email,
                _("Your identity check as a mentor"),
                "mentoring/mail/mentor_rejected",
                user=member,
                message=message,
                link=external_url("profile.area", user_id=member.id, area="mentoring"),
            )
    if document:
        _delete_after_commit(document)
    return found


def forget(user: User) -> None:
    """For the member's erasure: their check goes, with any document still waiting."""
    check = verification_of(user)
    if check is None:
        return
    if check.document_name:
        _delete_after_commit(check.document_name)
    db.session.delete(check)


def _delete_after_commit(name: str) -> None:
    """Delete a document once the change that forgets it is committed (on a rollback the
    row still names it, and it stays)."""
    path = document_folder() / name
    after_commit(lambda: path.unlink(missing_ok=True))


# ---- facts ----------------------------------------------------------------------------------


def states_of(user_ids: list[int]) -> dict[int, str]:
    """The state of each member's check (members without one left out), in one query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(MentorVerification.user_id, MentorVerification.state).where(
            MentorVerification.user_id.in_(user_ids)
        )
    )
    return {user_id: state for user_id, state in rows}


def offering_without_check(user_ids: list[int]) -> set[int]:
    """Of these members, those who offer mentoring and never sent anything."""
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(MentoringMember.user_id).where(
                MentoringMember.user_id.in_(user_ids),
                MentoringMember.wants_to_mentor.is_(True),
                ~select(MentorVerification.user_id)
                .where(MentorVerification.user_id == MentoringMember.user_id)
                .exists(),
            )
        )
    )
