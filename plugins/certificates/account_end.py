"""An erased member's certificates go with them (``member_erasing``), PDFs included. The
other party's certificate of a goal they shared stays valid and verifiable: its issued PDF is
kept as it was issued (it is the holder's document), and the text its page and verification
show, which quoted the erased member, now reads "former member"."""

from __future__ import annotations

from sqlalchemy import delete, select

from core.api import FORMER_MEMBER, Goal, User, db, forget_mentions
from plugins.certificates.models import Certificate


def erase_member(user: User) -> None:
    db.session.execute(delete(Certificate).where(Certificate.user_id == user.id))
    forget_mentions(user, Certificate.goal_title, Certificate.achievement)
    name = user.display_name.strip()
    if not name:
        return
    # the facts of a goal they shared (the other party's certificate) may name them
    quoting = db.session.scalars(
        select(Certificate)
        .join(Goal, Goal.id == Certificate.goal_id)
        .where(Goal.parties.any(user_id=user.id))
    ).all()
    for certificate in quoting:
        facts = [
            [label, str(value).replace(name, FORMER_MEMBER).replace(user.email, FORMER_MEMBER)]
            for label, value in certificate.facts
        ]
        if facts != certificate.facts:
            certificate.facts = facts
