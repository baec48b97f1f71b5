"""The pieces of ``core.api`` a plugin would otherwise write again: its settings as a
dataclass, a page of a list, a ``LIKE`` pattern, a form's post, a member's clock, links that
work in jobs, and waking a job. Each is tried here as a plugin uses it, through ``core.api``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from flask import Blueprint, request
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.routing import AnyConverter, BuildError
from wtforms import StringField
from wtforms.validators import DataRequired

from core.api import (
    InvalidInput,
    Page,
    Setting,
    Topic,
    User,
    absolute_url,
    external_url,
    form_errors,
    from_local,
    hookimpl,
    like_pattern,
    local_clock,
    local_date,
    occurs_twice,
    page_of,
    plugin_settings_as,
    positive,
    run_action,
    site_path,
    today_of,
    wake_job_after_commit,
)
from core.db import clock_set_to

# ---- settings as a dataclass --------------------------------------------------------------


@dataclass(frozen=True)
class ProbeSettings:
    per_day: int
    greeting: str


class SettingsProbe:
    @hookimpl
    def register_settings(self):
        return {"per_day": Setting(int, 3, positive), "greeting": Setting(str, "Hello")}


def test_a_plugin_reads_its_settings_as_a_dataclass_with_the_defaults_filled_in(make_app):
    app = make_app(
        extra_plugins={"probe": SettingsProbe()},
        PLUGINS=["probe"],
        PLUGIN_SETTINGS={"probe": {"per_day": 5}},
    )
    with app.app_context():
        assert plugin_settings_as(ProbeSettings, "probe") == ProbeSettings(5, "Hello")
    # at startup, before any app context (``app_created``, a startup check)
    assert plugin_settings_as(ProbeSettings, "probe", app).per_day == 5


def test_settings_of_a_plugin_that_is_not_enabled_are_not_read(make_app):
    app = make_app(extra_plugins={"probe": SettingsProbe()}, PLUGINS=[])
    with app.app_context(), pytest.raises(KeyError):
        plugin_settings_as(ProbeSettings, "probe")


# ---- a page of a list ---------------------------------------------------------------------


def test_a_query_is_read_a_page_at_a_time(db, create_user):
    for name in "ABCDE":
        create_user(display_name=name)
    names = select(User.display_name).order_by(User.display_name)

    first, last, beyond = (page_of(names, number, 2) for number in (1, 3, 4))

    assert first == Page(["A", "B"], 1, True)
    assert last == Page(["E"], 3, False)
    assert beyond == Page([], 4, False)


def test_a_page_of_rows_converts_each_row(db, create_user):
    for name in ("Ada", "Bo", "Cy"):
        create_user(display_name=name)
    query = select(User.display_name, func.length(User.display_name)).order_by(User.id)

    page = page_of(query, 1, 2, rows=True).map(lambda row: f"{row[0]}:{row[1]}")

    assert page == Page(["Ada:3", "Bo:2"], 1, True)


# ---- LIKE patterns ------------------------------------------------------------------------


def test_a_like_pattern_escapes_the_wildcards():
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("50%", ["Sale 50% off"]),
        ("a_b", ["a_b"]),
        ("\\", ["back\\slash"]),
        ("SALE 50%", ["Sale 50% off"]),
    ],
)
def test_a_search_finds_what_was_typed_not_a_wildcard(db, create_user, typed, found):
    for name in ("Sale 50% off", "Sale 500 off", "a_b", "axb", "back\\slash"):
        create_user(display_name=name)
    matching = func.lower(User.display_name).like(like_pattern(typed.lower()), escape="\\")
    assert list(db.session.scalars(select(User.display_name).where(matching))) == found


# ---- acting on a form's post --------------------------------------------------------------


class TopicForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Name the topic.")])


def add_topic(name: str) -> None:
    """A service: refuses a short name, after writing (the view must roll back)."""
    from core.api import db

    db.session.add(Topic(name=name, key=name.lower()))
    db.session.flush()
    if len(name) < 3:
        raise InvalidInput("A topic has at least 3 letters.")


class FormsProbe:
    def __init__(self) -> None:
        self.blueprint = Blueprint("formsprobe", __name__, url_prefix="/formsprobe")
        self.blueprint.add_url_rule("/topics", view_func=self.post, methods=["POST"])

    @staticmethod
    def post():
        form = TopicForm()
        if not form.validate_on_submit():
            return form_errors(form), 400
        return run_action(
            lambda: add_topic(request.form["name"]),
            success="Topic added.",
            back="/formsprobe/done",
        )

    @hookimpl
    def register_blueprints(self):
        return [self.blueprint]


@pytest.fixture
def forms_app(make_app):
    return make_app(extra_plugins={"formsprobe": FormsProbe()}, PLUGINS=["formsprobe"])


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return session.get("_flashes", [])


def topic_names(app) -> list[str]:
    from core.api import db

    with app.app_context():
        return list(db.session.scalars(select(Topic.name)))


def test_a_form_action_commits_and_says_so(forms_app):
    client = forms_app.test_client()
    response = client.post("/formsprobe/topics", data={"name": "Gardening"})
    assert response.status_code == 302 and response.location == "/formsprobe/done"
    assert flashes(client) == [("success", "Topic added.")]
    assert topic_names(forms_app) == ["Gardening"]


def test_a_refused_form_action_rolls_back_and_says_why(forms_app):
    client = forms_app.test_client()
    response = client.post("/formsprobe/topics", data={"name": "Go"})
    assert response.status_code == 302 and response.location == "/formsprobe/done"
    assert flashes(client) == [("danger", "A topic has at least 3 letters.")]
    assert topic_names(forms_app) == []


def test_the_errors_of_an_invalid_form_come_in_one_line(forms_app):
    response = forms_app.test_client().post("/formsprobe/topics", data={"name": ""})
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "Name the topic."


# ---- a member's clock ---------------------------------------------------------------------

# 23:30 in London on Dec 3, 12:30 on Dec 4 in Auckland
MOMENT = datetime(2027, 12, 3, 23, 30, tzinfo=UTC)
AUCKLAND = SimpleNamespace(timezone="Pacific/Auckland")
LONDON = SimpleNamespace(timezone="Europe/London")
NOWHERE = SimpleNamespace(timezone="Mars/Olympus_Mons")


def test_a_moment_is_read_on_each_members_clock():
    assert local_clock(MOMENT, AUCKLAND) == MOMENT
    assert local_clock(MOMENT, AUCKLAND).tzinfo == ZoneInfo("Pacific/Auckland")
    assert local_date(MOMENT, AUCKLAND) == date(2027, 12, 4)
    assert local_date(MOMENT, LONDON) == date(2027, 12, 3)
    assert local_date(MOMENT, NOWHERE) == date(2027, 12, 3)  # an unknown zone reads as UTC


def test_today_is_where_the_member_lives(app):
    with app.app_context(), clock_set_to(MOMENT):
        assert today_of(AUCKLAND) == date(2027, 12, 4)
        assert today_of(LONDON) == date(2027, 12, 3)


def test_a_time_on_a_members_clock_is_a_utc_time():
    assert from_local(date(2027, 12, 4), time(0, 0), AUCKLAND) == datetime(
        2027, 12, 3, 11, 0, tzinfo=UTC
    )
    with pytest.raises(OverflowError):
        from_local(date(1, 1, 1), time(0, 0), AUCKLAND)


def test_a_time_the_clocks_show_twice_is_told_apart():
    london = ZoneInfo("Europe/London")  # the clocks go back at 02:00 on Oct 31, 2027
    assert occurs_twice(datetime(2027, 10, 31, 1, 30, tzinfo=london))
    assert occurs_twice(datetime(2027, 10, 31, 1, 30, fold=1, tzinfo=london))
    assert not occurs_twice(datetime(2027, 10, 31, 2, 30, tzinfo=london))
    assert not occurs_twice(MOMENT)


# ---- links --------------------------------------------------------------------------------


def test_links_are_built_in_a_job_without_a_request(app):
    with app.app_context():  # as a job or the demo runs
        assert site_path("profile.overview", user_id=7) == "/members/7"
        assert site_path("profile.overview", user_id=7, _anchor="goals") == "/members/7#goals"
        assert external_url("profile.overview", user_id=7) == "http://alma.test/members/7"
        assert absolute_url("/members/7") == "http://alma.test/members/7"
        with pytest.raises(BuildError):
            site_path("no.such_page")


def test_a_link_for_a_mail_is_on_base_url_whatever_address_the_request_came_to(app):
    with app.test_request_context("/", base_url="http://attacker.example"):
        assert site_path("profile.overview", user_id=7) == "/members/7"
        assert external_url("profile.overview", user_id=7) == "http://alma.test/members/7"


def test_links_built_once_follow_the_script_root_they_are_served_under(app):
    from flask import url_for

    css, js = app.file_version("static", "css/alma.css"), app.file_version("static", "js/alma.js")

    def links() -> list[str]:
        return [
            url_for("static", filename="css/alma.css"),
            url_for("home.index"),
            url_for("profile.overview", user_id=7),
            url_for("home.index", _external=True),
        ]

    for _ in range(2):  # the second time from what the first built
        with app.test_request_context("/"):
            assert links() == [
                f"/static/css/alma.css?v={css}",
                "/",
                "/members/7",
                "http://localhost/",
            ]
        with app.test_request_context("/", base_url="http://example.org/alma"):
            assert links() == [
                f"/alma/static/css/alma.css?v={css}",
                "/alma/",
                "/alma/members/7",
                "http://example.org/alma/",
            ]
        with app.test_request_context("/members/7"):  # another request, same links
            assert url_for("static", filename="js/alma.js") == f"/static/js/alma.js?v={js}"


@pytest.mark.plugins("wiki")
def test_a_link_to_a_static_file_carries_its_contents_fingerprint(app, make_app, tmp_path):
    from flask import url_for

    (tmp_path / "a.css").write_text("a { color: red }")
    (tmp_path / "b.css").write_text("a { color: blue }")
    app.static_folder = str(tmp_path)
    with app.test_request_context("/"):
        first, second = (url_for("static", filename=name) for name in ("a.css", "b.css"))
        assert first.startswith("/static/a.css?v=") and second.startswith("/static/b.css?v=")
        assert first.partition("?v=")[2] != second.partition("?v=")[2]  # each file its own
        assert url_for("static", filename="gone.css") == "/static/gone.css"  # nothing to read
        assert url_for("wiki.static", filename="wiki/wiki.css").startswith(
            "/wiki/static/wiki/wiki.css?v="  # a plugin's files too
        )
    debugging = make_app(DEBUG=True)  # files edited while `alma serve --debug` runs
    with debugging.test_request_context("/"):
        assert url_for("static", filename="css/alma.css") == "/static/css/alma.css"


def test_a_static_file_asked_for_by_its_version_is_kept_for_a_year(app, client):
    from flask import url_for

    with app.test_request_context("/"):
        current = url_for("static", filename="css/alma.css")
    kept = client.get(current)
    assert kept.status_code == 200
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    again = client.get(current, headers={"If-None-Match": kept.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # an old version's link, none, or another spelling of the path: asked again each time
    version = current.partition("?v=")[2]
    for path in (
        "/static/css/alma.css?v=0123456789ab",
        "/static/css/alma.css",
        f"/static/css/./alma.css?v={version}",
        f"/static/vendor/../css/alma.css?v={version}",
    ):
        sent = client.get(path)
        assert sent.status_code == 200
        assert sent.headers["Cache-Control"] == "no-cache"
    assert "immutable" not in client.get("/static/gone.css?v=x").headers.get("Cache-Control", "")


@pytest.mark.plugins("wiki")
def test_a_plugins_file_for_members_only_is_kept_in_the_members_browser_alone(app, client, member):
    from flask import url_for

    with app.test_request_context("/"):
        stylesheet = url_for("wiki.static", filename="wiki/wiki.css")
    turned_away = client.get(stylesheet)  # the wiki is for members: its gate answers
    assert turned_away.status_code == 302
    assert "immutable" not in turned_away.headers.get("Cache-Control", "")

    client.login(member)
    sent = client.get(stylesheet)
    assert sent.status_code == 200
    assert sent.headers["Cache-Control"] == "private, max-age=31536000, immutable"


def test_links_follow_base_url_set_after_the_app_is_built(app):
    app.config["BASE_URL"] = "https://mentors.example.org"  # as alma serve sets it
    with app.app_context():
        assert external_url("profile.overview", user_id=7) == (
            "https://mentors.example.org/members/7"
        )


@pytest.mark.plugins("wiki")
def test_a_wiki_article_links_to_its_page_outside_a_request(app):
    from core.api import db
    from plugins.wiki import services

    with app.app_context():  # no request: the demo, a job
        author = User(email="ada@example.org", password_hash="-", display_name="Ada")
        db.session.add(author)
        article = services.create_article(author, "Pair programming", "Two at one keyboard.")
        db.session.commit()
        path, expected = services.article_path(article), f"/wiki/{article.id}-pair-programming"
        client = app.test_client()
        client.login(author)
    assert path == expected
    assert "Two at one keyboard." in client.get(path).text


# ---- waking a job -------------------------------------------------------------------------


class FakeScheduler:
    running = True

    def __init__(self) -> None:
        self.woken: list[str] = []

    def modify_job(self, job_id: str, next_run_time: datetime) -> None:
        self.woken.append(job_id)


def test_what_a_rolled_back_savepoint_asked_for_after_commit_never_runs(app):
    """A unit of work that tries something in a savepoint (erasing one member of several,
    say) and rolls it back keeps what it asked for before and after, and drops the rest."""
    from core.api import after_commit, db

    ran = []
    with app.app_context():
        after_commit(lambda: ran.append("before"))
        with pytest.raises(RuntimeError), db.session.begin_nested():
            after_commit(lambda: ran.append("failed"))
            raise RuntimeError("the savepoint rolls back")
        with db.session.begin_nested():
            after_commit(lambda: ran.append("released"))
        after_commit(lambda: ran.append("after"))
        db.session.commit()
    assert ran == ["before", "released", "after"]


@pytest.mark.parametrize(("end", "woken"), [("commit", ["probe.job"]), ("rollback", [])])
def test_a_job_is_woken_only_once_the_transaction_commits(app, end, woken):
    from core.api import alma, db

    scheduler = alma(app).scheduler = FakeScheduler()
    with app.app_context():
        db.session.add(Topic(name="Chess", key="chess"))
        wake_job_after_commit("probe.job")
        assert scheduler.woken == []  # the job would not find the topic yet
        getattr(db.session, end)()
    assert scheduler.woken == woken


@pytest.mark.plugins("mentoring", "credits", "certificates", "wiki", "groups")
def test_each_rule_writes_its_links_builder_at_its_first_link_and_links_as_werkzeug_does(
    app, monkeypatch
):
    from werkzeug.routing import Map, Rule

    # and rules with defaults, which alma's own have none of: a list's first page, say
    def shelf(n: int) -> str:
        return ""

    app.add_url_rule("/shelf/", "shelf", shelf, defaults={"n": 1})
    app.add_url_rule("/shelf/<int:n>", "shelf", shelf)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) > 100
    # making the app wrote no builder: each is the stand-in that writes it at the first link
    assert {rule._build.__name__ for rule in rules} == {"build_first_link"}

    # werkzeug's own builders, not those the test process shares between its apps
    write = Rule._compile_builder
    monkeypatch.setattr(Rule, "_compile_builder", getattr(write, "__wrapped__", write))
    plain = Map(converters=app.url_map.converters)
    for rule in rules:
        plain.add(Rule(rule.rule, endpoint=rule.endpoint, defaults=rule.defaults))
    ours, werkzeugs = app.url_map.bind("alma.test"), plain.bind("alma.test")
    for rule in rules:
        known = {name: _a_value_of(rule, name) for name in rule.arguments}
        values = known | {"also": "a b&c"}  # "also": an unknown value, left out or a query
        for append_unknown in (False, True):  # each of a rule's two builders
            for _ in range(2):  # the second time from the builder the first one wrote
                built = ours.build(rule.endpoint, values, append_unknown=append_unknown)
                assert built == werkzeugs.build(
                    rule.endpoint, values, append_unknown=append_unknown
                )
                assert built.endswith("also=a+b%26c") == append_unknown
        assert "build_first_link" not in (rule._build.__name__, rule._build_unknown.__name__)
    assert ours.build("shelf", {"n": 1}) == "/shelf/"  # the default, in no path
    assert ours.build("shelf", {"n": 2}) == "/shelf/2"


def _a_value_of(rule, name: str) -> object:
    """A value the rule takes for ``name``: its default, one of its converter's words
    (``any(...)``), or 7."""
    converter = rule._converters.get(name)
    if converter is None:
        return rule.defaults[name]
    return min(converter.items) if isinstance(converter, AnyConverter) else 7
