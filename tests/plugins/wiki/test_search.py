"""Full-text search with the database's own engine (SQLite FTS5, PostgreSQL tsvector + GIN),
kept in step on create, edit, restore and delete; whatever people type, no SQL error."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import literal_column, select, text
from sqlalchemy.dialects import postgresql

from plugins.wiki import services
from plugins.wiki.models import SEARCH_DOCUMENT, Article


@pytest.fixture
def library(articles, ada):
    """Three articles, by title."""
    return {
        "goals": articles.create(
            ada, title="Setting goals", body="Mentors help mentees write SMART goals."
        ),
        "meeting": articles.create(
            ada,
            title="Your first meeting",
            body="Prepare questions. Agree on goals later.\n\nTalk about **expectations**.",
        ),
        "feedback": articles.create(
            ada, title="Giving feedback", body="Be specific; talk about the work, not the person."
        ),
    }


def found(client, query: str) -> list[str]:
    page = client.get("/wiki/search", query_string={"q": query})
    assert page.status_code == 200
    return re.findall(r'<h2 class="h6 mb-1 text-break"><a href="[^"]+">([^<]+)</a>', page.text)


def test_search_finds_words_in_titles_and_text_best_match_first(client, ada, library):
    client.login(ada)

    assert found(client, "goals") == ["Setting goals", "Your first meeting"]
    assert found(client, "expectations") == ["Your first meeting"]
    assert found(client, "FEEDBACK") == ["Giving feedback"]


def test_every_word_must_match_and_words_match_as_prefixes(client, ada, library):
    client.login(ada)

    assert found(client, "goals questions") == ["Your first meeting"]
    assert found(client, "expect") == ["Your first meeting"]
    assert found(client, "mentor") == ["Setting goals"]  # Mentors, mentees
    assert found(client, "goals nowhere") == []


def test_results_show_where_the_words_matched(client, ada, library):
    client.login(ada)

    page = client.get("/wiki/search?q=specific").text

    assert "<mark>specific</mark>" in page
    assert "Articles containing “specific”" in page


def test_no_match_and_no_words_say_so(client, ada, library):
    client.login(ada)

    assert "No article contains “zebra”." in client.get("/wiki/search?q=zebra").text
    empty = client.get("/wiki/search?q=").text
    assert "Type one or more words" in empty


def test_the_index_follows_edits_restores_renames_and_deletes(client, ada, articles, library):
    meeting = library["meeting"]
    client.login(ada)

    articles.edit(meeting, ada, "Bring a notebook.", title="The first meeting")
    assert found(client, "notebook") == ["The first meeting"]
    assert found(client, "expectations") == []
    assert found(client, "your first") == []

    client.post(f"/wiki/{meeting.id}/revisions/1/restore")
    assert found(client, "expectations") == ["Your first meeting"]
    assert found(client, "notebook") == []

    client.post(f"/wiki/{meeting.id}/delete")
    assert found(client, "expectations") == []
    assert found(client, "goals") == ["Setting goals"]


HOSTILE_QUERIES = [
    '"',
    "'",
    '"goals',
    "goals'",
    "goals\"'",
    "AND",
    "OR NOT",
    "goals OR",
    "NOT goals",
    "NEAR(goals mentors)",
    "goals*",
    "*",
    "-goals",
    "title:goals",
    "plain_text:goals",
    "{title}: goals",
    "^goals",
    "(goals",
    "goals)",
    "goals & | !",
    "goals:*",
    "goals <-> mentors",
    "!!",
    "\\",
    "%",
    "_",
    "goals'; DROP TABLE wiki_articles; --",
    "\x00goals",
    "🙂 goals",
    "goals " * 200,
    "   \t ",
]


# a NUL is refused before any page sees it (tests/core/test_security.py)
@pytest.mark.parametrize("query", [query for query in HOSTILE_QUERIES if "\x00" not in query])
def test_any_input_is_searched_safely(client, ada, library, query):
    client.login(ada)

    titles = found(client, query)

    if services.search_words(query) == ["goals"]:  # the rest was no word at all
        assert "Setting goals" in titles
    assert found(client, "goals") == ["Setting goals", "Your first meeting"]  # all still there


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_the_service_turns_any_input_into_plain_words(db, ada, library, query):
    words = services.search_words(query)

    assert all(re.fullmatch(r"[^\W_]+", word) for word in words)
    services.search_articles(query)  # no database error


def test_search_results_come_in_pages(make_app, create_user):
    app = make_app(PLUGIN_SETTINGS={"wiki": {"articles_per_page": 2}})
    from core.db import db

    with app.app_context():
        author = create_user()
        for n in range(5):
            services.create_article(author, f"Mentoring tip {n}", "A mentoring tip.")
        db.session.commit()
        first, last = services.search_articles("tip"), services.search_articles("tip", page=3)

    assert len(first.items) == 2 and first.has_more
    assert len(last.items) == 1 and not last.has_more


def test_postgresql_search_uses_the_gin_index(app, db, library):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan")
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    query = select(Article.id).where(
        SEARCH_DOCUMENT.op("@@")(
            postgresql.to_tsquery(literal_column("'simple'::regconfig"), "goals:*")
        )
    )
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.execute(text(f"EXPLAIN {compiled}")).scalars())

    assert "ix_wiki_articles_search" in plan
