"""Error pages: a database error in the middle of a page gives the normal error page, in the
site's layout, and the next request works."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from core.db import db
from core.models import User


@pytest.fixture
def app(make_app):
    # the 500 page as a member sees it, not the exception the test client would raise
    return make_app(PROPAGATE_EXCEPTIONS=False)


def fail_with(app, route: str, action) -> None:
    """A page that only the test app has, failing as ``action`` makes it fail."""

    def view():
        action()
        return "not reached"

    app.add_url_rule(route, route.strip("/"), view)


def a_duplicate_account() -> None:
    # the flush fails; until a rollback, every query of the session raises
    # PendingRollbackError (the navigation's counts did, and the page was a bare 500)
    db.session.add(User(email="ada@example.org", password_hash="x", display_name="Copy"))
    db.session.add(User(email="ada@example.org", password_hash="x", display_name="Copy"))
    db.session.flush()


def a_killed_connection() -> None:
    db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))


def assert_error_page_in_layout(page, member) -> None:
    assert page.status_code == 500
    assert "Something went wrong on our side. Please try again." in page.text
    assert 'aria-label="Main"' in page.text  # the navigation bar
    assert "Mo Member" in page.text and "Log out" in page.text and "Alerts" in page.text


def test_a_failed_flush_mid_page_gives_the_error_page_in_the_layout(app, client, member):
    fail_with(app, "/duplicate", a_duplicate_account)
    client.login(member)

    page = client.get("/duplicate")
    after = client.get("/")

    assert_error_page_in_layout(page, member)
    assert after.status_code == 200 and "Mo Member" in after.text


def test_a_connection_killed_mid_page_gives_the_error_page_and_the_next_works(
    app, client, member, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL ends a connection on request; SQLite has none to end")
    fail_with(app, "/killed", a_killed_connection)
    client.login(member)

    page = client.get("/killed")
    after = client.get("/")

    assert_error_page_in_layout(page, member)
    assert after.status_code == 200 and "Mo Member" in after.text


def backend_of_the_pool(app) -> int:
    """The PostgreSQL backend of the connection the app's requests use (the pool's one)."""
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    return pid


def test_a_pooled_connection_the_server_closed_is_replaced_and_the_page_works(
    app, client, member, database_url
):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL ends a connection on request; SQLite has none to end")
    client.login(member)
    assert client.get("/").status_code == 200
    killed = backend_of_the_pool(app)
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
        gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"
        while connection.scalar(text(gone), {"pid": killed}):
            connection.rollback()
    engine.dispose()

    page = client.get("/")

    assert page.status_code == 200 and "Mo Member" in page.text
    assert backend_of_the_pool(app) != killed
