"""Mentoring's tables. Rules that must hold under concurrent requests are constraints here:
one open mentorship per pair (a partial unique index) and a mentor's capacity (a check on
the mentor's own row, whose count every accept and ending updates in the same transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db, utcnow
from core.models import User

REQUESTED, ACCEPTED, ACTIVE, COMPLETED = "requested", "accepted", "active", "completed"
DECLINED, WITHDRAWN, EXPIRED, TERMINATED = "declined", "withdrawn", "expired", "terminated"
STATES = (REQUESTED, ACCEPTED, ACTIVE, COMPLETED, DECLINED, WITHDRAWN, EXPIRED, TERMINATED)
OPEN_STATES = (REQUESTED, ACCEPTED, ACTIVE)  # at most one per pair
PAIRED_STATES = (ACCEPTED, ACTIVE)  # they count against the mentor's capacity
CHAT_STATES = (ACCEPTED, ACTIVE, COMPLETED, TERMINATED)  # the pair has a chat (closed when ended)

DECLINE_REASONS = ("no_capacity", "topic_mismatch", "timing", "other")


class MentoringMember(db.Model):
    """A member's mentoring settings, and the count of their current mentees."""

    __tablename__ = "mentoring_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    capacity: Mapped[int] = mapped_column(default=1)
    accepting: Mapped[bool] = mapped_column(Boolean, default=True)
    mentee_count: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 20", name="capacity_range"),
        CheckConstraint("mentee_count BETWEEN 0 AND capacity", name="within_capacity"),
    )

    @property
    def has_room(self) -> bool:
        return self.accepting and self.mentee_count < self.capacity


class Mentorship(db.Model):
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
    )

    def party_role(self, user: User) -> str | None:
        if user.id == self.mentee_id:
            return "mentee"
        if user.id == self.mentor_id:
            return "mentor"
        return None

    def other_party(self, user: User) -> User:
        return self.mentor if user.id == self.mentee_id else self.mentee

    @property
    def chat_open(self) -> bool:
        return self.state in PAIRED_STATES

    @property
    def has_chat(self) -> bool:
        return self.state in CHAT_STATES


class MentorshipEvent(db.Model):
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


class ChatMessage(db.Model):
    __tablename__ = "mentoring_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentorship_id: Mapped[int] = mapped_column(
        ForeignKey("mentoring_mentorships.id", ondelete="CASCADE")
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sender: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("length(body) BETWEEN 1 AND 4000", name="body_length"),
        Index("ix_mentoring_messages_mentorship_id", "mentorship_id", "id"),
    )


class ChatReader(db.Model):
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
