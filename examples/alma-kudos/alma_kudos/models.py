"""The plugin's own table, prefixed with its name. It references core's users, never alters them."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.api import Model, User, utcnow

# A kudos' life (services.KUDOS): sent, then kept by the receiver, declined by them, or
# withdrawn by the giver. Declined and withdrawn kudos stay, unseen, so the pair's one kudos
# is spent.
SENT, KEPT, DECLINED, WITHDRAWN = "sent", "kept", "declined", "withdrawn"
SHOWN = (SENT, KEPT)


class Kudos(Model):
    __tablename__ = "kudos_given"

    id: Mapped[int] = mapped_column(primary_key=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=SENT, server_default=SENT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None]  # the receiver opened their kudos page since
    mailed_at: Mapped[datetime | None]  # the daily digest job claimed it for its mail

    giver: Mapped[User] = relationship(foreign_keys=[giver_id])  # no backref on core's User

    # The rules hold in the database too, so two clicks at once cannot break them.
    __table_args__ = (
        UniqueConstraint("giver_id", "receiver_id"),
        CheckConstraint("giver_id <> receiver_id", name="not_to_self"),
    )
