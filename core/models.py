"""Core tables: members and their profiles, activities, goals with consent, notifications,
the mail outbox and login failures. Plugins may reference ``users.id`` but never alter these."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    not_,
    or_,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Model, utcnow

TOPIC_KINDS = ("expertise", "interest")
CONSENT_DECISIONS = ("pending", "consented", "declined")
# the staff's roles, each allowed what those before it are: a member without one has none
ROLES = ("coordinator", "admin")
# why a member reports an item to the moderators, and what became of the report
REPORT_REASONS = ("spam", "harassment", "inappropriate", "personal_data", "other")
OPEN_REPORT = "open"
REPORT_STATES = (OPEN_REPORT, "hidden", "dismissed", "restored")
REPORT_TEXT_MAX = 2000
# what a personal access token lets an app do: read only, or also write (core.webapi)
TOKEN_SCOPES = ("read", "write")
# how much of a webhook receiver's answer the delivery log keeps
WEBHOOK_RESPONSE_KEPT = 1000


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(16))  # one of ROLES, or a member
    email_confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # set by staff (core/services/members.py); no end: suspended until staff lift it
    suspended_at: Mapped[datetime | None]
    suspended_until: Mapped[datetime | None]
    # when the member last logged in: a login link names it, so that it works once
    last_login_at: Mapped[datetime | None]
    # set by the member (core/services/lifecycle.py): hidden from others, mails stop, until
    # they log in and reactivate; asking to be deleted deactivates too, and names the day the
    # erasure job may run; once it ran, the row is a nameless tombstone ("former member")
    deactivated_at: Mapped[datetime | None]
    deletion_due_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    # set when the moderators hid the profile (its bio and photo) after a report
    profile_hidden_at: Mapped[datetime | None]

    topics: Mapped[list[UserTopic]] = relationship(
        cascade="all, delete-orphan", order_by="UserTopic.position"
    )
    languages: Mapped[list[UserLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="UserLanguage.code"
    )

    # the LoginSession of the request, set when the member logs in or their cookie is read
    login_session_id = None  # type: int | None

    __table_args__ = (
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint(f"role IN {ROLES}", name="role"),
        # a deletion waits in a deactivated account; an erased account stays deactivated
        CheckConstraint(
            "deletion_due_at IS NULL OR deactivated_at IS NOT NULL", name="deletion_deactivates"
        ),
        CheckConstraint("erased_at IS NULL OR deactivated_at IS NOT NULL", name="erased_inactive"),
        # a directory of members (a plugin's) reads a page along it
        Index("ix_users_by_name", "display_name", "id"),
    )

    def get_id(self) -> str:
        # The session cookie names the member's LoginSession row: removing the row (logging
        # out, here or from another device) ends the session, even in a copied cookie.
        return f"{self.id}:s{self.login_session_id}"

    @property
    def is_staff(self) -> bool:
        """Whether the member runs the programme, in any role (the console is theirs)."""
        return self.role is not None

    def has_role(self, role: str) -> bool:
        """Whether the member holds ``role`` or one allowed more (an admin is a coordinator)."""
        return self.role is not None and ROLES.index(self.role) >= ROLES.index(role)

    @hybrid_property
    def is_suspended(self) -> bool:
        """Whether staff suspended the member and the suspension has not ended yet."""
        return self.suspended_at is not None and (
            self.suspended_until is None or self.suspended_until > utcnow()
        )

    @is_suspended.inplace.expression
    @classmethod
    def _is_suspended_expression(cls) -> ColumnElement[bool]:
        return and_(
            cls.suspended_at.is_not(None),
            or_(cls.suspended_until.is_(None), cls.suspended_until > utcnow()),
        )

    @hybrid_property
    def is_listed(self) -> bool:
        """Whether the member may be shown to other members (in a directory, a search, a
        group's list): not while suspended, nor once they deactivated their account (or asked
        for its deletion, or were erased). In a query, ``where(User.is_listed)``."""
        return not self.is_suspended and self.deactivated_at is None

    @is_listed.inplace.expression
    @classmethod
    def _is_listed_expression(cls) -> ColumnElement[bool]:
        return and_(not_(cls.is_suspended), cls.deactivated_at.is_(None))

    @property
    def is_deactivated(self) -> bool:
        """Whether the member deactivated their account (or asked for its deletion)."""
        return self.deactivated_at is not None

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def topic_names(self, kind: str) -> list[str]:
        return [link.topic.name for link in self.topics if link.kind == kind]

    @property
    def language_codes(self) -> list[str]:
        return [language.code for language in self.languages]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Topic(Model):
    """A subject of expertise or interest, shared between members so it can be searched."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(60), unique=True)  # lower-cased name


class UserTopic(Model):
    __tablename__ = "user_topics"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    topic: Mapped[Topic] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint(f"kind IN {TOPIC_KINDS}", name="kind"),)


class UserLanguage(Model):
    __tablename__ = "user_languages"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)


class Activity(Model):
    """Something a member did that matters to the community. ``key`` names the event, so the
    same event can never be recorded twice."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str | None] = mapped_column(String(120))
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_activities_user_created", "user_id", "created_at"),)


class Goal(Model):
    """Something that counts as achieved only once every party consented."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(120))
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]

    parties: Mapped[list[GoalParty]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="GoalParty.user_id"
    )

    __table_args__ = (
        CheckConstraint(
            "completed_at IS NULL OR declined_at IS NULL", name="completed_or_declined"
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.completed_at is None and self.declined_at is None

    def party(self, user: User) -> GoalParty | None:
        return next((p for p in self.parties if p.user_id == user.id), None)


class GoalParty(Model):
    """One party's consent to a goal: one row per party, so nobody consents twice."""

    __tablename__ = "goal_parties"

    goal_id: Mapped[int] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    decision: Mapped[str] = mapped_column(String(16), default="pending")
    decided_at: Mapped[datetime | None]

    goal: Mapped[Goal] = relationship(back_populates="parties")
    user: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint(f"decision IN {CONSENT_DECISIONS}", name="decision"),)


class Notification(Model):
    """A site alert for one member."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),  # the unread count
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),  # newest first
    )


class OutboxMail(Model):
    """An e-mail written in the transaction that caused it and sent after commit."""

    __tablename__ = "outbox_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    # the template it was written from ("mail/reset"): what kind of mail it is
    template: Mapped[str | None] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # fixed when the mail is queued, so that a retry of a mail the server may have received
    # already carries the same one (a mail queued before core_0006 gets it at its first try)
    message_id: Mapped[str | None] = mapped_column(String(250))
    # its MailKind's name ("core.digest" for a daily digest; none for mails queued before
    # core_0015), and the one-click unsubscribe address its headers carry, if it has one:
    # stored, so that every retry sends the very same message
    kind: Mapped[str | None] = mapped_column(String(80))
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_outbox_mails_due", "sent_at", "next_attempt_at"),
        Index("ix_outbox_mails_recent", "to_address", "template", "created_at"),
    )


class LoginFailure(Model):
    """A failed login, counted to slow down password guessing (per address and per IP)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_login_failures_email_created", "email", "created_at"),
        Index("ix_login_failures_ip_created", "ip", "created_at"),
    )


class LoginSession(Model):
    """One login of a member on one device: the session cookie names it, and the account
    page lists them. Deleting the row logs that browser out at its next request."""

    __tablename__ = "core_login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # written at most every few minutes (see accounts.SEEN_EVERY), not on every request
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Model):
    """A personal access token: an app or script of the member's acting as them through the
    HTTP API, within its scope. Only the token's SHA-256 is kept (the token is shown once,
    when made); revoking it deletes the row."""

    __tablename__ = "core_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(8))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # the token's first characters, for the member to tell their tokens apart
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # written at most every few minutes (see tokens.USED_EVERY), not on every request
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint(f"scope IN {TOKEN_SCOPES}", name="scope"),
        CheckConstraint("length(name) > 0", name="named"),
    )


class JobRun(Model):
    """When each scheduled job last ran to completion, so that a scheduler started after
    downtime runs an overdue job at once instead of a full interval later."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    last_run_at: Mapped[datetime]
    # which process ran it ("host:pid"), for an operator wondering which scheduler is active
    run_by: Mapped[str] = mapped_column(String(200))


class JobFailure(Model):
    """Each scheduled job's last run that raised: when, and the error, for the console."""

    __tablename__ = "job_failures"

    job_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    failed_at: Mapped[datetime]
    error: Mapped[str] = mapped_column(Text)


class AuditEntry(Model):
    """One act of staff, as it was done: append-only (the database refuses to change or
    delete a row, see core_0008), and with no foreign key, so it outlives the members it names.
    An act done from the command line has no actor id; its label says so."""

    __tablename__ = "core_audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(String(254))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    act: Mapped[str] = mapped_column(String(80))
    target_kind: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    target_label: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(Text)
    client_address: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (
        CheckConstraint("reason <> ''", name="reason_given"),
        Index("ix_core_audit_log_created", "created_at", "id"),  # newest first
        Index("ix_core_audit_log_actor", "actor_id", "created_at"),
        Index("ix_core_audit_log_target", "target_kind", "target_id", "created_at"),
    )


class DataExport(Model):
    """A member's request for a copy of their data: the export job writes the ZIP to the
    instance folder (``exports/<token>.zip``) and sets ``built_at``; it deletes file and row
    once the download link expired."""

    __tablename__ = "core_data_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # the secret part of the download link (which also asks for the member's login)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    built_at: Mapped[datetime | None]


MAIL_CHOICES = ("now", "digest", "off")  # as core.contributions.MAIL_CHOICES


class MailPreference(Model):
    """How a member wants the mails of one kind: a row only where they chose otherwise than
    the kind's default (no row: the default)."""

    __tablename__ = "core_mail_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(80), primary_key=True)
    choice: Mapped[str] = mapped_column(String(10))

    __table_args__ = (CheckConstraint(f"choice IN {MAIL_CHOICES}", name="choice"),)


class HeldMail(Model):
    """A mail of a kind the member gets in their daily digest, held until ``due_at`` (the
    digest hour of their day after it was written), when the ``core.send_digests`` job
    gathers every held mail of theirs that is due into one digest and deletes them."""

    __tablename__ = "core_held_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_core_held_mails_due_at", "due_at"),
        Index("ix_core_held_mails_user_id_due_at", "user_id", "due_at"),
    )


class Report(Model):
    """A member's report of an item (of a kind a plugin registers) to the moderators, with
    the item as it was when reported (the snapshot, all staff see of it). One open report per
    member and item; staff decide it: hidden, dismissed, or restored after hiding."""

    __tablename__ = "core_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(60))
    item_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    snapshot_title: Mapped[str] = mapped_column(String(300))
    snapshot_text: Mapped[str] = mapped_column(Text)
    snapshot_url: Mapped[str] = mapped_column(String(500))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=OPEN_REPORT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(f"reason IN {REPORT_REASONS}", name="reason"),
        CheckConstraint(f"state IN {REPORT_STATES}", name="state"),
        CheckConstraint(f"length(text) <= {REPORT_TEXT_MAX}", name="text_length"),
        CheckConstraint(
            f"(state = '{OPEN_REPORT}' AND decided_at IS NULL) "
            f"OR (state <> '{OPEN_REPORT}' AND decided_at IS NOT NULL)",
            name="decided_when_closed",
        ),
        # a member reports an item once while it waits (a second report is the first)
        Index(
            "uq_core_reports_open",
            "reporter_id",
            "kind",
            "item_id",
            unique=True,
            sqlite_where=sql_text(f"state = '{OPEN_REPORT}'"),
            postgresql_where=sql_text(f"state = '{OPEN_REPORT}'"),
        ),
        Index("ix_core_reports_state", "state", "created_at"),  # the queue and its badge
        Index("ix_core_reports_reporter", "reporter_id", "created_at"),  # reports an hour
        Index("ix_core_reports_item", "kind", "item_id"),
    )


class WebhookEndpoint(Model):
    """A URL an admin registered to receive the events of the chosen types, signed with its
    secret (Standard Webhooks: ``whsec_`` and base64). A disabled endpoint gets nothing; its
    deliveries wait until it is enabled again. ``failures`` counts its failed attempts in a
    row, since ``failing_since``: past a limit it is disabled (see core/services/webhooks.py)."""

    __tablename__ = "core_webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(100))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("url LIKE 'https://%' OR url LIKE 'http://%'", name="web_url"),
        CheckConstraint("secret LIKE 'whsec_%'", name="secret_format"),
        CheckConstraint("failures >= 0", name="failures_counted"),
        CheckConstraint("enabled OR disabled_reason IS NOT NULL", name="disabled_why"),
    )


class WebhookEvent(Model):
    """Something that happened, as webhook receivers are told: written in the unit of work of
    its cause, with its body fixed then, so every attempt sends the very same bytes under the
    same ``message_id`` (the ``webhook-id`` header: a receiver spots a replay by it). Ids and
    public facts only: no e-mail address, no message text."""

    __tablename__ = "core_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    # events of one key reach each endpoint in the order they happened ("mentorship:12")
    ordering_key: Mapped[str | None] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Model):
    """One event to one endpoint: retried with backoff until the endpoint answers 2xx. A
    later delivery of the same endpoint and ordering key waits while this one is not
    delivered. The last attempt's status, answer (cut) and error are kept for the log."""

    __tablename__ = "core_webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("core_webhook_events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("core_webhook_endpoints.id", ondelete="CASCADE")
    )
    ordering_key: Mapped[str | None] = mapped_column(String(120))  # the event's, for the queue
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]

    event: Mapped[WebhookEvent] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_counted"),
        CheckConstraint("delivered_at IS NULL OR attempts > 0", name="delivered_after_attempt"),
        Index("uq_core_webhook_deliveries_event_endpoint", "event_id", "endpoint_id", unique=True),
        Index("ix_core_webhook_deliveries_due", "delivered_at", "next_attempt_at"),
        Index("ix_core_webhook_deliveries_log", "endpoint_id", "id"),
    )
