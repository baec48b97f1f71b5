"""What alma's pytest plugin (core/testing.py) shares between the apps of a test process to
save time must not change what a test sees: each app keeps its own engine, listeners and
routes; a plugin installed during a test is found; the API's document, written when first
read, holds every part the app has and nothing else."""

import threading

import pytest
from sqlalchemy import event, select

from core.models import User
from core.plugins import installed_plugins


def test_apps_on_one_database_share_compiled_statements_but_not_their_listeners(make_app):
    from core.db import db

    first, second = make_app(), make_app()
    seen: list[str] = []
    with first.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        first_engine = db.engine
        assert db.session.scalars(select(User)).all() == []
    with second.app_context():
        assert db.engine is not first_engine
        assert db.engine._compiled_cache is first_engine._compiled_cache
        db.session.add(User(email="sam@example.org", password_hash="x", display_name="Sam"))
        db.session.commit()
        assert [user.email for user in db.session.scalars(select(User))] == ["sam@example.org"]
        db.session.remove()
    assert any("FROM users" in statement for statement in seen)
    assert not any("INSERT" in statement for statement in seen), "the second app's insert"


def test_apps_on_postgresql_reuse_connections_and_survive_a_killed_one(make_app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite opens a file, there is no server backend to keep")
    from sqlalchemy import create_engine, text

    from core.db import db

    def backend_of(app) -> int:
        with app.app_context():
            pid: int = db.session.scalar(text("SELECT pg_backend_pid()"))
            db.session.remove()
            return pid

    first = make_app()
    used = backend_of(first)
    assert backend_of(make_app()) == used  # the next app, as the next test, gets it again
    with make_app(DATABASE_POOL_SIZE=3).app_context():  # other options: a pool of its own
        assert db.engine.pool.size() == 3
    outsider = create_engine(database_url)  # as an administrator would, from elsewhere
    with outsider.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": used})
    outsider.dispose()
    assert backend_of(make_app()) != used  # the server closed it: another one, no error


def test_a_plugin_installed_into_a_folder_already_on_the_path_is_found(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    assert "late" not in installed_plugins()

    info = site / "alma_late-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: alma-late\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[alma.plugins]\nlate = alma_test_late\n")

    assert installed_plugins()["late"].version == "1.0"


@pytest.mark.plugins("wiki")
def test_the_api_document_written_on_first_read_has_exactly_the_apps_parts(make_app):
    with_wiki = make_app().test_client().get("/api/v1/openapi.json").get_json()
    core_alone = make_app(PLUGINS=[]).test_client().get("/api/v1/openapi.json").get_json()

    assert any(path.startswith("/api/v1/wiki") for path in with_wiki["paths"])
    assert not any(path.startswith("/api/v1/wiki") for path in core_alone["paths"])
    for document in (with_wiki, core_alone):
        assert {"token", "session"} <= set(document["components"]["securitySchemes"])
        assert "DEFAULT_ERROR" in document["components"]["responses"]
        assert any(tag["name"] == "members" for tag in document["tags"])


def test_every_part_of_every_installed_plugin_is_described_when_the_document_is_read(make_app):
    from core.testing import all_installed_plugins
    from core.webapi import ApiBlueprint

    app = make_app(PLUGINS=all_installed_plugins())
    document = app.test_client().get("/api/v1/openapi.json").get_json()

    parts = {bp.tag for bp in app.blueprints.values() if isinstance(bp, ApiBlueprint)}
    assert {"wiki", "groups", "mentoring", "certificates", "credits"} <= parts
    assert {tag["name"] for tag in document["tags"]} == parts
    for part in parts - {"members", "alerts"}:
        assert any(f"/api/v1/{part}" in path for path in document["paths"]), part


def test_free_ports_are_never_given_twice_and_each_worker_has_its_own():
    import socket

    from core.testing import free_port, ports_of_this_process

    ports = [free_port() for _ in range(20)]

    assert len(set(ports)) == 20
    assert all(port in ports_of_this_process() for port in ports)
    with socket.socket() as taken:  # something else on the machine listens on the next one
        taken.bind(("127.0.0.1", ports[-1] + 1))
        taken.listen()
        assert free_port() == ports[-1] + 2


@pytest.mark.parametrize("workers", [1, 3, 8, 40])
def test_the_workers_port_ranges_are_apart_and_below_the_ephemeral_ports(workers, monkeypatch):
    from core.testing import FIRST_PORT, ports_of_this_process

    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", str(workers))
    ranges = []
    for index in range(workers):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{index}")
        ranges.append(ports_of_this_process())
    ports = [port for share in ranges for port in share]
    assert len(ports) == len(set(ports))  # no port in two workers' ranges
    assert min(ports) == FIRST_PORT and max(ports) < 32768
    assert min(len(share) for share in ranges) >= 500


def test_screenshots_are_taken_only_into_the_folder_alma_screenshots_names(
    browser, tmp_path, monkeypatch
):
    from PIL import Image

    from core.testing import screenshot

    page = browser.new_page(viewport={"width": 390, "height": 300})
    try:
        page.set_content("<h1 id=title>A title</h1>" + "<p>A line of text.</p>" * 60)
        page.viewport_name = "phone"
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("ALMA_SCREENSHOTS", raising=False)
        screenshot(page, "not-taken")
        assert list(tmp_path.rglob("*.png")) == []

        monkeypatch.setenv("ALMA_SCREENSHOTS", str(tmp_path / "shots"))
        screenshot(page, "whole")
        screenshot(page, "title", "#title")
    finally:
        page.close()
    with Image.open(tmp_path / "shots" / "whole-phone.png") as whole:
        assert whole.width == 390 and whole.height > 300  # the whole page, not the viewport
    with Image.open(tmp_path / "shots" / "title-phone.png") as title:
        assert title.height < 100  # the element alone
    assert sorted(path.name for path in tmp_path.rglob("*.png")) == [
        "title-phone.png",
        "whole-phone.png",
    ]


def test_sql_statements_lists_what_the_app_sends_from_any_thread_during_the_block(app, db):
    from sqlalchemy import func

    from core.testing import sql_statements, stored

    with sql_statements(app) as statements:
        stored(app, select(func.count(User.id)))
        other = threading.Thread(target=lambda: stored(app, select(User.email)))
        other.start()
        other.join()
    stored(app, select(User.display_name))  # after the block: not listed

    selects = [sent for sent in statements if sent.startswith("SELECT")]  # SQLite: BEGINs too
    assert len(selects) == 2
    assert "count(users.id)" in selects[0] and "users.email" in selects[1]
