"""The programme's staff: their roles, and the append-only audit log of what they do.

A role is granted or revoked from the command line (``alma roles``) or, later, by an admin in
the console; either way one row of the audit log says who did it and why. Nothing here changes
or deletes a row of the log, and the database refuses to (see core_0008).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from core.db import db, like_pattern
from core.errors import InvalidInput, NotAllowed
from core.models import ROLES, AuditEntry, User
from core.services.accounts import confirmed_member, normalize_email, user_by_email

COMMAND_LINE = "command line"  # the actor of an act done with the ``alma`` command
# a spreadsheet runs a cell starting with one of these as a formula
FORMULA_STARTS = ("=", "+", "-", "@")
CSV_COLUMNS = (
    "when",
    "actor",
    "actor_role",
    "act",
    "target_kind",
    "target_id",
    "target",
    "reason",
    "client_address",
)

# what an act is done to: a member, or (kind, id, label) of anything else ("article", 12, …)
Target = User | tuple[str, int | None, str]


def has_role(user: object, role: str) -> bool:
    """Whether ``user`` (perhaps an anonymous visitor) holds ``role`` or one allowed more:
    ``has_role(current_user, "coordinator")`` is true for coordinators and admins."""
    return isinstance(user, User) and user.has_role(role)


def record_staff_act(actor: User | None, act: str, target: Target, reason: str) -> AuditEntry:
    """Write one row of the audit log: ``actor`` (``None``: the command line) did ``act``
    (``"role.granted"``, ``"member.suspended"``…) to ``target`` because of ``reason``, which
    must not be blank. Flushed in the caller's unit of work: it commits, or rolls back, with
    the act it records."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Give a reason: it is kept in the audit log."))
    kind, target_id, label = (
        ("member", target.id, target.email) if isinstance(target, User) else target
    )
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else COMMAND_LINE,
        actor_role=actor.role if actor else None,
        act=act,
        target_kind=kind,
        target_id=target_id,
        target_label=label,
        reason=reason,
        client_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def grant_role(email: str, role: str, reason: str, actor: User | None = None) -> User:
    """Give the member with ``email`` the role ``role`` (replacing any other)."""
    if role not in ROLES:
        raise InvalidInput(_("There is no role %(role)s.", role=role))
    member = _member(email)
    if member.role == role:
        raise InvalidInput(_("%(email)s is %(role)s already.", email=member.email, role=role))
    return _change_role(member, role, reason, actor)


def revoke_role(email: str, reason: str, actor: User | None = None) -> User:
    """Make the staff member with ``email`` a member again."""
    member = _member(email)
    if member.role is None:
        raise InvalidInput(_("%(email)s has no role.", email=member.email))
    return _change_role(member, None, reason, actor)


def _member(email: str) -> User:
    member = user_by_email(normalize_email(email))
    if member is None:
        raise InvalidInput(_("No member has the address %(email)s.", email=email))
    return member


def _change_role(member: User, role: str | None, reason: str, actor: User | None) -> User:
    if actor is not None and not actor.has_role("admin"):
        raise NotAllowed(_("Only an admin gives or takes roles."))
    if actor is not None and actor.id == member.id:
        raise NotAllowed(_("Staff cannot change their own role."))
    act = f"role.granted.{role}" if role else f"role.revoked.{member.role}"
    record_staff_act(actor, act, member, reason)
    member.role = role
    return member


def create_admin(email: str, password: str, display_name: str) -> User:
    """``alma create-admin``: a confirmed admin, new or an existing member made one."""
    member = confirmed_member(email, password, display_name)
    if member.role != "admin":
        _change_role(member, "admin", "alma create-admin", actor=None)
    return member


def audit_query(act: str = "", actor: str = "", target: str = "") -> Select[AuditEntry]:
    """The audit log, newest first, narrowed to one act and to actors and targets whose
    label contains the text given (any case)."""
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if act:
        query = query.where(AuditEntry.act == act)
    for column, text in ((AuditEntry.actor_label, actor), (AuditEntry.target_label, target)):
        if text.strip():
            pattern = like_pattern(text.strip().lower())
            query = query.where(func.lower(column).like(pattern, escape="\\"))
    return query


def audit_acts() -> list[str]:
    """Every act the log holds, to filter by."""
    return list(db.session.scalars(select(AuditEntry.act).distinct().order_by(AuditEntry.act)))


def audit_csv(entries: Iterable[AuditEntry]) -> str:
    """The entries as CSV, no cell of which a spreadsheet would run as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        cells = (
            entry.created_at.isoformat(timespec="seconds"),
            entry.actor_label,
            entry.actor_role or "",
            entry.act,
            entry.target_kind,
            "" if entry.target_id is None else str(entry.target_id),
            entry.target_label,
            entry.reason,
            entry.client_address or "",
        )
        writer.writerow([_inert(cell) for cell in cells])
    return out.getvalue()


def _inert(cell: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a quote first."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell
