"""With the credits plugin enabled too, what the wiki records earns credits and deleting an
article takes them back; the wiki itself knows nothing of credits."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.plugins("wiki", "credits")


def facts(client, member) -> str:
    """The facts line under the member's name on their profile ("" if none)."""
    found = re.search(r'member-facts">([^<]*)<', client.get(f"/members/{member.id}").text)
    return found[1] if found else ""


def test_an_articles_credits_come_and_go_with_it(client, create_user, articles):
    ada, rui = create_user(), create_user()
    article = articles.create(ada, title="Goals")
    articles.rate(article, rui, 5)
    article_id = article.id
    client.login(ada)

    assert "10 credits" in facts(client, ada)  # the credits plugin gives 10 for an article
    assert "1 credit" in facts(client, rui)  # and 1 for a rating

    client.post(f"/wiki/{article_id}/delete")

    assert "credit" not in facts(client, ada)
    assert "credit" not in facts(client, rui)
