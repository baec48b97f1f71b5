"""kudos_0003 gives kudos a status: an upgrade from the schema before marks the kudos whose
goal the receiver completed as kept, the others as sent (declined ones were deleted then)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, select

from core.db import db
from core.models import User
from core.schema import alembic_config, pending_heads, schema_parts, upgrade

BEFORE = {"core": "heads", "kudos": "kudos_0002"}  # the schema before statuses


def test_the_upgrade_keeps_the_kudos_whose_goal_was_completed(app_on_empty_database):
    app = app_on_empty_database("kudos")
    moment = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        for part in schema_parts(app):
            command.upgrade(alembic_config(app, part), BEFORE[part.name])
        people = [
            User(email=f"{name}@example.org", password_hash="x", display_name=name)
            for name in ("gina", "rui", "mia")
        ]
        db.session.add_all(people)
        db.session.flush()
        gina, rui, mia = (person.id for person in people)
        db.session.commit()  # (reading the ids after it would open a transaction again)
        tables = MetaData()
        tables.reflect(db.engine, only=["kudos_given", "goals"])
        kudos, goals = tables.tables["kudos_given"], tables.tables["goals"]
        with db.engine.begin() as connection:
            for kudos_id, receiver, completed in ((1, rui, moment), (2, mia, None)):
                connection.execute(
                    kudos.insert().values(
                        id=kudos_id,
                        giver_id=gina,
                        receiver_id=receiver,
                        message="Thanks",
                        created_at=moment,
                    )
                )
                connection.execute(
                    goals.insert().values(
                        key=f"kudos:{kudos_id}",
                        kind="kudos.thanked",
                        title="Thanked by Gina",
                        subject=f"kudos:{kudos_id}",
                        created_at=moment,
                        completed_at=completed,
                    )
                )
        db.session.remove()

    upgrade(app)

    with app.app_context(), db.engine.connect() as connection:
        tables = MetaData()
        tables.reflect(connection, only=["kudos_given"])
        kudos = tables.tables["kudos_given"]
        statuses = dict(connection.execute(select(kudos.c.id, kudos.c.status)).all())
    assert statuses == {1: "kept", 2: "sent"}
    assert pending_heads(app) == set()
