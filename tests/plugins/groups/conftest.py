"""The groups plugin's tests run with it enabled (and nothing else), unless a test says;
``member`` and ``outsider`` come from tests/conftest.py."""

from __future__ import annotations

import pytest

from core.models import User


@pytest.fixture
def alma_plugins(request):
    marker = request.node.get_closest_marker("plugins")
    return list(marker.args) if marker else ["groups"]


class Groups:
    """Groups made through the real services, committed: ``groups.create(manager, ...)``,
    ``groups.add(group_id, *members)`` (members join through an invitation they accept)."""

    def __init__(self, db):
        self.db = db

    def create(self, manager: User, name: str = "Python learners", **fields) -> int:
        from plugins.groups.services import directory

        group = directory.create_group(manager, name=name, **fields)
        self.db.session.commit()
        return group.id

    def add(self, group_id: int, *members: User) -> None:
        from plugins.groups.models import Group
        from plugins.groups.services import invitations, membership

        manager = membership.managers_of(self.db.session.get(Group, group_id))[0]
        for member in members:
            invitations.invite(group_id, manager, member.id)
            invitations.answer_invitation(group_id, member, accept=True)
        self.db.session.commit()


@pytest.fixture
def groups(db):
    return Groups(db)


@pytest.fixture
def app_settings() -> dict:
    """The app's settings, {} unless a test parametrizes them (``per_page`` in a test file)."""
    return {}


@pytest.fixture
def app(make_app, app_settings):
    return make_app(**app_settings)


@pytest.fixture
def group_id(groups, manager, member) -> int:
    """A group of ``manager``'s, which ``member`` joined."""
    group_id = groups.create(manager)
    groups.add(group_id, member)
    return group_id


@pytest.fixture
def manager(create_user) -> User:
    return create_user(display_name="Grace Manager", email="grace@example.org")


@pytest.fixture
def act(client):
    """``act(user, path, **form)``: a form post by ``user``, following the redirect."""

    def post(user: User, path: str, **data: str):
        client.login(user)
        return client.post(path, data=data, follow_redirects=True)

    return post


def _rows(app, statement) -> list[tuple]:
    from core.db import db

    with app.app_context():
        try:
            return [tuple(row) for row in db.session.execute(statement).all()]
        finally:
            db.session.remove()


@pytest.fixture
def alerts_of(app):
    """``alerts_of(user)``: the member's alerts as (message, url), oldest first."""
    from sqlalchemy import select

    from core.models import Notification

    return lambda user: _rows(
        app,
        select(Notification.message, Notification.url)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id),
    )


@pytest.fixture
def activities_of(app):
    """``activities_of(user)``: the member's activities as (kind, key, undone), oldest first."""
    from sqlalchemy import select

    from core.models import Activity

    def read(user: User) -> list[tuple[str, str, bool]]:
        rows = _rows(
            app,
            select(Activity.kind, Activity.key, Activity.undone_at)
            .where(Activity.user_id == user.id)
            .order_by(Activity.id),
        )
        return [(kind, key, undone is not None) for kind, key, undone in rows]

    return read
