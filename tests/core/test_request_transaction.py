"""How a request's unit of work ends: what it wrote and did not commit is undone; one that
wrote nothing ends with COMMIT, so that PostgreSQL keeps the connection's prepared
statements (psycopg forgets them at every ROLLBACK)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from core.db import db
from core.models import User


def add_page(app, route: str, view) -> None:
    app.add_url_rule(route, route.strip("/"), view)


def members_named(app, name: str) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(User.display_name == name))
        db.session.remove()
    return count


def test_a_page_that_flushed_and_did_not_commit_leaves_nothing(app, client, member):
    def view():
        db.session.add(User(email="left@example.org", password_hash="x", display_name="Left"))
        db.session.flush()
        return "written, not committed"

    add_page(app, "/uncommitted", view)
    client.login(member)

    assert client.get("/uncommitted").status_code == 200
    assert members_named(app, "Left") == 0


def test_a_page_that_ran_an_update_and_did_not_commit_leaves_nothing(app, client, member):
    def view():
        db.session.execute(text("UPDATE users SET display_name = 'Renamed'"))
        return "updated, not committed"

    add_page(app, "/renamed", view)
    client.login(member)

    assert client.get("/renamed").status_code == 200
    assert members_named(app, "Renamed") == 0
    assert members_named(app, "Mo Member") == 1


def test_pages_that_only_read_keep_their_prepared_statements(app, client, member, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's")
    add_page(
        app,
        "/prepared",
        lambda: str(db.session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))),
    )
    client.login(member)

    for _ in range(20):  # psycopg prepares a statement at its 5th run on a connection
        assert client.get("/").status_code == 200
    prepared = [int(client.get("/prepared").text) for _ in range(3)]

    assert max(prepared) > 0
