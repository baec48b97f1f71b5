"""Joining and leaving: joining an open group, asking to join one "on request" and the
managers' answer, leaving, stepping down, and the group's members and managers."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.api import (
    InvalidInput,
    NotFound,
    Page,
    Step,
    User,
    db,
    notify,
    page_of,
    reading_as,
    rows_changed,
    site_path,
    utcnow,
)
from plugins.groups.models import (
    ACCEPTED,
    ACTIVE,
    APPROVED,
    BANNED,
    DECLINED,
    MANAGER,
    MAX_MESSAGE,
    MAY_REJOIN,
    MEMBER,
    ON_REQUEST,
    OPEN,
    PENDING,
    WITHDRAWN,
    Group,
    Invitation,
    JoinRequest,
    Membership,
)
from plugins.groups.services.access import (
    group_for,
    manager_access,
    member_access,
    membership_of,
    pending_request,
    record_act,
    stored_membership,
)
from plugins.groups.services.directory import MEMBER_COUNT, has_listed_manager
from plugins.groups.services.shared import group_path, settings
from plugins.groups.services.states import MEMBERSHIP, REQUEST, move, take


def admit(group: Group, user: User, actor: User) -> Membership:
    """Make ``user`` an active member: a new row, or their old one if they left or were
    removed. Refuses a banned member and a member already in, also when a concurrent
    request admitted them first."""
    membership = membership_of(group.id, user.id)
    if membership is None:
        try:
            with db.session.begin_nested():
                membership = Membership(group_id=group.id, user_id=user.id, state=ACTIVE)
                db.session.add(membership)
        except IntegrityError:  # a concurrent request made the row first
            membership = stored_membership(group.id, user.id)
        else:
            _close_pending(group, user)
            return membership
    now = utcnow()
    rejoined = rows_changed(
        update(Membership)
        .where(Membership.id == membership.id, Membership.state.in_(MAY_REJOIN))
        .values(state=ACTIVE, role=MEMBER, joined_at=now, state_changed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(membership)
    if rejoined != 1:
        oneself = actor.id == user.id
        if membership.state == BANNED:
            raise InvalidInput(
                _("You are banned from this group.")
                if oneself
                else _("%(name)s is banned from this group.", name=user.display_name)
            )
        raise InvalidInput(
            _("You are a member of this group already.")
            if oneself
            else _("%(name)s is a member of this group already.", name=user.display_name)
        )
    _close_pending(group, user)
    return membership


def _close_pending(group: Group, user: User) -> None:
    """Once in, a member's other ways in are settled: a pending invitation counts as accepted,
    a pending request as withdrawn (unless it is the one being approved)."""
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(Invitation.group_id == group.id, Invitation.user_id == user.id)
        .where(Invitation.state == PENDING)
        .values(state=ACCEPTED, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.group_id == group.id, JoinRequest.user_id == user.id)
        .where(JoinRequest.state == PENDING)
        .values(state=WITHDRAWN, decided_at=now)
        .execution_options(synchronize_session=False)
    )


def join_group(group_id: int, user: User) -> Group:
    """A member joins an open group."""
    access = group_for(group_id, user)
    _refuse_if_closed(access.group)
    if access.group.join_policy != OPEN:
        raise InvalidInput(_("This group is not open: ask to join, or wait for an invitation."))
    admit(access.group, user, user)
    return access.group


def _refuse_if_closed(group: Group) -> None:
    running = db.session.scalar(select(has_listed_manager()).where(Group.id == group.id))
    if not running:
        raise InvalidInput(_("This group is closed: nobody manages it at the moment."))


def request_to_join(group_id: int, user: User, message: str | None) -> JoinRequest:
    """A member asks to join a group "on request"; its managers are told by alert and e-mail."""
    access = group_for(group_id, user)
    group = access.group
    if access.is_member:
        raise InvalidInput(_("You are a member of this group already."))
    _refuse_if_closed(group)
    if access.is_banned:
        raise InvalidInput(_("You are banned from this group."))
    if group.join_policy != ON_REQUEST:
        raise InvalidInput(_("This group does not take requests to join."))
    message = (message or "").strip()
    if not message:
        raise InvalidInput(_("Tell the managers in a few words why you would like to join."))
    if len(message) > MAX_MESSAGE:
        raise InvalidInput(_("Keep your message under %(n)d characters.", n=MAX_MESSAGE))
    if asked_lately(JoinRequest, group, user):
        raise InvalidInput(
            _(
                "Your last request to join this group was answered or withdrawn less than a day"
                " ago: you can ask again tomorrow."
            )
        )
    request = JoinRequest(group_id=group.id, user_id=user.id, message=message, state=PENDING)
    try:
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError:
        raise InvalidInput(
            _("You asked to join already: the managers will answer your request.")
        ) from None
    for manager in managers_of(group):
        with reading_as(manager):
            notify(
                manager,
                _(
                    "%(name)s asks to join %(group)s.",
                    name=user.display_name,
                    group=group.shown_name,
                ),
                url=site_path("groups.manage", group_id=group.id),
                email_subject=_("Request to join %(group)s", group=group.shown_name),
                mail_kind="groups.membership",
            )
    return request


# Asking again (to join, or a member to come) waits a day after the last answer or
# withdrawal: each ask alerts and mails someone, so a loop of ask and withdraw must not flood
# them. A pending one is refused by its unique index.
ASK_AGAIN_AFTER = timedelta(days=1)


def asked_lately(kind: type[JoinRequest] | type[Invitation], group: Group, user: User) -> bool:
    """Did a request or invitation (by its ``kind``) of ``user`` to ``group`` end lately?
    It ended when it was answered or withdrawn, however long it waited before (a row ended
    without that time, from before it was kept, counts from when it was made)."""
    ended_at = kind.decided_at if issubclass(kind, JoinRequest) else kind.answered_at
    return (
        db.session.scalar(
            select(kind.id)
            .where(
                kind.group_id == group.id,
                kind.user_id == user.id,
                kind.state != PENDING,
                func.coalesce(ended_at, kind.created_at) > utcnow() - ASK_AGAIN_AFTER,
            )
            .limit(1)
        )
        is not None
    )


def withdraw_request(group_id: int, user: User) -> None:
    access = group_for(group_id, user)
    request = pending_request(access.group.id, user.id)
    if request is None or not take(
        request, REQUEST.check(request, access, "withdraw"), decided_at=utcnow()
    ):
        raise InvalidInput(_("You have no pending request to join this group."))


def _decide_request(
    group_id: int, request_id: int, manager: User, action: str
) -> tuple[Group, JoinRequest]:
    """Answer a pending request exactly once, even when two managers answer at once."""
    access = manager_access(group_id, manager)
    request = db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.id == request_id, JoinRequest.group_id == access.group.id
        )
    )
    if request is None:
        raise NotFound(_("This request does not exist."))
    step = REQUEST.allowed(request, access).get(action)
    if step is None or not take(request, step, decided_at=utcnow(), decided_by_id=manager.id):
        raise InvalidInput(
            _(
                "This request was answered already (%(state)s).",
                state=request_state_label(request.state),
            )
        )
    return access.group, request


def approve_request(group_id: int, request_id: int, manager: User) -> JoinRequest:
    group, request = _decide_request(group_id, request_id, manager, "approve")
    admit(group, request.user, manager)
    record_act(group, manager, "approved_request", request.user)
    with reading_as(request.user):
        notify(
            request.user,
            _("Welcome! Your request to join %(group)s was approved.", group=group.shown_name),
            url=group_path(group.id),
            email_subject=_("You joined %(group)s", group=group.shown_name),
            mail_kind="groups.membership",
        )
    return request


def decline_request(group_id: int, request_id: int, manager: User) -> JoinRequest:
    group, request = _decide_request(group_id, request_id, manager, "decline")
    record_act(group, manager, "declined_request", request.user)
    with reading_as(request.user):
        notify(
            request.user,
            _("Your request to join %(group)s was declined.", group=group.shown_name),
            url=group_path(group.id) if group.is_public else site_path("groups.directory"),
            email_subject=_("Your request to join %(group)s", group=group.shown_name),
            mail_kind="groups.membership",
        )
    return request


def leave_group(group_id: int, user: User) -> None:
    """A member leaves; a manager only if another manager remains."""
    access = member_access(group_id, user)
    step = MEMBERSHIP.check(access.own_membership, access, "leave")
    if not change_standing(access.group, access.own_membership, step):
        raise InvalidInput(_("You are not a member of this group any more."))


def change_standing(group: Group, membership: Membership, step: Step) -> bool:
    """Take a step of the membership table (``states.move``), and count the group's managers
    again if a manager came or went; whether the step was taken."""
    if not move(membership, step):
        return False
    change = (step.to == MANAGER) - (step.state == MANAGER)
    if change:
        count_managers(group, change)
    return True


def count_managers(group: Group, change: int) -> None:
    """Add ``change`` to the group's manager count; the database refuses to go below one
    (two last managers leaving at once included)."""
    try:
        with db.session.begin_nested():
            db.session.execute(
                update(Group)
                .where(Group.id == group.id)
                .values(manager_count=Group.manager_count + change)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise InvalidInput(
            _("A group needs a manager: appoint another manager before you step down or leave.")
        ) from None


def _is_manager_of(group_id: SQLColumnExpression[int] | int) -> ColumnElement[bool]:
    return and_(
        Membership.group_id == group_id, Membership.state == ACTIVE, Membership.role == MANAGER
    )


def managers_of(group: Group) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(_is_manager_of(group.id))
            .order_by(User.display_name, User.id)
        )
    )


def members_and_managers(group: Group) -> tuple[int, list[User]]:
    """The group's number of active members, and its managers listed (not suspended) by
    name, in one query: a row per manager, with the count beside; the group's own row still
    gives one without them."""
    rows = db.session.execute(
        select(MEMBER_COUNT, User)
        .select_from(Group)
        .outerjoin(Membership, _is_manager_of(Group.id))
        .outerjoin(User, and_(User.id == Membership.user_id, User.is_listed))
        .where(Group.id == group.id)
        .order_by(User.display_name, User.id)
    ).all()
    return rows[0][0], [manager for _count, manager in rows if manager is not None]


def members_page(group: Group, page: int) -> Page:
    """Active memberships of members listed (not suspended), managers first, then by name."""
    query = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id == group.id, Membership.state == ACTIVE, User.is_listed)
        .options(joinedload(Membership.user))
        .order_by((Membership.role == MANAGER).desc(), User.display_name, User.id)
    )
    return page_of(query, page, settings().members_per_page)


def step_down(group_id: int, manager: User) -> None:
    """A manager becomes a plain member, unless they are the group's last manager."""
    access = manager_access(group_id, manager)
    step = MEMBERSHIP.check(access.own_membership, access, "step-down")
    if not change_standing(access.group, access.own_membership, step):
        raise InvalidInput(_("You are not a manager any more."))


def pending_requests_query(group: Group) -> Select[JoinRequest]:
    """The group's pending requests with their members, unordered (the managers' page lists
    them all, oldest first; the HTTP API a page at a time)."""
    return (
        select(JoinRequest)
        .where(JoinRequest.group_id == group.id, JoinRequest.state == PENDING)
        .options(joinedload(JoinRequest.user))
    )


def pending_requests(group: Group) -> list[JoinRequest]:
    return list(
        db.session.scalars(
            pending_requests_query(group).order_by(JoinRequest.created_at, JoinRequest.id)
        )
    )


def waiting_count(member_id: ColumnElement[int] | int) -> ColumnElement[int]:
    """What waits for the member's answer, as SQL: invitations to them, and requests to join
    the groups they manage (the badge of the Groups link)."""
    managed = select(Membership.group_id).where(
        Membership.user_id == member_id, Membership.state == ACTIVE, Membership.role == MANAGER
    )
    invitations = select(func.count()).where(
        Invitation.user_id == member_id, Invitation.state == PENDING
    )
    requests = select(func.count()).where(
        JoinRequest.group_id.in_(managed), JoinRequest.state == PENDING
    )
    return invitations.scalar_subquery() + requests.scalar_subquery()


REQUEST_STATE_LABELS = {  # lazy: each translated when shown
    PENDING: _l("pending"),
    APPROVED: _l("approved"),
    DECLINED: _l("declined"),
    WITHDRAWN: _l("withdrawn"),
}


def request_state_label(state: str) -> str:
    return str(REQUEST_STATE_LABELS[state])
