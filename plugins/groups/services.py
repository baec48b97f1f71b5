"""The groups plugin's rules, as plain functions of the acting member. They flush, never
commit: the caller (a view, the demo, a test) owns the unit of work.

Who sees what: a public group is seen by every logged-in member; a members-only group only by
its active members, and by a member invited to it, who sees the invitation. To everyone else
a members-only group does not exist (``NotFound``), on every page and action."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.api import (
    InvalidInput,
    NotAllowed,
    NotFound,
    Setting,
    User,
    db,
    notify,
    positive,
    reading_as,
    record_activity,
    undo_activity,
    utcnow,
)
from plugins.groups.models import (
    ACCEPTED,
    ACTIVE,
    APPROVED,
    BANNED,
    DECLINED,
    JOIN_POLICIES,
    LEFT,
    MANAGER,
    MAX_DESCRIPTION,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_POST,
    MAX_TITLE,
    MAX_TOPIC,
    MAY_REJOIN,
    MEMBER,
    ON_REQUEST,
    OPEN,
    PENDING,
    PUBLIC,
    REMOVED,
    REVOKED,
    VISIBILITIES,
    WITHDRAWN,
    Announcement,
    ForumPost,
    ForumTopic,
    Group,
    Invitation,
    JoinRequest,
    ManagementAct,
    Membership,
    TopicFollow,
)

GROUP_CREATED = "groups.group_created"
MANAGED = "groups.managed"
FORUM_POST = "groups.forum_post"

ANNOUNCEMENTS_SHOWN = 5
LATEST_TOPICS_SHOWN = 5
HISTORY_SHOWN = 20
INVITE_CANDIDATES = 10

# ---- settings ------------------------------------------------------------------------------

SETTINGS = {
    "groups_per_page": Setting(int, 12, positive, "groups per page of the directory"),
    "members_per_page": Setting(int, 30, positive, "members per page of a group's member list"),
    "topics_per_page": Setting(int, 20, positive, "topics per page of a group's forum"),
    "posts_per_page": Setting(int, 20, positive, "posts per page of a forum topic"),
    "invitations_per_day": Setting(
        int, 50, positive, "invitations a group sends in a day (each one mails a member)"
    ),
}


@dataclass(frozen=True)
class GroupsSettings:
    groups_per_page: int
    members_per_page: int
    topics_per_page: int
    posts_per_page: int
    invitations_per_day: int


def settings() -> GroupsSettings:
    """``[plugins.groups]``, checked against SETTINGS by core at startup."""
    return GroupsSettings(**current_app.config["PLUGIN_SETTINGS"]["groups"])


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    has_more: bool


def _page_of(query: Select, page: int, size: int, *, scalars: bool = True) -> Page:
    query = query.offset((page - 1) * size).limit(size + 1)
    rows = list(db.session.scalars(query) if scalars else db.session.execute(query).all())
    return Page(rows[:size], page, len(rows) > size)


# ---- paths and names ------------------------------------------------------------------------


def group_path(group_id: int) -> str:
    return f"/groups/{group_id}"


def topic_path(group_id: int, topic_id: int, page: int = 1) -> str:
    path = f"/groups/{group_id}/forum/{topic_id}"
    return path if page == 1 else f"{path}?page={page}"


def _subject(group: Group) -> str:
    return f"groups.group:{group.id}"


def _post_key(post_id: int) -> str:
    return f"{FORUM_POST}:{post_id}"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- who the viewer is to a group -----------------------------------------------------------


@dataclass(frozen=True)
class GroupAccess:
    """A group as one member sees it: their membership (any state) and pending invitation."""

    group: Group
    membership: Membership | None
    invitation: Invitation | None

    @property
    def is_member(self) -> bool:
        return self.membership is not None and self.membership.is_active

    @property
    def is_manager(self) -> bool:
        return self.membership is not None and self.membership.is_manager

    @property
    def is_banned(self) -> bool:
        return self.membership is not None and self.membership.state == BANNED


def _membership_in(group_id: ColumnElement[int] | int, user_id: int) -> ColumnElement[bool]:
    return and_(Membership.group_id == group_id, Membership.user_id == user_id)


def _pending_invitation_to(group_id: ColumnElement[int] | int, user_id: int) -> ColumnElement[bool]:
    return and_(
        Invitation.group_id == group_id, Invitation.user_id == user_id, Invitation.state == PENDING
    )


def membership_of(group_id: int, user_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(_membership_in(group_id, user_id)))


def pending_invitation(group_id: int, user_id: int) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(_pending_invitation_to(group_id, user_id)))


def pending_request(group_id: int, user_id: int) -> JoinRequest | None:
    return db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.group_id == group_id,
            JoinRequest.user_id == user_id,
            JoinRequest.state == PENDING,
        )
    )


def group_for(group_id: int, viewer: User, *, invitee_may_see: bool = False) -> GroupAccess:
    """The group as ``viewer`` sees it. A members-only group is ``NotFound`` to everyone but
    its active members, and (with ``invitee_may_see``) a member invited to it."""
    # one row at most: one membership per member and group, one pending invitation
    found = db.session.execute(
        select(Group, Membership, Invitation)
        .outerjoin(Membership, _membership_in(Group.id, viewer.id))
        .outerjoin(Invitation, _pending_invitation_to(Group.id, viewer.id))
        .where(Group.id == group_id)
    ).one_or_none()
    if found is None:
        raise NotFound(_("This group does not exist."))
    group, membership, invitation = found
    if membership is not None and membership.is_active:
        invitation = None  # an invitation matters only to someone not in the group
    access = GroupAccess(group, membership, invitation)
    invited = invitee_may_see and invitation is not None
    if not group.is_public and not access.is_member and not invited:
        raise NotFound(_("This group does not exist."))
    return access


def member_group(group_id: int, user: User) -> Group:
    """The group, if ``user`` is an active member of it."""
    access = group_for(group_id, user)
    if not access.is_member:
        raise NotAllowed(_("Only members of this group can do this. Join it first."))
    return access.group


def managed_group(group_id: int, manager: User) -> Group:
    """The group, if ``manager`` manages it."""
    access = group_for(group_id, manager)
    if not access.is_manager:
        raise NotAllowed(_("Only the group's managers can do this."))
    return access.group


def _record_act(group: Group, manager: User, action: str, member: User | None = None) -> None:
    """Keep what a manager did in the group's history, and record it as one activity."""
    act = ManagementAct(
        group_id=group.id,
        manager_id=manager.id,
        action=action,
        member_id=member.id if member else None,
    )
    db.session.add(act)
    db.session.flush()
    record_activity(
        MANAGED,
        manager,
        subject=_subject(group),
        # once a day per act and member: a manager who edits ten times, or invites and
        # revokes in a loop, has managed the group once that day
        key=f"{MANAGED}:{group.id}:{manager.id}:{action}:{act.member_id or ''}:{utcnow():%Y-%m-%d}",
        url=group_path(group.id),
    )


# ---- groups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupFields:
    name: str
    description: str
    topic: str
    join_policy: str
    visibility: str


def _checked_fields(
    name: str, description: str, topic: str, join_policy: str, visibility: str
) -> GroupFields:
    name, topic, description = " ".join(name.split()), " ".join(topic.split()), description.strip()
    if not name:
        raise InvalidInput(_("Give the group a name."))
    if len(name.lower()) > MAX_NAME:  # its key too ("İ" lowers to two characters)
        raise InvalidInput(_("Keep the name under %(n)d characters.", n=MAX_NAME))
    if len(topic) > MAX_TOPIC:
        raise InvalidInput(_("Keep the topic under %(n)d characters.", n=MAX_TOPIC))
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(_("Keep the description under %(n)d characters.", n=MAX_DESCRIPTION))
    if join_policy not in JOIN_POLICIES:
        raise InvalidInput(_("Choose how members join from the list."))
    if visibility not in VISIBILITIES:
        raise InvalidInput(_("Choose who sees the group from the list."))
    return GroupFields(name, description, topic, join_policy, visibility)


def _name_taken(name: str) -> InvalidInput:
    return InvalidInput(
        _("A group named “%(name)s” exists already: choose another name.", name=name)
    )


def create_group(
    creator: User,
    *,
    name: str,
    description: str = "",
    topic: str = "",
    join_policy: str = OPEN,
    visibility: str = PUBLIC,
) -> Group:
    """A member creates a group and becomes its first manager."""
    fields = _checked_fields(name, description, topic, join_policy, visibility)
    group = Group(
        **vars(fields), name_key=fields.name.lower(), manager_count=1, created_by_id=creator.id
    )
    try:
        with db.session.begin_nested():
            db.session.add(group)
    except IntegrityError:
        raise _name_taken(fields.name) from None
    db.session.add(Membership(group_id=group.id, user_id=creator.id, role=MANAGER, state=ACTIVE))
    db.session.flush()
    record_activity(GROUP_CREATED, creator, subject=_subject(group), url=group_path(group.id))
    return group


def edit_group(
    group_id: int,
    manager: User,
    *,
    name: str,
    description: str,
    topic: str,
    join_policy: str,
    visibility: str,
) -> Group:
    group = managed_group(group_id, manager)
    fields = _checked_fields(name, description, topic, join_policy, visibility)
    changes = {key: value for key, value in vars(fields).items() if getattr(group, key) != value}
    if not changes:
        return group
    try:
        with db.session.begin_nested():
            for key, value in changes.items():
                setattr(group, key, value)
            group.name_key = fields.name.lower()
    except IntegrityError:
        raise _name_taken(fields.name) from None
    _record_act(group, manager, "edited")
    return group


@dataclass(frozen=True)
class GroupCard:
    group: Group
    member_count: int
    role: str | None  # the viewer's role, if they are an active member


# A group's number of active members, as a column beside it in a query of groups.
MEMBER_COUNT = (
    select(func.count())
    .where(Membership.group_id == Group.id, Membership.state == ACTIVE)
    .correlate(Group)
    .scalar_subquery()
)


def _role_of(viewer: User) -> Any:
    return (
        select(Membership.role)
        .where(
            Membership.group_id == Group.id,
            Membership.user_id == viewer.id,
            Membership.state == ACTIVE,
        )
        .correlate(Group)
        .scalar_subquery()
    )


def search_groups(viewer: User, *, text: str = "", mine: bool = False, page: int = 1) -> Page:
    """Groups ``viewer`` may see, matching every word of ``text`` in their name, description
    or topic, by name; with ``mine``, only theirs. Items are ``GroupCard``s."""
    role = _role_of(viewer)
    query = select(Group, MEMBER_COUNT, role).where(
        role.is_not(None) if mine else or_(Group.visibility == PUBLIC, role.is_not(None))
    )
    for word in text.split()[:5]:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            or_(
                Group.name_key.like(pattern, escape="\\"),
                func.lower(Group.description).like(pattern, escape="\\"),
                func.lower(Group.topic).like(pattern, escape="\\"),
            )
        )
    found = _page_of(
        query.order_by(Group.name_key, Group.id), page, settings().groups_per_page, scalars=False
    )
    return Page([GroupCard(*row) for row in found.items], found.page, found.has_more)


def groups_of(member: User, viewer: User) -> list[GroupCard]:
    """The groups ``member`` belongs to, as ``viewer`` may see them on their profile: all of
    them for the member themself, only the public ones for anyone else."""
    query = (
        select(Group, MEMBER_COUNT, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == member.id, Membership.state == ACTIVE)
        .order_by(Group.name_key)
    )
    if member.id != viewer.id:
        query = query.where(Group.visibility == PUBLIC)
    return [GroupCard(*row) for row in db.session.execute(query).all()]


def count_groups() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Group).where(Group.visibility == PUBLIC)
    )


# ---- joining and leaving ------------------------------------------------------------------


def _admit(group: Group, user: User, actor: User) -> Membership:
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
            membership = membership_of(group.id, user.id)
        else:
            _close_pending(group, user)
            return membership
    now = utcnow()
    rejoined = db.session.execute(
        update(Membership)
        .where(Membership.id == membership.id, Membership.state.in_(MAY_REJOIN))
        .values(state=ACTIVE, role=MEMBER, joined_at=now, state_changed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(membership)
    if rejoined.rowcount != 1:
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
    if access.group.join_policy != OPEN:
        raise InvalidInput(_("This group is not open: ask to join, or wait for an invitation."))
    _admit(access.group, user, user)
    return access.group


def request_to_join(group_id: int, user: User, message: str) -> JoinRequest:
    """A member asks to join a group "on request"; its managers are told by alert and e-mail."""
    access = group_for(group_id, user)
    group = access.group
    if access.is_member:
        raise InvalidInput(_("You are a member of this group already."))
    if access.is_banned:
        raise InvalidInput(_("You are banned from this group."))
    if group.join_policy != ON_REQUEST:
        raise InvalidInput(_("This group does not take requests to join."))
    message = message.strip()
    if not message:
        raise InvalidInput(_("Tell the managers in a few words why you would like to join."))
    if len(message) > MAX_MESSAGE:
        raise InvalidInput(_("Keep your message under %(n)d characters.", n=MAX_MESSAGE))
    if _asked_lately(JoinRequest, group, user):
        raise InvalidInput(
            _("You asked to join this group less than a day ago: you can ask again tomorrow.")
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
                _("%(name)s asks to join %(group)s.", name=user.display_name, group=group.name),
                url=group_path(group.id) + "/manage",
                email_subject=_("Request to join %(group)s", group=group.name),
            )
    return request


# Asking again (to join, or a member to come) waits a day after the last answer or
# withdrawal: each ask alerts and mails someone, so a loop of ask and withdraw must not flood
# them. A pending one is refused by its unique index.
ASK_AGAIN_AFTER = timedelta(days=1)


def _asked_lately(kind: type[JoinRequest] | type[Invitation], group: Group, user: User) -> bool:
    """Did a request or invitation (by its ``kind``) of ``user`` to ``group`` end lately?"""
    return (
        db.session.scalar(
            select(kind.id)
            .where(
                kind.group_id == group.id,
                kind.user_id == user.id,
                kind.state != PENDING,
                kind.created_at > utcnow() - ASK_AGAIN_AFTER,
            )
            .limit(1)
        )
        is not None
    )


def _invitations_today(group: Group) -> int:
    """The group's invitations of the last day: each mails a member, so that a group made to
    advertise cannot mail the whole community."""
    return db.session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(
            Invitation.group_id == group.id, Invitation.created_at > utcnow() - timedelta(days=1)
        )
    )


def withdraw_request(group_id: int, user: User) -> None:
    group = group_for(group_id, user).group
    withdrawn = db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.group_id == group.id, JoinRequest.user_id == user.id)
        .where(JoinRequest.state == PENDING)
        .values(state=WITHDRAWN, decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if withdrawn.rowcount != 1:
        raise InvalidInput(_("You have no pending request to join this group."))


def _decide_request(group: Group, request_id: int, manager: User, decision: str) -> JoinRequest:
    """Answer a pending request exactly once, even when two managers answer at once."""
    request = db.session.scalar(
        select(JoinRequest).where(JoinRequest.id == request_id, JoinRequest.group_id == group.id)
    )
    if request is None:
        raise NotFound(_("This request does not exist."))
    decided = db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.id == request.id, JoinRequest.state == PENDING)
        .values(state=decision, decided_at=utcnow(), decided_by_id=manager.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(request)
    if decided.rowcount != 1:
        raise InvalidInput(
            _(
                "This request was answered already (%(state)s).",
                state=request_state_label(request.state),
            )
        )
    return request


def approve_request(group_id: int, request_id: int, manager: User) -> JoinRequest:
    group = managed_group(group_id, manager)
    request = _decide_request(group, request_id, manager, APPROVED)
    _admit(group, request.user, manager)
    _record_act(group, manager, "approved_request", request.user)
    with reading_as(request.user):
        notify(
            request.user,
            _("Welcome! Your request to join %(group)s was approved.", group=group.name),
            url=group_path(group.id),
            email_subject=_("You joined %(group)s", group=group.name),
        )
    return request


def decline_request(group_id: int, request_id: int, manager: User) -> JoinRequest:
    group = managed_group(group_id, manager)
    request = _decide_request(group, request_id, manager, DECLINED)
    _record_act(group, manager, "declined_request", request.user)
    with reading_as(request.user):
        notify(
            request.user,
            _("Your request to join %(group)s was declined.", group=group.name),
            url=group_path(group.id) if group.is_public else "/groups/",
            email_subject=_("Your request to join %(group)s", group=group.name),
        )
    return request


def leave_group(group_id: int, user: User) -> None:
    """A member leaves; a manager only if another manager remains."""
    group = member_group(group_id, user)
    membership = membership_of(group.id, user.id)
    if _set_state(membership, LEFT, allowed_from=(ACTIVE,), role=MANAGER):
        _count_managers(group, -1)
    elif not _set_state(membership, LEFT, allowed_from=(ACTIVE,)):
        raise InvalidInput(_("You are not a member of this group any more."))


def _set_state(
    membership: Membership, state: str, *, allowed_from: Sequence[str], role: str = MEMBER
) -> bool:
    """Move the membership to ``state`` (as a plain member) if it still is in one of
    ``allowed_from`` with ``role``; whether it did. Conditional, so that of two concurrent
    changes only one happens."""
    changed = db.session.execute(
        update(Membership)
        .where(Membership.id == membership.id, Membership.state.in_(allowed_from))
        .where(Membership.role == role)
        .values(state=state, role=MEMBER, state_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(membership)
    return changed.rowcount == 1


def _count_managers(group: Group, change: int) -> None:
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


# ---- managing members ----------------------------------------------------------------------


def _is_manager_of(group_id: ColumnElement[int] | int) -> ColumnElement[bool]:
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
    """The group's number of active members, and its managers by name, in one query: a row
    per manager, with the count beside; the group's own row still gives one without them."""
    rows = db.session.execute(
        select(MEMBER_COUNT, User)
        .select_from(Group)
        .outerjoin(Membership, _is_manager_of(Group.id))
        .outerjoin(User, User.id == Membership.user_id)
        .where(Group.id == group.id)
        .order_by(User.display_name, User.id)
    ).all()
    return rows[0][0], [manager for _count, manager in rows if manager is not None]


def members_page(group: Group, page: int) -> Page:
    """Active memberships, managers first, then by name."""
    query = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.group_id == group.id, Membership.state == ACTIVE)
        .options(joinedload(Membership.user))
        .order_by((Membership.role == MANAGER).desc(), User.display_name, User.id)
    )
    return _page_of(query, page, settings().members_per_page)


def banned_members(group: Group) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.group_id == group.id, Membership.state == BANNED)
            .options(joinedload(Membership.user))
            .order_by(User.display_name, User.id)
        )
    )


def _member_to_manage(group: Group, manager: User, member_id: int) -> Membership:
    membership = membership_of(group.id, member_id)
    if membership is None:
        raise NotFound(_("This member is not in the group."))
    if membership.user_id == manager.id:
        raise InvalidInput(_("You cannot do this to yourself."))
    if membership.is_manager:
        raise InvalidInput(
            _(
                "%(name)s is a manager: managers cannot be removed or banned; they step down "
                "first.",
                name=membership.user.display_name,
            )
        )
    return membership


def remove_member(group_id: int, manager: User, member_id: int) -> Membership:
    """The member leaves the group; they may join again as its policy allows."""
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    if not _set_state(membership, REMOVED, allowed_from=(ACTIVE,)):
        raise InvalidInput(
            _("%(name)s is not a member any more.", name=membership.user.display_name)
        )
    _record_act(group, manager, "removed", membership.user)
    with reading_as(membership.user):
        notify(
            membership.user,
            _("You were removed from the group %(group)s.", group=group.name),
            url=group_path(group.id) if group.is_public else None,
        )
    return membership


def ban_member(group_id: int, manager: User, member_id: int) -> Membership:
    """The member leaves the group, and may not join, ask or be invited again."""
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    if not _set_state(membership, BANNED, allowed_from=(ACTIVE, LEFT, REMOVED)):
        raise InvalidInput(_("%(name)s is banned already.", name=membership.user.display_name))
    # an invitation or a request of a former member waiting meanwhile ends with the ban (an
    # invitation would still show them a members-only group)
    db.session.execute(
        update(Invitation)
        .where(Invitation.group_id == group.id, Invitation.user_id == member_id)
        .where(Invitation.state == PENDING)
        .values(state=REVOKED, answered_at=utcnow())
    )
    db.session.execute(
        update(JoinRequest)
        .where(JoinRequest.group_id == group.id, JoinRequest.user_id == member_id)
        .where(JoinRequest.state == PENDING)
        .values(state=DECLINED, decided_at=utcnow())
    )
    _record_act(group, manager, "banned", membership.user)
    return membership


def lift_ban(group_id: int, manager: User, member_id: int) -> Membership:
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    if not _set_state(membership, REMOVED, allowed_from=(BANNED,)):
        raise InvalidInput(_("%(name)s is not banned.", name=membership.user.display_name))
    _record_act(group, manager, "lifted_ban", membership.user)
    return membership


def appoint_manager(group_id: int, manager: User, member_id: int) -> Membership:
    group = managed_group(group_id, manager)
    membership = _member_to_manage(group, manager, member_id)
    appointed = db.session.execute(
        update(Membership)
        .where(Membership.id == membership.id, Membership.state == ACTIVE)
        .where(Membership.role == MEMBER)
        .values(role=MANAGER)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(membership)
    if appointed.rowcount != 1:
        raise InvalidInput(
            _("%(name)s is not a member any more.", name=membership.user.display_name)
        )
    _count_managers(group, +1)
    _record_act(group, manager, "appointed", membership.user)
    with reading_as(membership.user):
        notify(
            membership.user,
            _("You are now a manager of %(group)s.", group=group.name),
            url=group_path(group.id),
        )
    return membership


def step_down(group_id: int, manager: User) -> None:
    """A manager becomes a plain member, unless they are the group's last manager."""
    group = managed_group(group_id, manager)
    membership = membership_of(group.id, manager.id)
    stepped_down = db.session.execute(
        update(Membership)
        .where(Membership.id == membership.id, Membership.role == MANAGER)
        .values(role=MEMBER)
        .execution_options(synchronize_session=False)
    )
    if stepped_down.rowcount != 1:
        raise InvalidInput(_("You are not a manager any more."))
    _count_managers(group, -1)


# ---- invitations -----------------------------------------------------------------------------


def invite_candidates(group: Group, text: str) -> list[User]:
    """Members matching ``text`` by name who could be invited: not in the group, not banned
    from it, not invited already."""
    words = text.split()[:5]
    if not words:
        return []
    query = select(User).where(
        User.email_confirmed_at.is_not(None),
        ~select(Membership.id)
        .where(
            Membership.group_id == group.id,
            Membership.user_id == User.id,
            Membership.state.in_((ACTIVE, BANNED)),
        )
        .exists(),
        ~select(Invitation.id)
        .where(
            Invitation.group_id == group.id,
            Invitation.user_id == User.id,
            Invitation.state == PENDING,
        )
        .exists(),
    )
    for word in words:
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(func.lower(User.display_name).like(pattern, escape="\\"))
    return list(
        db.session.scalars(query.order_by(User.display_name, User.id).limit(INVITE_CANDIDATES))
    )


def invite(group_id: int, manager: User, member_id: int) -> Invitation:
    """A manager invites a member, who is told by alert and e-mail."""
    group = managed_group(group_id, manager)
    invitee = db.session.get(User, member_id)
    if invitee is None or not invitee.email_confirmed:
        raise InvalidInput(_("Choose a member to invite from the list."))
    membership = membership_of(group.id, invitee.id)
    if membership is not None and membership.state == ACTIVE:
        raise InvalidInput(
            _("%(name)s is a member of this group already.", name=invitee.display_name)
        )
    if membership is not None and membership.state == BANNED:
        raise InvalidInput(
            _(
                "%(name)s is banned from this group: lift the ban before inviting them.",
                name=invitee.display_name,
            )
        )
    if _invitations_today(group) >= settings().invitations_per_day:
        raise InvalidInput(
            _("This group sent all the invitations it may send today: invite more tomorrow.")
        )
    if _asked_lately(Invitation, group, invitee):
        raise InvalidInput(
            _(
                "%(name)s was invited to this group less than a day ago: invite them again"
                " tomorrow.",
                name=invitee.display_name,
            )
        )
    invitation = Invitation(
        group_id=group.id, user_id=invitee.id, invited_by_id=manager.id, state=PENDING
    )
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
    except IntegrityError:
        raise InvalidInput(_("%(name)s is invited already.", name=invitee.display_name)) from None
    _record_act(group, manager, "invited", invitee)
    with reading_as(invitee):
        notify(
            invitee,
            _(
                "%(name)s invites you to join the group %(group)s.",
                name=manager.display_name,
                group=group.name,
            ),
            url=group_path(group.id),
            email_subject=_("Invitation to join %(group)s", group=group.name),
        )
    return invitation


def revoke_invitation(group_id: int, invitation_id: int, manager: User) -> Invitation:
    group = managed_group(group_id, manager)
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == invitation_id, Invitation.group_id == group.id)
    )
    if invitation is None:
        raise NotFound(_("This invitation does not exist."))
    revoked = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.state == PENDING)
        .values(state=REVOKED, answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if revoked.rowcount != 1:
        raise InvalidInput(_("This invitation was answered already."))
    _record_act(group, manager, "revoked_invitation", invitation.user)
    return invitation


def answer_invitation(group_id: int, user: User, *, accept: bool) -> Group:
    """The invitee accepts (and joins, whatever the group's policy) or declines."""
    group = group_for(group_id, user, invitee_may_see=True).group
    invitation = pending_invitation(group.id, user.id)
    answered = db.session.execute(
        update(Invitation)
        .where(Invitation.group_id == group.id, Invitation.user_id == user.id)
        .where(Invitation.state == PENDING)
        .values(state=ACCEPTED if accept else DECLINED, answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if invitation is None or answered.rowcount != 1:
        raise InvalidInput(_("You have no pending invitation to this group."))
    if accept:
        _admit(group, user, user)
    if invitation.invited_by is not None:
        with reading_as(invitation.invited_by):
            notify(
                invitation.invited_by,
                _(
                    "%(name)s accepted your invitation to %(group)s.",
                    name=user.display_name,
                    group=group.name,
                )
                if accept
                else _(
                    "%(name)s declined your invitation to %(group)s.",
                    name=user.display_name,
                    group=group.name,
                ),
                url=group_path(group.id),
            )
    return group


def invitations_of(user: User) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.user_id == user.id, Invitation.state == PENDING)
            .options(joinedload(Invitation.group), joinedload(Invitation.invited_by))
            .order_by(Invitation.created_at.desc())
        )
    )


def pending_requests(group: Group) -> list[JoinRequest]:
    return list(
        db.session.scalars(
            select(JoinRequest)
            .where(JoinRequest.group_id == group.id, JoinRequest.state == PENDING)
            .options(joinedload(JoinRequest.user))
            .order_by(JoinRequest.created_at, JoinRequest.id)
        )
    )


def pending_invitations(group: Group) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.group_id == group.id, Invitation.state == PENDING)
            .options(joinedload(Invitation.user))
            .order_by(Invitation.created_at, Invitation.id)
        )
    )


def history(group: Group) -> list[ManagementAct]:
    return list(
        db.session.scalars(
            select(ManagementAct)
            .where(ManagementAct.group_id == group.id)
            .options(joinedload(ManagementAct.manager), joinedload(ManagementAct.member))
            .order_by(ManagementAct.id.desc())
            .limit(HISTORY_SHOWN)
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


# ---- announcements ---------------------------------------------------------------------------


def announce(group_id: int, manager: User, body: str) -> Announcement:
    """A manager posts an announcement on the group's page; every member is alerted."""
    group = managed_group(group_id, manager)
    body = body.strip()
    if not body:
        raise InvalidInput(_("Write the announcement first."))
    if len(body) > MAX_MESSAGE:
        raise InvalidInput(_("Keep an announcement under %(n)d characters.", n=MAX_MESSAGE))
    announcement = Announcement(group_id=group.id, author_id=manager.id, body=body)
    db.session.add(announcement)
    db.session.flush()
    _record_act(group, manager, "announced")
    for member in _active_members_except(group, manager):
        with reading_as(member):
            notify(
                member,
                _(
                    "Announcement in %(group)s: “%(text)s”",
                    group=group.name,
                    text=body,
                ),
                url=group_path(group.id) + "#announcements",
            )
    return announcement


def _active_members_except(group: Group, user: User) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.group_id == group.id,
                Membership.state == ACTIVE,
                User.id != user.id,
            )
        )
    )


def latest_announcements(group: Group) -> list[Announcement]:
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.group_id == group.id)
            .options(joinedload(Announcement.author))
            .order_by(Announcement.created_at.desc(), Announcement.id.desc())
            .limit(ANNOUNCEMENTS_SHOWN)
        )
    )


# ---- forum -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicLine:
    topic: ForumTopic
    replies: int


# A topic's number of replies (its posts but the first), as a column beside it.
TOPIC_REPLIES = (
    select(func.count() - 1)
    .where(ForumPost.topic_id == ForumTopic.id)
    .correlate(ForumTopic)
    .scalar_subquery()
)


def _topic_lines(group: Group) -> Select:
    """The group's topics, the most recently active first, with their number of replies."""
    return (
        select(ForumTopic, TOPIC_REPLIES)
        .where(ForumTopic.group_id == group.id)
        .order_by(ForumTopic.last_post_at.desc(), ForumTopic.id.desc())
    )


def topics_page(group: Group, page: int) -> Page:
    query = _topic_lines(group).options(joinedload(ForumTopic.author))
    found = _page_of(query, page, settings().topics_per_page, scalars=False)
    return Page([TopicLine(*row) for row in found.items], found.page, found.has_more)


def latest_topics(group: Group) -> list[TopicLine]:
    """The group page's glimpse of its forum (which names no author)."""
    rows = db.session.execute(_topic_lines(group).limit(LATEST_TOPICS_SHOWN))
    return [TopicLine(*row) for row in rows]


def topic_for(group_id: int, topic_id: int, viewer: User) -> tuple[GroupAccess, ForumTopic]:
    access = group_for(group_id, viewer)
    topic = db.session.scalar(
        select(ForumTopic).where(ForumTopic.id == topic_id, ForumTopic.group_id == access.group.id)
    )
    if topic is None:
        raise NotFound(_("This topic does not exist."))
    return access, topic


def posts_page(topic: ForumTopic, page: int) -> Page:
    query = (
        select(ForumPost)
        .where(ForumPost.topic_id == topic.id)
        .options(joinedload(ForumPost.author))
        .order_by(ForumPost.id)
    )
    return _page_of(query, page, settings().posts_per_page)


def page_count(topic: ForumTopic) -> int:
    posts = db.session.scalar(
        select(func.count()).select_from(ForumPost).where(ForumPost.topic_id == topic.id)
    )
    return max(1, math.ceil(posts / settings().posts_per_page))


def _checked_post(body: str) -> str:
    body = body.strip()
    if not body:
        raise InvalidInput(_("Write something first."))
    if len(body) > MAX_POST:
        raise InvalidInput(_("Keep a post under %(n)d characters.", n=MAX_POST))
    return body


def _add_post(topic: ForumTopic, author: User, body: str) -> ForumPost:
    post = ForumPost(topic_id=topic.id, author_id=author.id, body=body)
    db.session.add(post)
    db.session.flush()
    topic.last_post_at = post.created_at
    record_activity(
        FORUM_POST,
        author,
        subject=f"groups.post:{post.id}",
        key=_post_key(post.id),
        url=topic_path(topic.group_id, topic.id),
    )
    return post


def start_topic(group_id: int, author: User, title: str, body: str) -> ForumTopic:
    """A member opens a topic in the group's forum, and follows it."""
    group = member_group(group_id, author)
    title = " ".join(title.split())
    if not title:
        raise InvalidInput(_("Give the topic a title."))
    if len(title) > MAX_TITLE:
        raise InvalidInput(_("Keep the title under %(n)d characters.", n=MAX_TITLE))
    body = _checked_post(body)
    topic = ForumTopic(group_id=group.id, author_id=author.id, title=title)
    db.session.add(topic)
    db.session.flush()
    _add_post(topic, author, body)
    follow_topic(group.id, topic.id, author)
    return topic


def reply(group_id: int, topic_id: int, author: User, body: str) -> ForumPost:
    """A member replies; the topic's followers who are still members are alerted (and
    e-mailed, those who chose so)."""
    access, topic = topic_for(group_id, topic_id, author)
    if not access.is_member:
        raise NotAllowed(_("Only members of this group can post. Join it first."))
    post = _add_post(topic, author, _checked_post(body))
    url = topic_path(access.group.id, topic.id, page_count(topic)) + f"#post-{post.id}"
    for follow, follower in _followers_to_tell(topic, author):
        with reading_as(follower):
            notify(
                follower,
                _(
                    "%(name)s replied to “%(topic)s” in %(group)s.",
                    name=author.display_name,
                    topic=topic.title,
                    group=access.group.name,
                ),
                url=url,
                email_subject=(
                    _("New reply to “%(topic)s”", topic=topic.title) if follow.by_email else None
                ),
            )
    return post


def _followers_to_tell(topic: ForumTopic, author: User) -> list[tuple[TopicFollow, User]]:
    """Followers other than the author who are still active members of the group (someone
    removed must learn nothing more of a members-only group)."""
    return list(
        db.session.execute(
            select(TopicFollow, User)
            .join(User, User.id == TopicFollow.user_id)
            .join(
                Membership,
                (Membership.user_id == User.id) & (Membership.group_id == topic.group_id),
            )
            .where(
                TopicFollow.topic_id == topic.id,
                TopicFollow.user_id != author.id,
                Membership.state == ACTIVE,
            )
        ).all()
    )


def following(topic: ForumTopic, user: User) -> TopicFollow | None:
    return db.session.get(TopicFollow, (topic.id, user.id))


def follow_topic(group_id: int, topic_id: int, user: User, *, by_email: bool = False) -> None:
    """Follow a topic (again, to change whether replies come by e-mail too)."""
    access, topic = topic_for(group_id, topic_id, user)
    if not access.is_member:
        raise NotAllowed(_("Only members of this group can follow its topics."))
    existing = following(topic, user)
    if existing is None:
        try:
            with db.session.begin_nested():
                existing = TopicFollow(topic_id=topic.id, user_id=user.id, by_email=by_email)
                db.session.add(existing)
        except IntegrityError:  # a double click followed it a moment ago
            existing = following(topic, user)
    existing.by_email = by_email
    db.session.flush()


def unfollow_topic(group_id: int, topic_id: int, user: User) -> None:
    _access, topic = topic_for(group_id, topic_id, user)
    db.session.execute(
        delete(TopicFollow).where(TopicFollow.topic_id == topic.id, TopicFollow.user_id == user.id)
    )


def delete_post(group_id: int, post_id: int, manager: User) -> ForumPost:
    """A manager erases a post's text (its place in the thread stays); the credit it earned
    is taken back."""
    group = managed_group(group_id, manager)
    post = db.session.scalar(
        select(ForumPost)
        .join(ForumTopic, ForumTopic.id == ForumPost.topic_id)
        .where(ForumPost.id == post_id, ForumTopic.group_id == group.id)
    )
    if post is None:
        raise NotFound(_("This post does not exist."))
    erased = db.session.execute(
        update(ForumPost)
        .where(ForumPost.id == post.id, ForumPost.deleted_at.is_(None))
        .values(body="", deleted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(post)
    if erased.rowcount != 1:
        raise InvalidInput(_("This post was deleted already."))
    undo_activity(_post_key(post.id))
    _record_act(group, manager, "deleted_post", post.author)
    return post


def delete_topic(group_id: int, topic_id: int, manager: User) -> None:
    """A manager deletes a topic with all its posts; the credits they earned are taken back."""
    group = managed_group(group_id, manager)
    _access, topic = topic_for(group.id, topic_id, manager)
    post_ids = db.session.scalars(
        select(ForumPost.id).where(ForumPost.topic_id == topic.id, ForumPost.deleted_at.is_(None))
    ).all()
    for post_id in post_ids:
        undo_activity(_post_key(post_id))
    db.session.execute(delete(ForumTopic).where(ForumTopic.id == topic.id))
    _record_act(group, manager, "deleted_topic", topic.author)


# ---- labels ----------------------------------------------------------------------------------


def request_state_label(state: str) -> str:
    return {
        PENDING: _("pending"),
        APPROVED: _("approved"),
        DECLINED: _("declined"),
        WITHDRAWN: _("withdrawn"),
    }[state]


def join_policy_label(policy: str) -> str:
    return {
        OPEN: _("Open: anyone can join"),
        ON_REQUEST: _("On request: managers approve"),
        "invitation": _("Invitation only"),
    }[policy]


def visibility_label(visibility: str) -> str:
    return {PUBLIC: _("Public"), "members": _("Members only")}[visibility]


def action_label(action: str) -> str:
    return {
        "edited": _("edited the group"),
        "approved_request": _("approved the request of"),
        "declined_request": _("declined the request of"),
        "invited": _("invited"),
        "revoked_invitation": _("revoked the invitation of"),
        "removed": _("removed"),
        "banned": _("banned"),
        "lifted_ban": _("lifted the ban of"),
        "appointed": _("appointed as manager"),
        "announced": _("posted an announcement"),
        "deleted_post": _("deleted a post by"),
        "deleted_topic": _("deleted a topic by"),
    }[action]
