"""The certificates plugin's table. One row per party of a completed goal (a unique
constraint, so a certificate is issued once however often the event arrives), carrying a
snapshot of what it certifies and, once rendered, the PDF itself."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from core.api import Model, User, utcnow

PENDING, RENDERED, FAILED = "pending", "rendered", "failed"
STATES = (PENDING, RENDERED, FAILED)
STANDING = "revoked_at IS NULL"  # a certificate that was not revoked


class Certificate(Model):
    __tablename__ = "certificates_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    # the goal may go; the certificate stands on its snapshot
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    # what it certifies, as it was when the goal completed
    holder_name: Mapped[str] = mapped_column(String(200))
    goal_kind: Mapped[str] = mapped_column(String(80))
    achievement: Mapped[str] = mapped_column(String(200))  # the goal kind's label
    goal_title: Mapped[str] = mapped_column(String(200))
    completed_on: Mapped[date]  # in the holder's time zone
    facts: Mapped[list[Any]] = mapped_column(JSON)  # [[label, value], ...]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    # rendering, after commit, by the certificates.render job
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    rendered_at: Mapped[datetime | None]
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    # what the holder shows
    shown_on_profile: Mapped[bool] = mapped_column(Boolean, default=False)
    name_on_verification: Mapped[bool] = mapped_column(Boolean, default=True)

    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    # the revoked certificate this one replaces (an admin reissued it); once each
    reissued_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates_certificates.id", ondelete="SET NULL"), unique=True
    )

    holder: Mapped[User] = relationship()

    __table_args__ = (
        # one standing certificate per goal and holder; revoked ones may have been reissued
        Index(
            "ix_certificates_certificates_standing_goal_user",
            "goal_id",
            "user_id",
            unique=True,
            sqlite_where=text(STANDING),
            postgresql_where=text(STANDING),
        ),
        CheckConstraint(f"status IN {STATES}", name="status"),
        CheckConstraint(
            f"(status = '{RENDERED}') = (pdf IS NOT NULL AND rendered_at IS NOT NULL)",
            name="rendered_has_pdf",
        ),
        CheckConstraint("(revoked_at IS NULL) = (revoke_reason IS NULL)", name="revoked_reason"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_certificates_certificates_due", "status", "next_attempt_at"),
    )

    @property
    def is_ready(self) -> bool:
        return self.status == RENDERED

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def filename(self) -> str:
        return f"certificate-{self.number}.pdf"
