"""Recording what members do, once per event, and telling plugins."""

from __future__ import annotations

from sqlalchemy import select, update

from core.db import db, insert_on_conflict, rows_changed, utcnow
from core.models import Activity, User
from core.state import alma, hooks


def activity_label(kind: str) -> str:
    declared = alma().activity_kinds.get(kind)
    return str(declared.label) if declared else kind


def record_activity(
    kind: str, user: User, *, subject: str, key: str | None = None, url: str | None = None
) -> Activity:
    """Record that ``user`` did ``kind`` to ``subject`` (e.g. ``"wiki.article:12"``) and fire
    ``activity_performed``.

    ``key`` names the event and defaults to ``kind:user:subject``; recording an event already
    recorded (a double submit, a retried job, a concurrent request) returns the first record
    and fires nothing.
    """
    if kind not in alma().activity_kinds:
        raise ValueError(f"unknown activity kind {kind!r}: declare it in register_activity_kinds")
    key = key or f"{kind}:{user.id}:{subject}"
    # one statement; a concurrent transaction recording the same key makes it wait, then
    # insert nothing
    activity: Activity | None = db.session.scalar(
        insert_on_conflict(Activity)
        .values(key=key, kind=kind, user_id=user.id, subject=subject, url=url)
        .on_conflict_do_nothing(index_elements=[Activity.key])
        .returning(Activity)
    )
    if activity is None:  # recorded before
        recorded = _activity_by_key(key)
        assert recorded is not None  # the insert met this very key
        return recorded
    hooks().activity_performed(activity)
    return activity


def undo_activity(key: str) -> Activity | None:
    """Mark the activity recorded as ``key`` undone and fire ``activity_undone``, once."""
    now = utcnow()
    undone = rows_changed(
        update(Activity)
        .where(Activity.key == key, Activity.undone_at.is_(None))
        .values(undone_at=now)
        .execution_options(synchronize_session=False)
    )
    activity = _activity_by_key(key)
    if undone != 1 or activity is None:
        return None
    db.session.refresh(activity)
    hooks().activity_undone(activity)
    return activity


def _activity_by_key(key: str) -> Activity | None:
    return db.session.scalar(select(Activity).where(Activity.key == key))
