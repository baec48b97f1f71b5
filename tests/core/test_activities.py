"""The activity log (core.services.activities): each event recorded once, ``activity_performed``
fired once inside the unit of work that recorded it, undone once. Runs on SQLite and PostgreSQL;
the race tests need PostgreSQL's real concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from core import hookimpl
from core.contributions import ActivityKind
from core.db import utcnow
from core.models import Activity, Notification, User
from core.services.activities import activity_label, record_activity, undo_activity
from core.services.notifications import notify
from core.testing import count_rows, stored

WROTE = "probe.wrote"
RATED = "probe.rated"


class ActivityProbe:
    """A throwaway plugin: declares two activity kinds and remembers every event it hears.

    ``on_performed`` lets a test add a reaction (a write of its own, or an error)."""

    def __init__(self) -> None:
        self.performed: list[tuple[int, str, str, int]] = []
        self.undone: list[tuple[int, str, bool]] = []
        self.on_performed: Callable[[Activity], Any] | None = None
        self.lock = threading.Lock()

    @hookimpl
    def register_activity_kinds(self) -> list[ActivityKind]:
        return [ActivityKind(WROTE, "Wrote an article"), ActivityKind(RATED, "Rated an article")]

    @hookimpl
    def activity_performed(self, activity: Activity) -> None:
        with self.lock:
            self.performed.append((activity.id, activity.key, activity.kind, activity.user_id))
        if self.on_performed:
            self.on_performed(activity)

    @hookimpl
    def activity_undone(self, activity: Activity) -> None:
        with self.lock:
            self.undone.append((activity.id, activity.key, activity.undone_at is not None))


@pytest.fixture
def probe() -> ActivityProbe:
    return ActivityProbe()


@pytest.fixture
def app(make_app, probe):
    return make_app(extra_plugins={"probe": probe}, PLUGINS=["probe"])


# ---- recording -------------------------------------------------------------------------------


def test_record_activity_stores_it_and_fires_activity_performed_once(app, db, probe, create_user):
    member = create_user()

    activity = record_activity(WROTE, member, subject="wiki.article:7", url="/wiki/7")
    db.session.commit()

    row = stored(app, select(Activity).where(Activity.id == activity.id))
    assert (row.kind, row.user_id, row.subject, row.url) == (
        WROTE,
        member.id,
        "wiki.article:7",
        "/wiki/7",
    )
    assert row.key == f"{WROTE}:{member.id}:wiki.article:7"
    assert row.created_at is not None and row.created_at.tzinfo is not None
    assert row.undone_at is None
    assert probe.performed == [(activity.id, row.key, WROTE, member.id)]
    assert activity_label(WROTE) == "Wrote an article"


def test_recording_the_same_event_twice_returns_the_first_and_fires_nothing(
    app, db, probe, create_user
):
    member = create_user()
    first = record_activity(WROTE, member, subject="wiki.article:1")
    db.session.commit()

    again = record_activity(WROTE, member, subject="wiki.article:1")  # a double submit
    db.session.commit()

    assert again.id == first.id
    assert count_rows(app, Activity) == 1
    assert len(probe.performed) == 1


def test_an_explicit_key_names_the_event(app, db, probe, create_user):
    member = create_user()
    first = record_activity(RATED, member, subject="wiki.article:1", key="rating:55")

    # the same key is the same event, whatever else differs (a retried job, say)
    same = record_activity(RATED, member, subject="wiki.article:2", key="rating:55")
    # without a key, kind/user/subject name the event: another subject is another event
    other = record_activity(RATED, member, subject="wiki.article:2")
    db.session.commit()

    assert same.id == first.id
    assert same.subject == "wiki.article:1"
    assert other.id != first.id
    assert count_rows(app, Activity) == 2
    assert [call[1] for call in probe.performed] == [
        "rating:55",
        f"{RATED}:{member.id}:wiki.article:2",
    ]


def test_the_same_subject_by_another_member_or_of_another_kind_is_another_event(
    app, db, probe, create_user
):
    ann, bob = create_user(), create_user()
    record_activity(WROTE, ann, subject="wiki.article:1")
    record_activity(WROTE, bob, subject="wiki.article:1")
    record_activity(RATED, ann, subject="wiki.article:1")
    db.session.commit()

    assert count_rows(app, Activity) == 3
    assert len(probe.performed) == 3


def test_an_unknown_kind_is_refused_and_records_nothing(app, db, probe, create_user):
    member = create_user()

    with pytest.raises(ValueError, match=r"unknown activity kind 'probe\.typo'"):
        record_activity("probe.typo", member, subject="x")
    db.session.commit()

    assert count_rows(app, Activity) == 0
    assert probe.performed == []


def test_a_kind_of_a_plugin_that_is_not_enabled_is_unknown(make_app, probe):
    app = make_app(extra_plugins={"probe": probe}, PLUGINS=[])  # installed, not enabled
    with app.app_context(), pytest.raises(ValueError, match="unknown activity kind"):
        record_activity(WROTE, User(id=1), subject="x")
    assert probe.performed == []


def test_a_kind_carries_no_credits():
    """What an activity is worth is a credits plugin's own rule: core keeps no number that a
    replacement credits plugin would inherit, and a plugin still passing one fails at once."""
    with pytest.raises(TypeError, match="credits"):
        ActivityKind(WROTE, "Wrote an article", credits=5)


# ---- the unit of work ------------------------------------------------------------------------


def test_a_listeners_write_commits_together_with_the_activity(app, db, probe, create_user):
    member = create_user()
    probe.on_performed = lambda activity: notify(activity.user, "You wrote an article!")

    record_activity(WROTE, member, subject="wiki.article:1")
    db.session.commit()

    assert count_rows(app, Activity) == 1
    assert stored(app, select(Notification.message).where(Notification.user_id == member.id)) == (
        "You wrote an article!"
    )


def test_a_listeners_write_rolls_back_together_with_the_activity(app, db, probe, create_user):
    member = create_user()
    probe.on_performed = lambda activity: notify(activity.user, "You wrote an article!")

    record_activity(WROTE, member, subject="wiki.article:1")
    db.session.flush()
    db.session.rollback()  # the cause failed later in the same unit of work

    assert count_rows(app, Activity) == 0
    assert count_rows(app, Notification) == 0
    assert len(probe.performed) == 1  # it was told, inside the unit of work that rolled back

    # the event was never stored, so recording it again is a first time
    record_activity(WROTE, member, subject="wiki.article:1")
    db.session.commit()
    assert count_rows(app, Activity) == 1
    assert count_rows(app, Notification) == 1


def test_a_listener_that_raises_rolls_the_whole_unit_of_work_back(app, db, probe, create_user):
    member = create_user()

    def react_then_fail(activity: Activity) -> None:
        notify(activity.user, "half done")
        raise RuntimeError("listener failed")

    probe.on_performed = react_then_fail
    member.bio = "changed in the same unit of work"

    with pytest.raises(RuntimeError, match="listener failed"):
        record_activity(WROTE, member, subject="wiki.article:1")
    db.session.rollback()

    assert count_rows(app, Activity) == 0
    assert count_rows(app, Notification) == 0
    assert stored(app, select(User.bio).where(User.id == member.id)) == ""


# ---- undoing ---------------------------------------------------------------------------------


def test_undo_activity_marks_it_undone_and_fires_activity_undone_once(app, db, probe, create_user):
    member = create_user()
    activity = record_activity(WROTE, member, subject="wiki.article:1")
    db.session.commit()

    undone = undo_activity(activity.key)
    db.session.commit()

    assert undone is not None and undone.id == activity.id
    assert undone.undone_at is not None
    row = stored(app, select(Activity).where(Activity.id == activity.id))
    assert row.undone_at == undone.undone_at
    assert probe.undone == [(activity.id, activity.key, True)]

    assert undo_activity(activity.key) is None  # twice: nothing more
    db.session.commit()
    assert probe.undone == [(activity.id, activity.key, True)]
    assert stored(app, select(Activity.undone_at).where(Activity.id == activity.id)) == (
        row.undone_at
    )


def test_undoing_an_unknown_event_does_nothing(app, db, probe):
    assert undo_activity("probe.wrote:404:nothing") is None
    assert probe.undone == []


def test_an_undone_event_is_not_recorded_again(app, db, probe, create_user):
    member = create_user()
    activity = record_activity(WROTE, member, subject="wiki.article:1")
    undo_activity(activity.key)
    db.session.commit()

    again = record_activity(WROTE, member, subject="wiki.article:1")
    db.session.commit()

    assert again.id == activity.id
    assert again.undone_at is not None
    assert len(probe.performed) == 1


def test_undo_rolls_back_with_its_unit_of_work(app, db, probe, create_user):
    member = create_user()
    activity = record_activity(WROTE, member, subject="wiki.article:1")
    db.session.commit()

    undo_activity(activity.key)
    db.session.rollback()

    assert stored(app, select(Activity.undone_at).where(Activity.id == activity.id)) is None
    assert undo_activity(activity.key) is not None  # still undoable
    db.session.commit()
    assert len(probe.undone) == 2


# ---- the database enforces it too ------------------------------------------------------------


def test_the_database_refuses_a_second_row_with_the_same_key(app, db, create_user):
    member = create_user()
    row = {"key": "the-event", "kind": WROTE, "user_id": member.id, "created_at": utcnow()}
    db.session.execute(insert(Activity).values(row))
    db.session.commit()

    with pytest.raises(IntegrityError):
        db.session.execute(insert(Activity).values(row | {"subject": "another"}))
    db.session.rollback()

    assert count_rows(app, Activity) == 1


# ---- concurrency -------------------------------------------------------------------------------

RACERS = 8


def race(app, count: int, action: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``action`` in ``count`` threads at the same instant, each in its own app context
    and unit of work (committed when it returns); return the results and the errors."""
    from core.db import db

    barrier = threading.Barrier(count, timeout=30)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                result = action()
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                with lock:
                    errors.append(error)
            else:
                with lock:
                    results.append(result)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def test_concurrent_recordings_of_one_event_store_it_and_fire_once(
    app, db, probe, create_user, database_url
):
    """Eight units of work record the same event at the same instant: all succeed and get the
    same record (PostgreSQL's unique index makes the losers wait; SQLite queues writers), one
    row, one ``activity_performed``."""
    from core.db import db as database

    member_id = create_user().id
    probe.on_performed = lambda activity: notify(activity.user, "credited")

    def record() -> int:
        member = database.session.get(User, member_id)
        return record_activity(WROTE, member, subject="wiki.article:1").id

    results, errors = race(app, RACERS, record)

    assert errors == []
    assert len(results) == RACERS
    assert len(set(results)) == 1
    assert count_rows(app, Activity) == 1
    assert count_rows(app, Notification) == 1
    assert [call[0] for call in probe.performed] == results[:1]


def test_concurrent_undos_of_one_event_fire_once(app, db, probe, create_user, database_url):
    member = create_user()
    key = record_activity(WROTE, member, subject="wiki.article:1").key
    db.session.commit()

    def undo() -> int | None:
        undone = undo_activity(key)
        return undone.id if undone else None

    results, errors = race(app, RACERS, undo)

    assert errors == []
    assert len([r for r in results if r is not None]) == 1
    assert len(probe.undone) == 1
    assert stored(app, select(Activity.undone_at).where(Activity.key == key)) is not None
