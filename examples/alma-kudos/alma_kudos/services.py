"""The rules of kudos, as plain functions: no HTTP here."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from alma_kudos.models import Kudos
from core.api import (
    Goal,
    InvalidInput,
    NotFound,
    Page,
    User,
    after_commit,
    consent_to_goal,
    db,
    decline_goal,
    emit_to_user,
    external_url,
    notify,
    page_of,
    plugin_settings_as,
    propose_goal,
    push_badge,
    reading_as,
    record_activity,
    send_mail,
    site_path,
    undo_activity,
    utcnow,
)

GIVEN = "kudos.given"
THANKED = "kudos.thanked"  # a goal: the receiver accepts the thanks onto their record
NAV_ENDPOINT = "kudos.index"
PER_PAGE = 20


@dataclass(frozen=True)
class KudosSettings:
    per_day: int


def settings() -> KudosSettings:
    """``[plugins.kudos]`` of alma.toml, checked and completed by core (see plugin.py)."""
    return plugin_settings_as(KudosSettings, "kudos")


def give_kudos(giver: User, receiver: User, message: str) -> Kudos:
    message = message.strip()
    if giver.id == receiver.id:
        raise InvalidInput("You cannot give kudos to yourself.")
    if not 1 <= len(message) <= 200:
        raise InvalidInput("Say thanks in 1 to 200 characters.")
    _check_daily_allowance(giver)
    kudos = Kudos(giver_id=giver.id, receiver_id=receiver.id, message=message)
    try:
        with db.session.begin_nested():
            db.session.add(kudos)
    except IntegrityError:
        raise InvalidInput(f"You already gave kudos to {receiver.display_name}.") from None
    record_activity(GIVEN, giver, subject=_subject(kudos), key=_subject(kudos))
    _propose_to_keep_on_record(kudos, giver, receiver)
    with reading_as(receiver):  # the alert is written as its reader reads it
        notify(
            receiver,
            f"{giver.display_name} gave you kudos: “{message}”",
            url=site_path("profile.overview", user_id=receiver.id),
        )
    # plain values: the commit expires the objects, and reading one after it would query
    app, receiver_id, giver_name = (
        current_app._get_current_object(),  # type: ignore[attr-defined]  # a proxy of Flask
        receiver.id,
        giver.display_name,
    )
    after_commit(lambda: _tell_the_receiver_live(app, receiver_id, giver_name))
    return kudos


def _check_daily_allowance(giver: User) -> None:
    per_day = settings().per_day
    given = db.session.execute(
        select(func.count())
        .select_from(Kudos)
        .where(Kudos.giver_id == giver.id, Kudos.created_at > utcnow() - timedelta(days=1))
    ).scalar_one()
    if given >= per_day:
        raise InvalidInput(f"You gave {per_day} kudos in the last 24 hours: give more tomorrow.")


def _subject(kudos: Kudos) -> str:
    """The kudos's name in core's records: its activity's and its goal's subject and key."""
    return f"kudos:{kudos.id}"


def _propose_to_keep_on_record(kudos: Kudos, giver: User, receiver: User) -> None:
    """A goal of both: the giver agrees at once, and the receiver's "I agree" puts the thanks
    among their completed goals. Either one declining takes the kudos back (goal_declined)."""
    goal = propose_goal(
        THANKED,
        f"Thanked by {giver.display_name}",
        [giver, receiver],
        subject=_subject(kudos),
        key=_subject(kudos),
        url=site_path("profile.overview", user_id=receiver.id),
    )
    consent_to_goal(goal.id, giver)


def describe_thanks(goal: Goal) -> list[tuple[str, str]]:
    """The facts of a kept kudos (``GoalKind.describe``), for plugins that know nothing of it."""
    kudos = _kudos_of(goal)
    return [("From", kudos.giver.display_name), ("Thanks", kudos.message)] if kudos else []


def _kudos_of(goal: Goal) -> Kudos | None:
    if goal.subject is None:  # not one of ours
        return None
    return db.session.scalar(select(Kudos).where(Kudos.id == int(goal.subject.split(":")[1])))


def forget_declined_kudos(goal: Goal) -> None:
    """The receiver refused the kudos, or the giver withdrew it: the row goes, and so does
    the activity it earned."""
    kudos = _kudos_of(goal)
    if kudos is not None:
        undo_activity(_subject(kudos))
        db.session.delete(kudos)
        db.session.flush()


def _tell_the_receiver_live(app: Any, receiver_id: int, giver_name: str) -> None:
    """Once committed: every open tab of the receiver hears of it and updates its badge."""
    with app.app_context():
        emit_to_user(receiver_id, "kudos.received", {"from": giver_name})
        push_badge(receiver_id, NAV_ENDPOINT, unseen_count(receiver_id))


def withdraw_kudos(giver: User, kudos_id: int) -> None:
    """The giver takes their kudos back, as long as the receiver has not kept it: declining
    the goal fires goal_declined, which forgets the kudos."""
    kudos = db.session.get(Kudos, kudos_id)
    if kudos is None or kudos.giver_id != giver.id:
        raise NotFound("You gave no such kudos.")
    goal = db.session.execute(select(Goal).where(Goal.key == _subject(kudos))).scalar_one()
    if goal.completed_at is not None:
        raise InvalidInput("They kept your kudos: it can no longer be withdrawn.")
    decline_goal(goal.id, giver)


def kudos_received(user: User) -> list[Kudos]:
    query = select(Kudos).where(Kudos.receiver_id == user.id).order_by(Kudos.created_at.desc())
    return list(db.session.scalars(query.limit(10)))


def received_page(user: User, page: int) -> Page[Kudos]:
    """One page of the kudos ``user`` received, newest first."""
    query = (
        select(Kudos)
        .where(Kudos.receiver_id == user.id)
        .options(joinedload(Kudos.giver))
        .order_by(Kudos.created_at.desc(), Kudos.id.desc())
    )
    return page_of(query, page, PER_PAGE)


def mark_seen(user: User) -> None:
    user_id = user.id
    db.session.execute(
        update(Kudos)
        .where(Kudos.receiver_id == user_id, Kudos.seen_at.is_(None))
        .values(seen_at=utcnow())
    )
    after_commit(lambda: push_badge(user_id, NAV_ENDPOINT, 0))


def unseen_kudos(member_id: Any) -> Any:
    """The navigation badge: a SQL expression core reads with every other badge at once."""
    return (
        select(func.count())
        .select_from(Kudos)
        .where(Kudos.receiver_id == member_id, Kudos.seen_at.is_(None))
        .scalar_subquery()
    )


def unseen_count(member_id: int) -> int:
    return db.session.execute(select(unseen_kudos(member_id))).scalar_one()


def kudos_counts(members: list[User]) -> dict[int, str]:
    """The member fact "3 kudos", for a whole page of members in one query."""
    rows = db.session.execute(
        select(Kudos.receiver_id, func.count())
        .where(Kudos.receiver_id.in_([member.id for member in members]))
        .group_by(Kudos.receiver_id)
    )
    return {receiver_id: f"{count} kudos" for receiver_id, count in rows}


def total_kudos() -> int:
    return db.session.execute(select(func.count()).select_from(Kudos)).scalar_one()


def send_daily_digests() -> None:
    """The job ``kudos.digest``: one mail per member with the kudos not mailed yet.

    Each kudos is claimed by a conditional UPDATE before its mail is queued, in the same unit
    of work: a second run at the same moment finds nothing left to claim."""
    receiver_ids = db.session.scalars(
        select(Kudos.receiver_id).where(Kudos.mailed_at.is_(None)).distinct()
    )
    for receiver_id in list(receiver_ids):
        claimed = list(
            db.session.scalars(
                update(Kudos)
                .where(Kudos.receiver_id == receiver_id, Kudos.mailed_at.is_(None))
                .values(mailed_at=utcnow())
                .returning(Kudos.id)
            )
        )
        if claimed:
            _mail_digest(db.session.get_one(User, receiver_id), claimed)


def _mail_digest(receiver: User, kudos_ids: list[int]) -> None:
    received = db.session.scalars(
        select(Kudos).where(Kudos.id.in_(kudos_ids)).order_by(Kudos.created_at)
    )
    send_mail(
        receiver.email,
        f"You received {len(kudos_ids)} kudos",
        "kudos/mail/digest",
        user=receiver,
        received=list(received),
        link=external_url(NAV_ENDPOINT),
    )
