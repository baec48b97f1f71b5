"""The members as staff see them (the console's Members section): finding them, and the acts
of staff on one member: suspend, unsuspend, resend the confirmation mail. Each act takes a
reason and writes one row of the audit log, in the act's own unit of work.

A suspended member cannot log in, loses every session and live connection, and is listed
nowhere: plugins list members ``where(User.is_listed)``, and settle what others wait from the
member in ``member_suspended`` (mentoring declines the requests sent to them).
"""

from __future__ import annotations

from datetime import date, time

from flask_babel import gettext as _
from sqlalchemy import Select, SQLColumnExpression, func, or_, select

from core.db import db, like_pattern, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound
from core.i18n import from_local, today_of
from core.models import AuditEntry, User
from core.services.accounts import end_all_sessions, send_confirmation
from core.services.staff import record_staff_act
from core.state import hooks

# a member closes their own account: "deactivated" (deletion asked for included), "erased"
MEMBER_STATES = ("unconfirmed", "active", "suspended", "deactivated", "erased")
SUSPENDED = "member.suspended"
UNSUSPENDED = "member.unsuspended"
CONFIRMATION_RESENT = "member.confirmation_resent"


def _in_state(state: str) -> SQLColumnExpression[bool]:
    unconfirmed = User.email_confirmed_at.is_(None)
    erased = User.erased_at.is_not(None)
    return {
        "unconfirmed": unconfirmed & ~erased,
        "active": ~unconfirmed & User.is_listed,
        "suspended": User.is_suspended,
        "deactivated": User.deactivated_at.is_not(None) & ~erased & ~User.is_suspended,
        "erased": erased,
    }[state]


def members_query(q: str = "", state: str = "") -> Select[User]:
    """Members newest first, those whose name or e-mail contains each word of ``q`` (any
    case), in ``state`` (one of :data:`MEMBER_STATES`; anything else: every state)."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    if state in MEMBER_STATES:
        query = query.where(_in_state(state))
    for word in q.split()[:5]:
        pattern = like_pattern(word.lower())
        query = query.where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),  # stored lower-case
            )
        )
    return query


def member_state(member: User) -> str:
    """The state the console shows for ``member``, one of :data:`MEMBER_STATES`."""
    if member.erased_at is not None:
        return "erased"
    if member.is_suspended:
        return "suspended"
    if member.is_deactivated:
        return "deactivated"
    return "active" if member.email_confirmed else "unconfirmed"


def member_by_id(member_id: int) -> User:
    member = db.session.get(User, member_id)
    if member is None:
        raise NotFound(_("There is no such member."))
    return member


def member_history(member: User) -> list[AuditEntry]:
    """What staff did to ``member``, newest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_kind == "member", AuditEntry.target_id == member.id)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        )
    )


def may_suspend(actor: User, member: User) -> bool:
    """Staff suspend others, and only members or staff of a role not above their own."""
    return actor.id != member.id and (member.role is None or actor.has_role(member.role))


def suspend_member(actor: User, member: User, reason: str, until: date | None = None) -> None:
    """Suspend ``member`` until the start of the day ``until`` where ``actor`` lives (``None``:
    until lifted): their sessions and live connections end, and plugins settle what others
    wait from them (``member_suspended``)."""
    if not may_suspend(actor, member):
        raise NotAllowed(_("You cannot suspend yourself, nor staff of a role above yours."))
    if member.is_suspended:
        raise InvalidInput(_("%(name)s is suspended already.", name=member.display_name))
    if until is not None and until <= today_of(actor):
        raise InvalidInput(_("The end of a suspension is a day after today."))
    record_staff_act(actor, SUSPENDED, member, reason)
    member.suspended_at = utcnow()
    member.suspended_until = from_local(until, time(0), actor) if until else None
    end_all_sessions(member)
    hooks().member_suspended(member)


def unsuspend_member(actor: User, member: User, reason: str) -> None:
    if not member.is_suspended:
        raise InvalidInput(_("%(name)s is not suspended.", name=member.display_name))
    record_staff_act(actor, UNSUSPENDED, member, reason)
    member.suspended_at = member.suspended_until = None


def resend_confirmation(actor: User, member: User, reason: str) -> None:
    if member.email_confirmed:
        raise InvalidInput(
            _("%(name)s confirmed their e-mail address already.", name=member.display_name)
        )
    record_staff_act(actor, CONFIRMATION_RESENT, member, reason)
    send_confirmation(member)
