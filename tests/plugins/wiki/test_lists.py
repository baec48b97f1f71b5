"""The wiki's front page and lists: recent, top rated, by tag, with pages and empty states;
the nav item, the profile section, the home counter and the demo articles."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.demo import create_demo_members
from core.models import Activity
from core.testing import count_rows, stored
from plugins.wiki.models import Article, Rating, Revision


def titles(page: str) -> list[str]:
    return re.findall(r'<h2 class="h6 mb-1 text-break"><a href="[^"]+">([^<]+)</a>', page)


def test_an_empty_wiki_invites_to_write(client, ada):
    client.login(ada)

    page = client.get("/wiki/").text

    assert "The wiki is empty so far." in page
    assert "No article is rated yet." in page
    assert "No tags yet" in page
    assert "No articles yet." in client.get("/wiki/articles").text
    assert "No article is rated yet." in client.get("/wiki/articles?sort=top").text


def test_the_front_page_shows_recent_top_rated_and_tags(client, create_user, articles, ada):
    rui = create_user()
    goals = articles.create(ada, title="Goals", tags="planning")
    articles.create(ada, title="Feedback", tags="planning, communication")
    articles.rate(goals, rui, 5)
    client.login(rui)

    page = client.get("/wiki/").text

    assert titles(page) == ["Feedback", "Goals"]  # most recently updated first
    top = page[page.index("Top rated") :]
    assert "Goals" in top and "5.0 ★ · 1 rating" in top
    assert re.search(r">planning <span[^>]*>2</span>", page)
    assert 'action="/wiki/search"' in page


def test_top_rated_orders_by_average_then_count(client, create_user, articles, ada):
    raters = [create_user() for _ in range(3)]
    good = articles.create(ada, title="Good")
    best = articles.create(ada, title="Best")
    fewer = articles.create(ada, title="Best but fewer")
    articles.create(ada, title="Unrated")
    for rater in raters:
        articles.rate(good, rater, 3)
        articles.rate(best, rater, 5)
    articles.rate(fewer, raters[0], 5)
    client.login(ada)

    page = client.get("/wiki/articles?sort=top").text

    assert titles(page) == ["Best", "Best but fewer", "Good"]


def test_lists_come_in_pages(client, make_app, create_user):
    app = make_app(PLUGIN_SETTINGS={"wiki": {"articles_per_page": 2}})
    client = app.test_client()
    from core.db import db
    from plugins.wiki import services

    with app.app_context():
        author = create_user()
        for n in range(5):
            services.create_article(author, f"Article {n}", "Text", tags="all")
        db.session.commit()
        client.login(author)

        first = client.get("/wiki/articles").text
        third = client.get("/wiki/articles?page=3").text
        beyond = client.get("/wiki/articles?page=4").text
        tagged = client.get("/wiki/tags/all?page=2").text

    assert titles(first) == ["Article 4", "Article 3"]
    assert 'href="/wiki/articles?page=2"' in first
    assert titles(third) == ["Article 0"] and "Next" not in third and "Previous" in third
    assert "There are no more articles." in beyond
    assert titles(tagged) == ["Article 2", "Article 3"]
    assert 'href="/wiki/tags/all?page=3"' in tagged


def test_articles_by_tag_ignore_case_and_unknown_tags_are_404(client, articles, ada):
    articles.create(ada, title="Goals", tags="Planning")
    articles.create(ada, title="Other", tags="else")
    client.login(ada)

    page = client.get("/wiki/tags/PLANNING").text

    assert "Articles tagged “Planning”" in page
    assert titles(page) == ["Goals"]
    assert client.get("/wiki/tags/nothing").status_code == 404


def test_a_tag_with_a_slash_has_a_working_link(client, articles, ada):
    articles.create(ada, title="Pipelines", tags="CI/CD")
    client.login(ada)

    article_page = client.get("/wiki/tags/ci/cd").text

    assert "Articles tagged “CI/CD”" in article_page
    assert titles(article_page) == ["Pipelines"]
    assert 'href="/wiki/tags/ci/cd"' in client.get("/wiki/").text


def test_the_nav_links_to_the_wiki_for_members(client, ada):
    assert 'href="/wiki/"' not in client.get("/").text
    client.login(ada)

    assert re.search(r'<a class="nav-link[^"]*" href="/wiki/">Wiki</a>', client.get("/").text)


def test_a_members_overview_lists_their_articles_with_their_rating(
    client, create_user, articles, ada
):
    goals = articles.create(ada, title="Goals")
    articles.create(ada, title="Feedback")
    rui = create_user()
    articles.rate(goals, rui, 4)
    client.login(rui)

    theirs = client.get(f"/members/{ada.id}").text
    mine = client.get(f"/members/{rui.id}").text

    assert "Wiki articles" in theirs
    assert theirs.index(">Feedback</a>") < theirs.index(">Goals</a>")  # newest first
    assert f'href="/wiki/{goals.id}-goals">Goals</a>' in theirs
    assert "4.0 · 1 rating" in theirs and "Not rated yet" in theirs
    assert "You have not written a wiki article yet." in mine


def test_a_prolific_authors_overview_shows_the_latest_and_links_to_all(
    client, app, create_user, articles, ada
):
    for number in range(1, 8):
        articles.create(ada, title=f"Lesson {number}")
    client.login(create_user())

    overview = client.get(f"/members/{ada.id}").text
    all_of_them = client.get(f"/wiki/by/{ada.id}").text

    assert [f"Lesson {n}" in overview for n in range(7, 0, -1)] == [True] * 5 + [False] * 2
    assert f'href="/wiki/by/{ada.id}"' in overview
    assert "Articles by Ada Lovelace" in all_of_them
    assert titles(all_of_them) == [f"Lesson {n}" for n in range(7, 0, -1)]
    assert client.get("/wiki/by/999999").status_code == 404


def test_an_author_without_articles_has_an_empty_list_that_says_so(client, create_user, ada):
    client.login(create_user())

    page = client.get(f"/wiki/by/{ada.id}").text
    client.login(ada)
    own = client.get(f"/wiki/by/{ada.id}").text

    assert "Ada Lovelace has not written an article yet." in page
    assert f'href="/members/{ada.id}"' in page  # the way back to her profile
    assert "You have not written a wiki article yet." in own and 'href="/wiki/new"' in own


def test_the_home_page_counts_articles(client, articles, ada):
    articles.create(ada, title="Goals")

    assert re.search(r">1</[^>]+>\s*<[^>]+>wiki articles<", client.get("/").text)


def test_the_demo_writes_articles_with_an_edit_and_ratings(app, db):
    create_demo_members()
    db.session.commit()

    assert count_rows(app, Article) == 3
    assert count_rows(app, Revision) == 4
    assert count_rows(app, Rating) > 0
    assert stored(app, select(Article.title).where(Article.revision_number == 2)) == (
        "Preparing your first mentoring meeting"
    )
    assert count_rows(app, Activity, Activity.kind.like("wiki.%")) >= 5
