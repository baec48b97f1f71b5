"""An erased member's kudos go with them (``member_erasing``): those they gave (their words)
and those they received. A receiver who kept kudos on record keeps the goal on their profile;
core renames it ("Thanked by former member"). A member who deactivates keeps everything."""

from __future__ import annotations

from sqlalchemy import delete, or_

from alma_kudos.models import Kudos
from core.api import User, db


def erase_member(user: User) -> None:
    db.session.execute(
        delete(Kudos).where(or_(Kudos.giver_id == user.id, Kudos.receiver_id == user.id))
    )
