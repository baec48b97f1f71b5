"""Rating articles: 1 to 5 stars, one rating per member and article (changeable), never one's
own article; the average and count are shown; the database holds the rules too."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.models import User
from core.testing import count_rows, stored
from plugins.wiki import services
from plugins.wiki.models import Rating


@pytest.fixture
def article(articles, ada):
    return articles.create(ada, title="Setting goals")


def rate(client, article, stars):
    return client.post(
        f"/wiki/{article.id}/rating", data={"stars": str(stars)}, follow_redirects=True
    )


def test_members_rate_and_the_average_and_count_are_shown(client, create_user, article):
    for stars in (5, 4):
        client.login(create_user())
        page = rate(client, article, stars)
        assert "Thank you for rating this article." in page.text

    page = client.get(f"/wiki/{article.id}-setting-goals").text

    assert "4.5 · 2 ratings" in page
    assert "You gave 4 stars; change your rating:" in page
    assert 'id="stars-4" value="4" checked' in page


def test_changing_ones_rating_keeps_one_rating(client, app, create_user, article):
    client.login(create_user())
    rate(client, article, 2)

    page = rate(client, article, 5)

    assert count_rows(app, Rating) == 1
    assert stored(app, select(Rating.stars)) == 5
    assert "5.0 · 1 rating" in page.text


def test_an_author_cannot_rate_their_own_article(client, app, ada, article):
    client.login(ada)

    page = rate(client, article, 5)

    assert "You cannot rate your own article." in page.text
    assert "You started this article, so others rate it." in page.text
    assert 'name="stars"' not in page.text
    assert count_rows(app, Rating) == 0


@pytest.mark.parametrize("stars", ["0", "6", "-1", "five", ""])
def test_stars_outside_1_to_5_are_refused(client, app, create_user, article, stars):
    client.login(create_user())

    page = client.post(f"/wiki/{article.id}/rating", data={"stars": stars}, follow_redirects=True)

    assert "Choose from 1 to 5 stars." in page.text
    assert count_rows(app, Rating) == 0


def test_the_service_refuses_stars_outside_1_to_5(db, create_user, article):
    with pytest.raises(services.InvalidInput, match="1 to 5"):
        services.rate_article(article.id, create_user(), 6)


def test_rating_a_missing_article_is_a_404(client, create_user):
    client.login(create_user())

    assert client.post("/wiki/999999/rating", data={"stars": "3"}).status_code == 404


def test_the_database_refuses_a_second_rating_and_stars_outside_1_to_5(db, create_user, article):
    rater = create_user()
    db.session.add(Rating(article_id=article.id, user_id=rater.id, stars=3))
    db.session.commit()

    db.session.add(Rating(article_id=article.id, user_id=rater.id, stars=4))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()

    db.session.add(Rating(article_id=article.id, user_id=create_user().id, stars=9))
    with pytest.raises(IntegrityError):
        db.session.flush()


def rate_as(article_id: int, user_id: int, stars: int) -> int:
    from core.db import db

    return services.rate_article(article_id, db.session.get(User, user_id), stars).stars


def test_a_double_submitted_rating_counts_once(app, db, create_user, article, race):
    article_id, rater_id = article.id, create_user().id

    outcomes = race(
        lambda: rate_as(article_id, rater_id, 4), lambda: rate_as(article_id, rater_id, 4)
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert count_rows(app, Rating) == 1
