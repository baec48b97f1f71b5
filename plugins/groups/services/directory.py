"""Groups themselves: creating and editing one, finding groups in the directory, a member's
groups on their profile, and the words for a group's join policy and visibility."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from core.api import InvalidInput, Page, User, db, like_pattern, page_of, record_activity
from plugins.groups.models import (
    ACTIVE,
    JOIN_POLICIES,
    MANAGER,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_TOPIC,
    ON_REQUEST,
    OPEN,
    PUBLIC,
    VISIBILITIES,
    Group,
    Membership,
)
from plugins.groups.services.access import managed_group, record_act
from plugins.groups.services.shared import (
    GROUP_CREATED,
    group_path,
    group_subject,
    settings,
)


def has_listed_manager() -> ColumnElement[bool]:
    """Whether a group is running: one of its managers is listed. A group whose only managers
    deactivated their account (or were suspended) and had nobody to hand it to is closed
    (see ``account_end``): out of the directory, and nobody joins it, until one is back."""
    return exists(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.group_id == Group.id,
            Membership.state == ACTIVE,
            Membership.role == MANAGER,
            User.is_listed,
        )
    )


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
    record_activity(GROUP_CREATED, creator, subject=group_subject(group), url=group_path(group.id))
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
    record_act(group, manager, "edited")
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
    query = visible_groups(viewer, text=text, mine=mine).add_columns(MEMBER_COUNT, _role_of(viewer))
    query = query.order_by(Group.name_key, Group.id)
    return page_of(query, page, settings().groups_per_page, rows=True).map(
        lambda row: GroupCard(*row)
    )


def visible_groups(viewer: User, *, text: str = "", mine: bool = False) -> Select[Group]:
    """The groups the directory shows ``viewer``, matching every word of ``text`` in their
    name, description or topic; with ``mine``, only theirs (unordered)."""
    role = _role_of(viewer)
    query = select(Group).where(
        role.is_not(None)
        if mine
        # a group the moderators hid is listed to its members alone
        else or_(
            and_(Group.visibility == PUBLIC, has_listed_manager(), Group.hidden_at.is_(None)),
            role.is_not(None),
        )
    )
    for word in text.split()[:5]:
        pattern = like_pattern(word.lower())
        query = query.where(
            or_(
                Group.name_key.like(pattern, escape="\\"),
                func.lower(Group.description).like(pattern, escape="\\"),
                func.lower(Group.topic).like(pattern, escape="\\"),
            )
        )
    return query


def cards_of(groups: Sequence[Group], viewer: User) -> list[GroupCard]:
    """These groups as the directory shows them to ``viewer`` (one query for all)."""
    facts = {
        group_id: (count, role)
        for group_id, count, role in db.session.execute(
            select(Group.id, MEMBER_COUNT, _role_of(viewer)).where(
                Group.id.in_([group.id for group in groups])
            )
        )
    }
    return [GroupCard(group, *facts[group.id]) for group in groups]


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
        query = query.where(Group.visibility == PUBLIC, Group.hidden_at.is_(None))
    return [GroupCard(*row) for row in db.session.execute(query).all()]


def count_groups() -> int:
    return db.session.execute(
        select(func.count())
        .select_from(Group)
        .where(Group.visibility == PUBLIC, has_listed_manager(), Group.hidden_at.is_(None))
    ).scalar_one()


def join_policy_label(policy: str) -> str:
    return {
        OPEN: _("Open: anyone can join"),
        ON_REQUEST: _("On request: managers approve"),
        "invitation": _("Invitation only"),
    }[policy]


def visibility_label(visibility: str) -> str:
    return {PUBLIC: _("Public"), "members": _("Members only")}[visibility]
