"""Credits: the rule table, the ledger and the balances, and the community's top list.

Entries are written inside the unit of work of the event that earned them (an activity
recorded, a goal completed, an activity undone), so they commit or roll back with it. Each
write is an ``INSERT … ON CONFLICT DO NOTHING`` against the ledger's unique constraints: a
second delivery of the same event, even one racing the first in another transaction, adds
nothing and leaves the balance alone. The balance changes by the entry's points in the same
transaction, so it always equals the ledger's sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import Flask
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

from core.api import (
    Activity,
    ActivityKind,
    ConfigError,
    Goal,
    GoalKind,
    InvalidInput,
    NotAllowed,
    NotFound,
    Setting,
    User,
    activity_label,
    alma,
    db,
    from_local,
    goal_label,
    insert_on_conflict,
    plugin_settings_as,
    record_staff_act,
    today_of,
    utcnow,
)
from plugins.credits.models import (
    ACTIVITY,
    ADJUSTMENT,
    ADJUSTMENT_KIND,
    CREDIT,
    GOAL,
    REVERSAL,
    CreditBalance,
    CreditEntry,
)

LEDGER_PAGE_SIZE = 25
RECENT_ENTRIES = 5
TOP_SIZE = 20
ALL_TIME, LAST_30_DAYS = "all", "30d"
PERIODS = (ALL_TIME, LAST_30_DAYS)
DEFAULT_CAP_EXEMPT = ["mentoring.finished"]
# What the kinds of alma's own plugins earn unless the operator's rules say otherwise. They
# live here, not with the kinds: a credits plugin that replaces this one sets its own.
DEFAULT_RULES = {
    "mentoring.request_sent": 1,
    "mentoring.request_accepted": 10,
    "mentoring.request_declined": 1,
    "mentoring.meeting_attended": 5,
    "mentoring.finished": 50,
    "wiki.article_created": 10,
    "wiki.article_edited": 3,
    "wiki.article_rated": 1,
    "groups.group_created": 5,
    "groups.managed": 2,
    "groups.forum_post": 1,
}


# ---- settings and the rule table ---------------------------------------------------------


def _check_rules(rules: dict[str, int]) -> str | None:
    negative = sorted(kind for kind, points in rules.items() if points < 0)
    if negative:
        return f"must give each kind 0 points (off) or more; not so for {', '.join(negative)}"
    return None


def _not_negative(value: int) -> str | None:
    return None if value >= 0 else "must be 0 (no cap) or more"


SETTINGS = {
    "rules": Setting(
        dict,
        {},
        _check_rules,
        "points per activity or goal kind, over DEFAULT_RULES; a kind without one earns 0",
        items=int,
    ),
    "daily_cap": Setting(int, 0, _not_negative, "most points a member earns per day; 0: no cap"),
    "cap_exempt": Setting(
        list, DEFAULT_CAP_EXEMPT, doc="kinds that earn their points whatever the daily cap"
    ),
}


@dataclass(frozen=True)
class CreditSettings:
    rules: dict[str, int]
    daily_cap: int
    cap_exempt: list[str]


def settings(app: Flask | None = None) -> CreditSettings:
    """``[plugins.credits]``, checked against SETTINGS by core at startup."""
    return plugin_settings_as(CreditSettings, "credits", app)


def check_config(app: Flask) -> None:
    """At startup, once every plugin is known: refuse the operator's rules and exemptions for
    kinds that no enabled plugin declares (a typo, or a plugin that was disabled). A warning
    would scroll by while the rule silently credits nothing, and every other bad setting
    stops alma too. The defaults are not checked: they name kinds of plugins that may be off."""
    declared = _declared_kinds(app)
    configured = settings(app)
    unknown_rules = sorted(set(configured.rules) - set(declared))
    if unknown_rules:
        raise ConfigError(
            "plugins.credits.rules",
            f"no enabled plugin declares the kind(s) {', '.join(unknown_rules)} "
            f"(known kinds: {', '.join(sorted(declared)) or 'none'})",
        )
    # the default exemption names mentoring's goal, which is fine when mentoring is off
    unknown_exempt = sorted(set(configured.cap_exempt) - set(declared) - set(DEFAULT_CAP_EXEMPT))
    if unknown_exempt:
        raise ConfigError(
            "plugins.credits.cap_exempt",
            f"no enabled plugin declares the kind(s) {', '.join(unknown_exempt)}",
        )


def rule_points(kind: str) -> int:
    """What one ``kind`` of activity or goal earns: the operator's rule, else the default
    rule; a kind with neither earns nothing."""
    return {**DEFAULT_RULES, **settings().rules}.get(kind, 0)


@dataclass(frozen=True)
class Rule:
    label: str
    points: int
    cap_exempt: bool


def rule_table() -> list[Rule]:
    """Every kind that earns credits, most points first: what members can read."""
    configured = settings()
    rules = [
        Rule(str(kind.label), rule_points(name), name in configured.cap_exempt)
        for name, kind in _declared_kinds().items()
    ]
    return sorted((r for r in rules if r.points > 0), key=lambda r: (-r.points, r.label))


def _declared_kinds(app: Flask | None = None) -> dict[str, ActivityKind | GoalKind]:
    """Every activity and goal kind the enabled plugins declare, by name."""
    state = alma(app)
    return {**state.activity_kinds, **state.goal_kinds}


def entry_label(entry: CreditEntry) -> str:
    """The reason for an entry: the label of its activity or goal kind (an adjustment's own
    reason is its detail)."""
    if entry.source_type == ADJUSTMENT:
        return _("Adjusted by the programme")
    label = activity_label if entry.source_type == ACTIVITY else goal_label
    return str(label(entry.kind))


# ---- writing the ledger ------------------------------------------------------------------


def credit_activity(activity: Activity) -> int | None:
    """Credit the member who performed ``activity``; the new entry's id, or None when the
    kind earns nothing or the activity was credited already."""
    return _credit(
        activity.user, ACTIVITY, activity.id, activity.kind, url=activity.url, detail=None
    )


def credit_goal(goal: Goal) -> list[int]:
    """Credit every party of a completed goal; the ids of the new entries."""
    credited = []
    for party in sorted(goal.parties, key=lambda p: p.user_id):  # lock balances in one order
        entry_id = _credit(party.user, GOAL, goal.id, goal.kind, url=goal.url, detail=goal.title)
        if entry_id is not None:
            credited.append(entry_id)
    return credited


def reverse_activity(activity: Activity) -> int | None:
    """Take back what ``activity`` earned with a reversing entry linked to its credit; the
    reversal's id, or None when it earned nothing or was reversed already."""
    original = db.session.scalar(
        select(CreditEntry).where(
            CreditEntry.source_type == ACTIVITY,
            CreditEntry.source_id == activity.id,
            CreditEntry.user_id == activity.user_id,
            CreditEntry.entry_kind == CREDIT,
        )
    )
    if original is None:
        return None
    reversal_id = _add_entry(
        user_id=original.user_id,
        source_type=ACTIVITY,
        source_id=original.source_id,
        entry_kind=REVERSAL,
        kind=original.kind,
        detail=original.detail,
        url=original.url,
        points=-original.points,
        reverses_id=original.id,
    )
    if reversal_id is not None and original.points:
        _add_to_balance(original.user_id, -original.points)
    return reversal_id


def _credit(
    user: User, source_type: str, source_id: int, kind: str, *, url: str | None, detail: str | None
) -> int | None:
    points = rule_points(kind)
    if points == 0:
        return None  # the kind is switched off: nothing to record
    capped_from = None
    configured = settings()
    if configured.daily_cap and kind not in configured.cap_exempt:
        room = _points_left_today(user)
        if points > room:
            capped_from, points = points, room
    entry_id = _add_entry(
        user_id=user.id,
        source_type=source_type,
        source_id=source_id,
        entry_kind=CREDIT,
        kind=kind,
        detail=detail,
        url=url,
        points=points,
        capped_from=capped_from,
    )
    if entry_id is not None and points:
        _add_to_balance(user.id, points)
    return entry_id


def _add_entry(**values: Any) -> int | None:
    """Insert a ledger entry unless the ledger has it already (its unique constraints decide,
    waiting for a concurrent transaction writing the same entry); its id, or None."""
    statement = (
        insert_on_conflict(CreditEntry)
        .values(created_at=utcnow(), **values)
        .on_conflict_do_nothing()
        .returning(CreditEntry.id)
    )
    return db.session.execute(statement).scalar()


def _add_to_balance(user_id: int, points: int) -> None:
    """Change the balance by ``points`` in one atomic statement (no read, no lost update)."""
    if points < 0:
        # a reversal: the credit it reverses made the row. (An upsert would not do: the
        # database checks "total >= 0" on the row it would insert before seeing the conflict.)
        db.session.execute(
            update(CreditBalance)
            .where(CreditBalance.user_id == user_id)
            .values(total=CreditBalance.total + points)
        )
        return
    statement = insert_on_conflict(CreditBalance).values(user_id=user_id, total=points)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[CreditBalance.user_id],
            set_={"total": CreditBalance.total + statement.excluded.total},
        )
    )


def _points_left_today(user: User) -> int:
    """Points ``user`` may still earn today under the daily cap. Locks their balance row
    first (on SQLite the unit of work holds the write lock already), so that two credits at
    the same instant cannot both take the last of the day's room."""
    db.session.execute(
        insert_on_conflict(CreditBalance).values(user_id=user.id, total=0).on_conflict_do_nothing()
    )
    db.session.execute(
        select(CreditBalance.user_id).where(CreditBalance.user_id == user.id).with_for_update()
    )
    configured = settings()
    earned = db.session.execute(
        select(func.coalesce(func.sum(CreditEntry.points), 0)).where(
            CreditEntry.user_id == user.id,
            CreditEntry.created_at >= start_of_today(user),
            CreditEntry.entry_kind == CREDIT,
            CreditEntry.kind.not_in(configured.cap_exempt),
        )
    ).scalar_one()
    return max(configured.daily_cap - earned, 0)


def start_of_today(user: User) -> datetime:
    """Midnight of the member's current day, in their own time zone, as a UTC time."""
    return from_local(today_of(user), time.min, user)


# ---- adjustments by staff ---------------------------------------------------------------

MAX_ADJUSTMENT = 10_000
MAX_ADJUSTMENT_REASON = 200  # the entry's detail, which the member reads


def adjust_credits(actor: User, member: User, points: int, reason: str) -> CreditEntry:
    """Give ``member`` ``points`` (take them, if negative) by hand, because of ``reason``,
    which the member reads in their ledger: a ledger entry of its own, one row of the audit
    log (the entry's source), and the balance changed in the same unit of work."""
    if actor.id == member.id:
        raise NotAllowed(_("Staff cannot adjust their own credits."))
    reason = _adjustment_reason(reason)
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise InvalidInput(
            _("Give or take between 1 and %(most)s credits.", most=format_number(MAX_ADJUSTMENT))
        )
    _check_room(member.id, points)
    act = record_staff_act(actor, "credits.adjusted", member, f"{points:+d}: {reason}")
    entry_id = _add_entry(
        user_id=member.id,
        source_type=ADJUSTMENT,
        source_id=act.id,
        entry_kind=ADJUSTMENT,
        kind=ADJUSTMENT_KIND,
        detail=reason,
        url=None,
        points=points,
    )
    assert entry_id is not None  # its source is a new row of the audit log
    _add_to_balance(member.id, points)
    return db.session.get_one(CreditEntry, entry_id)


def undo_adjustment(actor: User, entry_id: int, reason: str) -> CreditEntry:
    """Undo an adjustment as the ledger undoes anything: a reversal linked to it, of the
    opposite sign, with ``reason`` as its detail; once (the link is unique)."""
    reason = _adjustment_reason(reason)
    original = db.session.get(CreditEntry, entry_id)
    if original is None or original.entry_kind != ADJUSTMENT:
        raise NotFound(_("There is no such adjustment."))
    if actor.id == original.user_id:
        raise NotAllowed(_("Staff cannot undo an adjustment of their own credits."))
    if reversal_of(original) is not None:
        raise InvalidInput(_("This adjustment was undone already."))
    _check_room(original.user_id, -original.points)
    member = db.session.get_one(User, original.user_id)
    record_staff_act(actor, "credits.adjustment_undone", member, reason)
    reversal_id = _add_entry(
        user_id=original.user_id,
        source_type=ADJUSTMENT,
        source_id=original.source_id,
        entry_kind=REVERSAL,
        kind=original.kind,
        detail=reason,
        url=None,
        points=-original.points,
        reverses_id=original.id,
    )
    if reversal_id is None:  # undone meanwhile, in another transaction
        raise InvalidInput(_("This adjustment was undone already."))
    _add_to_balance(original.user_id, -original.points)
    return db.session.get_one(CreditEntry, reversal_id)


def reversal_of(entry: CreditEntry) -> CreditEntry | None:
    return db.session.scalar(select(CreditEntry).where(CreditEntry.reverses_id == entry.id))


def adjustments_query() -> Select[CreditEntry, User]:
    """Every adjustment and undoing of one, newest first, with its member."""
    return (
        select(CreditEntry, User)
        .join(User, User.id == CreditEntry.user_id)
        .where(CreditEntry.source_type == ADJUSTMENT)
        .order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc())
    )


def undone_ids(entries: Sequence[CreditEntry]) -> set[int]:
    """Which of ``entries`` were reversed (one query for a page)."""
    ids = [entry.id for entry in entries]
    return set(
        db.session.scalars(select(CreditEntry.reverses_id).where(CreditEntry.reverses_id.in_(ids)))
    )


def _adjustment_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput(_("Give a reason: the member reads it in their credits."))
    if len(reason) > MAX_ADJUSTMENT_REASON:
        raise InvalidInput(
            _("Keep the reason under %(count)s characters.", count=MAX_ADJUSTMENT_REASON)
        )
    return reason


def _check_room(user_id: int, points: int) -> None:
    """Refuse to take more than the member has (the balance row locked first, so that two
    admins cannot both take the last credits; the database refuses a negative total too)."""
    if points >= 0:
        return
    db.session.execute(
        insert_on_conflict(CreditBalance).values(user_id=user_id, total=0).on_conflict_do_nothing()
    )
    total = db.session.execute(
        select(CreditBalance.total).where(CreditBalance.user_id == user_id).with_for_update()
    ).scalar_one()
    if total + points < 0:
        raise InvalidInput(
            _("The member has %(total)s credits: that is the most you can take.", total=total)
        )


# ---- reading -----------------------------------------------------------------------------


def credit_total(user: User) -> int:
    """The member's total: one row read by primary key, whatever the size of the ledger."""
    return (
        db.session.scalar(select(CreditBalance.total).where(CreditBalance.user_id == user.id)) or 0
    )


def credit_totals(members: Sequence[User]) -> dict[int, int]:
    """Totals of several members at once (those with none are left out)."""
    rows = db.session.execute(
        select(CreditBalance.user_id, CreditBalance.total).where(
            CreditBalance.user_id.in_([member.id for member in members])
        )
    )
    return {user_id: total for user_id, total in rows}


def credits_text(total: int) -> str:
    return ngettext("%(count)s credit", "%(count)s credits", total, count=format_number(total))


def member_fact_values(members: Sequence[User]) -> dict[int, str]:
    """The line under a member's name ("120 credits"); nothing for members with none."""
    return {
        user_id: credits_text(total)
        for user_id, total in credit_totals(members).items()
        if total > 0
    }


@dataclass(frozen=True)
class LedgerPage:
    entries: list[CreditEntry]
    page: int
    has_more: bool


def ledger_page(user: User, page: int = 1, size: int = LEDGER_PAGE_SIZE) -> LedgerPage:
    """One page of the member's ledger, newest first, read along its index; whether there
    is a next page comes from fetching one entry more, never from counting the ledger."""
    rows = list(
        db.session.scalars(
            select(CreditEntry)
            .where(CreditEntry.user_id == user.id)
            .order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc())
            .offset((page - 1) * size)
            .limit(size + 1)
        )
    )
    return LedgerPage(rows[:size], page, len(rows) > size)


def top_contributors(period: str, limit: int = TOP_SIZE) -> list[tuple[User, int]]:
    """The members with the most credits (suspended ones left out), all time (their balances)
    or over the last 30 days (the ledger's entries of those days, read from the index on their
    date)."""
    if period == ALL_TIME:
        points: Any = CreditBalance.total
        query = select(User, points).join(CreditBalance, CreditBalance.user_id == User.id)
    else:
        since = utcnow() - timedelta(days=30)
        earned = (
            select(CreditEntry.user_id, func.sum(CreditEntry.points).label("points"))
            .where(CreditEntry.created_at >= since)
            .group_by(CreditEntry.user_id)
            .subquery()
        )
        points = earned.c.points
        query = select(User, points).join(earned, earned.c.user_id == User.id)
    rows = db.session.execute(
        query.where(points > 0, User.email_confirmed_at.is_not(None), User.is_listed)
        .order_by(points.desc(), User.display_name, User.id)
        .limit(limit)
    )
    return [(user, int(total)) for user, total in rows]
