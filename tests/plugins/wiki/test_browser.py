"""The wiki in a real browser (Chromium), at desktop and phone widths: the pages fit the screen,
the live preview follows the typing, an article made of the whole XSS corpus runs no script,
and a stale save shows the difference. With ``ALMA_SCREENSHOTS=dir`` the pages are also saved
there as PNGs, for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.testing import screenshot

CORPUS = Path(__file__).with_name("xss_corpus.txt")

GOALS = """\
Vague goals are hard to finish. Turn them into goals you can check:

| | Question | Example |
|---|---|---|
| Specific | What exactly? | Build a small web app with a login |
| Measurable | How do we know it is done? | It is deployed and a friend can sign up |
| Time-bound | By when? | Before our fourth meeting |

> Ask *"how will you know?"* until the answer is concrete.

```
goal = "ship the portfolio site"
deadline = "before meeting 4"
```

See [the SMART criteria](https://en.wikipedia.org/wiki/SMART_criteria).
"""


@pytest.fixture
def wiki(db, create_user, articles):
    """A small wiki: three articles, one edited twice, some ratings; Ada is logged in."""
    ada = create_user(display_name="Ada Lovelace", email="ada@example.org")
    rui = create_user(display_name="Rui Mentor-Villanueva de la Fuente", email="rui@example.org")
    sam = create_user(display_name="Sam Lee", email="sam@example.org")
    meeting = articles.create(
        ada,
        title="Preparing your first mentoring meeting",
        body="Plan **45 to 60 minutes**.\n\n## Before\n\n- Read each other's profiles\n"
        "- Write down two questions\n\n## During\n\n1. Introductions\n2. Expectations",
        tags="first meeting, getting started",
    )
    articles.edit(
        meeting,
        rui,
        meeting.body + "\n3. One small first goal\n\n## After\n\nWrite the agreement together.\n",
        summary="Added what happens after the meeting",
    )
    goals = articles.create(rui, title="Setting SMART goals together", body=GOALS, tags="goals")
    corpus = articles.create(sam, title="Everything a script kiddie tried", body=CORPUS.read_text())
    for article, stars in ((meeting, 5), (goals, 4)):
        articles.rate(article, sam, stars)
    articles.rate(goals, ada, 5)
    return {"ada": ada, "rui": rui, "meeting": meeting.id, "goals": goals.id, "corpus": corpus.id}


@pytest.fixture
def page(open_page, live_server, wiki):
    """Ada's page; a dialog fails the test too, as console errors do."""
    opened = open_page(wiki["ada"], locale="en-US")
    opened.on(
        "dialog",
        lambda dialog: (opened.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()),
    )
    opened.base = live_server
    return opened


def visit(page, path: str, shot: str) -> None:
    page.goto(page.base + path)
    page.wait_for_load_state("networkidle")
    screenshot(page, f"wiki-{shot}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), shot


def test_the_wiki_pages_fit_and_read_well(page, wiki):
    meeting, goals = wiki["meeting"], wiki["goals"]

    visit(page, "/wiki/", "index")
    expect(page.get_by_role("heading", name="Mentoring wiki")).to_be_visible()
    visit(page, f"/wiki/{goals}", "article")
    expect(page.locator(".wiki-body table")).to_be_visible()
    expect(page.get_by_text("4.5 · 2 ratings")).to_be_visible()
    visit(page, f"/wiki/{meeting}/history", "history")
    visit(page, f"/wiki/{meeting}/compare?old=1&new=2", "compare")
    expect(page.locator("tr.wiki-diff-added").first).to_be_visible()
    visit(page, "/wiki/search?q=goal", "search")
    expect(page.locator("mark").first).to_be_visible()
    visit(page, "/wiki/articles?sort=top", "top-rated")
    visit(page, f"/wiki/{meeting}/delete", "delete")
    visit(page, "/wiki/search?q=zebra", "search-empty")


def test_the_preview_says_in_words_when_the_page_has_expired(page):
    visit(page, "/wiki/new", "new")
    # an hour later the form's token has expired: the server answers with its error page
    page.route(
        "**/wiki/preview",
        lambda route: route.fulfill(status=400, content_type="text/html", body="<h1>Expired</h1>"),
    )

    page.get_by_label("Text").fill("## Listen first")

    expect(page.locator("#preview-status")).to_have_text(
        "This page has expired: copy your text, reload the page and paste it back before you save."
    )
    expect(page.get_by_label("Text")).to_have_value("## Listen first")
    page.problems[:] = [problem for problem in page.problems if "400" not in problem]


def test_the_live_preview_follows_the_typing(page):
    visit(page, "/wiki/new", "new")
    page.get_by_label("Title").fill("Listening well")
    page.get_by_label("Text").fill(
        "## Listen first\n\nAsk **open** questions <script>alert(1)</script>"
    )

    preview = page.locator("#wiki-preview")
    expect(preview.locator("h2")).to_have_text("Listen first")
    expect(preview.locator("strong")).to_have_text("open")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, not run
    screenshot(page, "wiki-new-preview")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Your article is published.")).to_be_visible()
    expect(page.locator(".wiki-body h2")).to_have_text("Listen first")


def test_an_article_of_every_xss_vector_runs_no_script(page, wiki):
    visit(page, f"/wiki/{wiki['corpus']}", "xss-corpus")

    expect(page.locator(".wiki-body script, .wiki-body iframe")).to_have_count(0)
    assert page.evaluate("window.__xss === undefined")
    page.locator(".wiki-body a").first.hover()  # event handlers would fire on hover, focus
    page.keyboard.press("Tab")


def test_a_stale_save_shows_the_difference(page, wiki, articles, db):
    from plugins.wiki.models import Article

    visit(page, f"/wiki/{wiki['goals']}/edit", "edit")
    article = db.session.get(Article, wiki["goals"])
    articles.edit(article, wiki["rui"], GOALS + "\nA line by someone else.")
    page.get_by_label("Text").fill(GOALS + "\nMy own line.")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Someone saved this article while you were editing it")).to_be_visible()
    expect(page.locator("tr.wiki-diff-added")).to_contain_text("My own line.")
    expect(page.locator("#body")).to_have_value(GOALS + "\nMy own line.")
    screenshot(page, "wiki-conflict")
    assert page.problems == [
        "Failed to load resource: the server responded with a status of 409 (CONFLICT)"
    ]
    page.problems.clear()  # the page answered 409 Conflict, as it should
