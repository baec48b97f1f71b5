"""``get_optional``: a row that may not exist is looked for once per unit of work, and
looked for again once the unit of work adds, writes, locks rows or ends."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from core.api import User, get_optional
from core.testing import in_unit_of_work, sql_statements


@pytest.fixture
def statements(app, db):
    with sql_statements(app) as sent:
        yield sent


def selects(statements: list[str]) -> list[str]:
    return [
        statement for statement in statements if statement.lstrip().upper().startswith("SELECT")
    ]


def test_a_missing_row_is_looked_for_once_until_one_is_added(db, statements, create_user):
    assert get_optional(User, 4242) is None
    assert get_optional(User, 4242) is None
    assert len(selects(statements)) == 1

    db.session.add(User(id=4242, email="late@example.org", password_hash="-", display_name="Late"))
    added = get_optional(User, 4242)  # the session added an object: asked again
    assert added is not None and added.display_name == "Late"


def test_a_row_nothing_else_holds_is_not_read_again(db, statements, create_user):
    member_id = create_user(display_name="Ann").id
    db.session.expunge_all()  # as a new request: nothing holds Ann
    statements.clear()

    assert get_optional(User, member_id).display_name == "Ann"
    assert get_optional(User, member_id).display_name == "Ann"
    assert len(selects(statements)) == 1


def test_a_write_or_a_new_transaction_reads_the_row_again(db, statements, create_user):
    member_id = create_user(display_name="Ann").id
    db.session.commit()
    statements.clear()
    assert get_optional(User, 4242) is None
    db.session.execute(update(User).where(User.id == member_id).values(display_name="Anna"))
    assert get_optional(User, 4242) is None  # forgotten at the write: looked for again
    db.session.commit()
    assert get_optional(User, 4242) is None  # and at the transaction's end
    assert len(selects(statements)) == 3


def test_under_a_lock_a_missing_row_is_looked_for_again(app, db, statements, create_user):
    member_id = create_user(display_name="Ann").id
    db.session.commit()
    statements.clear()
    assert get_optional(User, 4242) is None
    assert get_optional(User, 4242) is None

    db.session.execute(select(User.id).where(User.id == member_id).with_for_update())

    assert get_optional(User, 4242) is None  # as a check a service makes once it holds a lock
    assert len(selects(statements)) == 3  # the first look, the lock, the look under it


def test_under_a_lock_a_row_committed_meanwhile_is_found(app, db, create_user):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads one snapshot per transaction: nothing commits meanwhile")
    member_id = create_user(display_name="Ann").id
    db.session.commit()
    assert get_optional(User, 4242) is None

    in_unit_of_work(  # another member's request, committed meanwhile
        app,
        lambda: db.session.add(
            User(id=4242, email="late@example.org", password_hash="-", display_name="Late")
        ),
    )
    db.session.execute(select(User.id).where(User.id == member_id).with_for_update())

    found = get_optional(User, 4242)
    assert found is not None and found.display_name == "Late"
