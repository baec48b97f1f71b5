"""The rules of kudos, as plain functions: no HTTP here."""

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from alma_kudos.models import Kudos
from core.api import InvalidInput, User, db, notify, record_activity

GIVEN = "kudos.given"


def give_kudos(giver: User, receiver: User, message: str) -> Kudos:
    message = message.strip()
    if giver.id == receiver.id:
        raise InvalidInput("You cannot give kudos to yourself.")
    if not 1 <= len(message) <= 200:
        raise InvalidInput("Say thanks in 1 to 200 characters.")
    kudos = Kudos(giver_id=giver.id, receiver_id=receiver.id, message=message)
    try:
        with db.session.begin_nested():
            db.session.add(kudos)
    except IntegrityError:
        raise InvalidInput(f"You already gave kudos to {receiver.display_name}.") from None
    record_activity(GIVEN, giver, subject=f"kudos:{kudos.id}")
    notify(
        receiver, f"{giver.display_name} gave you kudos: “{message}”", url=f"/members/{receiver.id}"
    )
    return kudos


def kudos_received(user: User) -> list[Kudos]:
    query = select(Kudos).where(Kudos.receiver_id == user.id).order_by(Kudos.created_at.desc())
    return list(db.session.scalars(query.limit(10)))


def total_kudos() -> int:
    return db.session.execute(select(func.count()).select_from(Kudos)).scalar_one()
