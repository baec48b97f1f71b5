"""The benchmark still works: ``bench.pages``' in-process parts (statement counts, HTML sizes,
server CPU per request, the lean reference and the stack twin) run once on a tiny data set. A
benchmark, not a timed test: no figure is asserted, only that every route was measured and
that the twins show what alma's pages show."""

from __future__ import annotations

import re
import secrets

import pytest

from bench.ceilings import CeilingPlugin, create_write_table
from bench.dataset import PLUGINS, build_database, throwaway_database
from bench.lean import create_lean_app, dispose
from bench.pages import (
    ScaleResult,
    add_flow_pairs,
    ceiling_routes,
    count_statements,
    lean_routes,
    measure_in_process,
    member_session,
    page_routes,
    send,
    stack_routes,
)
from bench.stack import create_stack_app
from bench.stack import dispose as dispose_stack
from core.app import create_app
from core.db import db

MEMBER_LINK = re.compile(r'href="/members/(\d+)" class="stretched-link"')
CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


@pytest.fixture
def bench_app(database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("the benchmark runs on PostgreSQL (run with --db=postgresql)")
    with throwaway_database() as url:
        secret = secrets.token_urlsafe(32)
        app = create_app(
            {"DATABASE_URL": url, "PLUGINS": [*PLUGINS, "bench"], "SECRET_KEY": secret},
            instance_path=tmp_path / "instance",
            extra_plugins={"bench": CeilingPlugin()},
        )
        landmarks, _seconds = build_database(app, 0.01)
        with app.app_context(), db.engine.begin() as connection:
            create_write_table(connection)
        yield app, url, secret, landmarks
        with app.app_context():
            db.engine.dispose()


def test_the_bench_measures_every_route_and_the_lean_twins_show_the_same(bench_app, tmp_path):
    app, url, secret, landmarks = bench_app
    viewer = member_session(app, landmarks.viewer_id)
    pairs = add_flow_pairs(app, 40)
    pages = page_routes(landmarks, viewer)
    routes = [*ceiling_routes(tmp_path, landmarks, viewer), *pages, *lean_routes(landmarks, viewer)]
    routes += stack_routes(viewer)
    result = ScaleResult(0.01, 0, landmarks.counts)

    count_statements(app, pages, pairs, result, show=False)
    measure_in_process(app, url, secret, routes, pairs, 2, result)

    measured_gets = {route.name for route in routes} - {"INSERT+commit (ceiling)"}
    assert set(result.in_process) == measured_gets | {"flow: request", "flow: accept"}
    assert set(result.statements) == {page.name for page in pages} | {
        "flow: request",
        "flow: accept",
    }
    assert "set-cookie" not in send(app, "GET", "/bench/shell", viewer).headers  # no re-signing

    lean = create_lean_app(url, secret)
    search = f"mentors?q={landmarks.search_word}"
    alma_mentors = MEMBER_LINK.findall(send(app, "GET", f"/mentoring/{search}", viewer).text)
    lean_mentors = MEMBER_LINK.findall(send(lean, "GET", f"/lean/{search}", viewer).text)
    alma_article = send(app, "GET", landmarks.article_path, viewer).text
    lean_article = send(lean, "GET", f"/lean{landmarks.article_path}", viewer).text
    lean_shell = send(lean, "GET", "/lean/shell", viewer).text
    dispose(lean)
    stack = create_stack_app(url, secret)
    stack_shell = send(stack, "GET", "/stack/shell", viewer).text
    dispose_stack(stack)
    assert alma_mentors and lean_mentors == alma_mentors
    title = re.search(r'<h1 class="h2 text-break">(.*?)</h1>', alma_article)
    assert title and title.group(0) in lean_article
    # the stack twin builds the lean shell's page with other means: the same HTML but the
    # log-out form's token, which each makes its own way
    assert CSRF_VALUE.sub("", stack_shell) == CSRF_VALUE.sub("", lean_shell)


def test_the_browser_bench_measures_the_chromium_the_tests_drive(browser):
    from bench.browser import measure

    cost = measure(browser, rounds=2)

    assert cost.new_page_ms >= 0 and cost.navigation_ms >= 0  # measured, whatever the figure


def test_the_ab_bench_measures_a_route_in_this_checkout_and_another_commit(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the benchmark runs on PostgreSQL (run with --db=postgresql)")
    from bench.ab import compare

    shown = compare("HEAD", ["shell"], pairs=1, seconds=0.1, scale=0.01)

    [header, shell] = shown.splitlines()
    assert header.split()[:2] == ["route", "HEAD"]
    assert shell.startswith("shell") and shell.endswith("(median)")
    assert len(re.findall(r"\d+\.\d\d", shell)) == 4  # both trees' minimum and median
