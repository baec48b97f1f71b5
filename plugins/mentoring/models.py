"""Mentoring's tables. Rules that must hold under concurrent requests are constraints here:
one open mentorship per pair (a partial unique index), a mentor's capacity (a check on the
mentor's own row, whose count every accept and ending updates in the same transaction), one
agreement version awaiting an answer per mentorship, one final meeting, one change awaiting an
answer per meeting, one feedback per party and meeting."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.api import Model, User, utcnow

REQUESTED, ACCEPTED, ACTIVE, COMPLETED = "requested", "accepted", "active", "completed"
DECLINED, WITHDRAWN, EXPIRED, TERMINATED = "declined", "withdrawn", "expired", "terminated"
STATES = (REQUESTED, ACCEPTED, ACTIVE, COMPLETED, DECLINED, WITHDRAWN, EXPIRED, TERMINATED)
OPEN_STATES = (REQUESTED, ACCEPTED, ACTIVE)  # at most one per pair
PAIRED_STATES = (ACCEPTED, ACTIVE)  # they count against the mentor's capacity
CHAT_STATES = (ACCEPTED, ACTIVE, COMPLETED, TERMINATED)  # the pair has a chat (closed when ended)

DECLINE_REASONS = ("no_capacity", "topic_mismatch", "timing", "other")
# The sides of a proposal (a change of a meeting, an early end): who made it, who answers it.
PROPOSER, OTHER_PARTY = "proposer", "other party"

# who is listed as a mentor (a partial index condition; the directory adds "e-mail confirmed")
MENTORS = "wants_to_mentor IS TRUE"


class MentoringMember(Model):
    """A member's mentoring choices (offering mentoring, looking for a mentor) and settings,
    and the count of their current mentees. No row: neither choice, and the settings' defaults.
    """

    __tablename__ = "mentoring_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    capacity: Mapped[int] = mapped_column(default=1)
    accepting: Mapped[bool] = mapped_column(Boolean, default=True)
    mentee_count: Mapped[int] = mapped_column(default=0)
    wants_to_mentor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    wants_to_be_mentored: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 20", name="capacity_range"),
        CheckConstraint("mentee_count BETWEEN 0 AND capacity", name="within_capacity"),
        # the members who offer mentoring: the directory and the home page's count join it
        Index(
            "ix_mentoring_members_mentors",
            "user_id",
            sqlite_where=text(MENTORS),
            postgresql_where=text(MENTORS),
        ),
    )

    @property
    def has_room(self) -> bool:
        return self.accepting and self.mentee_count < self.capacity


FIELD_ROLES = ("mentor", "mentee")


class MemberField(Model):
    """A field of study a member chose as mentor or as mentee (services/fields.py): a code of
    the operator's list of fields. A code the list no longer has stays here, unshown, until
    the list has it again or the member saves their fields."""

    __tablename__ = "mentoring_member_fields"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(6), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)

    __table_args__ = (
        CheckConstraint("role IN ('mentor', 'mentee')", name="field_role"),
        # the directory's filter: the mentors holding one of a few codes
        Index("ix_mentoring_member_fields_code", "code", "role"),
    )


class Mentorship(Model):
    __tablename__ = "mentoring_mentorships"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default=REQUESTED)
    message: Mapped[str] = mapped_column(Text)
    topics: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    started_at: Mapped[datetime | None]  # the official start: both approved the agreement
    nudged_at: Mapped[datetime | None]  # the last "get in touch" mail after a silence

    mentee: Mapped[User] = relationship(foreign_keys=[mentee_id])
    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id])
    events: Mapped[list[MentorshipEvent]] = relationship(
        back_populates="mentorship", order_by="MentorshipEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("mentee_id <> mentor_id", name="not_self"),
        CheckConstraint(f"state IN {STATES}", name="state"),
        Index(
            "uq_mentoring_mentorships_open_pair",
            "mentee_id",
            "mentor_id",
            unique=True,
            sqlite_where=text(f"state IN {OPEN_STATES}"),
            postgresql_where=text(f"state IN {OPEN_STATES}"),
        ),
        Index("ix_mentoring_mentorships_mentee_state", "mentee_id", "state"),
        Index("ix_mentoring_mentorships_mentor_state", "mentor_id", "state"),
        Index("ix_mentoring_mentorships_state_expires", "state", "expires_at"),
        # the staff's list, newest first, a page at a time (services/oversight.py)
        Index("ix_mentoring_mentorships_created", "created_at", "id"),
    )

    def party_role(self, user: User) -> str | None:
        if user.id == self.mentee_id:
            return "mentee"
        if user.id == self.mentor_id:
            return "mentor"
        return None

    def sides_of(self, user: User) -> set[str]:
        """The sides ``user`` is on in the mentorship's tables: {"mentee"}, {"mentor"}, or none."""
        role = self.party_role(user)
        return {role} if role else set()

    def other_party(self, user: User) -> User:
        return self.mentor if user.id == self.mentee_id else self.mentee

    def other_party_id(self, user: User) -> int:
        """The other party's id, without loading them."""
        return self.mentor_id if user.id == self.mentee_id else self.mentee_id

    @property
    def chat_open(self) -> bool:
        return self.state in PAIRED_STATES

    @property
    def has_chat(self) -> bool:
        return self.state in CHAT_STATES


class MentorshipEvent(Model):
    """One transition of a mentorship: who moved it from which state to which, when, and why."""

    __tablename__ = "mentoring_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mentorship: Mapped[Mentorship] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ChatMessage(Model):
    __tablename__ = "mentoring_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE")
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sending client's name for this message: sent again after a lost answer, it finds
    # the message stored the first time instead of storing a second one.
    client_key: Mapped[str | None] = mapped_column(String(64))
    # set while the moderators hide the message (after the other party reported it)
    hidden_at: Mapped[datetime | None]

    sender: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("length(body) BETWEEN 1 AND 4000", name="body_length"),
        Index("ix_mentoring_messages_mentorship_id", "mentorship_id", "id"),
        UniqueConstraint("mentorship_id", "sender_id", "client_key"),
    )


class ChatReader(Model):
    """How far a party has read a mentorship's chat, and how far a digest mail has covered."""

    __tablename__ = "mentoring_chat_readers"

    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_id: Mapped[int] = mapped_column(default=0)
    digested_up_to_id: Mapped[int] = mapped_column(default=0)


# ---- the agreement -----------------------------------------------------------------------

PROPOSED, APPROVED, RETURNED, REJECTED = "proposed", "approved", "returned", "rejected"
# A proposal (a version of the agreement, a change of a meeting) still unanswered when its
# mentorship ended: no one can answer it any more, and no one decided it.
ENDED_WITH_MENTORSHIP = "ended"
VERSION_STATUSES = (PROPOSED, APPROVED, RETURNED, REJECTED, ENDED_WITH_MENTORSHIP)


class AgreementVersion(Model):
    """One version of a mentorship's agreement. The first is the mentee's proposal; later
    ones are amendments either party proposes. A version counts once the other party
    approved it; the newest approved one is the agreement in force."""

    __tablename__ = "mentoring_agreement_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE")
    )
    number: Mapped[int]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    meetings_planned: Mapped[int]
    channels: Mapped[str] = mapped_column(String(200))
    contact_every_days: Mapped[int]
    agenda: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(300), default="")  # why it was amended
    status: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")  # the answer, when sent back
    # set by the programme's staff (an extension of the end date), in force at once: no
    # party proposed it, none answered it
    by_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    mentorship: Mapped[Mentorship] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def withdrawn(self) -> bool:
        """Taken back by its proposer along with the meeting or the move that needed it: the
        only way a version is decided by who proposed it (the other party answers the rest),
        so it is stored as rejected by them (see ``agreements.withdraw_departure``)."""
        return self.status == REJECTED and self.decided_by_id == self.proposed_by_id

    __table_args__ = (
        UniqueConstraint("mentorship_id", "number"),
        CheckConstraint(f"status IN {VERSION_STATUSES}", name="status"),
        CheckConstraint("ends_on >= starts_on", name="period"),
        CheckConstraint("meetings_planned BETWEEN 1 AND 100", name="meetings_planned_range"),
        CheckConstraint("contact_every_days BETWEEN 1 AND 90", name="contact_every_days_range"),
        CheckConstraint(f"NOT by_staff OR status = '{APPROVED}'", name="staff_change_in_force"),
        Index(
            "uq_mentoring_agreement_versions_one_proposed",
            "mentorship_id",
            unique=True,
            sqlite_where=text("status = 'proposed'"),
            postgresql_where=text("status = 'proposed'"),
        ),
    )


# ---- meetings ----------------------------------------------------------------------------

SCHEDULED, DECLINED_MEETING, CANCELLED, HELD, MISSED = (
    "scheduled",
    "declined",
    "cancelled",
    "held",
    "missed",
)
MEETING_STATUSES = (PROPOSED, SCHEDULED, DECLINED_MEETING, CANCELLED, HELD, MISSED)
LIVE_MEETING_STATUSES = (PROPOSED, SCHEDULED, HELD)  # not declined, cancelled or missed


class Meeting(Model):
    """A meeting the mentee proposed; the mentor approves it (scheduled). Once its time is
    past, both confirm it took place: that is the consent to its core goal, and the goal's
    completion marks it held."""

    __tablename__ = "mentoring_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE")
    )
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    place: Mapped[str] = mapped_column(String(300))  # an address or a video link
    agenda: Mapped[str] = mapped_column(Text, default="")
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE: bumped on changes
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentoring_agreement_versions.id", ondelete="SET NULL")
    )  # the amendment an extra meeting or a late date needs, approved along with it
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    held_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    feedback_requested_at: Mapped[datetime | None]

    mentorship: Mapped[Mentorship] = relationship()
    amendment: Mapped[AgreementVersion | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"status IN {MEETING_STATUSES}", name="status"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 480", name="duration_range"),
        Index("ix_mentoring_meetings_mentorship_starts", "mentorship_id", "starts_at"),
        Index("ix_mentoring_meetings_status_starts", "status", "starts_at"),
        Index(
            "uq_mentoring_meetings_one_at_a_time",
            "mentorship_id",
            "starts_at",
            unique=True,
            sqlite_where=text(f"status IN {LIVE_MEETING_STATUSES}"),
            postgresql_where=text(f"status IN {LIVE_MEETING_STATUSES}"),
        ),  # a double submit, or two meetings at the same time
        Index(
            "uq_mentoring_meetings_one_final",
            "mentorship_id",
            unique=True,
            sqlite_where=text(f"is_final AND status IN {LIVE_MEETING_STATUSES}"),
            postgresql_where=text(f"is_final AND status IN {LIVE_MEETING_STATUSES}"),
        ),
    )

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


RESCHEDULE, CANCEL = "reschedule", "cancel"
ACCEPTED_CHANGE, WITHDRAWN_CHANGE = "accepted", "withdrawn"
CHANGE_STATUSES = (PROPOSED, ACCEPTED_CHANGE, REJECTED, WITHDRAWN_CHANGE, ENDED_WITH_MENTORSHIP)


class MeetingChange(Model):
    """A party's proposal to move or cancel a scheduled meeting; the other confirms it."""

    __tablename__ = "mentoring_meeting_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("mentoring_meetings.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime | None]
    duration_minutes: Mapped[int | None]
    place: Mapped[str | None] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("mentoring_agreement_versions.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    meeting: Mapped[Meeting] = relationship()
    proposed_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN ('{RESCHEDULE}', '{CANCEL}')", name="kind"),
        CheckConstraint(f"status IN {CHANGE_STATUSES}", name="status"),
        CheckConstraint(
            f"kind = '{CANCEL}' OR (starts_at IS NOT NULL AND duration_minutes IS NOT NULL)",
            name="reschedule_has_time",
        ),
        Index(
            "uq_mentoring_meeting_changes_one_proposed",
            "meeting_id",
            unique=True,
            sqlite_where=text("status = 'proposed'"),
            postgresql_where=text("status = 'proposed'"),
        ),
    )


class MeetingFeedback(Model):
    """A party's rating and comment on a meeting that took place (theirs alone to read)."""

    __tablename__ = "mentoring_meeting_feedback"

    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_meetings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)


class EndProposal(Model):
    """A party proposes to end an active mentorship early; it ends once the other agrees."""

    __tablename__ = "mentoring_end_proposals"

    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE"), primary_key=True
    )
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mentorship: Mapped[Mentorship] = relationship()
    proposed_by: Mapped[User] = relationship()


class CalendarFeed(Model):
    """A member's secret calendar address. Only a hash of its token is kept: the address is
    shown once, and getting a new one revokes the old."""

    __tablename__ = "mentoring_calendar_feeds"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- oversight by the programme's staff ---------------------------------------------------

# the rules by which a pair is stuck (services/oversight.py), in the order the console lists them
STUCK_REQUEST, STUCK_AGREEMENT, STUCK_MEETING, STUCK_END = (
    "request",
    "agreement",
    "meeting",
    "end",
)
STUCK_RULES = (STUCK_REQUEST, STUCK_AGREEMENT, STUCK_MEETING, STUCK_END)


class StaffNudge(Model):
    """The last nudge staff sent a pair for one rule by which it is stuck: one row per pair
    and rule, stamped again (with a conditional UPDATE) at most once a day."""

    __tablename__ = "mentoring_staff_nudges"

    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent_at: Mapped[datetime]
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (CheckConstraint(f"rule IN {STUCK_RULES}", name="rule"),)


# A mentor's identity check (setting ``verification = "staff"``): the member sent a document,
# or said they would send it by e-mail (PENDING), and a coordinator verified or rejected it.
PENDING, VERIFIED, REJECTED = "pending", "verified", "rejected"
VERIFICATION_STATES = (PENDING, VERIFIED, REJECTED)


class MentorVerification(Model):
    """A member's identity check as a mentor. No row: they never sent anything. The document
    (a file under the instance folder, never under ``static/``) is kept only while the check
    waits for staff: the database refuses a decided row that still names one."""

    __tablename__ = "mentoring_verifications"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    by_mail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    document_name: Mapped[str | None] = mapped_column(String(64))  # the stored file's name
    document_type: Mapped[str | None] = mapped_column(String(32))  # its sniffed MIME type
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="", server_default="")  # why rejected

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint(f"state IN {VERIFICATION_STATES}", name="state"),
        CheckConstraint(
            "document_name IS NULL OR state = 'pending'", name="document_until_decided"
        ),
        CheckConstraint(
            "state <> 'pending' OR document_name IS NOT NULL OR by_mail", name="pending_has_proof"
        ),
        CheckConstraint("(document_name IS NULL) = (document_type IS NULL)", name="document_typed"),
        CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided_when"),
        # the staff's queue, oldest first
        Index(
            "ix_mentoring_verifications_queue",
            "submitted_at",
            sqlite_where=text(f"state = '{PENDING}'"),
            postgresql_where=text(f"state = '{PENDING}'"),
        ),
    )


# ---- suggestions -------------------------------------------------------------------------


class SuggestionDismissal(Model):
    """A mentee's "Not for me" on a mentor suggested to them: that mentor is not suggested to
    them again until they undo it. Theirs alone: no one else sees it, the mentor included."""

    __tablename__ = "mentoring_suggestion_dismissals"

    mentee_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    mentor_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mentor: Mapped[User] = relationship(foreign_keys=[mentor_id])

    __table_args__ = (CheckConstraint("mentee_id <> mentor_id", name="not_self"),)
