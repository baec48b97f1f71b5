"""What the wiki records in core's activity log (which a credits plugin, when enabled, turns
into credits): creating, editing (not trivial saves) and rating, each once, with stable keys;
deleting an article undoes every activity it earned. The credits plugin is not enabled here:
nothing may depend on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import hookimpl
from core.db import utcnow
from core.models import Activity
from core.state import alma
from core.testing import stored
from plugins.wiki.models import Revision

LONG_CHANGE = "\n\nA whole new paragraph on keeping notes after each meeting."


def activities(app) -> list[tuple[str, str, bool]]:
    """(kind, key, undone) of every activity recorded, oldest first."""
    from core.db import db

    with app.app_context():
        rows = db.session.execute(
            select(Activity.kind, Activity.key, Activity.undone_at).order_by(Activity.id)
        ).all()
        db.session.remove()
    return [(kind, key, undone is not None) for kind, key, undone in rows]


class Listener:
    """A plugin listening to core's events, as a credits plugin would."""

    def __init__(self) -> None:
        self.performed: list[str] = []
        self.undone: list[str] = []

    @hookimpl
    def activity_performed(self, activity):
        self.performed.append(activity.key)

    @hookimpl
    def activity_undone(self, activity):
        self.undone.append(activity.key)


@pytest.fixture
def listener():
    return Listener()


@pytest.fixture
def app(make_app, listener):
    """The wiki, a listener, no credits plugin; a 2 minutes grace, 5 characters a tiny edit."""
    return make_app(
        extra_plugins={"listener": listener},
        PLUGINS=["wiki", "listener"],
        PLUGIN_SETTINGS={"wiki": {"edit_grace_minutes": 2, "trivial_edit_characters": 5}},
    )


@pytest.fixture
def ada(create_user):
    return create_user(display_name="Ada Lovelace")


@pytest.fixture
def rui(create_user):
    return create_user(display_name="Rui Mentor")


def make_older(db, article, minutes: int) -> None:
    """Pretend the article's revisions were saved ``minutes`` ago."""
    db.session.execute(
        update(Revision)
        .where(Revision.article_id == article.id)
        .values(created_at=utcnow() - timedelta(minutes=minutes))
    )
    db.session.commit()


def test_the_wiki_declares_its_activity_kinds(app):
    kinds = alma(app).activity_kinds

    assert {name: str(kind.label) for name, kind in kinds.items()} == {
        "wiki.article_created": "Wrote a wiki article",
        "wiki.article_edited": "Improved a wiki article",
        "wiki.article_rated": "Rated a wiki article",
    }


def test_creating_an_article_records_an_activity(client, app, ada):
    client.login(ada)
    client.post("/wiki/new", data={"title": "Goals", "body": "Set one goal."})

    article_id = stored(app, select(Revision.article_id))
    assert activities(app) == [
        ("wiki.article_created", f"wiki.article_created:{article_id}", False)
    ]
    assert stored(app, select(Activity.url)) == f"/wiki/{article_id}-goals"
    assert stored(app, select(Activity.user_id)) == ada.id


def test_an_edit_by_someone_else_records_an_activity(app, articles, ada, rui):
    article = articles.create(ada)

    articles.edit(article, rui, article.body + LONG_CHANGE)

    assert activities(app)[-1] == (
        "wiki.article_edited",
        f"wiki.article_edited:{article.id}:2",
        False,
    )
    assert stored(app, select(Activity.user_id).where(Activity.kind == "wiki.article_edited"))


def test_saving_again_within_minutes_of_ones_own_save_records_nothing(app, articles, ada):
    article = articles.create(ada)

    articles.edit(article, ada, article.body + LONG_CHANGE)

    assert [kind for kind, _, _ in activities(app)] == ["wiki.article_created"]


def test_saving_again_after_the_grace_period_records_an_edit(app, db, articles, ada):
    article = articles.create(ada)
    make_older(db, article, 3)

    articles.edit(article, ada, article.body + LONG_CHANGE)

    assert [kind for kind, _, _ in activities(app)] == [
        "wiki.article_created",
        "wiki.article_edited",
    ]


def test_a_tiny_change_records_nothing(app, articles, ada, rui):
    article = articles.create(ada)

    articles.edit(article, rui, article.body.replace("hour", "Hour") + "!")

    assert [kind for kind, _, _ in activities(app)] == ["wiki.article_created"]
    assert stored(app, select(Revision.recorded_activity).where(Revision.number == 2)) is False


def test_the_tiny_change_is_a_setting(app, articles, ada, rui):
    article = articles.create(ada)

    articles.edit(article, rui, article.body + " Quite.")  # 7 characters: not tiny at 5

    assert [kind for kind, _, _ in activities(app)] == [
        "wiki.article_created",
        "wiki.article_edited",
    ]


def test_rating_records_once_even_when_changed(app, articles, ada, rui):
    article = articles.create(ada)

    articles.rate(article, rui, 3)
    articles.rate(article, rui, 5)

    assert activities(app)[1:] == [
        ("wiki.article_rated", f"wiki.article_rated:{article.id}:{rui.id}", False)
    ]


def test_deleting_an_article_undoes_every_activity_it_earned(
    client, app, create_user, articles, listener
):
    ada, rui, eve = create_user(), create_user(), create_user()
    kept = articles.create(eve, title="Kept")
    article = articles.create(ada, title="To delete")
    articles.edit(article, rui, article.body + LONG_CHANGE)
    articles.rate(article, rui, 4)
    articles.rate(article, eve, 5)
    articles.rate(kept, rui, 2)
    article_id = article.id
    client.login(ada)

    client.post(f"/wiki/{article_id}/delete")

    undone = {
        f"wiki.article_created:{article_id}",
        f"wiki.article_edited:{article_id}:2",
        f"wiki.article_rated:{article_id}:{rui.id}",
        f"wiki.article_rated:{article_id}:{eve.id}",
    }
    assert {key for _, key, is_undone in activities(app) if is_undone} == undone
    assert sorted(listener.undone) == sorted(undone)  # each undone once
    assert len(listener.performed) == 6 and len(activities(app)) == 6
