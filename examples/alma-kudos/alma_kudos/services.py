"""The rules of kudos, as plain functions: no HTTP here."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from alma_kudos.models import DECLINED, KEPT, SENT, SHOWN, WITHDRAWN, Kudos
from core.api import (
    Goal,
    InvalidInput,
    NotFound,
    Page,
    Step,
    Transitions,
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
    rows_changed,
    send_mail,
    site_path,
    undo_activity,
    utcnow,
)

GIVEN = "kudos.given"
THANKED = "kudos.thanked"  # a goal: the receiver accepts the thanks onto their record
NAV_ENDPOINT = "kudos.index"
PER_PAGE = 20


def _sides(kudos: Kudos, member: Any) -> set[str]:
    member_id = getattr(member, "id", None)  # a visitor (no id) is on no side
    if member_id == kudos.giver_id:
        return {"giver"}
    return {"receiver"} if member_id == kudos.receiver_id else set()


def _answered(kudos: Kudos) -> str:
    """The refusal of an action on kudos no longer sent, naming what became of them."""
    if kudos.status == KEPT:
        return _("They kept these kudos: they can no longer be withdrawn or declined.")
    if kudos.status == DECLINED:
        return _("These kudos were declined already.")
    return _("These kudos were withdrawn already.")


# The life of kudos: the receiver keeps them (among their completed goals) or declines them;
# the giver may withdraw them until then. Declined or withdrawn, they are gone with what
# they earned.
KUDOS = Transitions(
    Kudos,
    state=lambda kudos: kudos.status,
    sides=_sides,
    steps=[
        Step(SENT, "keep", "receiver", KEPT, _l("Keep"), _l("Kept among your completed goals.")),
        Step(SENT, "decline", "receiver", DECLINED, _l("Decline"), _l("Kudos declined.")),
        Step(
            SENT,
            "withdraw",
            "giver",
            WITHDRAWN,
            _l("Withdraw"),
            _l("Kudos withdrawn."),
            not_yours=_l("Only the giver can withdraw kudos."),
        ),
    ],
    not_now=_answered,
    not_yours=_l("Only the receiver can keep or decline kudos."),
    unknown=_l("Kudos cannot be answered that way."),
)


@dataclass(frozen=True)
class KudosSettings:
    per_day: int


def settings() -> KudosSettings:
    """``[plugins.kudos]`` of alma.toml, checked and completed by core (see plugin.py)."""
    return plugin_settings_as(KudosSettings, "kudos")


def give_kudos(giver: User, receiver: User, message: str) -> Kudos:
    message = message.strip()
    if giver.id == receiver.id:
        raise InvalidInput(_("You cannot give kudos to yourself."))
    if not 1 <= len(message) <= 200:
        raise InvalidInput(_("Say thanks in 1 to 200 characters."))
    _check_daily_allowance(giver)
    kudos = Kudos(giver_id=giver.id, receiver_id=receiver.id, message=message)
    try:
        with db.session.begin_nested():
            db.session.add(kudos)
    except IntegrityError:
        raise InvalidInput(
            _("You already gave kudos to %(name)s.", name=receiver.display_name)
        ) from None
    record_activity(GIVEN, giver, subject=_subject(kudos), key=_subject(kudos))
    _propose_to_keep_on_record(kudos, giver, receiver)
    with reading_as(receiver):  # the alert is written as its reader reads it
        notify(
            receiver,
            _("%(name)s gave you kudos: “%(message)s”", name=giver.display_name, message=message),
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
        raise InvalidInput(
            ngettext(
                "You gave %(num)d kudos in the last 24 hours: give more tomorrow.",
                "You gave %(num)d kudos in the last 24 hours: give more tomorrow.",
                per_day,
            )
        )


def _subject(kudos: Kudos) -> str:
    """The kudos's name in core's records: its activity's and its goal's subject and key."""
    return f"kudos:{kudos.id}"


def thanked_by(giver: User, receiver: User) -> str:
    """The goal's title, kept as written: in the receiver's language, whose record it joins."""
    with reading_as(receiver):
        return _("Thanked by %(name)s", name=giver.display_name)


def _propose_to_keep_on_record(kudos: Kudos, giver: User, receiver: User) -> None:
    """A goal of both: the giver agrees at once, and the receiver's "I agree" puts the thanks
    among their completed goals. Either one declining takes the kudos back (goal_declined)."""
    goal = propose_goal(
        THANKED,
        thanked_by(giver, receiver),
        [giver, receiver],
        subject=_subject(kudos),
        key=_subject(kudos),
        url=site_path("profile.overview", user_id=receiver.id),
    )
    consent_to_goal(goal.id, giver)


def describe_thanks(goal: Goal) -> list[tuple[str, str]]:
    """The facts of a kept kudos (``GoalKind.describe``), for plugins that know nothing of it."""
    kudos = _kudos_of(goal)
    return [(_("From"), kudos.giver.display_name), (_("Thanks"), kudos.message)] if kudos else []


def _kudos_of(goal: Goal) -> Kudos | None:
    if goal.subject is None:  # not one of ours
        return None
    return db.session.scalar(select(Kudos).where(Kudos.id == int(goal.subject.split(":")[1])))


def _tell_the_receiver_live(app: Any, receiver_id: int, giver_name: str) -> None:
    """Once committed: every open tab of the receiver hears of it and updates its badge."""
    with app.app_context():
        emit_to_user(receiver_id, "kudos.received", {"from": giver_name})
        push_badge(receiver_id, NAV_ENDPOINT, unseen_count(receiver_id))


def answer_kudos(member: User, kudos_id: int, action: str) -> None:
    """The giver or the receiver takes ``action`` on kudos (see ``KUDOS``). Keeping consents
    to the kudos' goal, declining or withdrawing declines it: the goal's hooks then move the
    kudos (``settle_kept``, ``settle_declined``), wherever the goal is answered."""
    kudos = db.session.get(Kudos, kudos_id)
    if kudos is None or not _sides(kudos, member):
        raise NotFound(_("There are no such kudos."))
    step = KUDOS.check(kudos, member, action)
    goal = _goal_of(kudos)
    if step.to == KEPT:
        consent_to_goal(goal.id, member)
    else:
        decline_goal(goal.id, member)


def done_words(action: str) -> str:
    """What a member reads once ``action`` is taken (each action has one step)."""
    return next((str(step.done) for step in KUDOS.steps if step.action == action), "")


def _goal_of(kudos: Kudos) -> Goal:
    return db.session.execute(select(Goal).where(Goal.key == _subject(kudos))).scalar_one()


def settle_kept(goal: Goal) -> None:
    """The receiver completed the kudos' goal: the kudos are kept."""
    kudos = _kudos_of(goal)
    if kudos is not None:
        _move(kudos, db.session.get_one(User, kudos.receiver_id), "keep")


def settle_declined(goal: Goal) -> None:
    """A party declined the kudos' goal: the giver withdrew them, or the receiver declined
    them. Either way the activity giving them earned is undone."""
    kudos = _kudos_of(goal)
    if kudos is None:
        return
    [party] = [party for party in goal.parties if party.decision == "declined"]
    _move(kudos, party.user, "withdraw" if party.user_id == kudos.giver_id else "decline")
    undo_activity(_subject(kudos))


def _move(kudos: Kudos, member: User, action: str) -> None:
    """Take the step if the kudos are still in its state: of two answers at once, one wins."""
    step = KUDOS.check(kudos, member, action)
    moved = rows_changed(
        update(Kudos)
        .where(Kudos.id == kudos.id, Kudos.status == step.state)
        .values(status=step.to)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(kudos)
    if moved != 1:
        raise InvalidInput(_answered(kudos))


def _shown() -> ColumnElement[bool]:
    """Kudos still standing: sent or kept, not declined or withdrawn."""
    return Kudos.status.in_(SHOWN)


def kudos_received(user: User) -> list[Kudos]:
    query = (
        select(Kudos)
        .where(Kudos.receiver_id == user.id, _shown())
        .order_by(Kudos.created_at.desc())
    )
    return list(db.session.scalars(query.limit(10)))


def received_page(user: User, page: int) -> Page[Kudos]:
    """One page of the kudos ``user`` received, newest first."""
    query = (
        select(Kudos)
        .where(Kudos.receiver_id == user.id, _shown())
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
        .where(Kudos.receiver_id == member_id, Kudos.seen_at.is_(None), _shown())
        .scalar_subquery()
    )


def unseen_count(member_id: int) -> int:
    return db.session.execute(select(unseen_kudos(member_id))).scalar_one()


def kudos_counts(members: list[User]) -> dict[int, str]:
    """The member fact "3 kudos", for a whole page of members in one query."""
    rows = db.session.execute(
        select(Kudos.receiver_id, func.count())
        .where(Kudos.receiver_id.in_([member.id for member in members]), _shown())
        .group_by(Kudos.receiver_id)
    )
    return {
        receiver_id: ngettext("%(num)d kudos", "%(num)d kudos", count)
        for receiver_id, count in rows
    }


def total_kudos() -> int:
    return db.session.execute(select(func.count()).select_from(Kudos).where(_shown())).scalar_one()


def send_daily_digests() -> None:
    """The job ``kudos.digest``: one mail per member with the kudos not mailed yet.

    Each kudos is claimed by a conditional UPDATE before its mail is queued, in the same unit
    of work: a second run at the same moment finds nothing left to claim."""
    receiver_ids = db.session.scalars(
        select(Kudos.receiver_id).where(Kudos.mailed_at.is_(None), _shown()).distinct()
    )
    for receiver_id in list(receiver_ids):
        claimed = list(
            db.session.scalars(
                update(Kudos)
                .where(Kudos.receiver_id == receiver_id, Kudos.mailed_at.is_(None), _shown())
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
    with reading_as(receiver):  # the subject in the receiver's language, as the mail
        subject = ngettext(
            "You received %(num)d kudos", "You received %(num)d kudos", len(kudos_ids)
        )
    send_mail(
        receiver.email,
        subject,
        "kudos/mail/digest",
        user=receiver,
        received=list(received),
        link=external_url(NAV_ENDPOINT),
    )
