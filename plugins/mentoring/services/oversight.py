"""The programme's staff oversee the mentorships: every one, by state, and the pairs that are
stuck by a rule with a threshold in the settings (a request unanswered, no agreement after
acceptance, no meeting held, a proposal to end early unanswered), each of which a coordinator
may nudge by e-mail, once a day per pair and rule. Ending a mentorship and extending its
agreement are the mentorship's own steps (``ending.end_by_staff``,
``agreements.extend_by_staff``). Staff never read the pair's chat: nothing here loads it.

Like every service, these flush and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.sql.elements import SQLColumnExpression

from core.api import (
    InvalidInput,
    User,
    db,
    external_url,
    format_when,
    insert_on_conflict,
    like_pattern,
    reading_as,
    record_staff_act,
    rows_changed,
    send_mail,
    utcnow,
)
from plugins.mentoring.models import (
    ACCEPTED,
    ACTIVE,
    COMPLETED,
    HELD,
    PAIRED_STATES,
    PROPOSED,
    REQUESTED,
    STUCK_AGREEMENT,
    STUCK_END,
    STUCK_MEETING,
    STUCK_REQUEST,
    STUCK_RULES,
    TERMINATED,
    AgreementVersion,
    EndProposal,
    Meeting,
    Mentorship,
    MentorshipEvent,
    StaffNudge,
)
from plugins.mentoring.services.lifecycle import staff_target, state_label
from plugins.mentoring.services.settings import settings

NUDGE_EVERY = timedelta(days=1)  # a pair is nudged for a rule at most once a day
MAX_NOTE = 1000


RULE_LABELS = {  # lazy: each translated when shown
    STUCK_REQUEST: _l("Request unanswered"),
    STUCK_AGREEMENT: _l("No agreement yet"),
    STUCK_MEETING: _l("No meeting held"),
    STUCK_END: _l("Proposal to end unanswered"),
}


def rule_label(rule: str) -> str:
    return str(RULE_LABELS[rule])


def rule_days() -> dict[str, int]:
    """After how many days each rule holds (``[plugins.mentoring] stuck_*_days``)."""
    configured = settings()
    return {
        STUCK_REQUEST: configured.stuck_request_days,
        STUCK_AGREEMENT: configured.stuck_agreement_days,
        STUCK_MEETING: configured.stuck_meeting_days,
        STUCK_END: configured.stuck_end_days,
    }


# ---- the rules, in SQL -------------------------------------------------------------------


def _rules(now: datetime) -> dict[str, tuple[SQLColumnExpression[Any], ColumnElement[bool]]]:
    """Each rule: the moment it counts from, and whether it holds (for a query joining
    ``EndProposal`` to ``Mentorship``, outer). Each condition is a plain conjunction, so that
    the database answers "which pairs" with an index and an anti-join, not row by row."""
    days = rule_days()

    def cutoff(rule: str) -> datetime:
        return now - timedelta(days=days[rule])

    # an active pair last met at its last meeting both confirmed, or at its official start
    started = func.coalesce(Mentorship.started_at, Mentorship.state_changed_at)
    last_held = (
        select(func.max(Meeting.starts_at))
        .where(Meeting.mentorship_id == Mentorship.id, Meeting.status == HELD)
        .correlate(Mentorship)
        .scalar_subquery()
    )
    held_since = exists().where(
        Meeting.mentorship_id == Mentorship.id,
        Meeting.status == HELD,
        Meeting.starts_at > cutoff(STUCK_MEETING),
    )
    return {
        STUCK_REQUEST: (
            Mentorship.created_at,
            and_(Mentorship.state == REQUESTED, Mentorship.created_at <= cutoff(STUCK_REQUEST)),
        ),
        STUCK_AGREEMENT: (
            Mentorship.state_changed_at,
            and_(
                Mentorship.state == ACCEPTED,
                Mentorship.state_changed_at <= cutoff(STUCK_AGREEMENT),
            ),
        ),
        STUCK_MEETING: (
            case((last_held > started, last_held), else_=started),
            and_(Mentorship.state == ACTIVE, started <= cutoff(STUCK_MEETING), ~held_since),
        ),
        STUCK_END: (
            EndProposal.created_at,
            and_(Mentorship.state == ACTIVE, EndProposal.created_at <= cutoff(STUCK_END)),
        ),
    }


def _stuck_ids(now: datetime) -> Select[Any]:
    """The ids of the pairs stuck by at least one rule: one query per rule, united."""
    arms = [
        select(Mentorship.id)
        .outerjoin(EndProposal, EndProposal.mentorship_id == Mentorship.id)
        .where(holds)
        for _since, holds in _rules(now).values()
    ]
    return select(union(*arms).subquery().c.id)


def count_stuck() -> int:
    """The console's badge: how many pairs are stuck by at least one rule (one COUNT)."""
    stuck = _stuck_ids(utcnow()).subquery()
    return db.session.execute(select(func.count()).select_from(stuck)).scalar_one()


# ---- the list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stuck:
    """A rule by which a pair is stuck: since when, who must act, and the last nudge for it
    within a day (then it cannot be nudged again yet)."""

    rule: str
    since: datetime
    must_act: tuple[User, ...]
    nudged_at: datetime | None

    @property
    def label(self) -> str:
        return rule_label(self.rule)

    @property
    def days(self) -> int:
        return (utcnow() - self.since).days


@dataclass(frozen=True)
class Overseen:
    """A mentorship as the console lists it: both members, its state and dates, and the
    rules it is stuck by."""

    mentorship: Mentorship
    stuck: list[Stuck]

    @property
    def state_label(self) -> str:
        return state_label(self.mentorship.state)


def overseen_query(
    *, state: str = "", q: str = "", stuck: bool = False, mentorship_id: int | None = None
) -> Select[Any]:
    """Every mentorship with both members (joined, not loaded one by one) and, per rule,
    whether it holds and since when; newest first. ``state`` keeps one state, ``q`` the pairs
    either of whose names contains it, ``stuck`` the pairs stuck by a rule. Read its rows
    with :func:`overseen_rows`."""
    now = utcnow()
    rules = _rules(now)
    mentee, mentor = aliased(User), aliased(User)
    awaiting = exists().where(
        AgreementVersion.mentorship_id == Mentorship.id, AgreementVersion.status == PROPOSED
    )
    query = (
        select(
            Mentorship,
            EndProposal.proposed_by_id,
            awaiting.label("agreement_awaiting"),
            *(
                case((holds, 1), else_=0).label(f"{rule}_holds")
                for rule, (_s, holds) in rules.items()
            ),
            *(since.label(f"{rule}_since") for rule, (since, _h) in rules.items()),
        )
        .join(mentee, Mentorship.mentee_id == mentee.id)
        .join(mentor, Mentorship.mentor_id == mentor.id)
        .outerjoin(EndProposal, EndProposal.mentorship_id == Mentorship.id)
        .options(
            contains_eager(Mentorship.mentee.of_type(mentee)),
            contains_eager(Mentorship.mentor.of_type(mentor)),
        )
        .order_by(Mentorship.created_at.desc(), Mentorship.id.desc())
    )
    if mentorship_id is not None:
        query = query.where(Mentorship.id == mentorship_id)
    if state:
        query = query.where(Mentorship.state == state)
    if q.strip():
        pattern = like_pattern(q.strip().lower())
        query = query.where(
            or_(
                func.lower(mentee.display_name).like(pattern, escape="\\"),
                func.lower(mentor.display_name).like(pattern, escape="\\"),
            )
        )
    if stuck:
        query = query.where(Mentorship.id.in_(_stuck_ids(now)))
    return query


def overseen_rows(rows: Sequence[Any]) -> list[Overseen]:
    """The rows of :func:`overseen_query` (a page of them), with the nudges of the last day
    read in one more query."""
    nudged = _nudged_since(utcnow() - NUDGE_EVERY, [row[0].id for row in rows])
    overseen = []
    for row in rows:
        mentorship, end_proposer_id, agreement_awaiting = row[0], row[1], bool(row[2])
        holds = dict(zip(STUCK_RULES, row[3 : 3 + len(STUCK_RULES)], strict=True))
        since = dict(zip(STUCK_RULES, row[3 + len(STUCK_RULES) :], strict=True))
        stuck = [
            Stuck(
                rule,
                since[rule],
                _must_act(mentorship, rule, end_proposer_id, agreement_awaiting),
                nudged.get((mentorship.id, rule)),
            )
            for rule in STUCK_RULES
            if holds[rule]
        ]
        overseen.append(Overseen(mentorship, stuck))
    return overseen


def overseen(mentorship_id: int) -> Overseen | None:
    rows = db.session.execute(overseen_query(mentorship_id=mentorship_id)).all()
    return overseen_rows(rows)[0] if rows else None


def _must_act(
    mentorship: Mentorship, rule: str, end_proposer_id: int | None, agreement_awaiting: bool
) -> tuple[User, ...]:
    """Who a nudge for ``rule`` goes to: whoever the pair waits for."""
    mentee, mentor = mentorship.mentee, mentorship.mentor
    if rule == STUCK_REQUEST:
        return (mentor,)
    if rule == STUCK_AGREEMENT:  # the mentee fills it in; the mentor approves what was sent
        return (mentor,) if agreement_awaiting else (mentee,)
    if rule == STUCK_END:
        return (mentee,) if end_proposer_id == mentor.id else (mentor,)
    return (mentee, mentor)  # no meeting: the mentee schedules, both keep in touch


def _nudged_since(moment: datetime, mentorship_ids: list[int]) -> dict[tuple[int, str], datetime]:
    if not mentorship_ids:
        return {}
    return {
        (nudge.mentorship_id, nudge.rule): nudge.sent_at
        for nudge in db.session.scalars(
            select(StaffNudge).where(
                StaffNudge.mentorship_id.in_(mentorship_ids), StaffNudge.sent_at > moment
            )
        )
    }


def history_of(mentorship: Mentorship) -> list[MentorshipEvent]:
    """The mentorship's moves from state to state, with who made each (one query); not
    their messages, which the pages of the console do not show."""
    return list(
        db.session.scalars(
            select(MentorshipEvent)
            .where(MentorshipEvent.mentorship_id == mentorship.id)
            .options(joinedload(MentorshipEvent.actor))
            .order_by(MentorshipEvent.id)
        )
    )


# ---- nudging -----------------------------------------------------------------------------


def nudge(mentorship_id: int, staff: User, rule: str, note: str = "") -> tuple[User, ...]:
    """Mail whoever a stuck pair waits for (the text says what the rule is about, with the
    coordinator's ``note`` if any), and log it. Refused when the pair is not stuck by
    ``rule`` now, or was nudged for it within a day (a double submit too), or when no one
    it would go to can be mailed (suspended or deactivated). Returns who was mailed: not who
    is suspended or deactivated, nor who turned these mails off (or gets them in a digest)."""
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(_("Keep your note under %(n)d characters.", n=MAX_NOTE))
    found = overseen(mentorship_id)
    if found is None:
        raise InvalidInput(_("This mentorship does not exist."))
    stuck = next((s for s in found.stuck if s.rule == rule), None)
    if stuck is None:
        raise InvalidInput(_("This pair is not stuck by that rule now: nothing to nudge."))
    reachable = tuple(
        party for party in stuck.must_act if not party.is_suspended and not party.is_deactivated
    )
    if not reachable:
        raise InvalidInput(
            _(
                "No one was nudged: %(names)s cannot be mailed now (suspended or deactivated).",
                names=", ".join(party.display_name for party in stuck.must_act),
            )
        )
    if not _claim_nudge(found.mentorship, rule, staff):
        raise InvalidInput(
            _("This pair was nudged about this less than a day ago: no second mail was sent.")
        )
    reason = _("Nudged: %(rule)s for %(days)d days.", rule=stuck.label, days=stuck.days)
    record_staff_act(
        staff,
        "mentoring.pair_nudged",
        staff_target(found.mentorship),
        f"{reason} {note}" if note else reason,
    )
    return tuple(
        party
        for party in reachable
        if _mail_nudge(found.mentorship, party, stuck, note) is not None
    )


def _claim_nudge(mentorship: Mentorship, rule: str, staff: User) -> bool:
    """Stamp the pair's nudge for ``rule`` now, unless it was stamped within a day: True if
    this call did (concurrent calls: one does)."""
    now = utcnow()
    inserted = db.session.scalar(
        insert_on_conflict(StaffNudge)
        .values(mentorship_id=mentorship.id, rule=rule, sent_at=now, sent_by_id=staff.id)
        .on_conflict_do_nothing()
        .returning(StaffNudge.rule)
    )
    if inserted is not None:
        return True
    return (
        rows_changed(
            update(StaffNudge)
            .where(
                StaffNudge.mentorship_id == mentorship.id,
                StaffNudge.rule == rule,
                StaffNudge.sent_at <= now - NUDGE_EVERY,
            )
            .values(sent_at=now, sent_by_id=staff.id)
            .execution_options(synchronize_session=False)
        )
        == 1
    )


NUDGE_PAGES = {
    STUCK_REQUEST: ("mentoring.mentorship", "mentorship_id"),
    STUCK_AGREEMENT: ("mentoring_agreement.agreement", "mentorship_id"),
    STUCK_MEETING: ("mentoring.mentorship", "mentorship_id"),
    STUCK_END: ("mentoring.mentorship", "mentorship_id"),
}


def _mail_nudge(mentorship: Mentorship, party: User, stuck: Stuck, note: str) -> object | None:
    """The mail queued to ``party``, or None when none was (see ``send_mail``)."""
    endpoint, argument = NUDGE_PAGES[stuck.rule]
    other = mentorship.other_party(party)
    with reading_as(party):
        return send_mail(
            party.email,
            _("About your mentorship with %(name)s", name=other.display_name),
            "mentoring/mail/staff_nudge",
            user=party,
            other=other,
            role=mentorship.party_role(party),
            rule=stuck.rule,
            days=stuck.days,
            since=format_when(stuck.since, "date"),
            note=note,
            link=external_url(endpoint, **{argument: mentorship.id}),
        )


# ---- a member's mentorships, for staff -----------------------------------------------------


def facts_for_staff(members: Sequence[User]) -> dict[int, str]:
    """A line per member about their mentorships, by state, for the console's member page:
    one grouped query for all of them."""
    ids = [member.id for member in members]
    if not ids:
        return {}
    sides = union_all(
        select(Mentorship.mentee_id.label("member_id"), Mentorship.state).where(
            Mentorship.mentee_id.in_(ids)
        ),
        select(Mentorship.mentor_id.label("member_id"), Mentorship.state).where(
            Mentorship.mentor_id.in_(ids)
        ),
    ).subquery()
    counts: dict[int, dict[str, int]] = {}
    for member_id, state, count in db.session.execute(
        select(sides.c.member_id, sides.c.state, func.count()).group_by(
            sides.c.member_id, sides.c.state
        )
    ):
        counts.setdefault(member_id, {})[state] = count
    lines = {member_id: _facts_line(by_state) for member_id, by_state in counts.items()}
    return {member_id: line for member_id, line in lines.items() if line}


def _facts_line(by_state: dict[str, int]) -> str:
    under_way = sum(by_state.get(state, 0) for state in PAIRED_STATES)
    requested, completed = by_state.get(REQUESTED, 0), by_state.get(COMPLETED, 0)
    ended = by_state.get(TERMINATED, 0)
    shown = [
        ngettext("%(num)d request pending", "%(num)d requests pending", requested)
        if requested
        else "",
        ngettext("%(num)d mentorship under way", "%(num)d mentorships under way", under_way)
        if under_way
        else "",
        ngettext("%(num)d mentorship completed", "%(num)d mentorships completed", completed)
        if completed
        else "",
        ngettext("%(num)d ended early", "%(num)d ended early", ended) if ended else "",
    ]
    return " · ".join(part for part in shown if part)
