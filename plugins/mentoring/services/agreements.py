"""The mentorship agreement. Only the mentee fills it and sends it; the mentor approves it,
which is the official start, or sends it back with a comment. Afterwards either party proposes
an amendment and the other approves or rejects it. Every version is kept: the newest approved
one is the agreement in force. Like services.py, these functions flush and never commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.api import (
    InvalidInput,
    NotFound,
    Step,
    Transitions,
    User,
    db,
    format_when,
    notify,
    reading_as,
    record_staff_act,
    site_path,
    today_of,
    utcnow,
)
from plugins.mentoring.models import (
    ACCEPTED,
    ACTIVE,
    APPROVED,
    OTHER_PARTY,
    PROPOSED,
    PROPOSER,
    REJECTED,
    RETURNED,
    AgreementVersion,
    Meeting,
    MeetingChange,
    Mentorship,
)
from plugins.mentoring.services.lifecycle import (
    MENTORSHIP,
    mentorship_for,
    mentorship_for_staff,
    mentorship_path,
    move,
    staff_target,
)

MAX_TEXT = 4000
MAX_REASON = 300


@dataclass(frozen=True)
class Terms:
    """What an agreement says."""

    starts_on: date
    ends_on: date
    meetings_planned: int
    channels: str
    contact_every_days: int
    agenda: str = ""
    notes: str = ""

    @classmethod
    def of(cls, version: AgreementVersion) -> Terms:
        return cls(**{f.name: getattr(version, f.name) for f in fields(cls)})

    @classmethod
    def entered(
        cls,
        *,
        starts_on: date,
        ends_on: date,
        meetings_planned: int,
        channels: str,
        contact_every_days: int,
        agenda: str | None = "",
        notes: str | None = "",
    ) -> Terms:
        """The terms as a member typed them (on the page or through the API), without the
        spaces around the texts, which say nothing and would count as a change."""
        return cls(
            starts_on=starts_on,
            ends_on=ends_on,
            meetings_planned=meetings_planned,
            channels=channels.strip(),
            contact_every_days=contact_every_days,
            agenda=(agenda or "").strip(),
            notes=(notes or "").strip(),
        )


def term_labels() -> dict[str, str]:
    return {
        "starts_on": _("Start"),
        "ends_on": _("End"),
        "meetings_planned": _("Meetings planned"),
        "channels": _("How we keep in touch"),
        "contact_every_days": _("How often (days)"),
        "agenda": _("Agenda"),
        "notes": _("Notes"),
    }


# ---- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentAgreement:
    in_force: AgreementVersion | None  # the newest approved version
    awaiting: AgreementVersion | None  # proposed, not answered yet (at most one)


def current_agreement(mentorship: Mentorship) -> CurrentAgreement:
    """What a mentorship's page shows of its agreement, in one query: a version awaiting an
    answer is always the newest, so the two newest approved or proposed ones hold both."""
    newest = db.session.scalars(
        select(AgreementVersion)
        .where(
            AgreementVersion.mentorship_id == mentorship.id,
            AgreementVersion.status.in_((APPROVED, PROPOSED)),
        )
        .order_by(AgreementVersion.number.desc())
        .limit(2)
    )
    return current_agreement_of(newest)


def current_agreement_of(versions: Iterable[AgreementVersion]) -> CurrentAgreement:
    by_number = sorted(versions, key=lambda version: version.number, reverse=True)
    return CurrentAgreement(
        in_force=next((v for v in by_number if v.status == APPROVED), None),
        awaiting=next((v for v in by_number if v.status == PROPOSED), None),
    )


def versions_of(mentorship: Mentorship) -> list[AgreementVersion]:
    return list(
        db.session.scalars(
            select(AgreementVersion)
            .where(AgreementVersion.mentorship_id == mentorship.id)
            .order_by(AgreementVersion.number)
        )
    )


def agreement_in_force(mentorship: Mentorship) -> AgreementVersion | None:
    return db.session.scalar(
        select(AgreementVersion)
        .where(
            AgreementVersion.mentorship_id == mentorship.id,
            AgreementVersion.status == APPROVED,
        )
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    )


def version_for(version_id: int, user: User) -> tuple[AgreementVersion, Mentorship]:
    version = db.session.get(AgreementVersion, version_id)
    if version is None:
        raise NotFound(_("This version of the agreement does not exist."))
    return version, mentorship_for(version.mentorship_id, user)


def version_numbered(mentorship_id: int, user: User, number: int) -> AgreementVersion:
    """Version ``number`` of a mentorship's agreement, if ``user`` is one of the pair (404 if
    there is no such version, 403 if the mentorship is not theirs)."""
    mentorship = mentorship_for(mentorship_id, user)
    version = db.session.scalar(
        select(AgreementVersion).where(
            AgreementVersion.mentorship_id == mentorship.id, AgreementVersion.number == number
        )
    )
    if version is None:
        raise NotFound(_("This version of the agreement does not exist."))
    return version


@dataclass(frozen=True)
class TermChange:
    term: str  # its name: "ends_on"
    label: str
    old: object
    new: object

    @property
    def changed(self) -> bool:
        return self.old != self.new


def compare(old: AgreementVersion, new: AgreementVersion) -> list[TermChange]:
    """Each term of two versions side by side."""
    labels = term_labels()
    return [
        TermChange(name, label, getattr(old, name), getattr(new, name))
        for name, label in labels.items()
    ]


def versions_compared(
    mentorship: Mentorship,
    user: User,
    versions: list[AgreementVersion],
    old_number: int | None = None,
    new_number: int | None = None,
) -> tuple[AgreementVersion, AgreementVersion]:
    """The two of ``versions`` (the mentorship's) a comparison shows: those numbered, or
    else the two newest. With a single version there is nothing to compare (InvalidInput)."""
    numbers = sorted(version.number for version in versions)
    if len(numbers) < 2:
        raise InvalidInput(_("There is only one version so far: nothing to compare."))
    old = numbers[-2] if old_number is None else old_number  # 0 is a number sent: none has it
    new = numbers[-1] if new_number is None else new_number
    return version_numbered(mentorship.id, user, old), version_numbered(mentorship.id, user, new)


# ---- proposing -----------------------------------------------------------------------------


def propose(mentorship: Mentorship, user: User, terms: Terms, reason: str) -> AgreementVersion:
    """The first agreement, or an amendment once there is one in force (the services refuse
    whoever may not, and any mentorship that has ended): what the agreement's form sends."""
    if agreement_in_force(mentorship) is not None:
        return propose_amendment(mentorship.id, user, terms, reason)
    return propose_agreement(mentorship.id, user, terms)


def propose_agreement(mentorship_id: int, mentee: User, terms: Terms) -> AgreementVersion:
    """The mentee sends the agreement (again, after it came back) to the mentor."""
    mentorship = mentorship_for(mentorship_id, mentee, lock=True)
    MENTORSHIP.check(mentorship, mentee, "propose_agreement")
    sent_back = last_version(mentorship)
    if sent_back is not None and sent_back.status == RETURNED and Terms.of(sent_back) == terms:
        raise InvalidInput(_("Nothing changed since it came back: edit at least one term."))
    version = _new_version(mentorship, mentee, terms, reason="")
    with reading_as(mentorship.mentor):
        notify(
            mentorship.mentor,
            _("%(name)s sent you the mentorship agreement to approve.", name=mentee.display_name),
            url=agreement_path(mentorship.id),
            email_subject=_("%(name)s sent you the mentorship agreement", name=mentee.display_name),
            mail_kind="mentoring.agreements",
        )
    return version


def last_version(mentorship: Mentorship) -> AgreementVersion | None:
    """The newest version, whatever became of it: the one an answer answers, and the one
    whose number the API's ``ETag`` names."""
    return db.session.scalar(
        select(AgreementVersion)
        .where(AgreementVersion.mentorship_id == mentorship.id)
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    )


def terms_to_start_from(
    in_force: AgreementVersion | None, versions: list[AgreementVersion], today: date
) -> Terms:
    """What the agreement's form opens with: the agreement in force, which an amendment
    changes; before one, the last text the mentee sent (it came back: they edit it, not start
    again); the first time, a draft of three months from ``today`` with six meetings. Only the
    terms: the reason of a version is not the next one's."""
    last_sent = in_force or (versions[-1] if versions else None)
    if last_sent is not None:
        return Terms.of(last_sent)
    return Terms(
        starts_on=today,
        ends_on=today + timedelta(days=91),
        meetings_planned=6,
        channels="",
        contact_every_days=14,
    )


def propose_amendment(
    mentorship_id: int, user: User, terms: Terms, reason: str
) -> AgreementVersion:
    """Either party proposes to change the agreement in force; the other decides."""
    mentorship = mentorship_for(mentorship_id, user, lock=True)
    MENTORSHIP.check(mentorship, user, "propose_amendment")
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say in a few words why you propose the change."))
    in_force = agreement_in_force(mentorship)
    if in_force is not None and Terms.of(in_force) == terms:
        raise InvalidInput(_("Nothing changed: edit at least one term."))
    version = _new_version(mentorship, user, terms, reason=reason)
    _tell_other_of_amendment(mentorship, user)
    return version


def propose_departure(
    mentorship: Mentorship,
    user: User,
    *,
    extra_meeting: bool,
    until: date | None,
    reason: str,
) -> AgreementVersion | None:
    """The amendment a meeting needs when it departs from the agreement in force (one meeting
    more than planned, a date after its end), proposed along with the meeting: the other
    party's answer to the meeting answers it too. ``None`` when nothing departs. The caller
    holds the mentorship's lock."""
    in_force = agreement_in_force(mentorship)
    if in_force is None:
        return None
    terms = Terms.of(in_force)
    amended = replace(
        terms,
        meetings_planned=terms.meetings_planned + (1 if extra_meeting else 0),
        ends_on=until if until is not None and until > terms.ends_on else terms.ends_on,
    )
    if amended == terms:
        return None
    MENTORSHIP.check(mentorship, user, "propose_amendment")
    return _new_version(mentorship, user, amended, reason=reason)


def _new_version(
    mentorship: Mentorship, user: User, terms: Terms, *, reason: str
) -> AgreementVersion:
    _check(terms, reason)
    number = (
        db.session.scalar(
            select(func.max(AgreementVersion.number)).where(
                AgreementVersion.mentorship_id == mentorship.id
            )
        )
        or 0
    ) + 1
    version = AgreementVersion(
        mentorship_id=mentorship.id,
        number=number,
        proposed_by_id=user.id,
        reason=reason,
        status=PROPOSED,
        **asdict(terms),
    )
    db.session.add(version)
    db.session.flush()
    return version


def _check(terms: Terms, reason: str) -> None:
    if terms.ends_on < terms.starts_on:
        raise InvalidInput(_("The end comes before the start: check the dates."))
    if (terms.ends_on - terms.starts_on).days > 3 * 366:
        raise InvalidInput(_("Plan at most three years; you can extend it later."))
    if not 1 <= terms.meetings_planned <= 100:
        raise InvalidInput(_("Plan between 1 and 100 meetings."))
    if not 1 <= terms.contact_every_days <= 90:
        raise InvalidInput(_("Keep in touch at least every 90 days."))
    if not terms.channels.strip():
        raise InvalidInput(_("Say how you will keep in touch (video calls, chat, e-mail…)."))
    if len(terms.channels) > 200:
        raise InvalidInput(_("Keep the ways of keeping in touch under 200 characters."))
    if len(terms.agenda) > MAX_TEXT or len(terms.notes) > MAX_TEXT:
        raise InvalidInput(_("Keep the agenda and the notes under %(n)d characters.", n=MAX_TEXT))
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("Keep the reason under %(n)d characters.", n=MAX_REASON))


def _tell_other_of_amendment(mentorship: Mentorship, user: User) -> None:
    other = mentorship.other_party(user)
    with reading_as(other):
        notify(
            other,
            _("%(name)s proposes to amend your mentorship agreement.", name=user.display_name),
            url=agreement_path(mentorship.id),
            email_subject=_("%(name)s proposes to amend your agreement", name=user.display_name),
            mail_kind="mentoring.agreements",
        )


def extend_by_staff(
    mentorship_id: int, staff: User, ends_on: date, reason: str
) -> AgreementVersion:
    """A coordinator moves the agreed end date of an active mentorship later (the step
    ``staff_extend`` of the mentorship's table). The change is a new version of the agreement,
    in force at once and marked as the staff's (``by_staff``), with ``reason``, which both
    read in the agreement's history and the audit log keeps; both parties are told."""
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("Keep the reason under %(n)d characters.", n=MAX_REASON))
    mentorship = mentorship_for_staff(mentorship_id, lock=True)
    MENTORSHIP.check(mentorship, staff, "staff_extend")
    in_force = agreement_in_force(mentorship)
    if in_force is None:  # an active mentorship has one: its approval made it active
        raise InvalidInput(_("This mentorship has no agreement in force to extend."))
    if ends_on <= in_force.ends_on:
        raise InvalidInput(
            _(
                "Choose a date after the agreed end, %(date)s.",
                date=format_when(in_force.ends_on),
            )
        )
    if ends_on < today_of(staff):
        raise InvalidInput(_("The new end date is in the past: choose a later one."))
    record_staff_act(staff, "mentoring.agreement_extended", staff_target(mentorship), reason)
    version = _new_version(
        mentorship, staff, replace(Terms.of(in_force), ends_on=ends_on), reason=reason
    )
    version.by_staff = True
    decide(version, staff, APPROVED)
    for party in (mentorship.mentee, mentorship.mentor):
        with reading_as(party):
            notify(
                party,
                _(
                    "The programme's coordinators extended your agreement with %(name)s: it "
                    "now ends on %(date)s. Why: “%(reason)s”",
                    name=mentorship.other_party(party).display_name,
                    date=format_when(ends_on),
                    reason=reason,
                ),
                url=agreement_path(mentorship.id),
                email_subject=_("Your mentorship agreement is extended"),
            )
    return version


# ---- answering -----------------------------------------------------------------------------


def approve(version_id: int, user: User) -> AgreementVersion:
    """The other party approves a proposed version. Approving the first agreement starts the
    mentorship officially."""
    version, mentorship, _step = _awaiting_answer_of(version_id, user, "approve")
    decide(version, user, APPROVED)
    proposer = mentorship.other_party(user)
    if mentorship.state == ACCEPTED:
        mentorship.started_at = utcnow()
        move(mentorship, ACTIVE, user)
        with reading_as(proposer):
            notify(
                proposer,
                _(
                    "%(name)s approved the agreement: your mentorship has officially started.",
                    name=user.display_name,
                ),
                url=mentorship_path(mentorship.id),
                email_subject=_("Your mentorship has officially started"),
                mail_kind="mentoring.agreements",
            )
    else:
        with reading_as(proposer):
            notify(
                proposer,
                _("%(name)s approved the amendment of your agreement.", name=user.display_name),
                url=agreement_path(mentorship.id),
            )
    return version


def send_back(version_id: int, user: User, comment: str) -> AgreementVersion:
    """The other party sends the first agreement back, or rejects an amendment, saying why."""
    comment = comment.strip()
    if not comment:
        raise InvalidInput(_("Say what should change: the other party will read it."))
    if len(comment) > MAX_TEXT:
        raise InvalidInput(_("Keep your comment under %(n)d characters.", n=MAX_TEXT))
    version, mentorship, step = _awaiting_answer_of(version_id, user, "send_back")
    first = step.to == RETURNED
    decide(version, user, step.to, comment)
    proposer = mentorship.other_party(user)
    with reading_as(proposer):
        message = (
            _(
                "%(name)s sent the agreement back: “%(comment)s”",
                name=user.display_name,
                comment=comment,
            )
            if first
            else _(
                "%(name)s rejected the amendment: “%(comment)s”",
                name=user.display_name,
                comment=comment,
            )
        )
        notify(
            proposer,
            message,
            url=agreement_path(mentorship.id),
            email_subject=_("%(name)s answered about your agreement", name=user.display_name),
            mail_kind="mentoring.agreements",
        )
    return version


def withdraw_departure(amendment: AgreementVersion, proposer: User) -> None:
    """The proposer takes back the amendment a meeting or a move needed, along with it: no
    one answered it, so it reads "withdrawn by" them (:attr:`AgreementVersion.withdrawn`)."""
    decide(amendment, proposer, REJECTED)


def decide(version: AgreementVersion, user: User, status: str, comment: str = "") -> None:
    version.status = status
    version.decided_by_id = user.id
    version.decided_at = utcnow()
    version.comment = comment
    db.session.flush()


def _version_sides(version: AgreementVersion, member: User) -> set[str]:
    if version.mentorship.party_role(member) is None:
        return set()
    return {PROPOSER} if version.proposed_by_id == member.id else {OTHER_PARTY}


def _answered_here(version: AgreementVersion) -> bool:
    """A version is answered on its own page while the mentorship is under way, unless a
    meeting carries it (then answering the meeting answers it)."""
    return version.mentorship.state in (ACCEPTED, ACTIVE) and meeting_asking_for(version) is None


def _refuse_answer(version: AgreementVersion) -> str:
    if version.mentorship.state not in (ACCEPTED, ACTIVE):  # its pending version ended with it
        return _("This mentorship has ended: its agreement can no longer change.")
    if version.status != PROPOSED:
        return _("This version was already answered.")
    return _("This amendment comes with a meeting: answer the meeting, and it is answered too.")


def _while(state: str) -> Callable[[AgreementVersion], bool]:
    return lambda version: version.mentorship.state == state and _answered_here(version)


# The answers to a proposed version of the agreement: the other party approves it, or sends
# the first agreement back (the mentee edits and sends it again) or rejects an amendment.
# Proposing a version (the mentee's before the agreement, either party's after it) is a step
# of the mentorship's table (lifecycle.MENTORSHIP).
AGREEMENT = Transitions(
    AgreementVersion,
    state=lambda version: version.status,
    sides=_version_sides,
    steps=[
        Step(PROPOSED, "approve", OTHER_PARTY, APPROVED, _l("Approve"), when=_answered_here),
        Step(
            PROPOSED, "send_back", OTHER_PARTY, RETURNED, _l("Send it back"), when=_while(ACCEPTED)
        ),
        Step(PROPOSED, "send_back", OTHER_PARTY, REJECTED, _l("Reject"), when=_while(ACTIVE)),
    ],
    not_now=_refuse_answer,
    not_yours=_l("The other party answers your proposal, not you."),
)


def _awaiting_answer_of(
    version_id: int, user: User, answer: str
) -> tuple[AgreementVersion, Mentorship, Step]:
    version = db.session.get(AgreementVersion, version_id)
    if version is None:
        raise NotFound(_("This version of the agreement does not exist."))
    mentorship = mentorship_for(version.mentorship_id, user, lock=True)
    db.session.refresh(version)  # as it is now that the mentorship is locked
    return version, mentorship, AGREEMENT.check(version, user, answer)


def meeting_asking_for(amendment: AgreementVersion) -> int | None:
    """The meeting whose time or number needs ``amendment`` (proposed with the meeting, or
    with a move of it), if any: its answer is the meeting's answer, given on its page."""
    with_meeting = select(Meeting.id).where(Meeting.amendment_id == amendment.id)
    with_move = select(MeetingChange.meeting_id).where(MeetingChange.amendment_id == amendment.id)
    return db.session.scalar(with_meeting.union_all(with_move).limit(1))


def agreement_path(mentorship_id: int) -> str:
    return site_path("mentoring_agreement.agreement", mentorship_id=mentorship_id)
